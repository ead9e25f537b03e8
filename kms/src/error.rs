//! Key-service errors, classified so the proxy can answer correctly and fail closed.

use thiserror::Error;

/// Why a key operation failed. The variant decides the proxy's answer: a denial or a missing
/// key is final, an unavailable service may succeed on retry, corrupt input never will.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The key service refused: no permission, or the context does not match.
    #[error("key service denied the request: {0}")]
    Denied(String),
    /// The master key, or the requested version of it, does not exist (or was shredded).
    #[error("master key not found: {0}")]
    NotFound(String),
    /// The key service could not be reached or answered with a transient failure.
    #[error("key service unavailable: {0}")]
    Unavailable(String),
    /// The wrapped key is malformed or fails authentication.
    #[error("wrapped key is corrupt: {0}")]
    Corrupt(String),
}

impl KeyError {
    /// Whether retrying the same call later might succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, KeyError::Unavailable(_))
    }
}
