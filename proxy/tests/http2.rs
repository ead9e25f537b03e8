//! HTTP/2 downstream: the same signed requests over h2 (prior knowledge, plain TCP), where the
//! host travels as the `:authority` pseudo-header.

mod common;

use std::time::SystemTime;

use aws_sigv4::http_request::SignableBody;
use common::raw::{self, Reply};
use common::{plaintext, signing, Cloak, BUCKET, SECRET_KEY};
use http::{Request, StatusCode, Version};
use http_body_util::BodyExt as _;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

async fn send_h2(mut request: Request<raw::Body>) -> (Version, Reply) {
    *request.version_mut() = Version::HTTP_2;
    let client: Client<HttpConnector, raw::Body> = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let response = client.request(request).await.expect("the proxy answers h2");
    let version = response.version();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("the whole body").to_bytes();
    let reply = Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    };
    (version, reply)
}

fn signed(cloak: &Cloak, method: &str, target: &str, body: &[u8]) -> Request<raw::Body> {
    let full = raw::full(body.to_vec());
    let mut request = signing::request(method, &cloak.endpoint, target, &[], full);
    let payload = SignableBody::Bytes(body);
    signing::sign_v4(&mut request, payload, SECRET_KEY, SystemTime::now());
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_and_ranged_get_over_http2() {
    let cloak = Cloak::start().await;
    let plain = plaintext(200_000);
    let target = format!("/{BUCKET}/h2-object");

    let (version, put) = send_h2(signed(&cloak, "PUT", &target, &plain)).await;
    assert_eq!(version, Version::HTTP_2);
    assert_eq!(put.status, StatusCode::OK, "PUT over h2: {}", put.text());

    let mut get = signed(&cloak, "GET", &target, b"");
    get.headers_mut()
        .insert("range", "bytes=70000-130000".parse().unwrap());
    let (_, got) = send_h2(get).await;
    assert_eq!(got.status, StatusCode::PARTIAL_CONTENT, "{}", got.text());
    assert!(
        got.body[..] == plain[70_000..=130_000],
        "wrong bytes over h2"
    );
    assert_eq!(got.header("content-range"), "bytes 70000-130000/200000");
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_authority_stands_in_for_a_missing_host_header() {
    let cloak = Cloak::start().await;
    cloak.put("by-authority", b"signed over :authority").await;

    let mut get = signed(&cloak, "GET", &format!("/{BUCKET}/by-authority"), b"");
    get.headers_mut().remove("host");
    let (_, got) = send_h2(get).await;

    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    assert_eq!(&got.body[..], b"signed over :authority");
    cloak.stop().await;
}
