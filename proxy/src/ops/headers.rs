//! Which headers cross the proxy, in each direction.

use http::{HeaderMap, HeaderName, HeaderValue};

/// The reserved metadata header that carries the envelope header. Clients can neither set it
/// nor see it.
pub const ENVELOPE_META: &str = "x-amz-meta-cloak";

/// Client headers that describe the object and go upstream with a PUT or multipart create.
/// `If-Match` is not among them: it names a plaintext ETag the store has never seen, so
/// `conditional::gate_write` checks it and sends the store its own ETag instead.
const OBJECT_HEADERS: &[&str] = &[
    "cache-control",
    "content-disposition",
    "content-language",
    "content-type",
    "expires",
    "x-amz-acl",
    "x-amz-storage-class",
    "x-amz-tagging",
    "x-amz-website-redirect-location",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-context",
    "x-amz-server-side-encryption-bucket-key-enabled",
    "x-amz-object-lock-mode",
    "x-amz-object-lock-retain-until-date",
    "x-amz-object-lock-legal-hold",
    "if-none-match",
];

/// Headers of the client's request that never go upstream on a forwarded request.
const CLIENT_ONLY: &[&str] = &[
    "authorization",
    "connection",
    "expect",
    "host",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "transfer-encoding",
    "upgrade",
    "x-amz-content-sha256",
    "x-amz-date",
    "x-amz-decoded-content-length",
    "x-amz-security-token",
    "x-amz-te",
    "x-amz-trailer",
];

/// Upstream response headers the proxy replaces or must not pass on.
/// The store's request ids go too: botocore reports `x-amzn-requestid` before
/// `x-amz-request-id`, and a client's error report must name Cloak's id, the one in its log.
const UPSTREAM_ONLY: &[&str] = &[
    "connection",
    "keep-alive",
    "server",
    "transfer-encoding",
    "x-amz-content-sha256",
    "x-amz-id-2",
    "x-amz-request-id",
    "x-amz-transfer-encoding",
    "x-amzn-requestid",
];

/// Copies the object-describing headers and user metadata for a new object.
pub fn object_headers(from: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (name, value) in from {
        let n = name.as_str();
        let user_meta = n.starts_with("x-amz-meta-") && !is_reserved_meta(n);
        if user_meta || OBJECT_HEADERS.contains(&n) || n.starts_with("x-amz-grant-") {
            out.append(name.clone(), value.clone());
        }
    }
    if let Some(enc) = from.get("content-encoding").and_then(|v| v.to_str().ok()) {
        if let Some(kept) = crate::chunked::strip_aws_chunked(enc) {
            if let Ok(v) = HeaderValue::from_str(&kept) {
                out.insert("content-encoding", v);
            }
        }
    }
    out
}

/// The client's headers for a request forwarded unchanged (no object body involved).
pub fn forwarded_request_headers(from: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (name, value) in from {
        let n = name.as_str();
        if !CLIENT_ONLY.contains(&n) && !is_reserved_meta(n) {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

/// Upstream response headers safe to show the client for a forwarded request.
pub fn forwarded_response_headers(from: &HeaderMap, into: &mut HeaderMap) {
    for (name, value) in from {
        let n = name.as_str();
        if !UPSTREAM_ONLY.contains(&n) && !is_reserved_meta(n) {
            into.append(name.clone(), value.clone());
        }
    }
}

/// Upstream headers describing an object, for GET and HEAD answers. Sizes, ranges, ETags and
/// checksums are the proxy's to set; the store's describe ciphertext.
pub fn object_response_headers(from: &HeaderMap, into: &mut HeaderMap) {
    for (name, value) in from {
        let n = name.as_str();
        let ours = matches!(
            n,
            "content-length" | "content-range" | "etag" | "accept-ranges"
        ) || n.starts_with("x-amz-checksum-")
            || n == "x-amz-mp-parts-count"
            || UPSTREAM_ONLY.contains(&n)
            || is_reserved_meta(n);
        if !ours {
            into.append(name.clone(), value.clone());
        }
    }
}

pub fn is_reserved_meta(name: &str) -> bool {
    name.starts_with(ENVELOPE_META)
}

pub fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), v);
    }
}

pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stores_request_ids_and_identity_stay_upstream() {
        let mut store = HeaderMap::new();
        for (name, value) in [
            ("x-amzn-requestid", "moto-id"),
            ("x-amz-request-id", "store-id"),
            ("server", "Werkzeug"),
            ("content-type", "application/xml"),
        ] {
            store.insert(name, value.parse().unwrap());
        }

        let mut client = HeaderMap::new();
        forwarded_response_headers(&store, &mut client);

        assert_eq!(client.len(), 1);
        assert_eq!(client["content-type"], "application/xml");
    }
}
