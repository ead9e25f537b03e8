//! Bodies that never sit whole in memory, and shutdown with a request still in flight.

use std::io;
use std::time::Duration;

use aws_sigv4::http_request::SignableBody;
use bytes::Bytes;
use futures_util::stream;
use http::StatusCode;
use http_body::Frame;
use http_body_util::{BodyExt as _, StreamBody};
use md5::{Digest as _, Md5};
use tokio::sync::mpsc;

use super::tests::{Call, Harness, TestBody};

const CHUNK: usize = 1024 * 1024;
const CHUNKS: usize = 64;

/// Chunk `i` of the generated object: cheap to make again, and different for each `i`.
fn chunk(i: usize) -> Bytes {
    let seed = u8::try_from(i % 251).expect("below 251");
    Bytes::from(vec![seed; CHUNK])
}

#[tokio::test]
async fn put_and_get_64_mib_streaming() {
    let h = Harness::with_bucket().await;
    let size = (CHUNK * CHUNKS).to_string();

    // Unsigned payload, as the proxy will send a body it has not buffered.
    let frames = stream::iter((0..CHUNKS).map(|i| Ok::<_, io::Error>(Frame::data(chunk(i)))));
    let headers = [("content-length", size.as_str())];
    let call = Call::new("PUT", "/bkt/big").headers(&headers);
    let body: TestBody = StreamBody::new(frames).boxed();
    let request = h.signed(&call, SignableBody::UnsignedPayload, body);
    let put = h.send_request(request).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());

    let mut want = Md5::new();
    (0..CHUNKS).for_each(|i| want.update(chunk(i)));
    let want = format!("\"{}\"", hex::encode(want.finalize()));
    assert_eq!(put.header("etag"), want);

    let get = h.signed(
        &Call::new("GET", "/bkt/big"),
        SignableBody::Bytes(b""),
        empty(),
    );
    let response = h.client().request(get).await.expect("store answers");
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let (mut got, mut len) = (Md5::new(), 0);
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("body frame").into_data() {
            got.update(&data);
            len += data.len();
        }
    }
    assert_eq!(len, CHUNK * CHUNKS);
    assert_eq!(format!("\"{}\"", hex::encode(got.finalize())), want);
    h.store.shutdown().await;
}

#[tokio::test]
async fn shutdown_finishes_a_request_in_flight_then_refuses() {
    let h = Harness::with_bucket().await;
    let addr = h.store.endpoint().trim_start_matches("http://").to_owned();

    // The body arrives only when this test sends it, so the PUT is held open.
    let (tx, rx) = mpsc::channel::<Bytes>(1);
    let frames = stream::unfold(rx, |mut rx| async move {
        let data = rx.recv().await?;
        Some((Ok::<_, io::Error>(Frame::data(data)), rx))
    });
    let headers = [("content-length", "8")];
    let call = Call::new("PUT", "/bkt/slow").headers(&headers);
    let request = h.signed(
        &call,
        SignableBody::UnsignedPayload,
        StreamBody::new(frames).boxed(),
    );
    let client = h.client();
    let put = tokio::spawn(async move { client.request(request).await });

    tx.send(Bytes::from_static(b"half"))
        .await
        .expect("PUT reads");
    wait_for_temporary_file(&h).await;
    let Harness { store, dir, .. } = h;
    let shutdown = tokio::spawn(store.shutdown());
    tokio::task::yield_now().await;
    tx.send(Bytes::from_static(b"done"))
        .await
        .expect("PUT reads");

    let response = put.await.expect("PUT task").expect("PUT answered");
    assert_eq!(response.status(), StatusCode::OK);
    shutdown.await.expect("shutdown completes");
    assert!(tokio::net::TcpStream::connect(&addr).await.is_err());
    let stored = std::fs::read(dir.path().join("data/bkt/slow")).expect("object stored");
    assert_eq!(stored, b"halfdone");
}

/// s3s-fs writes an upload to a `.tmp.*` file in the data directory first; seeing one means
/// the store is inside the PUT.
async fn wait_for_temporary_file(h: &Harness) {
    let data = h.dir.path().join("data");
    for _ in 0..500 {
        let entries = std::fs::read_dir(&data).expect("data directory");
        let writing = entries
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().starts_with(".tmp."));
        if writing {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the store never started writing the upload");
}

fn empty() -> TestBody {
    super::tests::full(Bytes::new())
}
