//! One buffered listing entry (`<Contents>`, `<Version>` or `<Part>`): reading the upstream's
//! facts from it, and writing it back with the values the client is shown.
//!
//! The entry is rewritten by splicing: every byte not being replaced is copied as the upstream
//! sent it, so keys keep their URL or XML encoding exactly and unknown elements survive.

use std::ops::Range;

use bytes::Bytes;

use super::error::UpstreamXmlError;
use super::rewriter::{EntryFacts, EntryKind, EntryView, Verdict};
use super::text::{decode_key, escape_quoted, parse_number, QuoteStyle};
use super::token::Token;
use super::tree::{children, splice, Child};
use super::KeyEncoding;

/// What an entry's facts depend on besides its own bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EntryContext<'a> {
    pub(crate) kind: EntryKind,
    pub(crate) encoding: KeyEncoding,
    /// The listing's `<Key>`, for part entries.
    pub(crate) upload_key: Option<&'a str>,
}

/// A complete entry element and where its rewritable children lie.
#[derive(Debug)]
pub(crate) struct Entry {
    raw: Bytes,
    children: Vec<Child>,
    size: u64,
}

impl Entry {
    /// Reads an entry from its bytes and tokens, the first token being its start tag and the
    /// last its end tag, with the nesting in between already checked.
    pub(crate) fn parse(
        raw: Bytes,
        tokens: &[Token],
        cx: EntryContext<'_>,
    ) -> Result<(Self, EntryFacts), UpstreamXmlError> {
        let inner = tokens.get(1..tokens.len().saturating_sub(1)).unwrap_or(&[]);
        let children = children(&raw, inner);
        let mut entry = Self {
            raw,
            children,
            size: 0,
        };
        let facts = entry.facts(cx)?;
        entry.size = facts.size;
        Ok((entry, facts))
    }

    /// The entry as the client sees it, or `None` when it is skipped.
    pub(crate) fn render(&self, verdict: &Verdict) -> Option<Bytes> {
        let view = match verdict {
            Verdict::Skip => return None,
            Verdict::Show(view) => view,
        };
        Some(splice(&self.raw, self.edits(view)))
    }

    fn facts(&self, cx: EntryContext<'_>) -> Result<EntryFacts, UpstreamXmlError> {
        let parent = match cx.kind {
            EntryKind::Object => "Contents",
            EntryKind::Version => "Version",
            EntryKind::Part => "Part",
        };
        let required = |element| {
            self.text_of(element)?
                .ok_or(UpstreamXmlError::MissingElement { parent, element })
        };
        let key = match cx.upload_key {
            Some(key) if cx.kind == EntryKind::Part => key.to_owned(),
            _ => decode_key(&required("Key")?, cx.encoding)?,
        };
        let part_number = match cx.kind {
            EntryKind::Part => Some(parse_number("PartNumber", &required("PartNumber")?)?),
            _ => None,
        };
        Ok(EntryFacts {
            kind: cx.kind,
            key,
            version_id: self.text_of("VersionId")?,
            is_latest: self.text_of("IsLatest")?.map(|t| t.trim() == "true"),
            part_number,
            size: parse_number("Size", &required("Size")?)?,
            etag: required("ETag")?,
        })
    }

    /// The text of the one child named `name`.
    fn text_of(&self, name: &'static str) -> Result<Option<String>, UpstreamXmlError> {
        let mut found = self.children.iter().filter(|c| c.name == name);
        let Some(child) = found.next() else {
            return Ok(None);
        };
        if found.next().is_some() {
            return Err(UpstreamXmlError::malformed(format!(
                "an entry has more than one <{name}>"
            )));
        }
        child.text(&self.raw).map(Some)
    }

    /// The replacements `view` calls for, in document order.
    fn edits(&self, view: &EntryView) -> Vec<(Range<usize>, String)> {
        let mut edits = Vec::new();
        for child in &self.children {
            match child.name.as_str() {
                "Size" if view.size != self.size => {
                    edits.push(child.set_content(&self.raw, view.size.to_string()));
                }
                "ETag" => {
                    if let Some(etag) = &view.etag {
                        let style = QuoteStyle::of(self.content(child));
                        let text = escape_quoted(etag, style).into_owned();
                        edits.push(child.set_content(&self.raw, text));
                    }
                }
                name if view.drop_checksums && name.starts_with("Checksum") => {
                    edits.push(child.removal());
                }
                _ => {}
            }
        }
        edits
    }

    fn content(&self, child: &Child) -> &[u8] {
        child.content.clone().map_or(&[], |c| &self.raw[c])
    }
}
