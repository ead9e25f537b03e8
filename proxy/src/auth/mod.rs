//! Verifies the downstream client's request signature (SigV4 header, SigV4 presigned URL,
//! and optionally SigV2), and says how the request body must then be verified.
//!
//! Layout:
//! - `credentials`: secret keys, principals and the lookup trait.
//! - `sigv4`, `sigv4_parse`, `canonical`, `encoding`: Signature Version 4.
//! - `sigv2`, `sigv2_string`: Signature Version 2.
//! - `signing_key`, `chunk_signer`: key derivation, and the chunk signature chain handed to
//!   `crate::chunked`.
//! - `payload`: what `x-amz-content-sha256` declares.
//!
//! Anonymous requests are refused: every request must be signed by a known key. Signatures are
//! recomputed from the request exactly as it arrived (method, raw target, headers) and compared
//! in constant time. Secrets and derived keys never reach a log.

use std::time::{Duration, SystemTime};

use http::header::AUTHORIZATION;
use http::request::Parts;

mod canonical;
mod chunk_signer;
mod credentials;
mod encoding;
mod error;
mod payload;
mod request;
mod signing_key;
mod sigv2;
mod sigv2_string;
mod sigv4;
mod sigv4_parse;
mod timestamp;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_roundtrip;
#[cfg(test)]
mod tests_sigv2;

pub use chunk_signer::ChunkSigner;
pub use credentials::{CredentialStore, Principal, SecretKey, StaticCredentials};
pub use error::AuthError;
pub use payload::Payload;

/// Policy knobs for [`verify`].
#[derive(Debug, Clone)]
pub struct AuthOptions {
    /// Accept Signature Version 2 (HMAC-SHA1) requests and presigned URLs.
    pub allow_sigv2: bool,
    /// The largest accepted distance between the request time and the server clock.
    pub max_skew: Duration,
    /// The longest accepted presigned URL lifetime (`X-Amz-Expires`).
    pub max_presign_expiry: Duration,
    /// The base domain of virtual-hosted requests (`bucket.<domain>`), needed for SigV2,
    /// whose canonical resource names the bucket.
    pub virtual_host_domain: Option<String>,
}

/// How a request was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// `Authorization: AWS4-HMAC-SHA256 …`
    SigV4Header,
    /// `?X-Amz-Algorithm=AWS4-HMAC-SHA256&…`
    SigV4Query,
    /// `Authorization: AWS AKID:signature`
    SigV2Header,
    /// `?AWSAccessKeyId=…&Expires=…&Signature=…`
    SigV2Query,
}

/// A request whose signature checked out.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Who signed it.
    pub principal: Principal,
    /// How the body must be verified.
    pub payload: Payload,
    /// The region from the client's credential scope (empty for SigV2, which has none).
    pub region: String,
    /// Which signature form was used.
    pub scheme: AuthScheme,
}

impl Default for AuthOptions {
    fn default() -> Self {
        Self {
            allow_sigv2: false,
            max_skew: Duration::from_secs(15 * 60),
            max_presign_expiry: Duration::from_secs(7 * 24 * 60 * 60),
            virtual_host_domain: None,
        }
    }
}

/// Verifies the signature of a request, given its head exactly as received.
pub fn verify(
    parts: &Parts,
    creds: &dyn CredentialStore,
    now: SystemTime,
    opts: &AuthOptions,
) -> Result<Verified, AuthError> {
    let query = request::raw_query(parts);
    let v4_query = encoding::query_param(query, "X-Amz-Algorithm", encoding::Plus::Space);
    let v2_query = encoding::query_param(query, "AWSAccessKeyId", encoding::Plus::Space).is_some()
        || encoding::query_param(query, "Signature", encoding::Plus::Space).is_some();
    let header = parts.headers.get(AUTHORIZATION);

    match (header, v4_query, v2_query) {
        (Some(_), Some(_), _) | (Some(_), _, true) | (None, Some(_), true) => {
            Err(AuthError::ConflictingMechanisms)
        }
        (Some(value), None, false) => {
            let value = value
                .to_str()
                .map_err(|_| AuthError::MalformedAuthorization {
                    reason: "the header is not visible ASCII",
                })?;
            verify_authorization(parts, value, creds, now, opts)
        }
        (None, Some(algorithm), false) => {
            let algorithm = String::from_utf8_lossy(&algorithm).into_owned();
            sigv4::verify_presigned(parts, &algorithm, creds, now, opts)
        }
        (None, None, true) if opts.allow_sigv2 => sigv2::verify_presigned(parts, creds, now, opts),
        (None, None, true) => Err(AuthError::SigV2Refused),
        (None, None, false) => Err(AuthError::Anonymous),
    }
}

fn verify_authorization(
    parts: &Parts,
    value: &str,
    creds: &dyn CredentialStore,
    now: SystemTime,
    opts: &AuthOptions,
) -> Result<Verified, AuthError> {
    let (scheme, rest) = value.trim_start().split_once(' ').unwrap_or((value, ""));
    match scheme {
        sigv4_parse::HMAC_ALGORITHM => sigv4::verify_header(parts, rest, creds, now, opts),
        sigv4_parse::ECDSA_ALGORITHM => Err(AuthError::UnsupportedAlgorithm {
            algorithm: sigv4_parse::ECDSA_ALGORITHM,
        }),
        "AWS" if opts.allow_sigv2 => sigv2::verify_header(parts, rest, creds, now, opts),
        "AWS" => Err(AuthError::SigV2Refused),
        _ => Err(AuthError::UnknownAuthorizationType),
    }
}
