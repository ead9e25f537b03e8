//! Works out which bucket, key and S3 operation a request is for.
//!
//! Path-style (`/bucket/key`), virtual-hosted-style (`bucket.DOMAIN/key`, when a domain is
//! configured) and absolute-form targets (`http://host/bucket/key`, sent by clients going
//! through an HTTP proxy setting) all resolve to the same `Target`. The key is kept twice: as
//! the client percent-encoded it, to forward upstream unchanged, and decoded, for key rules
//! and the encryption context.

use http::request::Parts;
use http::Method;
use percent_encoding::percent_decode_str;

use crate::error::S3Error;

/// Where a request is aimed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// `/bucket/key` as the client encoded it (path-style), for the upstream request.
    pub upstream_path: String,
    /// The query string as sent, without `?`.
    pub raw_query: Option<String>,
    /// Decoded query parameters, in order.
    pub query: Vec<(String, String)>,
}

/// The S3 operations Cloak treats specially; everything else is forwarded as is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    ListBuckets,
    ListObjects,
    ListObjectsV2,
    ListObjectVersions,
    ListMultipartUploads,
    PutObject,
    CopyObject,
    GetObject,
    HeadObject,
    GetObjectAttributes,
    CreateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListParts,
    /// Requests that never touch object bodies (bucket settings, tagging, ACLs, deletes).
    Forward,
    /// Requests that would expose stored bytes without decryption.
    Refused(&'static str),
}

/// Object sub-resources that are metadata only and can be forwarded.
const FORWARDED_OBJECT_SUBRESOURCES: &[&str] =
    &["tagging", "acl", "retention", "legal-hold", "restore"];

/// Bucket-level GET sub-resources; a bucket GET with none of these is ListObjects.
const BUCKET_SUBRESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "tagging",
    "versioning",
    "website",
    "uploads",
    "versions",
];

impl Target {
    pub fn has(&self, name: &str) -> bool {
        self.query.iter().any(|(k, _)| k == name)
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The upstream path with the query string as sent.
    pub fn upstream_path_and_query(&self) -> String {
        match &self.raw_query {
            Some(q) if !q.is_empty() => format!("{}?{q}", self.upstream_path),
            _ => self.upstream_path.clone(),
        }
    }

    /// A resource label for errors and logs: `/bucket/key`.
    pub fn resource(&self) -> String {
        match (&self.bucket, &self.key) {
            (Some(b), Some(k)) => format!("/{b}/{k}"),
            (Some(b), None) => format!("/{b}"),
            _ => "/".into(),
        }
    }
}

/// Characters S3 (and SigV4's canonical URI) leave unescaped in a key path: RFC 3986's
/// unreserved set and `/`.
const KEY_PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The upstream path-style path of `key` in `bucket`, percent-encoded as SigV4 expects.
pub fn object_path(bucket: &str, key: &str) -> String {
    let enc = |s| percent_encoding::utf8_percent_encode(s, KEY_PATH).to_string();
    format!("/{}/{}", enc(bucket), enc(key))
}

/// Percent-encodes a query parameter value (everything but the unreserved set).
pub fn encode_param(value: &str) -> String {
    const PARAM: &percent_encoding::AsciiSet = &KEY_PATH.add(b'/');
    percent_encoding::utf8_percent_encode(value, PARAM).to_string()
}

/// Resolves the target of a request.
pub fn target(parts: &Parts, virtual_host_domain: Option<&str>) -> Result<Target, S3Error> {
    let raw_path = parts.uri.path();
    let host = host_of(parts);
    let vhost_bucket = virtual_host_domain.and_then(|d| bucket_from_host(host.as_deref()?, d));

    let (raw_bucket, raw_key) = match vhost_bucket {
        Some(b) => (Some(b), raw_path.trim_start_matches('/').to_owned()),
        None => {
            let rest = raw_path.trim_start_matches('/');
            match rest.split_once('/') {
                Some((b, k)) => (Some(b.to_owned()), k.to_owned()),
                None if rest.is_empty() => (None, String::new()),
                None => (Some(rest.to_owned()), String::new()),
            }
        }
    };
    let bucket = raw_bucket.as_deref().map(decode).transpose()?;
    let key = if raw_key.is_empty() {
        None
    } else {
        Some(decode(&raw_key)?)
    };
    let upstream_path = match &raw_bucket {
        Some(b) if raw_key.is_empty() => format!("/{b}"),
        Some(b) => format!("/{b}/{raw_key}"),
        None => "/".into(),
    };
    let raw_query = parts.uri.query().map(str::to_owned);
    let query = raw_query.as_deref().map(parse_query).unwrap_or_default();
    Ok(Target {
        bucket,
        key,
        upstream_path,
        raw_query,
        query,
    })
}

/// Classifies the operation.
pub fn operation(method: &Method, target: &Target, has_copy_source: bool) -> Op {
    match (&target.bucket, &target.key) {
        (None, _) if method == Method::GET => Op::ListBuckets,
        (None, _) => Op::Forward,
        (Some(_), None) => bucket_operation(method, target),
        (Some(_), Some(_)) => object_operation(method, target, has_copy_source),
    }
}

fn bucket_operation(method: &Method, t: &Target) -> Op {
    if method != Method::GET {
        return Op::Forward;
    }
    if t.param("list-type") == Some("2") {
        return Op::ListObjectsV2;
    }
    if t.has("versions") {
        return Op::ListObjectVersions;
    }
    if t.has("uploads") {
        return Op::ListMultipartUploads;
    }
    if BUCKET_SUBRESOURCES.iter().any(|s| t.has(s)) {
        return Op::Forward;
    }
    Op::ListObjects
}

fn object_operation(method: &Method, t: &Target, has_copy_source: bool) -> Op {
    if FORWARDED_OBJECT_SUBRESOURCES.iter().any(|s| t.has(s)) {
        return Op::Forward;
    }
    match *method {
        Method::PUT if t.has("uploadId") && has_copy_source => Op::UploadPartCopy,
        Method::PUT if t.has("uploadId") => Op::UploadPart,
        Method::PUT if has_copy_source => Op::CopyObject,
        Method::PUT => Op::PutObject,
        Method::GET if t.has("uploadId") => Op::ListParts,
        Method::GET if t.has("attributes") => Op::GetObjectAttributes,
        Method::GET if t.has("torrent") => Op::Refused("GetObjectTorrent"),
        Method::GET => Op::GetObject,
        Method::HEAD => Op::HeadObject,
        Method::POST if t.has("uploads") => Op::CreateMultipartUpload,
        Method::POST if t.has("uploadId") => Op::CompleteMultipartUpload,
        Method::POST if t.has("select") => Op::Refused("SelectObjectContent"),
        Method::POST => Op::Refused("POST object"),
        Method::DELETE if t.has("uploadId") => Op::AbortMultipartUpload,
        Method::DELETE => Op::Forward,
        _ => Op::Refused("this method"),
    }
}

fn host_of(parts: &Parts) -> Option<String> {
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))?;
    Some(host.rsplit_once(':').map_or(host.clone(), |(h, p)| {
        if p.chars().all(|c| c.is_ascii_digit()) {
            h.to_owned()
        } else {
            host.clone()
        }
    }))
}

fn bucket_from_host(host: &str, domain: &str) -> Option<String> {
    let host = host.to_ascii_lowercase();
    let bucket = host
        .strip_suffix(&domain.to_ascii_lowercase())?
        .strip_suffix('.')?;
    (!bucket.is_empty()).then(|| bucket.to_owned())
}

fn decode(raw: &str) -> Result<String, S3Error> {
    percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| S3Error::bad_request("InvalidURI", "The object key is not valid UTF-8"))
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

#[cfg(test)]
mod tests;
