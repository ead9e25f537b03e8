//! Why an aws-chunked body was refused, and the S3 error each reason becomes.
//!
//! All variants but [`ChunkedError::ReadFailed`] are the client's fault in what it sent;
//! `ReadFailed` is the downstream connection failing underneath us.

use std::error::Error as StdError;

/// A reason to abandon an aws-chunked request body.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkedError {
    /// The chunk framing does not follow the aws-chunked grammar.
    #[error("The aws-chunked body is malformed: {reason}")]
    MalformedChunk { reason: &'static str },

    /// A signed chunk is larger than the decoder will hold in memory to verify it.
    #[error("A chunk of {size} bytes exceeds the {max} byte limit for signed chunks")]
    ChunkTooLarge { size: u64, max: usize },

    /// A chunk's signature does not continue the signature chain.
    #[error("The chunk signature does not match the chunk data")]
    ChunkSignatureMismatch,

    /// The trailer signature does not cover the trailers received.
    #[error("The trailer signature does not match the trailers")]
    TrailerSignatureMismatch,

    /// A signed-trailer body ended without `x-amz-trailer-signature`.
    #[error("The signed trailer is missing x-amz-trailer-signature")]
    MissingTrailerSignature,

    /// A trailer line could not be parsed, or is not allowed here.
    #[error("The request contained trailing data that was not well-formed: {reason}")]
    MalformedTrailer { reason: &'static str },

    /// The decoded body is not as long as `x-amz-decoded-content-length` said.
    #[error("The body decoded to {actual}+ bytes but x-amz-decoded-content-length is {declared}")]
    DecodedLengthMismatch { declared: u64, actual: u64 },

    /// `x-amz-decoded-content-length` is not a number.
    #[error("x-amz-decoded-content-length is not a valid length")]
    InvalidDecodedLength,

    /// The body ended before the final chunk and its closing line.
    #[error("The request body terminated unexpectedly")]
    Truncated,

    /// Bytes followed the end of the aws-chunked body.
    #[error("Data followed the end of the aws-chunked body")]
    TrailingData,

    /// Reading the body from the connection failed.
    #[error("Reading the request body failed: {0}")]
    ReadFailed(#[source] Box<dyn StdError + Send + Sync>),
}

impl ChunkedError {
    /// The S3 error code this failure is reported as.
    pub fn s3_code(&self) -> &'static str {
        match self {
            Self::ChunkSignatureMismatch
            | Self::TrailerSignatureMismatch
            | Self::MissingTrailerSignature => "SignatureDoesNotMatch",
            Self::MalformedTrailer { .. } => "MalformedTrailerError",
            Self::DecodedLengthMismatch { .. } | Self::Truncated | Self::ReadFailed(_) => {
                "IncompleteBody"
            }
            Self::InvalidDecodedLength => "InvalidArgument",
            Self::MalformedChunk { .. } | Self::ChunkTooLarge { .. } | Self::TrailingData => {
                "InvalidRequest"
            }
        }
    }

    /// The HTTP status that goes with [`ChunkedError::s3_code`].
    pub fn http_status(&self) -> u16 {
        match self.s3_code() {
            "SignatureDoesNotMatch" => 403,
            _ => 400,
        }
    }
}
