//! The client's body of a GET: stored units opened, position-checked and trimmed as they
//! stream in. A unit that fails its check ends the response with an error, so the client sees a
//! broken transfer, never unauthenticated bytes.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use cloak_envelope::Opener;
use http_body::{Body, Frame, SizeHint};

use crate::body::{BoxError, ProxyBody};
use crate::hooks::PlaintextInspector;

pub struct DecryptingBody {
    inner: ProxyBody,
    opener: Option<Opener>,
    inspector: Option<Box<dyn PlaintextInspector>>,
    pending: VecDeque<Bytes>,
    remaining: u64,
    label: String,
}

impl DecryptingBody {
    /// `len` is the plaintext length the response announced; `label` names the object in logs.
    pub fn new(
        inner: ProxyBody,
        opener: Opener,
        inspector: Option<Box<dyn PlaintextInspector>>,
        len: u64,
        label: String,
    ) -> Self {
        Self {
            inner,
            opener: Some(opener),
            inspector,
            pending: VecDeque::new(),
            remaining: len,
            label,
        }
    }

    fn tampered(
        &mut self,
        err: impl std::fmt::Display,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        tracing::error!(object = %self.label, error = %err, "stored object failed its integrity check; response aborted");
        self.opener = None;
        self.pending.clear();
        Poll::Ready(Some(Err(format!("integrity check failed: {err}").into())))
    }
}

impl Body for DecryptingBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        loop {
            if let Some(plain) = self.pending.pop_front() {
                self.remaining = self.remaining.saturating_sub(plain.len() as u64);
                if let Some(i) = self.inspector.as_mut() {
                    i.inspect(&plain);
                }
                return Poll::Ready(Some(Ok(Frame::data(plain))));
            }
            if self.opener.is_none() {
                return Poll::Ready(None);
            }
            match Pin::new(&mut self.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(frame))) => {
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    let mut out = Vec::new();
                    let opener = self.opener.as_mut().expect("checked above");
                    if let Err(e) = opener.push(data, &mut out) {
                        return self.tampered(e);
                    }
                    self.pending.extend(out);
                }
                Poll::Ready(Some(Err(e))) => {
                    tracing::warn!(object = %self.label, error = %e, "store connection failed mid-response");
                    self.opener = None;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    let opener = self.opener.take().expect("checked above");
                    if let Err(e) = opener.finish() {
                        return self.tampered(e);
                    }
                    if let Some(i) = self.inspector.as_mut() {
                        i.finish();
                    }
                }
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}
