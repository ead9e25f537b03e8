//! The parts of a received request that signatures cover, read exactly as they arrived.
//!
//! The request-target may be in origin form (`/path?query`) or absolute form
//! (`http://host/path?query`, as boto2 sends through a configured proxy); either way only the
//! raw path and query are used, never a decoded or normalised form.

use http::header::{HeaderName, HOST};
use http::request::Parts;

/// The raw path as sent; empty when an absolute-form target has no path.
pub(crate) fn raw_path(parts: &Parts) -> &str {
    parts.uri.path()
}

/// The raw query string as sent, without the `?`.
pub(crate) fn raw_query(parts: &Parts) -> &str {
    parts.uri.query().unwrap_or("")
}

/// The host the client addressed: the `Host` header, or the target's authority under HTTP/2
/// (where `:authority` replaces `Host`).
pub(crate) fn host(parts: &Parts) -> Option<&str> {
    match parts.headers.get(HOST) {
        Some(value) => value.to_str().ok(),
        None => parts.uri.authority().map(|a| a.as_str()),
    }
}

/// The single value of header `name` as text; `None` when absent or not visible ASCII.
pub(crate) fn header_str<'a>(parts: &'a Parts, name: &HeaderName) -> Option<&'a str> {
    parts.headers.get(name)?.to_str().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(target: &str, host_header: Option<&str>) -> Parts {
        let mut builder = http::Request::get(target);
        if let Some(h) = host_header {
            builder = builder.header(HOST, h);
        }
        builder.body(()).expect("valid request").into_parts().0
    }

    #[test]
    fn absolute_form_yields_the_raw_path_and_query() {
        let p = parts("http://s3.us-east-1.example.test/b/k%20x?acl", Some("s3.x"));
        assert_eq!(raw_path(&p), "/b/k%20x");
        assert_eq!(raw_query(&p), "acl");
        assert_eq!(host(&p), Some("s3.x"));
    }

    #[test]
    fn authority_stands_in_for_a_missing_host_header() {
        let p = parts("https://example.test:9000/b", None);
        assert_eq!(host(&p), Some("example.test:9000"));
        let p = parts("/b", None);
        assert_eq!(host(&p), None);
    }
}
