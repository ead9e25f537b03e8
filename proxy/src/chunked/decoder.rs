//! The aws-chunked state machine, fed bytes as they arrive and free of any I/O.
//!
//! Memory stays bounded: unsigned chunk data is passed on as soon as it arrives, and a signed
//! chunk is held only until its signature is checked (at most `max_chunk_size` bytes). Signed
//! data is never released before its signature has been verified.

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest, Sha256};

use super::error::ChunkedError;
use super::line::{parse_chunk_header, parse_trailer, ChunkHeader, MAX_LINE};
use super::{ChunkAuth, DecoderConfig};
use crate::auth::ChunkSigner;

/// The most trailer fields accepted; clients send one checksum.
const MAX_TRAILERS: usize = 16;
const TRAILER_SIGNATURE: &str = "x-amz-trailer-signature";

/// What one decoding step produced.
#[derive(Debug)]
pub(crate) enum Decoded {
    /// Payload bytes, already verified when the body is signed.
    Data(Bytes),
    /// The body is complete; these are its trailers (without the trailer signature).
    End(HeaderMap),
}

/// Decodes one aws-chunked body.
#[derive(Debug)]
pub(crate) struct ChunkedDecoder {
    state: State,
    signer: Option<ChunkSigner>,
    signed_trailer: bool,
    max_chunk_size: usize,
    declared_length: Option<u64>,
    decoded: u64,
    /// The data of the signed chunk being read.
    held: BytesMut,
    hasher: Sha256,
    trailers: Vec<(String, String)>,
    trailer_signature: Option<String>,
}

/// The outcome of one state's step.
enum Step {
    NeedMore,
    Continue,
    Yield(Decoded),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Data {
        remaining: u64,
        signature: Option<[u8; 64]>,
    },
    DataEnd {
        signature: Option<[u8; 64]>,
    },
    Trailers,
    Done,
}

impl ChunkedDecoder {
    pub(crate) fn new(config: DecoderConfig) -> Self {
        let (signer, signed_trailer) = match config.auth {
            ChunkAuth::Unsigned => (None, false),
            ChunkAuth::Signed { signer, trailer } => (Some(signer), trailer),
        };
        Self {
            state: State::Header,
            signer,
            signed_trailer,
            max_chunk_size: config.max_chunk_size,
            declared_length: config.decoded_length,
            decoded: 0,
            held: BytesMut::new(),
            hasher: Sha256::new(),
            trailers: Vec::new(),
            trailer_signature: None,
        }
    }

    /// Bytes decoded so far.
    pub(crate) fn decoded(&self) -> u64 {
        self.decoded
    }

    /// The declared decoded length, if any.
    pub(crate) fn declared_length(&self) -> Option<u64> {
        self.declared_length
    }

    /// Consumes what it can from `input`; `Ok(None)` means more input is needed.
    pub(crate) fn decode(&mut self, input: &mut BytesMut) -> Result<Option<Decoded>, ChunkedError> {
        loop {
            let step = match self.state {
                State::Header => self.read_header(input)?,
                State::Data {
                    remaining,
                    signature,
                } => self.read_data(input, remaining, signature),
                State::DataEnd { signature } => self.end_data(input, signature)?,
                State::Trailers => self.read_trailer(input)?,
                State::Done if input.is_empty() => Step::NeedMore,
                State::Done => return Err(ChunkedError::TrailingData),
            };
            match step {
                Step::NeedMore => return Ok(None),
                Step::Continue => {}
                Step::Yield(decoded) => return Ok(Some(decoded)),
            }
        }
    }

    /// Whether the final chunk and closing line have been read.
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    fn read_header(&mut self, input: &mut BytesMut) -> Result<Step, ChunkedError> {
        let Some(line) = take_line(input)? else {
            return Ok(Step::NeedMore);
        };
        let ChunkHeader { size, signature } = parse_chunk_header(&line)?;
        if signature.is_some() != self.signer.is_some() {
            return Err(ChunkedError::MalformedChunk {
                reason: "chunk signatures must be present exactly when the payload is signed",
            });
        }
        self.check_growth(size)?;
        if size == 0 {
            self.verify_chunk(&Sha256::digest(b"").into(), signature)?;
            self.state = State::Trailers;
            return Ok(Step::Continue);
        }
        if self.signer.is_some() && size > self.max_chunk_size as u64 {
            return Err(ChunkedError::ChunkTooLarge {
                size,
                max: self.max_chunk_size,
            });
        }
        self.state = State::Data {
            remaining: size,
            signature,
        };
        Ok(Step::Continue)
    }

    /// Refuses a chunk that would take the body past its declared length.
    fn check_growth(&self, size: u64) -> Result<(), ChunkedError> {
        let actual = self.decoded.saturating_add(size);
        match self.declared_length {
            Some(declared) if actual > declared => {
                Err(ChunkedError::DecodedLengthMismatch { declared, actual })
            }
            _ => Ok(()),
        }
    }

    /// Unsigned data is handed on at once; signed data is held until its chunk is complete.
    fn read_data(
        &mut self,
        input: &mut BytesMut,
        remaining: u64,
        signature: Option<[u8; 64]>,
    ) -> Step {
        if input.is_empty() {
            return Step::NeedMore;
        }
        let available = usize::try_from(remaining).map_or(input.len(), |r| r.min(input.len()));
        let piece = input.split_to(available);
        let remaining = remaining - available as u64;
        self.decoded += available as u64;
        self.state = match remaining {
            0 => State::DataEnd { signature },
            _ => State::Data {
                remaining,
                signature,
            },
        };
        if self.signer.is_some() {
            self.hasher.update(&piece);
            self.held.extend_from_slice(&piece);
            return Step::Continue;
        }
        Step::Yield(Decoded::Data(piece.freeze()))
    }

    fn end_data(
        &mut self,
        input: &mut BytesMut,
        signature: Option<[u8; 64]>,
    ) -> Result<Step, ChunkedError> {
        if input.len() < 2 {
            return Ok(Step::NeedMore);
        }
        if &input[..2] != b"\r\n" {
            return Err(ChunkedError::MalformedChunk {
                reason: "chunk data is not followed by CRLF",
            });
        }
        let _ = input.split_to(2);
        self.state = State::Header;
        if self.signer.is_none() {
            return Ok(Step::Continue);
        }
        let digest = std::mem::take(&mut self.hasher).finalize().into();
        self.verify_chunk(&digest, signature)?;
        Ok(Step::Yield(Decoded::Data(self.held.split().freeze())))
    }

    fn verify_chunk(
        &mut self,
        digest: &[u8; 32],
        signature: Option<[u8; 64]>,
    ) -> Result<(), ChunkedError> {
        let (Some(signer), Some(signature)) = (self.signer.as_mut(), signature) else {
            return Ok(());
        };
        match signer.verify_chunk(digest, &signature) {
            true => Ok(()),
            false => Err(ChunkedError::ChunkSignatureMismatch),
        }
    }

    fn read_trailer(&mut self, input: &mut BytesMut) -> Result<Step, ChunkedError> {
        let Some(line) = take_line(input)? else {
            return Ok(Step::NeedMore);
        };
        if line.is_empty() {
            // A signed trailer always has a signature line, so an empty line before any trailer
            // is the zero chunk's own CRLF, which some writers add.
            if self.signed_trailer && self.trailers.is_empty() && self.trailer_signature.is_none() {
                return Ok(Step::Continue);
            }
            return self.finish().map(Step::Yield);
        }
        let (name, value) = parse_trailer(&line)?;
        self.accept_trailer(name, value)?;
        Ok(Step::Continue)
    }

    fn accept_trailer(&mut self, name: String, value: String) -> Result<(), ChunkedError> {
        let malformed = |reason| ChunkedError::MalformedTrailer { reason };
        if self.signer.is_some() && !self.signed_trailer {
            return Err(malformed("this payload form has no trailers"));
        }
        if name == TRAILER_SIGNATURE {
            if !self.signed_trailer || self.trailer_signature.replace(value).is_some() {
                return Err(malformed("unexpected x-amz-trailer-signature"));
            }
            return Ok(());
        }
        if self.trailer_signature.is_some() {
            return Err(malformed("a trailer follows x-amz-trailer-signature"));
        }
        if self.trailers.len() == MAX_TRAILERS || self.trailers.iter().any(|(n, _)| *n == name) {
            return Err(malformed("too many or repeated trailers"));
        }
        self.trailers.push((name, value));
        Ok(())
    }

    fn finish(&mut self) -> Result<Decoded, ChunkedError> {
        if let Some(declared) = self.declared_length {
            if declared != self.decoded {
                return Err(ChunkedError::DecodedLengthMismatch {
                    declared,
                    actual: self.decoded,
                });
            }
        }
        if self.signed_trailer {
            self.verify_trailer_signature()?;
        }
        self.state = State::Done;
        trailer_map(&self.trailers).map(Decoded::End)
    }

    /// The trailer signature covers `name:value\n` for every trailer, sorted by name.
    fn verify_trailer_signature(&mut self) -> Result<(), ChunkedError> {
        let provided = self
            .trailer_signature
            .take()
            .ok_or(ChunkedError::MissingTrailerSignature)?;
        let mut sorted: Vec<&(String, String)> = self.trailers.iter().collect();
        sorted.sort();
        let canonical: String = sorted.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
        let signer = self
            .signer
            .as_mut()
            .ok_or(ChunkedError::MissingTrailerSignature)?;
        match signer.verify_trailer(canonical.as_bytes(), provided.as_bytes()) {
            true => Ok(()),
            false => Err(ChunkedError::TrailerSignatureMismatch),
        }
    }
}

fn trailer_map(trailers: &[(String, String)]) -> Result<HeaderMap, ChunkedError> {
    let mut map = HeaderMap::with_capacity(trailers.len());
    for (name, value) in trailers {
        let name = HeaderName::from_bytes(name.as_bytes()).ok();
        let value = HeaderValue::from_str(value).ok();
        let (name, value) = name.zip(value).ok_or(ChunkedError::MalformedTrailer {
            reason: "a trailer is not a valid header",
        })?;
        map.insert(name, value);
    }
    Ok(map)
}

/// Takes one CRLF-terminated line (without the CRLF), or `None` until it is complete.
fn take_line(input: &mut BytesMut) -> Result<Option<BytesMut>, ChunkedError> {
    // Look no further than the longest acceptable line, however much input is buffered.
    let window = &input[..input.len().min(MAX_LINE + 2)];
    match window.windows(2).position(|w| w == b"\r\n") {
        Some(at) if at <= MAX_LINE => {
            let line = input.split_to(at);
            let _ = input.split_to(2);
            Ok(Some(line))
        }
        None if input.len() <= MAX_LINE + 1 => Ok(None),
        _ => Err(ChunkedError::MalformedChunk {
            reason: "a line is too long",
        }),
    }
}
