//! Conditional writes, against a real moto S3 (the embedded store does not enforce them):
//! PutObject and CompleteMultipartUpload with `If-Match` and `If-None-Match: *`. Cloak checks
//! the client's plaintext ETag itself and sends moto its own ETag, so both must agree.

// The kms crate's real-server support, reused as is; this test needs only part of it.
#[allow(dead_code)]
#[path = "../../kms/tests/support/moto.rs"]
mod moto;
#[allow(dead_code)]
#[path = "../../kms/tests/support/process.rs"]
mod process;
mod standalone;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use cloak_proxy::hooks::Hooks;
use md5::{Digest as _, Md5};

use moto::Moto;
use standalone::{client, start, Store};

const BUCKET: &str = "conditional";
const STALE: &str = "\"00000000000000000000000000000000\"";

fn etag(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(Md5::digest(body)))
}

/// Cloak in front of a fresh moto, with the test bucket made. Moto lives as long as the
/// returned guard.
async fn cloak() -> (Client, Moto, tempfile::TempDir) {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("dir");
    let store = Store {
        endpoint: &moto.url,
        access_key: "testing",
        secret_key: "moto-accepts-any-secret",
    };
    let s3 = client(&start(dir.path(), &store, Hooks::default()).await);
    let made = s3.create_bucket().bucket(BUCKET).send().await;
    made.expect("bucket");
    (s3, moto, dir)
}

async fn read(s3: &Client, key: &str) -> Vec<u8> {
    let got = s3.get_object().bucket(BUCKET).key(key).send().await;
    let body = got.expect("GET").body.collect().await.expect("body");
    body.into_bytes().to_vec()
}

/// The status and S3 code of a refusal.
fn refusal<E: ProvideErrorMetadata, R>(result: Result<R, SdkError<E>>) -> (u16, String) {
    let Err(e) = result else {
        panic!("the write was not refused")
    };
    let status = e.raw_response().map(|r| r.status().as_u16());
    let code = e
        .as_service_error()
        .and_then(|s| s.code())
        .map(str::to_owned);
    (status.unwrap_or(0), code.unwrap_or_default())
}

async fn put(s3: &Client, key: &str, body: &[u8]) {
    let put = s3.put_object().bucket(BUCKET).key(key);
    put.body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .expect("PUT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_object_if_match_compares_the_plaintext_etag() {
    let (s3, _moto, _dir) = cloak().await;
    put(&s3, "k", b"first").await;
    let put_if = |body: &'static [u8], if_match: &str| {
        let put = s3.put_object().bucket(BUCKET).key("k").if_match(if_match);
        put.body(ByteStream::from_static(body)).send()
    };

    let stale = put_if(b"second", STALE).await;
    assert_eq!(refusal(stale), (412, "PreconditionFailed".to_owned()));
    assert_eq!(read(&s3, "k").await, b"first");

    let current = put_if(b"third", &etag(b"first"))
        .await
        .expect("PUT If-Match");
    assert_eq!(current.e_tag(), Some(etag(b"third").as_str()));
    assert_eq!(read(&s3, "k").await, b"third");

    // The ETag just replaced is stale now.
    let replaced = put_if(b"fourth", &etag(b"first")).await;
    assert_eq!(refusal(replaced).0, 412);
    assert_eq!(read(&s3, "k").await, b"third");

    let missing = s3
        .put_object()
        .bucket(BUCKET)
        .key("absent")
        .if_match(etag(b"x"));
    let missing = missing.body(ByteStream::from_static(b"x")).send().await;
    assert_eq!(refusal(missing), (404, "NoSuchKey".to_owned()));
    let head = s3.head_object().bucket(BUCKET).key("absent").send().await;
    assert!(head.is_err(), "a refused PUT stored nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_object_if_none_match_refuses_an_existing_key() {
    let (s3, _moto, _dir) = cloak().await;
    let put_new = |body: &'static [u8]| {
        let put = s3.put_object().bucket(BUCKET).key("k").if_none_match("*");
        put.body(ByteStream::from_static(body)).send()
    };

    put_new(b"first").await.expect("PUT of a new key");
    assert_eq!(
        refusal(put_new(b"second").await),
        (412, "PreconditionFailed".to_owned())
    );
    assert_eq!(read(&s3, "k").await, b"first");
}

/// Starts an upload of one part over `key`; its id and the part list to complete it with.
async fn one_part_upload(
    s3: &Client,
    key: &str,
    body: &[u8],
) -> (String, CompletedMultipartUpload) {
    let created = s3.create_multipart_upload().bucket(BUCKET).key(key).send();
    let id = created
        .await
        .expect("create")
        .upload_id()
        .expect("id")
        .to_owned();
    let part = s3.upload_part().bucket(BUCKET).key(key).upload_id(&id);
    let part = part.part_number(1).body(ByteStream::from(body.to_vec()));
    let part = part.send().await.expect("part");
    let done = CompletedPart::builder()
        .part_number(1)
        .e_tag(part.e_tag().expect("a part ETag"))
        .build();
    (id, CompletedMultipartUpload::builder().parts(done).build())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complete_carries_its_conditions() {
    let (s3, _moto, _dir) = cloak().await;
    put(&s3, "k", b"exists").await;
    let complete = |id: &str, parts: &CompletedMultipartUpload| {
        let c = s3.complete_multipart_upload().bucket(BUCKET).key("k");
        c.upload_id(id).multipart_upload(parts.clone())
    };

    // If-None-Match: * over an existing key: refused, and the upload can still be aborted.
    let (id, parts) = one_part_upload(&s3, "k", b"new").await;
    let refused = complete(&id, &parts).if_none_match("*").send().await;
    assert_eq!(refusal(refused), (412, "PreconditionFailed".to_owned()));
    assert_eq!(read(&s3, "k").await, b"exists");
    let abort = s3.abort_multipart_upload().bucket(BUCKET).key("k");
    abort
        .upload_id(&id)
        .send()
        .await
        .expect("abort after a refused Complete");

    // If-Match with a stale ETag: refused before anything is written.
    let (id, parts) = one_part_upload(&s3, "k", b"newer").await;
    let refused = complete(&id, &parts).if_match(STALE).send().await;
    assert_eq!(refusal(refused).0, 412);
    assert_eq!(read(&s3, "k").await, b"exists");

    // The same upload, completed with the current ETag.
    let done = complete(&id, &parts).if_match(etag(b"exists")).send().await;
    let done = done.expect("Complete If-Match with the current ETag");
    assert!(done.e_tag().is_some_and(|e| e.ends_with("-1\"")));
    assert_eq!(read(&s3, "k").await, b"newer");
}
