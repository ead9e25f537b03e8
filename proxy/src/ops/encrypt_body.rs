//! The upstream body of a PUT: the client's plaintext, digested, inspected and sealed into
//! units as it streams, ending with the sealed trailer.
//!
//! The final bytes (the last unit, and for a single PUT the trailer) are held back until every
//! digest the client declared has verified. If one fails, the body ends with an error instead:
//! the store sees a request shorter than its Content-Length and discards it, so nothing is
//! stored, and the reason waits in `outcome` for the handler to answer with.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use cloak_envelope::{ContentKey, Sealer};
use http::HeaderMap;
use http_body::{Body, Frame};

use crate::body::{BoxError, ProxyBody};
use crate::checksum::{BodyDigests, Digests};
use crate::error::S3Error;
use crate::hooks::PlaintextInspector;

/// How the client's body ended: verified digests, or the error to answer with.
pub type Outcome = Arc<Mutex<Option<Result<Digests, S3Error>>>>;

pub struct EncryptingBody {
    inner: ProxyBody,
    key: Arc<ContentKey>,
    sealer: Option<Sealer>,
    digests: Option<BodyDigests>,
    inspector: Option<Box<dyn PlaintextInspector>>,
    trailers: Option<HeaderMap>,
    pending: VecDeque<Bytes>,
    /// The last unit, released only after the digests verify.
    held: Option<Bytes>,
    outcome: Outcome,
    with_trailer: bool,
    done: bool,
}

/// How the sealed stream ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// A single PUT: the last unit, then the object's trailer.
    Trailer,
    /// A multipart part: the last unit only; Complete writes the trailer.
    PartOnly,
}

impl EncryptingBody {
    pub fn new(
        inner: ProxyBody,
        key: Arc<ContentKey>,
        sealer: Sealer,
        digests: BodyDigests,
        inspector: Option<Box<dyn PlaintextInspector>>,
        ending: Ending,
    ) -> (Self, Outcome) {
        let outcome: Outcome = Arc::default();
        let body = Self {
            inner,
            key,
            sealer: Some(sealer),
            digests: Some(digests),
            inspector,
            trailers: None,
            pending: VecDeque::new(),
            held: None,
            outcome: outcome.clone(),
            with_trailer: ending == Ending::Trailer,
            done: false,
        };
        (body, outcome)
    }

    fn absorb(&mut self, data: &Bytes) -> Result<(), S3Error> {
        if let Some(d) = self.digests.as_mut() {
            d.update(data);
        }
        if let Some(i) = self.inspector.as_mut() {
            i.inspect(data);
        }
        let mut out = Vec::new();
        let sealer = self
            .sealer
            .as_mut()
            .ok_or_else(|| S3Error::internal("sealer gone"))?;
        sealer.push(data, &mut out).map_err(|_| incomplete())?;
        self.pending.extend(out);
        // Once all plaintext is in, the newest unit is the last one: it waits for conclude.
        if sealer.remaining() == 0 && self.held.is_none() {
            self.held = self.pending.pop_back();
        }
        Ok(())
    }

    /// The client's body ended: verify, then emit the last unit and the trailer.
    fn conclude(&mut self) -> Result<(), S3Error> {
        let digests = self
            .digests
            .take()
            .ok_or_else(|| S3Error::internal("digests gone"))?;
        let verified = digests.finish(self.trailers.as_ref())?;
        let sealer = self
            .sealer
            .take()
            .ok_or_else(|| S3Error::internal("sealer gone"))?;
        let trailer = sealer.single_trailer(verified.md5).seal(&self.key);
        let mut out = Vec::new();
        sealer.finish(&mut out).map_err(|_| incomplete())?;
        self.pending.extend(self.held.take());
        self.pending.extend(out);
        if self.with_trailer {
            self.pending.push_back(Bytes::from(trailer));
        }
        if let Some(i) = self.inspector.as_mut() {
            i.finish();
        }
        *self.outcome.lock().expect("outcome lock is never poisoned") = Some(Ok(verified));
        Ok(())
    }

    fn fail(&mut self, err: S3Error) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.done = true;
        self.pending.clear();
        self.held = None;
        let message = err.to_string();
        *self.outcome.lock().expect("outcome lock is never poisoned") = Some(Err(err));
        Poll::Ready(Some(Err(message.into())))
    }
}

impl Body for EncryptingBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        loop {
            if let Some(unit) = self.pending.pop_front() {
                return Poll::Ready(Some(Ok(Frame::data(unit))));
            }
            if self.done {
                return Poll::Ready(None);
            }
            let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(f) => f,
            };
            let step = match frame {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => self.absorb(&data),
                    Err(frame) => {
                        self.trailers = frame.into_trailers().ok();
                        Ok(())
                    }
                },
                Some(Err(e)) => Err(super::put::body_error(e.as_ref())),
                None => {
                    self.done = true;
                    self.conclude()
                }
            };
            if let Err(err) = step {
                return self.fail(err);
            }
        }
    }
}

fn incomplete() -> S3Error {
    S3Error::bad_request(
        "IncompleteBody",
        "The request body's length differs from its declared Content-Length",
    )
}
