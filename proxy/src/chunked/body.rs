//! [`AwsChunkedBody`]: an `http_body::Body` that decodes an aws-chunked request body.

use std::error::Error as StdError;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};

use super::decoder::{ChunkedDecoder, Decoded};
use super::error::ChunkedError;
use super::DecoderConfig;

/// Decodes an aws-chunked body read from `B`, yielding the payload and then, if the client sent
/// any, one trailers frame (for example `x-amz-checksum-crc32`).
///
/// `B` is whatever carries the bytes: hyper's `Incoming` has already removed any HTTP/1.1
/// `Transfer-Encoding: chunked` layer underneath. Trailer frames of `B` itself are ignored.
/// The body ends only once `B` has ended, so bytes after the aws-chunked end are refused.
#[derive(Debug)]
pub struct AwsChunkedBody<B> {
    inner: B,
    decoder: ChunkedDecoder,
    input: BytesMut,
    phase: Phase,
}

#[derive(Debug)]
enum Phase {
    Decoding,
    /// The aws-chunked body is complete; waiting for `B` to end before handing out trailers.
    Draining(Option<HeaderMap>),
    Finished,
}

impl<B> AwsChunkedBody<B> {
    /// Wraps `inner`, decoding as `config` says.
    pub fn new(inner: B, config: DecoderConfig) -> Self {
        Self {
            inner,
            decoder: ChunkedDecoder::new(config),
            input: BytesMut::new(),
            phase: Phase::Decoding,
        }
    }
}

impl<B> AwsChunkedBody<B>
where
    B: Body + Unpin,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    /// Pulls more bytes from `inner`; `Ok(false)` when `inner` has ended.
    fn poll_input(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool, ChunkedError>> {
        loop {
            let frame = match ready!(Pin::new(&mut self.inner).poll_frame(cx)) {
                None => return Poll::Ready(Ok(false)),
                Some(Err(e)) => return Poll::Ready(Err(ChunkedError::ReadFailed(e.into()))),
                Some(Ok(frame)) => frame,
            };
            if let Ok(mut data) = frame.into_data() {
                if data.has_remaining() {
                    let bytes = data.copy_to_bytes(data.remaining());
                    self.input.extend_from_slice(&bytes);
                    return Poll::Ready(Ok(true));
                }
            }
        }
    }

    fn poll_decoding(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>, ChunkedError>> {
        loop {
            match self.decoder.decode(&mut self.input)? {
                Some(Decoded::Data(data)) => return Poll::Ready(Ok(Some(data))),
                Some(Decoded::End(trailers)) => {
                    let trailers = (!trailers.is_empty()).then_some(trailers);
                    self.phase = Phase::Draining(trailers);
                    return Poll::Ready(Ok(None));
                }
                None => {}
            }
            if !ready!(self.poll_input(cx))? {
                return Poll::Ready(Err(ChunkedError::Truncated));
            }
        }
    }

    fn poll_draining(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ChunkedError>> {
        if !self.input.is_empty() {
            return Poll::Ready(Err(ChunkedError::TrailingData));
        }
        match ready!(self.poll_input(cx))? {
            true => Poll::Ready(Err(ChunkedError::TrailingData)),
            false => Poll::Ready(Ok(())),
        }
    }
}

impl<B> Body for AwsChunkedBody<B>
where
    B: Body + Unpin,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Data = Bytes;
    type Error = ChunkedError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, ChunkedError>>> {
        let this = self.get_mut();
        loop {
            let result = match &mut this.phase {
                Phase::Finished => return Poll::Ready(None),
                Phase::Decoding => match ready!(this.poll_decoding(cx)) {
                    Ok(Some(data)) => return Poll::Ready(Some(Ok(Frame::data(data)))),
                    Ok(None) => continue,
                    Err(e) => Err(e),
                },
                Phase::Draining(_) => ready!(this.poll_draining(cx)),
            };
            // Whatever happens now, the body yields nothing more after this frame.
            let phase = std::mem::replace(&mut this.phase, Phase::Finished);
            return match (result, phase) {
                (Err(e), _) => Poll::Ready(Some(Err(e))),
                (Ok(()), Phase::Draining(Some(trailers))) => {
                    Poll::Ready(Some(Ok(Frame::trailers(trailers))))
                }
                (Ok(()), _) => Poll::Ready(None),
            };
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.phase, Phase::Finished)
    }

    fn size_hint(&self) -> SizeHint {
        match self.decoder.declared_length() {
            Some(declared) if !self.decoder.is_done() => {
                SizeHint::with_exact(declared.saturating_sub(self.decoder.decoded()))
            }
            Some(_) => SizeHint::with_exact(0),
            None => SizeHint::default(),
        }
    }
}
