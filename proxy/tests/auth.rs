//! Who may talk to Cloak: wrong secrets, presigned URLs (valid and expired) and SigV4a, each
//! answered with S3's error document and a request id.

mod common;

use std::time::{Duration, SystemTime};

use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::primitives::ByteStream;
use aws_sigv4::http_request::SignableBody;
use http::{Request, StatusCode};

use common::raw::{self, xml_value, Reply};
use common::{failure, fetch, md5_etag, plaintext, signing, Cloak, BUCKET, SECRET_KEY};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_is_signature_does_not_match_in_s3_xml() {
    let cloak = Cloak::start().await;
    cloak.put("k", b"existing").await;
    let wrong = cloak.s3_signing_with("not-the-secret");

    let put = wrong.put_object().bucket(BUCKET).key("k");
    let put = put.body(ByteStream::from_static(b"new")).send().await;
    let f = failure(&put.expect_err("PUT with a wrong secret"));
    let got = (f.status, f.code.as_str());
    assert_eq!(got, (403, "SignatureDoesNotMatch"), "{f:?}");
    assert!(!f.message.is_empty(), "no Message: {}", f.body);
    let body_id = xml_value(&f.body, "RequestId").unwrap_or_default();
    assert!(!body_id.is_empty(), "no RequestId in {}", f.body);
    assert_eq!(
        f.request_id, body_id,
        "x-amz-request-id and <RequestId> differ"
    );

    let get = wrong.get_object().bucket(BUCKET).key("k").send().await;
    let f = failure(&get.expect_err("GET with a wrong secret"));
    let got = (f.status, f.code.as_str());
    assert_eq!(got, (403, "SignatureDoesNotMatch"), "{f:?}");
    let head = wrong.head_object().bucket(BUCKET).key("k").send().await;
    let f = failure(&head.expect_err("HEAD with a wrong secret"));
    assert_eq!(f.status, 403);
    assert!(
        !f.request_id.is_empty(),
        "a HEAD error without x-amz-request-id"
    );

    // The same over raw HTTP, to read the document as sent.
    let mut request = signing::request("GET", &cloak.endpoint, "/bucket/k", &[], raw::full(""));
    let payload = SignableBody::Bytes(b"");
    signing::sign_v4(&mut request, payload, "wrong", SystemTime::now());
    let reply = raw::send(request).await;
    assert_error_document(&reply, StatusCode::FORBIDDEN, "SignatureDoesNotMatch");

    assert_eq!(
        cloak.get("k").await,
        b"existing",
        "the wrong-secret PUT changed k"
    );
    cloak.still_serves().await;
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_get_and_put_work_over_raw_http() {
    let cloak = Cloak::start().await;
    let plain = plaintext(100_000);
    let s3 = cloak.s3();
    let five_minutes = || PresigningConfig::expires_in(Duration::from_secs(300));

    let put = s3.put_object().bucket(BUCKET).key("p");
    let put = put.presigned(five_minutes().expect("a valid expiry")).await;
    let reply = raw::send(presigned(&put.expect("presign PUT"), plain.clone())).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "presigned PUT: {}",
        reply.text()
    );
    assert_eq!(reply.header("etag"), md5_etag(&plain));

    let get = s3.get_object().bucket(BUCKET).key("p");
    let get = get.presigned(five_minutes().expect("a valid expiry")).await;
    let reply = raw::send(presigned(&get.expect("presign GET"), Vec::new())).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "presigned GET: {}",
        reply.text()
    );
    assert!(reply.body == plain, "presigned GET gave the wrong bytes");
    assert_eq!(reply.header("etag"), md5_etag(&plain));
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_presigned_url_is_access_denied() {
    let cloak = Cloak::start().await;
    cloak.put("k", b"kept").await;
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let expired = PresigningConfig::builder()
        .start_time(hour_ago)
        .expires_in(Duration::from_secs(60))
        .build()
        .expect("a valid presigning config");
    let s3 = cloak.s3();

    let get = s3
        .get_object()
        .bucket(BUCKET)
        .key("k")
        .presigned(expired.clone())
        .await;
    let reply = raw::send(presigned(&get.expect("presign GET"), Vec::new())).await;
    assert_error_document(&reply, StatusCode::FORBIDDEN, "AccessDenied");
    assert!(!reply.text().contains("kept"), "the object leaked");

    let put = s3
        .put_object()
        .bucket(BUCKET)
        .key("k")
        .presigned(expired)
        .await;
    let reply = raw::send(presigned(&put.expect("presign PUT"), b"replaced".to_vec())).await;
    assert_error_document(&reply, StatusCode::FORBIDDEN, "AccessDenied");
    assert_eq!(cloak.get("k").await, b"kept", "an expired PUT replaced k");
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigv4a_is_not_implemented() {
    let cloak = Cloak::start().await;

    // A SigV4a Authorization header (its signature is never looked at).
    let authorization = "AWS4-ECDSA-P256-SHA256 \
        Credential=CLOAKTESTCLIENT/20250101/s3/aws4_request, \
        SignedHeaders=host;x-amz-date;x-amz-region-set, Signature=3045022100ab";
    let headers = [
        ("authorization", authorization),
        ("x-amz-date", "20250101T000000Z"),
        ("x-amz-region-set", "*"),
        ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
    ];
    let request = signing::request("GET", &cloak.endpoint, "/bucket/k", &headers, raw::full(""));
    let reply = raw::send(request).await;
    assert_error_document(&reply, StatusCode::NOT_IMPLEMENTED, "NotImplemented");

    // A valid SigV4 signature over a SigV4a streaming payload.
    let body = b"4;chunk-signature=00\r\nabcd\r\n0;chunk-signature=00\r\n\r\n".to_vec();
    let headers = [
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "4"),
    ];
    let body = raw::full(body);
    let mut request = signing::request("PUT", &cloak.endpoint, "/bucket/k", &headers, body);
    let ecdsa = SignableBody::Precomputed("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD".into());
    signing::sign_v4(&mut request, ecdsa, SECRET_KEY, SystemTime::now());
    let reply = raw::send(request).await;
    assert_error_document(&reply, StatusCode::NOT_IMPLEMENTED, "NotImplemented");
    assert!(
        !cloak.stored_path("k").exists(),
        "a SigV4a upload was stored"
    );

    cloak.still_serves().await;
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_requests_and_unknown_keys_are_refused() {
    let cloak = Cloak::start().await;
    cloak.put("k", b"private").await;

    let request = signing::request("GET", &cloak.endpoint, "/bucket/k", &[], raw::full(""));
    let reply = raw::send(request).await;
    assert_error_document(&reply, StatusCode::FORBIDDEN, "AccessDenied");
    assert!(!reply.text().contains("private"));

    let stranger = common::sdk_client(&cloak.endpoint, "SOMEONEELSE", SECRET_KEY);
    let get = stranger.get_object().bucket(BUCKET).key("k");
    let f = fetch(get)
        .await
        .expect_err("an unknown access key is refused");
    let got = (f.status, f.code.as_str());
    assert_eq!(got, (403, "InvalidAccessKeyId"), "{f:?}");
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skewed_clock_is_request_time_too_skewed() {
    let cloak = Cloak::start().await;
    let twenty_minutes_ago = SystemTime::now() - Duration::from_secs(20 * 60);

    let mut request = signing::request("GET", &cloak.endpoint, "/bucket/k", &[], raw::full(""));
    let payload = SignableBody::Bytes(b"");
    signing::sign_v4(&mut request, payload, SECRET_KEY, twenty_minutes_ago);
    let reply = raw::send(request).await;
    assert_error_document(&reply, StatusCode::FORBIDDEN, "RequestTimeTooSkewed");
    cloak.stop().await;
}

/// The request an SDK presigned, sent by hyper with the headers the signature needs.
fn presigned(signed: &PresignedRequest, body: Vec<u8>) -> Request<raw::Body> {
    let mut request = Request::builder().method(signed.method()).uri(signed.uri());
    for (name, value) in signed.headers() {
        request = request.header(name, value);
    }
    request
        .body(raw::full(body))
        .expect("a valid presigned request")
}

/// S3's error document: the code, a message, and a request id that matches the header.
fn assert_error_document(reply: &Reply, status: StatusCode, code: &str) {
    let text = reply.text();
    assert_eq!(reply.status, status, "{text}");
    assert_eq!(reply.code(), code, "{text}");
    let message = reply.xml("Message").unwrap_or_default();
    assert!(!message.is_empty(), "no Message: {text}");
    let id = reply.xml("RequestId").unwrap_or_default();
    assert!(!id.is_empty(), "no RequestId: {text}");
    assert_eq!(
        reply.header("x-amz-request-id"),
        id,
        "x-amz-request-id differs from the body"
    );
    assert!(
        reply.header("content-type").contains("xml"),
        "the content type of an error"
    );
}
