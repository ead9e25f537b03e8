//! Why an envelope could not be read.

use thiserror::Error;

/// A failure to parse or authenticate stored data. Every variant except `Unsupported` means the
/// stored bytes or metadata are not what Cloak wrote: tampering, corruption or a foreign object.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatError {
    /// The header in the object's metadata is missing fields or malformed.
    #[error("envelope header is malformed: {0}")]
    MalformedHeader(&'static str),
    /// A format version or parameter this build does not know.
    #[error("unsupported envelope: {0}")]
    Unsupported(&'static str),
    /// The data key does not match the header's key commitment (substituted or altered key).
    #[error("data key does not match the key commitment")]
    CommitmentMismatch,
    /// A unit failed AEAD authentication: flipped bytes, or a unit from another object.
    #[error("segment {index} failed authentication")]
    SegmentTampered { index: u64 },
    /// A unit authenticated but sits at the wrong place: reordered, duplicated or spliced.
    #[error("segment {index} is out of place: {reason}")]
    SegmentMisplaced { index: u64, reason: &'static str },
    /// The stored length cannot have been produced by this format.
    #[error("stored length {0} is impossible for this format")]
    ImpossibleLength(u64),
    /// The object ends early, or its trailer disagrees with its length.
    #[error("object is truncated or extended: {0}")]
    Truncated(&'static str),
    /// A body carried more or fewer bytes than its declared length.
    #[error("body length differs from the declared {declared} bytes")]
    BodyLengthMismatch { declared: u64 },
    /// The trailer failed authentication.
    #[error("trailer failed authentication")]
    TrailerTampered,
}
