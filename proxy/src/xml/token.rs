//! Splits XML into tokens (text, tags and other markup) that keep their exact bytes, without
//! needing the whole document: a token cut off by the end of the input so far is reported as
//! incomplete, so the caller can wait for more bytes.
//!
//! The rewriters copy most tokens through untouched, which is why this is not a general parser:
//! it checks what they rely on (where each token ends, tag names) and leaves entity syntax to
//! the places that read text. Tag nesting is checked by the callers, which keep the open-tag
//! stack. Document type declarations are refused, so no entity can be defined.

use super::error::UpstreamXmlError;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Character data (which may hold entity references).
    Text,
    /// `<name ...>`.
    Start,
    /// `<name .../>`.
    Empty,
    /// `</name>`.
    End,
    /// `<![CDATA[...]]>`.
    CData,
    /// The XML declaration, a processing instruction or a comment.
    Other,
}

/// One token: its kind and where its bytes lie in the buffer it was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) start: usize,
    pub(crate) len: usize,
}

impl Token {
    pub(crate) fn end(&self) -> usize {
        self.start + self.len
    }

    /// This token's bytes in `buf`.
    pub(crate) fn raw<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        &buf[self.start..self.end()]
    }
}

/// The kind and length of the token at the start of `buf`, or `None` when `buf` holds only
/// the beginning of one. With `eof`, `buf` is all there is: trailing text is complete and
/// unfinished markup is an error.
pub(crate) fn next(buf: &[u8], eof: bool) -> Result<Option<(Kind, usize)>, UpstreamXmlError> {
    let found = match buf.first() {
        None => return Ok(None),
        Some(b'<') => markup(buf)?,
        Some(_) => match buf.iter().position(|&b| b == b'<') {
            Some(len) => Some((Kind::Text, len)),
            None => eof.then_some((Kind::Text, buf.len())),
        },
    };
    match found {
        None if eof => Err(UpstreamXmlError::Truncated),
        found => Ok(found),
    }
}

/// Every token of a document held in full.
pub(crate) fn all(doc: &[u8]) -> Result<Vec<Token>, UpstreamXmlError> {
    let mut tokens = Vec::new();
    let mut start = 0;
    while let Some((kind, len)) = next(&doc[start..], true)? {
        tokens.push(Token { kind, start, len });
        start += len;
    }
    Ok(tokens)
}

/// The qualified name of a start, empty or end tag, given the tag's bytes.
pub(crate) fn tag_name(raw: &[u8]) -> &[u8] {
    let from = if raw.starts_with(b"</") { 2 } else { 1 };
    let rest = &raw[from..];
    let len = rest
        .iter()
        .position(|&b| b.is_ascii_whitespace() || b == b'/' || b == b'>')
        .unwrap_or(rest.len());
    &rest[..len]
}

/// A qualified name without its namespace prefix.
pub(crate) fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(colon) => &name[colon + 1..],
        None => name,
    }
}

/// The characters inside a CDATA section's bytes.
pub(crate) fn cdata_content(raw: &[u8]) -> &[u8] {
    &raw[CDATA.len()..raw.len() - 3]
}

/// Whether text is only XML whitespace.
pub(crate) fn is_blank(raw: &[u8]) -> bool {
    raw.iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

const CDATA: &[u8] = b"<![CDATA[";
const COMMENT: &[u8] = b"<!--";

fn markup(buf: &[u8]) -> Result<Option<(Kind, usize)>, UpstreamXmlError> {
    let Some(&second) = buf.get(1) else {
        return Ok(None);
    };
    match second {
        b'?' => Ok(find_end(buf, 2, b"?>").map(|len| (Kind::Other, len))),
        b'!' if buf.starts_with(COMMENT) => {
            Ok(find_end(buf, COMMENT.len(), b"-->").map(|len| (Kind::Other, len)))
        }
        b'!' if buf.starts_with(CDATA) => {
            Ok(find_end(buf, CDATA.len(), b"]]>").map(|len| (Kind::CData, len)))
        }
        b'!' if COMMENT.starts_with(buf) || CDATA.starts_with(buf) => Ok(None),
        b'!' => Err(UpstreamXmlError::malformed(
            "document type declarations are not accepted",
        )),
        b'/' => end_tag(buf),
        _ => start_tag(buf),
    }
}

/// The length up to and including the first `terminator` at or after `from`.
fn find_end(buf: &[u8], from: usize, terminator: &[u8]) -> Option<usize> {
    buf.get(from..)?
        .windows(terminator.len())
        .position(|w| w == terminator)
        .map(|at| from + at + terminator.len())
}

fn end_tag(buf: &[u8]) -> Result<Option<(Kind, usize)>, UpstreamXmlError> {
    let Some(close) = buf.iter().position(|&b| b == b'>') else {
        return Ok(None);
    };
    let raw = &buf[..=close];
    let name = tag_name(raw);
    let rest = &raw[2 + name.len()..close];
    if name.is_empty() || !is_blank(rest) {
        return Err(UpstreamXmlError::malformed("an end tag is malformed"));
    }
    Ok(Some((Kind::End, close + 1)))
}

fn start_tag(buf: &[u8]) -> Result<Option<(Kind, usize)>, UpstreamXmlError> {
    if tag_name(buf).is_empty() {
        return Err(UpstreamXmlError::malformed("a tag has no name"));
    }
    let mut quote = None;
    for (at, &b) in buf.iter().enumerate().skip(1) {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), b'<') | (None, b'<') => {
                return Err(UpstreamXmlError::malformed("'<' inside a tag"));
            }
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => {
                let kind = if buf[at - 1] == b'/' {
                    Kind::Empty
                } else {
                    Kind::Start
                };
                return Ok(Some((kind, at + 1)));
            }
            (None, _) => {}
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(doc: &str) -> Vec<(Kind, &str)> {
        all(doc.as_bytes())
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, &doc[t.start..t.end()]))
            .collect()
    }

    #[test]
    fn splits_a_document_into_tokens() {
        let doc = "<?xml version=\"1.0\"?>\n<a x=\"1>2\" y='/'><b/>t&amp;<!-- c -->\
                   <![CDATA[<x>]]></a >";
        assert_eq!(
            kinds(doc),
            vec![
                (Kind::Other, "<?xml version=\"1.0\"?>"),
                (Kind::Text, "\n"),
                (Kind::Start, "<a x=\"1>2\" y='/'>"),
                (Kind::Empty, "<b/>"),
                (Kind::Text, "t&amp;"),
                (Kind::Other, "<!-- c -->"),
                (Kind::CData, "<![CDATA[<x>]]>"),
                (Kind::End, "</a >"),
            ]
        );
    }

    #[test]
    fn reports_incomplete_tokens() {
        for partial in [
            "<",
            "<a",
            "<a x=\">\"",
            "</a",
            "<!-",
            "<![CDA",
            "<!-- x --",
            "<?xml ?",
        ] {
            assert_eq!(next(partial.as_bytes(), false).unwrap(), None, "{partial}");
            assert_eq!(
                next(partial.as_bytes(), true),
                Err(UpstreamXmlError::Truncated),
                "{partial}"
            );
        }
        assert_eq!(next(b"text", false).unwrap(), None);
        assert_eq!(next(b"text", true).unwrap(), Some((Kind::Text, 4)));
    }

    #[test]
    fn refuses_malformed_markup() {
        for bad in [
            "<!DOCTYPE a>",
            "<>",
            "< a>",
            "<a<b>",
            "</>",
            "</a b>",
            "<a x=\"<\">",
        ] {
            assert!(next(bad.as_bytes(), true).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_names() {
        assert_eq!(tag_name(b"<s3:Key a=\"1\">"), b"s3:Key");
        assert_eq!(tag_name(b"</Key>"), b"Key");
        assert_eq!(tag_name(b"<Prefix/>"), b"Prefix");
        assert_eq!(local(b"s3:Key"), b"Key");
        assert_eq!(cdata_content(b"<![CDATA[a]]>"), b"a");
    }
}
