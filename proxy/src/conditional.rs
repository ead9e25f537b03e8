//! Conditional requests, evaluated against what the client sees: the plaintext ETag and the
//! object's Last-Modified. The store's own ETags describe ciphertext, so the store cannot
//! evaluate a client's If-Match or If-None-Match.

use std::time::SystemTime;

use http::{HeaderMap, StatusCode};

use crate::error::S3Error;

/// What a read should do.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Proceed,
    NotModified,
    Failed,
}

/// The four condition headers of one kind of request.
struct Names {
    if_match: &'static str,
    if_unmodified_since: &'static str,
    if_none_match: &'static str,
    if_modified_since: &'static str,
}

/// GetObject and HeadObject.
const READ: Names = Names {
    if_match: "if-match",
    if_unmodified_since: "if-unmodified-since",
    if_none_match: "if-none-match",
    if_modified_since: "if-modified-since",
};

/// The source of CopyObject and UploadPartCopy.
const COPY_SOURCE: Names = Names {
    if_match: "x-amz-copy-source-if-match",
    if_unmodified_since: "x-amz-copy-source-if-unmodified-since",
    if_none_match: "x-amz-copy-source-if-none-match",
    if_modified_since: "x-amz-copy-source-if-modified-since",
};

/// Applies RFC 7232's order as S3 does: If-Match, else If-Unmodified-Since, may fail the
/// request; then If-None-Match, else If-Modified-Since, may answer 304.
pub fn evaluate(h: &HeaderMap, etag: &str, last_modified: Option<&str>) -> Verdict {
    evaluate_with(&READ, h, etag, last_modified)
}

/// The `x-amz-copy-source-if-*` conditions, in the same order. A copy has no 304: where a
/// read would answer Not Modified, S3 fails the copy with 412.
pub fn check_copy_source(
    h: &HeaderMap,
    etag: &str,
    last_modified: Option<&str>,
) -> Result<(), S3Error> {
    match evaluate_with(&COPY_SOURCE, h, etag, last_modified) {
        Verdict::Proceed => Ok(()),
        Verdict::NotModified | Verdict::Failed => Err(precondition_failed()),
    }
}

fn evaluate_with(n: &Names, h: &HeaderMap, etag: &str, last_modified: Option<&str>) -> Verdict {
    let modified = last_modified.and_then(|d| httpdate::parse_http_date(d).ok());
    if let Some(list) = text(h, n.if_match) {
        if !matches_any(list, etag) {
            return Verdict::Failed;
        }
    } else if let (Some(since), Some(m)) = (date(h, n.if_unmodified_since), modified) {
        if m > since {
            return Verdict::Failed;
        }
    }
    if let Some(list) = text(h, n.if_none_match) {
        if matches_any(list, etag) {
            return Verdict::NotModified;
        }
    } else if let (Some(since), Some(m)) = (date(h, n.if_modified_since), modified) {
        if m <= since {
            return Verdict::NotModified;
        }
    }
    Verdict::Proceed
}

pub fn precondition_failed() -> S3Error {
    S3Error::new(
        StatusCode::PRECONDITION_FAILED,
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
    )
}

/// Whether an `If-Match`-style list (`"a", "b"`, `*`, quoted or not) names `etag`.
pub fn matches_any(list: &str, etag: &str) -> bool {
    let want = bare(etag);
    list.split(',')
        .map(str::trim)
        .any(|t| t == "*" || bare(t.trim_start_matches("W/")) == want)
}

fn bare(etag: &str) -> &str {
    etag.trim().trim_matches('"')
}

fn text<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn date(h: &HeaderMap, name: &str) -> Option<SystemTime> {
    text(h, name).and_then(|v| httpdate::parse_http_date(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, v.parse().unwrap());
        }
        m
    }

    const LM: &str = "Wed, 02 Dec 2026 10:00:00 GMT";

    #[test]
    fn etag_conditions() {
        let e = "\"abc\"";
        assert_eq!(
            evaluate(&h(&[("if-match", "\"abc\"")]), e, None),
            Verdict::Proceed
        );
        assert_eq!(
            evaluate(&h(&[("if-match", "abc")]), e, None),
            Verdict::Proceed
        );
        assert_eq!(
            evaluate(&h(&[("if-match", "\"x\", \"abc\"")]), e, None),
            Verdict::Proceed
        );
        assert_eq!(
            evaluate(&h(&[("if-match", "\"x\"")]), e, None),
            Verdict::Failed
        );
        assert_eq!(
            evaluate(&h(&[("if-none-match", "\"abc\"")]), e, None),
            Verdict::NotModified
        );
        assert_eq!(
            evaluate(&h(&[("if-none-match", "*")]), e, None),
            Verdict::NotModified
        );
        assert_eq!(
            evaluate(&h(&[("if-none-match", "\"x\"")]), e, None),
            Verdict::Proceed
        );
    }

    #[test]
    fn date_conditions_and_precedence() {
        let e = "\"abc\"";
        let before = "Tue, 01 Dec 2026 10:00:00 GMT";
        let after = "Thu, 03 Dec 2026 10:00:00 GMT";
        assert_eq!(
            evaluate(&h(&[("if-unmodified-since", before)]), e, Some(LM)),
            Verdict::Failed
        );
        assert_eq!(
            evaluate(&h(&[("if-unmodified-since", after)]), e, Some(LM)),
            Verdict::Proceed
        );
        assert_eq!(
            evaluate(&h(&[("if-modified-since", after)]), e, Some(LM)),
            Verdict::NotModified
        );
        assert_eq!(
            evaluate(&h(&[("if-modified-since", before)]), e, Some(LM)),
            Verdict::Proceed
        );
        // If-Match true overrides a failing If-Unmodified-Since (S3's documented rule).
        let both = h(&[("if-match", "\"abc\""), ("if-unmodified-since", before)]);
        assert_eq!(evaluate(&both, e, Some(LM)), Verdict::Proceed);
        // With If-None-Match present, If-Modified-Since is not consulted (RFC 7232 §6).
        let both = h(&[("if-none-match", "\"x\""), ("if-modified-since", after)]);
        assert_eq!(evaluate(&both, e, Some(LM)), Verdict::Proceed);
    }

    #[test]
    fn copy_source_conditions_fail_where_a_read_would_answer_304() {
        let e = "\"abc\"";
        let before = "Tue, 01 Dec 2026 10:00:00 GMT";
        let after = "Thu, 03 Dec 2026 10:00:00 GMT";
        let ok = |pairs: &[(&'static str, &'static str)]| {
            check_copy_source(&h(pairs), e, Some(LM)).is_ok()
        };
        assert!(ok(&[("x-amz-copy-source-if-match", "\"abc\"")]));
        assert!(!ok(&[("x-amz-copy-source-if-match", "\"x\"")]));
        assert!(!ok(&[("x-amz-copy-source-if-none-match", "\"abc\"")]));
        assert!(ok(&[("x-amz-copy-source-if-none-match", "\"x\"")]));
        assert!(!ok(&[("x-amz-copy-source-if-modified-since", after)]));
        assert!(ok(&[("x-amz-copy-source-if-modified-since", before)]));
        assert!(!ok(&[("x-amz-copy-source-if-unmodified-since", before)]));
        // The read headers do not apply to a copy's source.
        assert!(ok(&[("if-match", "\"x\"")]));
    }
}
