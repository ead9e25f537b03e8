//! A response body that counts what it sends and writes the request's audit record when it
//! ends, whether it completed, failed or was dropped by a client that went away.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use crate::body::{BoxError, ProxyBody};
use crate::hooks::{AuditRecord, AuditSink};

pub struct AuditedBody {
    inner: ProxyBody,
    record: Option<AuditRecord>,
    sink: Arc<dyn AuditSink>,
    started: Instant,
    sent: u64,
}

impl AuditedBody {
    pub fn new(
        inner: ProxyBody,
        record: AuditRecord,
        sink: Arc<dyn AuditSink>,
        started: Instant,
    ) -> Self {
        Self {
            inner,
            record: Some(record),
            sink,
            started,
            sent: 0,
        }
    }

    fn emit(&mut self, failed: bool) {
        if let Some(mut record) = self.record.take() {
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
            Poll::Ready(None) => self.emit(false),
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
        let complete = self.inner.is_end_stream();
        self.emit(!complete);
    }
}
