//! Conversions from each layer's typed errors into S3 errors.

use http::StatusCode;

use super::{Fault, S3Error};
use crate::auth::AuthError;
use crate::checksum::ChecksumError;
use crate::chunked::ChunkedError;
use cloak_envelope::FormatError;
use cloak_kms::KeyError;

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
}

impl From<AuthError> for S3Error {
    fn from(e: AuthError) -> Self {
        S3Error::new(status(e.http_status()), e.s3_code(), e.to_string())
    }
}

impl From<ChunkedError> for S3Error {
    fn from(e: ChunkedError) -> Self {
        S3Error::new(status(e.http_status()), e.s3_code(), e.to_string())
    }
}

impl From<ChecksumError> for S3Error {
    fn from(e: ChecksumError) -> Self {
        S3Error::new(status(e.http_status()), e.s3_code(), e.to_string())
    }
}

/// Fails closed: every key-service failure refuses the request. The client learns which kind
/// of failure it was; the service's own words (key names, policy text) go to the log only.
impl From<KeyError> for S3Error {
    fn from(e: KeyError) -> Self {
        tracing::warn!(error = %e, "key service refused or failed");
        match e {
            KeyError::Denied(_) => S3Error::new(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                "The key service denied access to this object's key",
            ),
            KeyError::NotFound(_) => S3Error::new(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                "This object's master key no longer exists (it may have been shredded); \
                 the object cannot be decrypted",
            ),
            KeyError::Unavailable(_) => S3Error::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "The key service is unavailable; Cloak stores and serves nothing without it. \
                 Retry later",
            ),
            _ => S3Error::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "This object's wrapped data key is corrupt",
            ),
        }
        .fault(Fault::KeyService)
    }
}

impl From<FormatError> for S3Error {
    fn from(e: FormatError) -> Self {
        // Stored data that fails authentication is the store's fault, never the client's, and
        // it is never served.
        S3Error::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            format!("The stored object failed its integrity check ({e}); it was not served"),
        )
        .fault(Fault::Upstream)
    }
}
