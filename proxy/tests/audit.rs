//! The audit record of each request, kept by a sink of the test's own: a GET read in full
//! or by range is complete, a client that hangs up mid-GET aborted it, and a PUT counts the
//! payload it sent, decoded from aws-chunked.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_sdk_s3::operation::RequestId as _;
use aws_sdk_s3::primitives::ByteStream;
use aws_sigv4::http_request::SignableBody;
use cloak_proxy::hooks::{AuditRecord, AuditSink, Hooks};
use cloak_proxy::route::Op;
use http::StatusCode;
use http_body_util::BodyExt as _;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use common::raw::{self, Body};
use common::signing::{self, crc32_base64};
use common::{plaintext, Cloak, BUCKET, SECRET_KEY, SEGMENT};

/// More than a segment and not a multiple of one, like the conformance suite's object.
const LEN: usize = 300_001;

/// Keeps every record it is given.
#[derive(Default)]
struct Kept(Mutex<Vec<AuditRecord>>);

impl AuditSink for Kept {
    fn record(&self, record: AuditRecord) {
        self.0
            .lock()
            .expect("no test panicked holding it")
            .push(record);
    }
}

impl Kept {
    /// The one record of the request with this id. A record is written when the response
    /// body ends, which can be a moment after the client has read it.
    async fn of(&self, request_id: &str) -> AuditRecord {
        for _ in 0..250 {
            let records = self.0.lock().expect("no test panicked holding it").clone();
            let mut found = records
                .into_iter()
                .filter(|r| r.ctx.request_id == request_id);
            if let Some(record) = found.next() {
                assert!(found.next().is_none(), "two records for {request_id}");
                return record;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no audit record for request {request_id}");
    }
}

async fn start() -> (Cloak, Arc<Kept>) {
    let kept = Arc::new(Kept::default());
    let hooks = Hooks {
        audit: kept.clone(),
        ..Hooks::default()
    };
    (Cloak::start_with_hooks(hooks).await, kept)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_read_in_full_is_complete() {
    let (cloak, kept) = start().await;
    let plain = plaintext(LEN);
    cloak.put("k", &plain).await;

    let got = cloak.get_object("k").send().await.expect("GET k");
    let id = got.request_id().expect("a request id").to_owned();
    let body = got
        .body
        .collect()
        .await
        .expect("the whole body")
        .into_bytes();
    assert!(body == plain, "GET k gave the wrong bytes");

    let record = kept.of(&id).await;
    assert_eq!(record.ctx.op, Op::GetObject);
    assert_eq!(record.status, 200);
    assert_eq!(record.error_code, None, "{record:?}");
    assert_eq!((record.bytes_in, record.bytes_out), (0, LEN as u64));
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ranged_get_and_a_head_are_complete() {
    let (cloak, kept) = start().await;
    let plain = plaintext(LEN);
    cloak.put("k", &plain).await;

    // Across a segment boundary, ending short of the object's end.
    let (first, last) = (SEGMENT - 1000, 2 * SEGMENT + 999);
    let range = format!("bytes={first}-{last}");
    let got = cloak
        .get_object("k")
        .range(range)
        .send()
        .await
        .expect("GET a range");
    let id = got.request_id().expect("a request id").to_owned();
    let body = got
        .body
        .collect()
        .await
        .expect("the whole range")
        .into_bytes();
    assert!(
        body == plain[first..=last],
        "the range gave the wrong bytes"
    );
    let record = kept.of(&id).await;
    assert_eq!(
        (record.status, record.error_code),
        (206, None),
        "{record:?}"
    );
    assert_eq!(record.bytes_out, (last - first + 1) as u64);

    let head = cloak.head_object("k").send().await.expect("HEAD k");
    let record = kept.of(head.request_id().expect("a request id")).await;
    assert_eq!(
        (record.status, record.error_code),
        (200, None),
        "{record:?}"
    );
    assert_eq!(record.bytes_out, 0);
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_hangs_up_mid_get_aborted_it() {
    let (cloak, kept) = start().await;
    // Far more than loopback's socket buffers hold, so the proxy is still sending.
    let len = 16 << 20;
    let plain = plaintext(len);
    cloak.put("big", &plain).await;

    let target = format!("/{BUCKET}/big");
    let mut request = signing::request("GET", &cloak.endpoint, &target, &[], raw::full(""));
    signing::sign_v4(
        &mut request,
        SignableBody::Bytes(b""),
        SECRET_KEY,
        SystemTime::now(),
    );
    let client: Client<HttpConnector, Body> = Client::builder(TokioExecutor::new()).build_http();
    let response = client.request(request).await.expect("the proxy answers");
    assert_eq!(response.status(), StatusCode::OK);
    let id = response.headers()["x-amz-request-id"]
        .to_str()
        .expect("text")
        .to_owned();
    let mut body = response.into_body();
    let frame = body
        .frame()
        .await
        .expect("a first frame")
        .expect("not an error");
    assert!(frame.is_data());
    drop((body, client));

    let record = kept.of(&id).await;
    assert_eq!(record.status, 200);
    assert_eq!(record.error_code, Some("ResponseAborted"), "{record:?}");
    assert!(record.bytes_out < len as u64, "{record:?}");
    cloak.still_serves().await;
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_counts_its_payload() {
    let (cloak, kept) = start().await;
    let plain = plaintext(LEN);

    let put = cloak.s3().put_object().bucket(BUCKET).key("sdk");
    let out = put.body(ByteStream::from(plain.clone())).send().await;
    let out = out.expect("PUT with the SDK");
    let record = kept.of(out.request_id().expect("a request id")).await;
    assert_eq!((record.ctx.op, record.error_code), (Op::PutObject, None));
    assert_eq!(record.bytes_in, LEN as u64, "{record:?}");

    let reply = cloak
        .raw("PUT", &format!("/{BUCKET}/raw"), &[], &plain)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let record = kept.of(reply.header("x-amz-request-id")).await;
    assert_eq!(record.bytes_in, LEN as u64, "{record:?}");
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aws_chunked_put_counts_the_decoded_payload() {
    let (cloak, kept) = start().await;
    let plain = plaintext(LEN);
    let crc = crc32_base64(&plain);
    let framed = signing::unsigned_chunks(&plain, SEGMENT, &[("x-amz-checksum-crc32", &crc)]);
    let (framed_len, decoded_len) = (framed.len().to_string(), LEN.to_string());
    let headers = [
        ("content-encoding", "aws-chunked"),
        ("content-length", framed_len.as_str()),
        ("x-amz-decoded-content-length", decoded_len.as_str()),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
    ];

    let target = format!("/{BUCKET}/chunked");
    let mut request = signing::request("PUT", &cloak.endpoint, &target, &headers, raw::full(""));
    let payload = SignableBody::Precomputed("STREAMING-UNSIGNED-PAYLOAD-TRAILER".into());
    signing::sign_v4(&mut request, payload, SECRET_KEY, SystemTime::now());
    *request.body_mut() = raw::full(framed);
    let reply = raw::send(request).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());

    let record = kept.of(reply.header("x-amz-request-id")).await;
    assert_eq!(record.bytes_in, LEN as u64, "{record:?}");
    assert!(
        cloak.get("chunked").await == plain,
        "GET gave the wrong bytes"
    );
    cloak.stop().await;
}
