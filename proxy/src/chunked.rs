//! Decodes `Content-Encoding: aws-chunked` request bodies, verifying chunk signatures and the
//! signed trailer, and hands the trailers (such as `x-amz-checksum-crc32`) to the caller.
//!
//! Layout:
//! - `line`: the chunk-header and trailer line grammar.
//! - `decoder`: the I/O-free state machine, with its memory bounds.
//! - `body`: [`AwsChunkedBody`], the `http_body::Body` adapter.
//!
//! The wire format, one or more data chunks then a zero-length one:
//! ```text
//! hex-size[;chunk-signature=sig] CRLF data CRLF ... 0[;chunk-signature=sig] CRLF
//! [trailer-name:value CRLF ...] [x-amz-trailer-signature:sig CRLF] CRLF
//! ```
//! Only the trailer checksum protects an unsigned body, so callers must verify it
//! (see `crate::checksum`).

use http::HeaderMap;

use crate::auth::{ChunkSigner, Payload};

mod body;
mod decoder;
mod error;
mod line;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_flow;

pub use body::AwsChunkedBody;
pub use error::ChunkedError;

/// The default limit on a signed chunk, which must be held in memory until verified.
pub const DEFAULT_MAX_CHUNK_SIZE: usize = 16 * 1024 * 1024;

/// How the chunks of a body are authenticated.
#[derive(Debug, Clone)]
pub enum ChunkAuth {
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: no chunk signatures; trailers allowed.
    Unsigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`: every chunk signed, and the trailer too
    /// when `trailer` is set.
    Signed {
        /// The signature chain, seeded with the request signature.
        signer: ChunkSigner,
        /// Whether a signed trailer follows the final chunk.
        trailer: bool,
    },
}

/// How to decode one body.
#[derive(Debug, Clone)]
pub struct DecoderConfig {
    /// Chunk authentication.
    pub auth: ChunkAuth,
    /// `x-amz-decoded-content-length`, checked against the decoded total when present.
    pub decoded_length: Option<u64>,
    /// The largest signed chunk accepted. Unsigned chunks are streamed and need no limit.
    pub max_chunk_size: usize,
}

impl DecoderConfig {
    /// The configuration for a verified request's payload, or `None` when the payload is not
    /// aws-chunked.
    pub fn for_payload(payload: &Payload, decoded_length: Option<u64>) -> Option<Self> {
        let auth = match payload {
            Payload::StreamingSigned { trailer, seed } => ChunkAuth::Signed {
                signer: seed.clone(),
                trailer: *trailer,
            },
            Payload::StreamingUnsignedTrailer => ChunkAuth::Unsigned,
            Payload::Sha256(_) | Payload::Unsigned => return None,
        };
        Some(Self {
            auth,
            decoded_length,
            max_chunk_size: DEFAULT_MAX_CHUNK_SIZE,
        })
    }
}

/// Reads `x-amz-decoded-content-length`.
pub fn decoded_content_length(headers: &HeaderMap) -> Result<Option<u64>, ChunkedError> {
    let Some(value) = headers.get("x-amz-decoded-content-length") else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ChunkedError::InvalidDecodedLength)?;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ChunkedError::InvalidDecodedLength);
    }
    text.parse()
        .map(Some)
        .map_err(|_| ChunkedError::InvalidDecodedLength)
}

/// Removes every `aws-chunked` token from a `Content-Encoding` value, returning what should be
/// stored (`gzip, aws-chunked` → `gzip`), or `None` when nothing is left.
pub fn strip_aws_chunked(content_encoding: &str) -> Option<String> {
    let kept: Vec<&str> = content_encoding
        .split(',')
        .map(str::trim)
        .filter(|token| !token.is_empty() && !token.eq_ignore_ascii_case("aws-chunked"))
        .collect();
    (!kept.is_empty()).then(|| kept.join(", "))
}
