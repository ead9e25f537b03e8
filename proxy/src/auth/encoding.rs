//! Percent-encoding as SigV4 canonicalises it for S3.
//!
//! S3 is the one AWS service that neither double-encodes nor normalises the path: the canonical
//! URI is the path the client sent. Escapes the client sent are kept byte for byte (they are what
//! it signed); only bytes that S3's rule requires to be escaped but that arrived raw are escaped
//! here. The query string, in contrast, is decoded and re-encoded pair by pair, then sorted.

/// How a `+` in a query component is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plus {
    /// Form encoding: `+` stands for a space (how S3 and MinIO read query strings).
    Space,
    /// Taken literally, for values such as base64 signatures.
    Literal,
}

/// The canonical URI of a raw request path.
pub(crate) fn canonical_uri(raw_path: &str) -> String {
    if raw_path.is_empty() {
        return "/".to_owned();
    }
    let bytes = raw_path.as_bytes();
    let mut out = String::with_capacity(bytes.len() + 8);
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && hex_pair(bytes, i + 1).is_some() {
            out.push_str(&raw_path[i..i + 3]);
            i += 3;
            continue;
        }
        push_encoded(&mut out, bytes[i], true);
        i += 1;
    }
    out
}

/// The canonical query string: every pair re-encoded, sorted by name then value.
///
/// `skip` names parameters left out (the signature itself, for presigned requests).
pub(crate) fn canonical_query(raw_query: &str, skip: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = query_pairs(raw_query)
        .filter(|(name, _)| skip.map(str::as_bytes) != Some(name.as_slice()))
        .map(|(name, value)| (encode_component(&name), encode_component(&value)))
        .collect();
    pairs.sort();
    let mut out = String::with_capacity(raw_query.len() + 8);
    for (n, (name, value)) in pairs.iter().enumerate() {
        if n > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// The decoded `(name, value)` pairs of a raw query string; a bare `name` has an empty value.
///
/// Decoded pairs stay bytes: a client may escape bytes that are not UTF-8.
pub(crate) fn query_pairs(raw_query: &str) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> + '_ {
    raw_query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            (decode(name, Plus::Space), decode(value, Plus::Space))
        })
}

/// The first value of query parameter `name` (compared exactly), decoded.
pub(crate) fn query_param(raw_query: &str, name: &str, plus: Plus) -> Option<Vec<u8>> {
    raw_query
        .split('&')
        .filter_map(|piece| piece.split_once('=').or(Some((piece, ""))))
        .find(|(n, _)| decode(n, Plus::Space) == name.as_bytes())
        .map(|(_, value)| decode(value, plus))
}

/// Percent-decodes `s`; a `%` not followed by two hex digits is kept as it is.
pub(crate) fn decode(s: &str, plus: Plus) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => match hex_pair(bytes, i + 1) {
                Some(byte) => {
                    out.push(byte);
                    i += 3;
                    continue;
                }
                None => out.push(b'%'),
            },
            b'+' if plus == Plus::Space => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    out
}

/// Encodes every byte outside the unreserved set, `/` included.
pub(crate) fn encode_component(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        push_encoded(&mut out, b, false);
    }
    out
}

fn push_encoded(out: &mut String, byte: u8, keep_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    if is_unreserved(byte) || (keep_slash && byte == b'/') {
        out.push(char::from(byte));
    } else {
        out.push('%');
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~')
}

fn hex_pair(bytes: &[u8], at: usize) -> Option<u8> {
    let high = char::from(*bytes.get(at)?).to_digit(16)?;
    let low = char::from(*bytes.get(at + 1)?).to_digit(16)?;
    u8::try_from(high * 16 + low).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_keeps_escapes_and_structure_as_sent() {
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/a//b/./../c"), "/a//b/./../c");
        assert_eq!(canonical_uri("/a%2Fb%20c"), "/a%2Fb%20c");
        assert_eq!(canonical_uri("/fran%c3%a7ais"), "/fran%c3%a7ais");
    }

    #[test]
    fn path_escapes_raw_bytes_that_s3_escapes() {
        assert_eq!(canonical_uri("/test$file.text"), "/test%24file.text");
        assert_eq!(canonical_uri("/a+b(c)!*'"), "/a%2Bb%28c%29%21%2A%27");
        assert_eq!(canonical_uri("/100%"), "/100%25");
        assert_eq!(canonical_uri("/ümlaut~"), "/%C3%BCmlaut~");
    }

    #[test]
    fn query_is_sorted_reencoded_and_valueless_names_get_equals() {
        assert_eq!(
            canonical_query("prefix=J&max-keys=2", None),
            "max-keys=2&prefix=J"
        );
        assert_eq!(canonical_query("uploads", None), "uploads=");
        assert_eq!(
            canonical_query("prefix=&delimiter=%2F", None),
            "delimiter=%2F&prefix="
        );
        assert_eq!(canonical_query("p=a/b", None), "p=a%2Fb");
        assert_eq!(
            canonical_query("k=a%20b&k=a+b&k=a%2Bb", None),
            "k=a%20b&k=a%20b&k=a%2Bb"
        );
        assert_eq!(canonical_query("b=2&a=2&a=1", None), "a=1&a=2&b=2");
        assert_eq!(canonical_query("x=%7e%41", None), "x=~A");
    }

    #[test]
    fn query_can_leave_out_the_signature() {
        let raw = "X-Amz-Signature=abc&X-Amz-Date=1";
        assert_eq!(
            canonical_query(raw, Some("X-Amz-Signature")),
            "X-Amz-Date=1"
        );
    }

    #[test]
    fn query_param_reads_plus_as_asked() {
        let raw = "Signature=ab+c%2Bd&other";
        assert_eq!(
            query_param(raw, "Signature", Plus::Literal).unwrap(),
            b"ab+c+d"
        );
        assert_eq!(
            query_param(raw, "Signature", Plus::Space).unwrap(),
            b"ab c+d"
        );
        assert_eq!(query_param(raw, "other", Plus::Space).unwrap(), b"");
        assert!(query_param(raw, "missing", Plus::Space).is_none());
    }
}
