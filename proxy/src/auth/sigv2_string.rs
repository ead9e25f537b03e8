//! The Signature Version 2 string to sign.
//!
//! ```text
//! METHOD \n Content-MD5 \n Content-Type \n Date-or-Expires \n
//! x-amz-* headers (lowercase, sorted, "name:v1,v2\n") CanonicalizedResource
//! ```
//! The resource is `/bucket` (virtual-hosted requests only) + the raw path + the sub-resources
//! named below, sorted by name.

use http::request::Parts;

use super::encoding::{decode, Plus};
use super::error::AuthError;
use super::request::{host, raw_path, raw_query};
use super::AuthOptions;

/// Query parameters that are part of the V2 canonical resource: the union of the lists botocore
/// (`HmacV1Auth`) and boto2 sign, so that requests from either verify. Kept sorted.
const SUB_RESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "compose",
    "cors",
    "defaultObjectAcl",
    "delete",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "select",
    "select-type",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
    "websiteConfig",
];

/// What goes on the fourth line of the string to sign.
pub(crate) enum DateLine<'a> {
    /// Header auth: the `Date` header, or nothing when `x-amz-date` is sent (it is then
    /// signed among the `x-amz-*` headers instead).
    FromHeaders,
    /// Presigned: the `Expires` parameter.
    Expires(&'a str),
}

/// Builds the V2 string to sign for a received request.
pub(crate) fn string_to_sign(
    parts: &Parts,
    date: DateLine<'_>,
    opts: &AuthOptions,
) -> Result<String, AuthError> {
    let header = |name: &str| -> Result<String, AuthError> {
        let joined = joined_values(parts, name)?;
        Ok(joined.unwrap_or_default())
    };
    let date_line = match date {
        DateLine::Expires(expires) => expires.to_owned(),
        DateLine::FromHeaders if parts.headers.contains_key("x-amz-date") => String::new(),
        DateLine::FromHeaders => header("date")?,
    };
    let mut out = format!(
        "{}\n{}\n{}\n{}\n",
        parts.method.as_str(),
        header("content-md5")?,
        header("content-type")?,
        date_line
    );
    push_amz_headers(&mut out, parts)?;
    push_resource(&mut out, parts, opts);
    Ok(out)
}

fn push_amz_headers(out: &mut String, parts: &Parts) -> Result<(), AuthError> {
    let mut names: Vec<&str> = parts
        .headers
        .keys()
        .map(|name| name.as_str())
        .filter(|name| name.starts_with("x-amz-"))
        .collect();
    names.sort_unstable();
    for name in names {
        let value = joined_values(parts, name)?.unwrap_or_default();
        out.push_str(name);
        out.push(':');
        out.push_str(&value);
        out.push('\n');
    }
    Ok(())
}

/// Every value of header `name`, trimmed and joined with `,`; `None` when absent.
fn joined_values(parts: &Parts, name: &str) -> Result<Option<String>, AuthError> {
    let mut joined: Option<String> = None;
    for value in parts.headers.get_all(name) {
        let text = value
            .to_str()
            .map_err(|_| AuthError::SignatureMismatch)?
            .trim();
        match joined.as_mut() {
            Some(so_far) => {
                so_far.push(',');
                so_far.push_str(text);
            }
            None => joined = Some(text.to_owned()),
        }
    }
    Ok(joined)
}

fn push_resource(out: &mut String, parts: &Parts, opts: &AuthOptions) {
    if let Some(bucket) = virtual_host_bucket(parts, opts) {
        out.push('/');
        out.push_str(bucket);
    }
    let path = raw_path(parts);
    out.push_str(if path.is_empty() { "/" } else { path });

    let mut subs: Vec<(String, Option<String>)> = raw_query(parts)
        .split('&')
        .filter_map(sub_resource)
        .collect();
    subs.sort_by(|a, b| a.0.cmp(&b.0));
    for (n, (name, value)) in subs.iter().enumerate() {
        out.push(if n == 0 { '?' } else { '&' });
        out.push_str(name);
        if let Some(value) = value {
            out.push('=');
            out.push_str(value);
        }
    }
}

/// A query piece that is a sub-resource, with its decoded value (`None` for a bare name).
fn sub_resource(piece: &str) -> Option<(String, Option<String>)> {
    let (name, value) = match piece.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (piece, None),
    };
    let name = SUB_RESOURCES.iter().find(|known| **known == name)?;
    let value = value.map(|v| String::from_utf8_lossy(&decode(v, Plus::Literal)).into_owned());
    Some(((*name).to_owned(), value))
}

/// The bucket of a virtual-hosted request: the Host, less its port, ends in
/// `.<virtual_host_domain>` and the label(s) before it name the bucket.
fn virtual_host_bucket<'a>(parts: &'a Parts, opts: &AuthOptions) -> Option<&'a str> {
    let domain = opts.virtual_host_domain.as_deref()?;
    let host = host(parts)?;
    let host = host.rsplit_once(':').map_or(host, |(name, _port)| name);
    let cut = host.len().checked_sub(domain.len() + 1)?;
    let (bucket, suffix) = host.split_at_checked(cut)?;
    let domain_matches = suffix.strip_prefix('.')?.eq_ignore_ascii_case(domain);
    (domain_matches && !bucket.is_empty()).then_some(bucket)
}
