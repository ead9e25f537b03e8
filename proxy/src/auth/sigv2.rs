//! Signature Version 2 verification: `Authorization: AWS AKID:sig` and presigned
//! `AWSAccessKeyId`/`Expires`/`Signature` URLs.
//!
//! Still needed because boto2 (gsutil) signs with V2 unless told otherwise, and botocore's
//! `generate_presigned_url` produces V2 URLs by default. V2 signs neither the payload nor the
//! host, and uses HMAC-SHA1, so it can be switched off with `AuthOptions::allow_sigv2`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::request::Parts;
use sha1::Sha1;
use subtle::ConstantTimeEq;

use super::credentials::CredentialStore;
use super::encoding::{query_param, Plus};
use super::error::AuthError;
use super::payload::Payload;
use super::request::raw_query;
use super::sigv2_string::{string_to_sign, DateLine};
use super::timestamp::{check_skew, parse_http_date};
use super::{AuthOptions, AuthScheme, Verified};

/// Verifies `Authorization: AWS <AKID>:<base64 signature>`; `rest` follows `AWS `.
pub(crate) fn verify_header(
    parts: &Parts,
    rest: &str,
    creds: &dyn CredentialStore,
    now: SystemTime,
    opts: &AuthOptions,
) -> Result<Verified, AuthError> {
    let (akid, signature) =
        rest.trim()
            .split_once(':')
            .ok_or(AuthError::MalformedAuthorization {
                reason: "expected AWS <AccessKeyId>:<Signature>",
            })?;

    let date = ["x-amz-date", "date"]
        .iter()
        .find_map(|name| parts.headers.get(*name))
        .and_then(|v| v.to_str().ok())
        .and_then(parse_http_date)
        .ok_or(AuthError::MissingDate)?;
    check_skew(date, now, opts.max_skew)?;

    let to_sign = string_to_sign(parts, DateLine::FromHeaders, opts)?;
    check(
        akid,
        signature.as_bytes(),
        &to_sign,
        creds,
        AuthScheme::SigV2Header,
    )
}

/// Verifies a V2 presigned URL.
pub(crate) fn verify_presigned(
    parts: &Parts,
    creds: &dyn CredentialStore,
    now: SystemTime,
    opts: &AuthOptions,
) -> Result<Verified, AuthError> {
    let query = raw_query(parts);
    let param = |name, plus| {
        let value = query_param(query, name, plus).ok_or(AuthError::MalformedQueryAuth {
            reason: "AWSAccessKeyId, Expires and Signature are all required",
        })?;
        String::from_utf8(value).map_err(|_| AuthError::MalformedQueryAuth {
            reason: "a parameter is not UTF-8",
        })
    };
    let akid = param("AWSAccessKeyId", Plus::Space)?;
    // base64 uses '+', so a raw '+' in the signature is a plus, never a space.
    let signature = param("Signature", Plus::Literal)?;
    let expires = param("Expires", Plus::Space)?;

    check_v2_expiry(&expires, now, opts)?;
    let to_sign = string_to_sign(parts, DateLine::Expires(&expires), opts)?;
    check(
        &akid,
        signature.as_bytes(),
        &to_sign,
        creds,
        AuthScheme::SigV2Query,
    )
}

/// `Expires` is absolute epoch seconds. V2 URLs carry no signing time, so the configured
/// maximum lifetime is enforced as a bound on how far in the future they may expire.
fn check_v2_expiry(expires: &str, now: SystemTime, opts: &AuthOptions) -> Result<(), AuthError> {
    let expires: u64 = expires.parse().map_err(|_| AuthError::MalformedQueryAuth {
        reason: "Expires is not a number of seconds",
    })?;
    let expires = UNIX_EPOCH + Duration::from_secs(expires);
    if now > expires {
        return Err(AuthError::Expired);
    }
    if expires.duration_since(now).unwrap_or_default() > opts.max_presign_expiry {
        return Err(AuthError::ExpiryOutOfRange {
            max_seconds: opts.max_presign_expiry.as_secs(),
        });
    }
    Ok(())
}

fn check(
    akid: &str,
    provided: &[u8],
    to_sign: &str,
    creds: &dyn CredentialStore,
    scheme: AuthScheme,
) -> Result<Verified, AuthError> {
    let (principal, secret) = creds.lookup(akid).ok_or(AuthError::UnknownAccessKey)?;
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(to_sign.as_bytes());
    let computed = mac.finalize().into_bytes();

    let provided = STANDARD.decode(provided).unwrap_or_default();
    if !bool::from(computed.as_slice().ct_eq(&provided)) {
        tracing::debug!(access_key_id = %akid, "SigV2 signature mismatch");
        return Err(AuthError::SignatureMismatch);
    }
    Ok(Verified {
        principal,
        payload: Payload::Unsigned,
        region: String::new(),
        scheme,
    })
}
