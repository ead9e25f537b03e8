//! The three mechanisms together, as the server will chain them: verify the request head,
//! decode the aws-chunked body, then check the digests against the trailers.

use std::time::{Duration, SystemTime};

use http::request::Parts;
use md5::{Digest as _, Md5};

use super::tests::{aws_signed_example, run, unsigned, whole};
use super::*;
use crate::auth::{self, AuthOptions, SecretKey, StaticCredentials};
use crate::checksum::{BodyDigests, ChecksumAlgorithm, ChecksumError, Expectations};

/// The head of AWS's signed-trailer example (sigv4-streaming-trailers), as published.
fn aws_trailer_example_head() -> Parts {
    let authorization = "AWS4-HMAC-SHA256 \
        Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
        SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;\
        x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer, \
        Signature=106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
    http::Request::put("/examplebucket/chunkObject.txt")
        .header("host", "s3.amazonaws.com")
        .header("x-amz-date", "20130524T000000Z")
        .header("x-amz-storage-class", "REDUCED_REDUNDANCY")
        .header("authorization", authorization)
        .header(
            "x-amz-content-sha256",
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        )
        .header("content-encoding", "aws-chunked")
        .header("x-amz-trailer", "x-amz-checksum-crc32c")
        .header("x-amz-decoded-content-length", "66560")
        .body(())
        .expect("valid request")
        .into_parts()
        .0
}

#[test]
fn aws_signed_trailer_example_end_to_end() {
    let head = aws_trailer_example_head();
    let mut creds = StaticCredentials::new();
    creds.insert(
        "AKIAIOSFODNN7EXAMPLE",
        "example",
        SecretKey::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    );
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600);
    let verified = auth::verify(&head, &creds, now, &AuthOptions::default()).expect("signed");

    let length = decoded_content_length(&head.headers).expect("a number");
    let config = DecoderConfig::for_payload(&verified.payload, length).expect("aws-chunked");
    let expect = Expectations::from_request(&head.headers, &verified.payload).expect("valid");
    let out = run(whole(&aws_signed_example(true)), config);
    assert!(out.error.is_none(), "{:?}", out.error);

    let mut digests = BodyDigests::new(expect);
    digests.update(&out.data);
    let digests = digests
        .finish(out.trailers.as_ref())
        .expect("checksum matches");
    assert_eq!(
        digests.checksum,
        Some((ChecksumAlgorithm::Crc32c, "sOO8/Q==".to_owned()))
    );
    let md5: [u8; 16] = Md5::digest([b'a'; 66_560]).into();
    assert_eq!(digests.md5, md5);
}

#[test]
fn an_unsigned_body_is_only_as_good_as_its_trailer_checksum() {
    // boto3's HTTPS body with the checksum of different data: the framing is fine, the
    // checksum is what must catch it.
    let body = b"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:i9aeUg==\r\n\r\n";
    let out = run(whole(body), unsigned(Some(11)));
    assert!(out.error.is_none(), "{:?}", out.error);

    let mut headers = http::HeaderMap::new();
    headers.insert(
        "x-amz-trailer",
        "x-amz-checksum-crc32".parse().expect("valid"),
    );
    let payload = crate::auth::Payload::StreamingUnsignedTrailer;
    let mut digests = BodyDigests::new(Expectations::from_request(&headers, &payload).expect("ok"));
    digests.update(&out.data);
    let error = digests.finish(out.trailers.as_ref()).unwrap_err();
    assert_eq!(
        error,
        ChecksumError::ChecksumMismatch {
            algorithm: ChecksumAlgorithm::Crc32
        }
    );
    assert_eq!(error.s3_code(), "BadDigest");
}
