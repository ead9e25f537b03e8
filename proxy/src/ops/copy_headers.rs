//! The headers of the upstream CopyObject: which metadata the copy gets, and what pins it to
//! the source version whose data key was re-bound.
//!
//! Upstream the directive is always REPLACE, because the destination's envelope header (its
//! re-bound wrapped key) must replace the source's. The client's own directive is applied
//! here instead: with COPY (the default) the destination gets the source's user metadata and
//! content headers, read from the probe's answer; with REPLACE it gets the client's. Headers
//! that are not metadata (ACL, grants, storage class, tagging, website redirect, server-side
//! encryption, object lock) come from the client either way, as S3 takes them.

use http::{HeaderMap, HeaderName, HeaderValue};

use super::copy_source::CopySource;
use super::headers::{self, ENVELOPE_META};
use crate::error::S3Error;

/// Headers that S3's metadata directive decides about, besides `x-amz-meta-*`.
const CONTENT_HEADERS: &[&str] = &[
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "content-type",
    "expires",
];

/// The client's `x-amz-metadata-directive`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Directive {
    Copy,
    Replace,
}

impl Directive {
    pub fn of(client: &HeaderMap) -> Result<Self, S3Error> {
        match headers::get(client, "x-amz-metadata-directive") {
            None => Ok(Self::Copy),
            Some(v) if v.eq_ignore_ascii_case("COPY") => Ok(Self::Copy),
            Some(v) if v.eq_ignore_ascii_case("REPLACE") => Ok(Self::Replace),
            Some(_) => Err(S3Error::bad_request(
                "InvalidArgument",
                "Unknown metadata directive.",
            )),
        }
    }
}

/// What the upstream CopyObject needs beyond the client's headers.
pub struct CopyPlan<'a> {
    pub source: &'a CopySource,
    /// The source's upstream ETag: the copy happens only if the store still holds the version
    /// that was probed, since the new header carries that version's data key.
    pub source_etag: Option<&'a str>,
    /// The destination's envelope header, encoded.
    pub envelope: String,
    pub directive: Directive,
}

/// The headers of the upstream CopyObject request.
pub fn upstream_headers(client: &HeaderMap, source_meta: &HeaderMap, plan: &CopyPlan) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (name, value) in headers::object_headers(client).iter() {
        if plan.directive == Directive::Replace || !is_metadata(name.as_str()) {
            out.append(name.clone(), value.clone());
        }
    }
    if plan.directive == Directive::Copy {
        for (name, value) in source_meta {
            if is_metadata(name.as_str()) && !headers::is_reserved_meta(name.as_str()) {
                out.append(name.clone(), value.clone());
            }
        }
    }
    if let Some(v) = client.get("x-amz-tagging-directive") {
        out.insert("x-amz-tagging-directive", v.clone());
    }
    set(&mut out, "x-amz-copy-source", &plan.source.upstream_path());
    if let Some(etag) = plan.source_etag {
        set(&mut out, "x-amz-copy-source-if-match", etag);
    }
    set(&mut out, "x-amz-metadata-directive", "REPLACE");
    set(&mut out, ENVELOPE_META, &plan.envelope);
    out.insert("content-length", 0.into());
    out
}

/// Whether a copy onto its own source changes nothing S3 counts as a change.
pub fn changes_nothing(client: &HeaderMap, directive: Directive) -> bool {
    directive == Directive::Copy
        && !client.keys().any(|n| {
            let n = n.as_str();
            n == "x-amz-storage-class"
                || n == "x-amz-website-redirect-location"
                || n.starts_with("x-amz-server-side-encryption")
        })
}

fn is_metadata(name: &str) -> bool {
    name.starts_with("x-amz-meta-") || CONTENT_HEADERS.contains(&name)
}

fn set(h: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(HeaderName::from_static(name), v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, v.parse().unwrap());
        }
        m
    }

    fn plan(source: &CopySource, directive: Directive) -> CopyPlan<'_> {
        CopyPlan {
            source,
            source_etag: Some("\"up\""),
            envelope: "ENVELOPE".into(),
            directive,
        }
    }

    #[test]
    fn copy_takes_metadata_from_the_source_and_the_rest_from_the_client() {
        let source = CopySource::parse("src/a b").unwrap();
        let client = map(&[
            ("x-amz-meta-ignored", "client"),
            ("content-type", "text/client"),
            ("x-amz-storage-class", "STANDARD_IA"),
            ("x-amz-meta-cloak", "forged"),
        ]);
        let stored = map(&[
            ("x-amz-meta-colour", "blue"),
            ("content-type", "text/source"),
            ("x-amz-meta-cloak", "source-envelope"),
            ("etag", "\"up\""),
        ]);
        let h = upstream_headers(&client, &stored, &plan(&source, Directive::Copy));
        assert_eq!(h.get("x-amz-meta-colour").unwrap(), "blue");
        assert_eq!(h.get("content-type").unwrap(), "text/source");
        assert!(h.get("x-amz-meta-ignored").is_none());
        assert_eq!(h.get("x-amz-storage-class").unwrap(), "STANDARD_IA");
        assert_eq!(h.get_all("x-amz-meta-cloak").iter().count(), 1);
        assert_eq!(h.get("x-amz-meta-cloak").unwrap(), "ENVELOPE");
        assert_eq!(h.get("x-amz-metadata-directive").unwrap(), "REPLACE");
        assert_eq!(h.get("x-amz-copy-source").unwrap(), "/src/a%20b");
        assert_eq!(h.get("x-amz-copy-source-if-match").unwrap(), "\"up\"");
        assert!(h.get("etag").is_none());
    }

    #[test]
    fn replace_takes_metadata_from_the_client() {
        let source = CopySource::parse("src/k").unwrap();
        let client = map(&[("x-amz-meta-new", "1"), ("content-type", "text/new")]);
        let stored = map(&[("x-amz-meta-old", "1"), ("content-type", "text/old")]);
        let h = upstream_headers(&client, &stored, &plan(&source, Directive::Replace));
        assert_eq!(h.get("x-amz-meta-new").unwrap(), "1");
        assert!(h.get("x-amz-meta-old").is_none());
        assert_eq!(h.get("content-type").unwrap(), "text/new");
    }

    #[test]
    fn directives_and_pointless_self_copies() {
        assert_eq!(Directive::of(&map(&[])).unwrap(), Directive::Copy);
        let replace = map(&[("x-amz-metadata-directive", "REPLACE")]);
        assert_eq!(Directive::of(&replace).unwrap(), Directive::Replace);
        let bad = map(&[("x-amz-metadata-directive", "MERGE")]);
        assert_eq!(Directive::of(&bad).unwrap_err().code, "InvalidArgument");
        assert!(changes_nothing(&map(&[]), Directive::Copy));
        assert!(!changes_nothing(&map(&[]), Directive::Replace));
        let class = map(&[("x-amz-storage-class", "GLACIER")]);
        assert!(!changes_nothing(&class, Directive::Copy));
    }
}
