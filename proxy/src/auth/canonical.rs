//! The SigV4 canonical request and string to sign, built from the request as received.

use http::request::Parts;
use sha2::{Digest, Sha256};

use super::encoding::{canonical_query, canonical_uri};
use super::error::AuthError;
use super::request::{host, raw_path, raw_query};

/// What, beyond the request itself, goes into a canonical request.
pub(crate) struct CanonicalSpec<'a> {
    /// `SignedHeaders` exactly as the client sent it.
    pub signed_headers: &'a str,
    /// The payload line: the literal `x-amz-content-sha256` value, or `UNSIGNED-PAYLOAD`.
    pub hashed_payload: &'a str,
    /// A query parameter left out of the canonical query (`X-Amz-Signature` when presigned).
    pub skip_param: Option<&'a str>,
}

/// The canonical request, as bytes: header values need not be UTF-8.
pub(crate) fn canonical_request(
    parts: &Parts,
    spec: &CanonicalSpec<'_>,
) -> Result<Vec<u8>, AuthError> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(parts.method.as_str().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(raw_path(parts)).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query(raw_query(parts), spec.skip_param).as_bytes());
    out.push(b'\n');
    for name in spec.signed_headers.split(';') {
        push_header_line(&mut out, parts, name)?;
    }
    out.push(b'\n');
    out.extend_from_slice(spec.signed_headers.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(spec.hashed_payload.as_bytes());
    Ok(out)
}

/// The SigV4 string to sign over a canonical request.
pub(crate) fn string_to_sign(timestamp: &str, scope_line: &str, canonical: &[u8]) -> String {
    format!(
        "AWS4-HMAC-SHA256\n{timestamp}\n{scope_line}\n{}",
        hex::encode(Sha256::digest(canonical))
    )
}

/// Checks a `SignedHeaders` list: non-empty lowercase names, `host` among them.
pub(crate) fn check_signed_headers(list: &str) -> Result<(), &'static str> {
    let valid_name = |name: &str| {
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase() && b != b';')
    };
    if !list.split(';').all(valid_name) {
        return Err("SignedHeaders must be lowercase header names separated by ';'");
    }
    if !list.split(';').any(|name| name == "host") {
        return Err("SignedHeaders must include host");
    }
    Ok(())
}

/// Refuses `x-amz-*` headers that the signature does not cover: an unsigned one could change
/// the meaning of a signed request (an added `x-amz-copy-source` turns a PUT into a copy).
pub(crate) fn check_amz_headers_signed(
    parts: &Parts,
    signed_headers: &str,
) -> Result<(), AuthError> {
    let unsigned = parts.headers.keys().find(|name| {
        name.as_str().starts_with("x-amz-")
            && !signed_headers.split(';').any(|s| s == name.as_str())
    });
    match unsigned {
        Some(name) => Err(AuthError::UnsignedAmzHeader {
            name: name.as_str().to_owned(),
        }),
        None => Ok(()),
    }
}

fn push_header_line(out: &mut Vec<u8>, parts: &Parts, name: &str) -> Result<(), AuthError> {
    out.extend_from_slice(name.as_bytes());
    out.push(b':');
    let mut values = parts.headers.get_all(name).iter().peekable();
    if values.peek().is_none() {
        let authority = (name == "host").then(|| host(parts)).flatten();
        let Some(authority) = authority else {
            return Err(AuthError::SignedHeaderAbsent {
                name: name.to_owned(),
            });
        };
        push_trimmed(out, authority.as_bytes());
    }
    for (n, value) in values.enumerate() {
        if n > 0 {
            out.push(b',');
        }
        push_trimmed(out, value.as_bytes());
    }
    out.push(b'\n');
    Ok(())
}

/// Appends `value` with leading and trailing whitespace removed and inner runs collapsed to one
/// space (SigV4's "trimall").
fn push_trimmed(out: &mut Vec<u8>, value: &[u8]) {
    let words = value
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty());
    for (n, word) in words.enumerate() {
        if n > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(word);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(builder: http::request::Builder) -> Parts {
        builder.body(()).expect("valid request").into_parts().0
    }

    #[test]
    fn aws_get_object_example_canonical_request() {
        let p = parts(
            http::Request::get("/test.txt")
                .header("host", "examplebucket.s3.amazonaws.com")
                .header("range", "bytes=0-9")
                .header("x-amz-content-sha256", EMPTY)
                .header("x-amz-date", "20130524T000000Z"),
        );
        let spec = CanonicalSpec {
            signed_headers: "host;range;x-amz-content-sha256;x-amz-date",
            hashed_payload: EMPTY,
            skip_param: None,
        };
        let canonical = canonical_request(&p, &spec).expect("all headers present");
        let sts = string_to_sign(
            "20130524T000000Z",
            "20130524/us-east-1/s3/aws4_request",
            &canonical,
        );
        assert!(sts.ends_with("7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"));
    }

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn header_values_are_trimmed_and_repeats_joined() {
        let p = parts(
            http::Request::get("/")
                .header("host", "h")
                .header("x-amz-meta-a", "  one   two ")
                .header("x-amz-meta-a", "three"),
        );
        let spec = CanonicalSpec {
            signed_headers: "host;x-amz-meta-a",
            hashed_payload: "UNSIGNED-PAYLOAD",
            skip_param: None,
        };
        let text =
            String::from_utf8(canonical_request(&p, &spec).expect("present")).expect("ascii");
        assert!(
            text.contains("\nhost:h\nx-amz-meta-a:one two,three\n\n"),
            "{text}"
        );
    }

    #[test]
    fn absent_signed_header_is_reported() {
        let p = parts(http::Request::get("/").header("host", "h"));
        let spec = CanonicalSpec {
            signed_headers: "host;x-amz-date",
            hashed_payload: "UNSIGNED-PAYLOAD",
            skip_param: None,
        };
        let error = canonical_request(&p, &spec).unwrap_err();
        assert_eq!(
            error,
            AuthError::SignedHeaderAbsent {
                name: "x-amz-date".into()
            }
        );
    }

    #[test]
    fn signed_header_lists_are_checked() {
        assert!(check_signed_headers("host;x-amz-date").is_ok());
        assert!(check_signed_headers("x-amz-date").is_err());
        assert!(check_signed_headers("Host;x-amz-date").is_err());
        assert!(check_signed_headers("host;;x-amz-date").is_err());
    }

    #[test]
    fn unsigned_amz_headers_are_refused() {
        let p = parts(
            http::Request::put("/b/k")
                .header("host", "h")
                .header("x-amz-copy-source", "/other/key"),
        );
        assert!(check_amz_headers_signed(&p, "host;x-amz-copy-source").is_ok());
        let error = check_amz_headers_signed(&p, "host").unwrap_err();
        assert_eq!(error.s3_code(), "AccessDenied");
    }
}
