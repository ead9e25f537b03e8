//! The bodies that count a request's bytes for its audit record: [`CountedBody`] counts the
//! request body as an operation reads it, and [`AuditedBody`] counts the response body it
//! sends and writes the record when it ends, whether it completed, failed or was dropped by
//! a client that went away.
//!
//! A response body is complete once the length it promised the client is out, or, when no
//! length was promised, once it reached its end of stream. The HTTP layer may drop a body
//! without asking for its end: hyper does as soon as Content-Length bytes are written, and
//! sends nothing of a HEAD, 204 or 304 response.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body::{Body, Frame, SizeHint};

use crate::body::{BoxError, ProxyBody};
use crate::hooks::{AuditRecord, AuditSink};

/// A count of body bytes shared between the body that moves them and the audit record.
///
/// Updates are relaxed atomic adds, one per data frame; the record reads the count when the
/// response ends, after the request body it counts has been handed on.
#[derive(Clone, Debug, Default)]
pub struct ByteCount(Arc<AtomicU64>);

/// A body that adds the length of each data frame it yields to a [`ByteCount`].
pub struct CountedBody<B> {
    inner: B,
    count: ByteCount,
}

pub struct AuditedBody {
    inner: ProxyBody,
    record: Option<AuditRecord>,
    sink: Arc<dyn AuditSink>,
    started: Instant,
    promised: Option<u64>,
    sent: u64,
    bytes_in: ByteCount,
}

impl ByteCount {
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl<B> CountedBody<B> {
    pub fn new(inner: B, count: ByteCount) -> Self {
        Self { inner, count }
    }
}

impl<B> Body for CountedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                self.count.add(data.len() as u64);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl AuditedBody {
    /// Wraps `inner`, which promised the client `promised` bytes (see [`promised_len`]).
    /// `bytes_in` is read when the record is written.
    pub fn new(
        inner: ProxyBody,
        promised: Option<u64>,
        record: AuditRecord,
        sink: Arc<dyn AuditSink>,
        started: Instant,
        bytes_in: ByteCount,
    ) -> Self {
        Self {
            inner,
            record: Some(record),
            sink,
            started,
            promised,
            sent: 0,
            bytes_in,
        }
    }

    /// Whether what went out so far is the whole of what was promised.
    fn promise_kept(&self) -> Option<bool> {
        self.promised.map(|len| self.sent >= len)
    }

    fn emit(&mut self, failed: bool) {
        if let Some(mut record) = self.record.take() {
            record.bytes_in = self.bytes_in.get();
            record.bytes_out = self.sent;
            record.duration_ms = self.started.elapsed().as_millis() as u64;
            if failed && record.error_code.is_none() {
                record.error_code = Some("ResponseAborted");
            }
            self.sink.record(record);
        }
    }
}

impl Body for AuditedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.sent += data.len() as u64;
                }
            }
            Poll::Ready(Some(Err(_))) => self.emit(true),
            // Ending short of a promised length truncates the response: hyper fails it.
            Poll::Ready(None) => {
                let short = self.promise_kept() == Some(false);
                self.emit(short);
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for AuditedBody {
    fn drop(&mut self) {
        let complete = match self.promise_kept() {
            Some(kept) => kept,
            None => self.inner.is_end_stream(),
        };
        self.emit(!complete);
    }
}

/// How many body bytes the response promises the client, as hyper frames it: none for a
/// HEAD request or a 1xx, 204 or 304 status; else the body's exact size, which hyper prefers;
/// else its Content-Length; else nothing, for a chunked body whose end of stream is the
/// only sign that it is complete.
pub fn promised_len(
    head: bool,
    status: StatusCode,
    headers: &HeaderMap,
    body: &impl Body,
) -> Option<u64> {
    let bodiless = matches!(status, StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED);
    if head || bodiless || status.is_informational() {
        return Some(0);
    }
    body.size_hint().exact().or_else(|| {
        let value = headers.get(http::header::CONTENT_LENGTH)?;
        value.to_str().ok()?.trim().parse().ok()
    })
}

#[cfg(test)]
mod tests;
