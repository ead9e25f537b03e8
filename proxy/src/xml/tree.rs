//! The element structure a splice needs, over tokens whose bytes are all at hand: the direct
//! children of an element with their byte spans, and (for a whole document) the check that
//! there is one root and every tag is closed in order.

use std::ops::Range;

use bytes::{Bytes, BytesMut};

use super::error::UpstreamXmlError;
use super::text::unescape;
use super::token::{cdata_content, is_blank, local, tag_name, Kind, Token};

/// A direct child element.
#[derive(Debug, Clone)]
pub(crate) struct Child {
    /// The element's local name.
    pub(crate) name: String,
    /// Where the blank text directly before the element begins (the element's start if none),
    /// so removing the element can take its indentation with it.
    pub(crate) lead: usize,
    /// The whole element's bytes, tags included.
    pub(crate) span: Range<usize>,
    /// The bytes between its tags; `None` for an empty-element tag.
    pub(crate) content: Option<Range<usize>>,
    /// Its tokens, tags included, as indices into the slice given to [`children`].
    pub(crate) tokens: Range<usize>,
    /// The text and CDATA tokens directly inside it.
    text: Vec<Token>,
}

/// The direct children of an element, given the tokens between its tags (already known to
/// nest properly).
pub(crate) fn children(raw: &[u8], inner: &[Token]) -> Vec<Child> {
    let mut children: Vec<Child> = Vec::new();
    let mut depth = 0usize;
    let mut blank_from = None;
    for (index, token) in inner.iter().enumerate() {
        let bytes = token.raw(raw);
        match (depth, token.kind) {
            (0, Kind::Start | Kind::Empty) => {
                let empty = token.kind == Kind::Empty;
                children.push(Child::open(bytes, token, index, blank_from, empty));
                depth = usize::from(!empty);
            }
            (1, Kind::Text | Kind::CData) => {
                if let Some(child) = children.last_mut() {
                    child.text.push(*token);
                }
            }
            (1, Kind::End) => {
                if let Some(child) = children.last_mut() {
                    child.close(token, index);
                }
                depth = 0;
            }
            (_, Kind::Start) => depth += 1,
            (_, Kind::End) => depth = depth.saturating_sub(1),
            _ => {}
        }
        let blank = token.kind == Kind::Text && is_blank(bytes);
        blank_from = match (depth, blank) {
            (0, true) => blank_from.or(Some(token.start)),
            _ => None,
        };
    }
    children
}

/// The index range of the root element's tokens in a whole document, after checking that
/// the tags nest, exactly one root exists, and nothing but blanks, comments and processing
/// instructions surrounds it.
pub(crate) fn root(raw: &[u8], tokens: &[Token]) -> Result<Range<usize>, UpstreamXmlError> {
    let mut open: Vec<&[u8]> = Vec::new();
    let (mut first, mut last) = (None, None);
    for (index, token) in tokens.iter().enumerate() {
        let bytes = token.raw(raw);
        let outside = open.is_empty();
        match token.kind {
            Kind::Start | Kind::Empty if outside && first.is_some() => {
                return Err(UpstreamXmlError::malformed("more than one root element"));
            }
            Kind::Start | Kind::Empty if outside => first = Some(index),
            Kind::Text if outside && !is_blank(bytes) => {
                return Err(UpstreamXmlError::malformed("text outside the root element"));
            }
            Kind::CData if outside => {
                return Err(UpstreamXmlError::malformed(
                    "CDATA outside the root element",
                ));
            }
            _ => {}
        }
        match token.kind {
            Kind::Start => open.push(tag_name(bytes)),
            Kind::End if open.pop() != Some(tag_name(bytes)) => {
                return Err(UpstreamXmlError::malformed("an end tag does not match"));
            }
            _ => {}
        }
        if open.is_empty() && matches!(token.kind, Kind::Empty | Kind::End) {
            last = Some(index + 1);
        }
    }
    match (first, last) {
        (Some(first), Some(last)) if open.is_empty() => Ok(first..last),
        _ => Err(UpstreamXmlError::Truncated),
    }
}

/// The local name of a start or empty tag.
pub(crate) fn local_name(raw: &[u8], tag: &Token) -> String {
    String::from_utf8_lossy(local(tag_name(tag.raw(raw)))).into_owned()
}

/// `raw` with each range replaced; the ranges are in order and do not overlap.
pub(crate) fn splice(raw: &Bytes, edits: Vec<(Range<usize>, String)>) -> Bytes {
    if edits.is_empty() {
        return raw.clone();
    }
    let mut out = BytesMut::with_capacity(raw.len() + 64);
    let mut copied = 0;
    for (range, replacement) in edits {
        out.extend_from_slice(&raw[copied..range.start]);
        out.extend_from_slice(replacement.as_bytes());
        copied = range.end;
    }
    out.extend_from_slice(&raw[copied..]);
    out.freeze()
}

impl Child {
    fn open(tag: &[u8], token: &Token, index: usize, blank: Option<usize>, empty: bool) -> Self {
        Self {
            name: String::from_utf8_lossy(local(tag_name(tag))).into_owned(),
            lead: blank.unwrap_or(token.start),
            span: token.start..token.end(),
            content: (!empty).then_some(token.end()..token.end()),
            tokens: index..index + 1,
            text: Vec::new(),
        }
    }

    fn close(&mut self, end_tag: &Token, index: usize) {
        if let Some(content) = &mut self.content {
            content.end = end_tag.start;
        }
        self.span.end = end_tag.end();
        self.tokens.end = index + 1;
    }

    /// The text directly inside the element, references resolved.
    pub(crate) fn text(&self, raw: &[u8]) -> Result<String, UpstreamXmlError> {
        let mut text = String::new();
        for token in &self.text {
            let bytes = token.raw(raw);
            match token.kind {
                Kind::CData => text.push_str(
                    std::str::from_utf8(cdata_content(bytes))
                        .map_err(|_| UpstreamXmlError::malformed("CDATA is not UTF-8"))?,
                ),
                _ => text.push_str(&unescape(bytes)?),
            }
        }
        Ok(text)
    }

    /// The edit that makes `text` (already escaped) the element's content; an empty-element
    /// tag becomes a start and end tag around it.
    pub(crate) fn set_content(&self, raw: &[u8], text: String) -> (Range<usize>, String) {
        match &self.content {
            Some(content) => (content.clone(), text),
            None => {
                let name = String::from_utf8_lossy(tag_name(&raw[self.span.clone()]));
                (self.span.clone(), format!("<{name}>{text}</{name}>"))
            }
        }
    }

    /// The edit that removes the element with the blank text before it.
    pub(crate) fn removal(&self) -> (Range<usize>, String) {
        (self.lead..self.span.end, String::new())
    }

    /// The tokens between its tags, from the slice given to [`children`].
    pub(crate) fn inner<'t>(&self, tokens: &'t [Token]) -> &'t [Token] {
        let inner = self.tokens.start + 1..self.tokens.end.saturating_sub(1);
        tokens.get(inner).unwrap_or(&[])
    }
}
