use std::sync::Mutex;
use std::time::SystemTime;

use futures_util::stream;
use http_body_util::{BodyExt as _, StreamBody};

use super::*;
use crate::body;
use crate::hooks::{Decision, RequestContext};
use crate::route::Op;

#[derive(Default)]
struct Captured(Mutex<Vec<AuditRecord>>);

impl AuditSink for Captured {
    fn record(&self, record: AuditRecord) {
        self.0
            .lock()
            .expect("no test panicked holding it")
            .push(record);
    }
}

impl Captured {
    /// The one record written, as (error, bytes_out).
    fn only(&self) -> (Option<&'static str>, u64) {
        let records = self.0.lock().expect("no test panicked holding it");
        assert_eq!(records.len(), 1, "one record per response");
        (records[0].error_code, records[0].bytes_out)
    }
}

fn record() -> AuditRecord {
    let ctx = RequestContext {
        request_id: "TEST".into(),
        principal: None,
        op: Op::GetObject,
        method: "GET".into(),
        bucket: None,
        key: None,
        labels: Default::default(),
        started: SystemTime::now(),
    };
    AuditRecord {
        ctx,
        status: 200,
        error_code: None,
        bytes_in: 0,
        bytes_out: 0,
        decision: Decision::Allow,
        duration_ms: 0,
    }
}

/// A body of `pieces` that, like the decrypting body, never says it has ended until asked
/// for a frame past its last.
fn streamed(pieces: &[&'static [u8]]) -> ProxyBody {
    let frames = pieces
        .iter()
        .map(|p| Ok::<_, BoxError>(Frame::data(Bytes::from(*p))));
    body::boxed(StreamBody::new(stream::iter(frames.collect::<Vec<_>>())))
}

fn failing() -> ProxyBody {
    let frames: Vec<Result<Frame<Bytes>, BoxError>> = vec![
        Ok(Frame::data(Bytes::from_static(b"abc"))),
        Err("tag mismatch".into()),
    ];
    body::boxed(StreamBody::new(stream::iter(frames)))
}

fn audited(inner: ProxyBody, promised: Option<u64>, sink: &Arc<Captured>) -> AuditedBody {
    let sink: Arc<dyn AuditSink> = sink.clone();
    let count = ByteCount::default();
    AuditedBody::new(inner, promised, record(), sink, Instant::now(), count)
}

/// Polls `n` frames, as hyper does before it stops asking.
async fn take_frames(body: &mut AuditedBody, n: usize) {
    for _ in 0..n {
        let frame = body.frame().await.expect("a frame").expect("not an error");
        assert!(frame.is_data());
    }
}

#[tokio::test]
async fn dropped_once_the_promised_length_is_out_is_complete() {
    let sink = Arc::new(Captured::default());
    let mut body = audited(streamed(&[b"abc", b"defg"]), Some(7), &sink);
    take_frames(&mut body, 2).await;
    assert!(
        !body.is_end_stream(),
        "the inner body has not said it ended"
    );
    drop(body);
    assert_eq!(sink.only(), (None, 7));
}

#[tokio::test]
async fn dropped_short_of_the_promised_length_is_aborted() {
    let sink = Arc::new(Captured::default());
    let mut body = audited(streamed(&[b"abc", b"defg"]), Some(7), &sink);
    take_frames(&mut body, 1).await;
    drop(body);
    assert_eq!(sink.only(), (Some("ResponseAborted"), 3));
}

#[tokio::test]
async fn ending_short_of_the_promised_length_is_aborted() {
    let sink = Arc::new(Captured::default());
    let mut body = audited(streamed(&[b"abc"]), Some(7), &sink);
    take_frames(&mut body, 1).await;
    assert!(body.frame().await.is_none());
    drop(body);
    assert_eq!(sink.only(), (Some("ResponseAborted"), 3));
}

#[tokio::test]
async fn without_a_promise_only_the_end_of_stream_completes() {
    let sink = Arc::new(Captured::default());
    let mut body = audited(streamed(&[b"abc", b"defg"]), None, &sink);
    take_frames(&mut body, 2).await;
    assert!(body.frame().await.is_none());
    drop(body);
    assert_eq!(sink.only(), (None, 7));

    let sink = Arc::new(Captured::default());
    let mut body = audited(streamed(&[b"abc", b"defg"]), None, &sink);
    take_frames(&mut body, 2).await;
    drop(body);
    assert_eq!(sink.only(), (Some("ResponseAborted"), 7));
}

#[tokio::test]
async fn a_chunked_body_that_says_it_ended_is_complete_when_dropped() {
    let sink = Arc::new(Captured::default());
    let mut body = audited(body::full(Bytes::from_static(b"abc")), None, &sink);
    take_frames(&mut body, 1).await;
    assert!(body.is_end_stream());
    drop(body);
    assert_eq!(sink.only(), (None, 3));
}

#[test]
fn a_body_nothing_is_sent_of_is_complete_unpolled() {
    let sink = Arc::new(Captured::default());
    drop(audited(streamed(&[b"abc"]), Some(0), &sink));
    assert_eq!(sink.only(), (None, 0));
}

#[tokio::test]
async fn a_failing_body_is_aborted_even_past_its_promise() {
    let sink = Arc::new(Captured::default());
    let mut body = audited(failing(), Some(3), &sink);
    take_frames(&mut body, 1).await;
    assert!(body.frame().await.expect("a frame").is_err());
    drop(body);
    assert_eq!(sink.only(), (Some("ResponseAborted"), 3));
}

#[tokio::test]
async fn an_error_response_keeps_its_own_code() {
    let sink = Arc::new(Captured::default());
    let dyn_sink: Arc<dyn AuditSink> = sink.clone();
    let mut rec = record();
    rec.error_code = Some("NoSuchKey");
    let inner = streamed(&[b"<Error/>"]);
    let body = AuditedBody::new(
        inner,
        Some(8),
        rec,
        dyn_sink,
        Instant::now(),
        Default::default(),
    );
    drop(body);
    assert_eq!(sink.only(), (Some("NoSuchKey"), 0));
}

#[tokio::test]
async fn the_record_carries_the_request_bytes_counted_when_it_is_written() {
    let sink = Arc::new(Captured::default());
    let dyn_sink: Arc<dyn AuditSink> = sink.clone();
    let count = ByteCount::default();
    let mut request = CountedBody::new(streamed(&[b"abc", b"defg"]), count.clone());
    let response = AuditedBody::new(
        body::empty(),
        Some(0),
        record(),
        dyn_sink,
        Instant::now(),
        count,
    );

    // The count is read when the record is written, not when the response is built.
    while request.frame().await.is_some() {}
    drop(response);
    let records = sink.0.lock().expect("no test panicked holding it");
    assert_eq!(records[0].bytes_in, 7);
}

#[tokio::test]
async fn counted_body_counts_data_frames_only() {
    let count = ByteCount::default();
    let mut trailers = HeaderMap::new();
    trailers.insert(
        "x-amz-checksum-crc32",
        "AAAAAA==".parse().expect("a header value"),
    );
    let frames: Vec<Result<Frame<Bytes>, BoxError>> = vec![
        Ok(Frame::data(Bytes::from_static(b"hello"))),
        Ok(Frame::data(Bytes::new())),
        Ok(Frame::trailers(trailers)),
    ];
    let mut body = CountedBody::new(StreamBody::new(stream::iter(frames)), count.clone());
    while body.frame().await.is_some() {}
    assert_eq!(count.get(), 5);
}

#[test]
fn promised_len_follows_what_hyper_sends() {
    let empty = HeaderMap::new();
    let mut with_len = HeaderMap::new();
    with_len.insert("content-length", "300001".parse().expect("a header value"));
    let sized = body::full(Bytes::from_static(b"abc"));
    let open_ended = streamed(&[b"abc"]);

    assert_eq!(
        promised_len(true, StatusCode::OK, &with_len, &sized),
        Some(0)
    );
    assert_eq!(
        promised_len(false, StatusCode::NOT_MODIFIED, &with_len, &open_ended),
        Some(0)
    );
    assert_eq!(
        promised_len(false, StatusCode::NO_CONTENT, &empty, &open_ended),
        Some(0)
    );
    assert_eq!(
        promised_len(false, StatusCode::OK, &with_len, &sized),
        Some(3)
    );
    let partial = StatusCode::PARTIAL_CONTENT;
    assert_eq!(
        promised_len(false, partial, &with_len, &open_ended),
        Some(300_001)
    );
    assert_eq!(
        promised_len(false, StatusCode::OK, &empty, &open_ended),
        None
    );
}
