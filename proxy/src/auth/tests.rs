//! SigV4 verification tests against AWS's published S3 examples.

use std::time::{Duration, SystemTime};

use http::request::Parts;
use sha2::Digest as _;

use super::*;

pub(super) const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
pub(super) const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// 2013-05-24T00:00:00Z, the time of AWS's examples.
const EXAMPLE_TIME: u64 = 1_369_353_600;

pub(super) fn at(seconds: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
}

pub(super) fn store() -> StaticCredentials {
    let mut store = StaticCredentials::new();
    store.insert(AKID, "example", SecretKey::new(SECRET));
    store
}

pub(super) fn parts(method: &str, target: &str, headers: &[(&str, &str)]) -> Parts {
    let mut builder = http::Request::builder().method(method).uri(target);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).expect("valid test request").into_parts().0
}

pub(super) fn check(p: &Parts, now: SystemTime) -> Result<Verified, AuthError> {
    verify(p, &store(), now, &AuthOptions::default())
}

fn v4_authorization(signed_headers: &str, signature: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={AKID}/20130524/us-east-1/s3/aws4_request, \
         SignedHeaders={signed_headers}, Signature={signature}"
    )
}

fn example_get(signature: &str) -> Parts {
    let authorization = v4_authorization("host;range;x-amz-content-sha256;x-amz-date", signature);
    parts(
        "GET",
        "/test.txt",
        &[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY_SHA256),
            ("x-amz-date", "20130524T000000Z"),
            ("authorization", &authorization),
        ],
    )
}

const GET_OBJECT_SIGNATURE: &str =
    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";

#[test]
fn aws_example_get_object() {
    let verified = check(&example_get(GET_OBJECT_SIGNATURE), at(EXAMPLE_TIME)).expect("valid");
    assert_eq!(verified.principal.access_key_id, AKID);
    assert_eq!(verified.region, "us-east-1");
    assert_eq!(verified.scheme, AuthScheme::SigV4Header);
    assert!(matches!(verified.payload, Payload::Sha256(d) if hex::encode(d) == EMPTY_SHA256));
}

#[test]
fn aws_example_get_object_with_one_digit_changed_fails() {
    let wrong = GET_OBJECT_SIGNATURE.replace("f0e8", "f0e9");
    let error = check(&example_get(&wrong), at(EXAMPLE_TIME)).unwrap_err();
    assert_eq!(error, AuthError::SignatureMismatch);
}

#[test]
fn aws_example_put_object_escapes_a_raw_dollar() {
    let authorization = v4_authorization(
        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
    );
    let digest = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
    let p = parts(
        "PUT",
        "/test$file.text",
        &[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", digest),
            ("authorization", &authorization),
        ],
    );
    check(&p, at(EXAMPLE_TIME)).expect("valid");
}

#[test]
fn aws_example_bucket_queries() {
    let cases = [
        (
            "/?lifecycle",
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
        ),
        (
            "/?max-keys=2&prefix=J",
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
        ),
    ];
    for (target, signature) in cases {
        let authorization = v4_authorization("host;x-amz-content-sha256;x-amz-date", signature);
        let p = parts(
            "GET",
            target,
            &[
                ("host", "examplebucket.s3.amazonaws.com"),
                ("x-amz-date", "20130524T000000Z"),
                ("x-amz-content-sha256", EMPTY_SHA256),
                ("authorization", &authorization),
            ],
        );
        check(&p, at(EXAMPLE_TIME)).unwrap_or_else(|e| panic!("{target}: {e}"));
    }
}

#[test]
fn aws_example_presigned_url_and_its_expiry() {
    let target = "https://examplebucket.s3.amazonaws.com/test.txt\
        ?X-Amz-Algorithm=AWS4-HMAC-SHA256\
        &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
        &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
        &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    let p = parts("GET", target, &[("host", "examplebucket.s3.amazonaws.com")]);

    let verified = check(&p, at(EXAMPLE_TIME + 86_400)).expect("valid until the end");
    assert_eq!(verified.scheme, AuthScheme::SigV4Query);
    assert!(matches!(verified.payload, Payload::Unsigned));

    let error = check(&p, at(EXAMPLE_TIME + 86_401)).unwrap_err();
    assert_eq!(error, AuthError::Expired);
    assert_eq!(error.s3_code(), "AccessDenied");

    let error = check(&p, at(EXAMPLE_TIME - 16 * 60)).unwrap_err();
    assert_eq!(error, AuthError::ClockSkew);
}

/// The PUT of AWS's chunked upload example, with seed signature and headers as published.
fn example_chunked_put(trailer: bool) -> Parts {
    let (signed, seed, content_sha256) = if trailer {
        (
            "content-encoding;host;x-amz-content-sha256;x-amz-date;\
             x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer",
            "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        )
    } else {
        (
            "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;\
             x-amz-decoded-content-length;x-amz-storage-class",
            "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        )
    };
    let authorization = v4_authorization(signed, seed);
    let mut headers = vec![
        ("host", "s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("authorization", &authorization),
        ("x-amz-content-sha256", content_sha256),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("content-length", "66824"),
    ];
    if trailer {
        headers.push(("x-amz-trailer", "x-amz-checksum-crc32c"));
    }
    parts("PUT", "/examplebucket/chunkObject.txt", &headers)
}

#[test]
fn aws_example_chunked_upload_seeds_the_chunk_chain() {
    let verified = check(&example_chunked_put(false), at(EXAMPLE_TIME)).expect("valid");
    let Payload::StreamingSigned {
        trailer: false,
        mut seed,
    } = verified.payload
    else {
        panic!("expected signed streaming, got {:?}", verified.payload);
    };
    let first: [u8; 32] = sha2::Sha256::digest([b'a'; 65_536]).into();
    let published = b"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
    assert!(seed.verify_chunk(&first, published));
}

#[test]
fn aws_example_signed_trailer_upload_seeds_the_chunk_chain() {
    let verified = check(&example_chunked_put(true), at(EXAMPLE_TIME)).expect("valid");
    let Payload::StreamingSigned {
        trailer: true,
        mut seed,
    } = verified.payload
    else {
        panic!(
            "expected signed streaming with trailer, got {:?}",
            verified.payload
        );
    };
    let first: [u8; 32] = sha2::Sha256::digest([b'a'; 65_536]).into();
    let published = b"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2";
    assert!(seed.verify_chunk(&first, published));
}
