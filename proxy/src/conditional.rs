//! Conditional requests, evaluated against what the client sees: the plaintext ETag and the
//! object's Last-Modified. The store's own ETags describe ciphertext, so the store cannot
//! evaluate a client's If-Match or If-None-Match.
//!
//! A conditional write (PutObject, CompleteMultipartUpload) is checked here against a probe
//! of the current object, and then made atomic at the store: the write goes upstream with
//! `If-Match` naming the store's ETag of the object the check passed for (or with
//! `If-None-Match: *`), so an overwrite between the probe and the write fails at the store
//! instead of being lost.

use std::time::SystemTime;

use cloak_envelope::trailer::TRAILER_LEN;
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use hyper::body::Incoming;

use crate::error::S3Error;
use crate::ops::headers;
use crate::ops::probe::{probe, Probed};
use crate::ops::Call;

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

/// A write's preconditions: `If-Match` names the plaintext ETag the current object must
/// have; `If-None-Match: *` says there must be no current object.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct WriteConditions<'a> {
    if_match: Option<&'a str>,
    if_none_match_any: bool,
}

/// What a conditional write may do, decided before its body is read.
pub enum WriteGate {
    /// Go ahead, sending the store these condition headers with the write.
    Proceed(HeaderMap),
    /// The store refused the probe (no such key for `If-Match`, no such bucket, access
    /// denied): relay its answer.
    Refused(Response<Incoming>),
}

impl<'a> WriteConditions<'a> {
    pub fn from_request(h: &'a HeaderMap) -> Self {
        Self {
            if_match: text(h, "if-match"),
            if_none_match_any: text(h, "if-none-match").is_some_and(|v| v.trim() == "*"),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.if_match.is_none() && !self.if_none_match_any
    }

    /// Whether the write may replace the current object, whose plaintext ETag is `current`
    /// (`None`: there is no object).
    pub fn check(&self, current: Option<&str>) -> Result<(), S3Error> {
        match (self.if_match, current) {
            (Some(_), None) => return Err(no_such_key()),
            (Some(list), Some(etag)) if !matches_any(list, etag) => {
                return Err(precondition_failed())
            }
            _ => {}
        }
        if self.if_none_match_any && current.is_some() {
            return Err(precondition_failed());
        }
        Ok(())
    }

    /// The same conditions in the store's terms, for the object that passed [`check`]:
    /// `If-Match` names `store_etag`, that object's ETag at the store. Without one (a
    /// store that keeps none) the store can only be asked that an object still exists.
    ///
    /// [`check`]: Self::check
    pub fn upstream(&self, store_etag: Option<&str>) -> HeaderMap {
        let mut out = HeaderMap::new();
        if self.if_match.is_some() {
            let etag = store_etag.and_then(|e| HeaderValue::from_str(e).ok());
            out.insert("if-match", etag.unwrap_or(HeaderValue::from_static("*")));
        }
        if self.if_none_match_any {
            out.insert("if-none-match", HeaderValue::from_static("*"));
        }
        out
    }
}

/// Checks the call's write conditions against the object it would replace. Nothing of the
/// client's body is read here, so a refused write consumes and stores nothing.
pub async fn gate_write(call: &Call) -> Result<WriteGate, S3Error> {
    let conditions = WriteConditions::from_request(&call.parts.headers);
    if conditions.is_empty() {
        return Ok(WriteGate::Proceed(HeaderMap::new()));
    }
    let (plaintext_etag, store_etag) = match probe(call, TRAILER_LEN).await? {
        Probed::Sealed(sealed, h) => {
            let store = headers::get(&h, "etag").map(str::to_owned);
            (Some(sealed.facts().etag), store)
        }
        // An object Cloak did not write: its store ETag is already about its plaintext.
        Probed::Foreign(h) => {
            let store = headers::get(&h, "etag").map(str::to_owned);
            (Some(store.clone().unwrap_or_default()), store)
        }
        // Only If-None-Match: * proceeds without an object; an If-Match write gets the
        // store's own 404, which says whether the key or the bucket is missing.
        Probed::Failed(resp)
            if resp.status() == StatusCode::NOT_FOUND && conditions.if_match.is_none() =>
        {
            (None, None)
        }
        Probed::Failed(resp) => return Ok(WriteGate::Refused(resp)),
    };
    conditions.check(plaintext_etag.as_deref())?;
    Ok(WriteGate::Proceed(
        conditions.upstream(store_etag.as_deref()),
    ))
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

fn no_such_key() -> S3Error {
    S3Error::new(
        StatusCode::NOT_FOUND,
        "NoSuchKey",
        "The specified key does not exist.",
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

    #[test]
    fn write_conditions_against_the_plaintext_etag() {
        let check = |pairs: &[(&'static str, &'static str)], current: Option<&str>| {
            let h = h(pairs);
            WriteConditions::from_request(&h)
                .check(current)
                .map_err(|e| e.code)
        };
        let e = Some("\"abc\"");
        assert_eq!(check(&[], e), Ok(()));
        assert_eq!(check(&[], None), Ok(()));
        assert_eq!(check(&[("if-match", "\"abc\"")], e), Ok(()));
        assert_eq!(
            check(&[("if-match", "\"x\"")], e),
            Err("PreconditionFailed")
        );
        assert_eq!(check(&[("if-match", "\"abc\"")], None), Err("NoSuchKey"));
        assert_eq!(
            check(&[("if-none-match", "*")], e),
            Err("PreconditionFailed")
        );
        assert_eq!(check(&[("if-none-match", "*")], None), Ok(()));
        // S3 takes only `*` on a write; other values are not conditions Cloak checks.
        assert!(WriteConditions::from_request(&h(&[("if-none-match", "\"abc\"")])).is_empty());
    }

    #[test]
    fn write_conditions_name_the_store_etag_upstream() {
        let both = h(&[("if-match", "\"plain\""), ("if-none-match", "*")]);
        let up = WriteConditions::from_request(&both).upstream(Some("\"stored\""));
        assert_eq!(up.get("if-match").unwrap(), "\"stored\"");
        assert_eq!(up.get("if-none-match").unwrap(), "*");
        let one = h(&[("if-match", "\"plain\"")]);
        let up = WriteConditions::from_request(&one).upstream(None);
        assert_eq!(up.get("if-match").unwrap(), "*");
        assert!(up.get("if-none-match").is_none());
    }
}
