//! Signature Version 4 verification, for the Authorization header and for presigned URLs.
//!
//! The signature is recomputed from the request exactly as received, with the region the client
//! put in its credential scope, and compared in constant time. Clock skew is checked once, here:
//! chunk signatures reuse the request timestamp, so a long upload may outlive the skew window.

use std::time::{Duration, SystemTime};

use http::header::{HeaderName, DATE};
use http::request::Parts;
use time::OffsetDateTime;

use super::canonical::{canonical_request, check_amz_headers_signed, check_signed_headers};
use super::canonical::{string_to_sign, CanonicalSpec};
use super::chunk_signer::ChunkSigner;
use super::credentials::CredentialStore;
use super::error::AuthError;
use super::payload::{parse_content_sha256, Payload, PayloadKind};
use super::request::{header_str, raw_query};
use super::signing_key::{decode_signature, signature_matches, SigningKey};
use super::sigv4_parse::HMAC_ALGORITHM;
use super::sigv4_parse::{parse_header_components, parse_presign_params, Claim, ECDSA_ALGORITHM};
use super::timestamp::{check_skew, format_amz_date, parse_amz_date, parse_http_date};
use super::{AuthOptions, AuthScheme, Verified};

/// The payload line of a presigned request that does not name its payload hash.
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

static X_AMZ_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-amz-content-sha256");
static X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");

/// Everything the signature check needs once a claim has been parsed.
struct Check<'a> {
    claim: &'a Claim,
    timestamp: &'a str,
    hashed_payload: &'a str,
    skip_param: Option<&'a str>,
}

/// Verifies `Authorization: AWS4-HMAC-SHA256 …`; `rest` is the text after the algorithm.
pub(crate) fn verify_header(
    parts: &Parts,
    rest: &str,
    creds: &dyn CredentialStore,
    now: SystemTime,
    opts: &AuthOptions,
) -> Result<Verified, AuthError> {
    let malformed = |reason| AuthError::MalformedAuthorization { reason };
    let claim = parse_header_components(rest).map_err(malformed)?;
    check_signed_headers(&claim.signed_headers).map_err(malformed)?;

    let content_sha256 =
        header_str(parts, &X_AMZ_CONTENT_SHA256).ok_or(AuthError::MissingContentSha256)?;
    let kind = parse_content_sha256(content_sha256)?;

    let (timestamp, at) = header_time(parts)?;
    if !timestamp.starts_with(&claim.scope.date) {
        return Err(malformed(
            "the credential date does not match the request date",
        ));
    }
    check_skew(at, now, opts.max_skew)?;

    let check = Check {
        claim: &claim,
        timestamp: &timestamp,
        hashed_payload: content_sha256,
        skip_param: None,
    };
    finish(parts, &check, kind, creds, AuthScheme::SigV4Header)
}

/// Verifies a presigned URL (`X-Amz-Algorithm=AWS4-HMAC-SHA256&…`).
pub(crate) fn verify_presigned(
    parts: &Parts,
    algorithm: &str,
    creds: &dyn CredentialStore,
    now: SystemTime,
    opts: &AuthOptions,
) -> Result<Verified, AuthError> {
    let malformed = |reason| AuthError::MalformedQueryAuth { reason };
    match algorithm {
        HMAC_ALGORITHM => {}
        ECDSA_ALGORITHM => {
            return Err(AuthError::UnsupportedAlgorithm {
                algorithm: ECDSA_ALGORITHM,
            })
        }
        _ => return Err(malformed("X-Amz-Algorithm must be AWS4-HMAC-SHA256")),
    }
    let params = parse_presign_params(raw_query(parts)).map_err(malformed)?;
    check_signed_headers(&params.claim.signed_headers).map_err(malformed)?;

    let hashed_payload = params.content_sha256.as_deref().unwrap_or(UNSIGNED_PAYLOAD);
    let kind = parse_content_sha256(hashed_payload)?;

    let at = parse_amz_date(&params.timestamp).ok_or(malformed("X-Amz-Date is not a date"))?;
    if !params.timestamp.starts_with(&params.claim.scope.date) {
        return Err(malformed("the credential date does not match X-Amz-Date"));
    }
    check_presign_window(at, &params.expires, now, opts)?;

    let check = Check {
        claim: &params.claim,
        timestamp: &params.timestamp,
        hashed_payload,
        skip_param: Some("X-Amz-Signature"),
    };
    finish(parts, &check, kind, creds, AuthScheme::SigV4Query)
}

/// The request time: `x-amz-date`, else `Date`, as SigV4 text and as an instant.
fn header_time(parts: &Parts) -> Result<(String, OffsetDateTime), AuthError> {
    if let Some(value) = header_str(parts, &X_AMZ_DATE) {
        let at = parse_amz_date(value).ok_or(AuthError::MissingDate)?;
        return Ok((value.to_owned(), at));
    }
    let at = header_str(parts, &DATE)
        .and_then(parse_http_date)
        .ok_or(AuthError::MissingDate)?;
    Ok((format_amz_date(at), at))
}

/// A presigned URL is valid from (at most `max_skew` before) `X-Amz-Date` until it expires.
fn check_presign_window(
    at: OffsetDateTime,
    expires: &str,
    now: SystemTime,
    opts: &AuthOptions,
) -> Result<(), AuthError> {
    let max_seconds = opts.max_presign_expiry.as_secs();
    let seconds: i64 = expires.parse().map_err(|_| AuthError::MalformedQueryAuth {
        reason: "X-Amz-Expires is not a number",
    })?;
    let seconds = u64::try_from(seconds)
        .ok()
        .filter(|s| (1..=max_seconds).contains(s))
        .ok_or(AuthError::ExpiryOutOfRange { max_seconds })?;

    let now = OffsetDateTime::from(now);
    if at - now > opts.max_skew {
        return Err(AuthError::ClockSkew);
    }
    if now > at + Duration::from_secs(seconds) {
        return Err(AuthError::Expired);
    }
    Ok(())
}

/// Looks up the key, recomputes the signature and derives how the payload is verified.
fn finish(
    parts: &Parts,
    check: &Check<'_>,
    kind: PayloadKind,
    creds: &dyn CredentialStore,
    scheme: AuthScheme,
) -> Result<Verified, AuthError> {
    let claim = check.claim;
    let (principal, secret) = creds
        .lookup(&claim.access_key_id)
        .ok_or(AuthError::UnknownAccessKey)?;
    check_amz_headers_signed(parts, &claim.signed_headers)?;

    let spec = CanonicalSpec {
        signed_headers: &claim.signed_headers,
        hashed_payload: check.hashed_payload,
        skip_param: check.skip_param,
    };
    let canonical = canonical_request(parts, &spec)?;
    let scope_line = claim.scope.to_line();
    let to_sign = string_to_sign(check.timestamp, &scope_line, &canonical);

    let key = SigningKey::derive(&secret, &claim.scope);
    let computed = key.sign(to_sign.as_bytes());
    if !signature_matches(&computed, claim.signature.as_bytes()) {
        tracing::debug!(access_key_id = %claim.access_key_id, "SigV4 signature mismatch");
        return Err(AuthError::SignatureMismatch);
    }

    let payload = payload_for(kind, key, check.timestamp, scope_line, &claim.signature)?;
    Ok(Verified {
        principal,
        payload,
        region: claim.scope.region.clone(),
        scheme,
    })
}

fn payload_for(
    kind: PayloadKind,
    key: SigningKey,
    timestamp: &str,
    scope_line: String,
    signature: &str,
) -> Result<Payload, AuthError> {
    Ok(match kind {
        PayloadKind::Sha256(digest) => Payload::Sha256(digest),
        PayloadKind::Unsigned => Payload::Unsigned,
        PayloadKind::StreamingUnsignedTrailer => Payload::StreamingUnsignedTrailer,
        PayloadKind::StreamingSigned { trailer } => {
            // The signature already matched a 32-byte value, so it decodes.
            let seed = decode_signature(signature).ok_or(AuthError::SignatureMismatch)?;
            let seed = ChunkSigner::new(key, timestamp.to_owned(), scope_line, seed);
            Payload::StreamingSigned { trailer, seed }
        }
    })
}
