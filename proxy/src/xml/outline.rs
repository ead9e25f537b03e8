//! The shape of a listing document outside its entries: which listing it is, where each entry
//! begins and ends, whether the tags nest properly, and the few top-level values the rewrite
//! needs (the upload's `<Key>`, `<EncodingType>`, `<KeyCount>`).

use super::entry::EntryContext;
use super::error::UpstreamXmlError;
use super::rewriter::EntryKind;
use super::text::unescape;
use super::token::{cdata_content, is_blank, local, tag_name, Kind};
use super::KeyEncoding;

/// S3 listings nest four deep (`Contents/Owner/ID`); anything far deeper is not a listing.
const MAX_DEPTH: usize = 16;

/// Where a token belongs, as far as the rewrite is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// Outside every entry: copied through.
    Pass,
    /// The start tag of an entry.
    EntryOpen,
    /// Inside the entry being read.
    InEntry,
    /// The end tag of the entry being read.
    EntryClose,
    /// The text of the top-level `<KeyCount>`.
    KeyCount(u64),
}

/// Follows a listing document token by token.
#[derive(Debug)]
pub(crate) struct Outline {
    stage: Stage,
    kind: EntryKind,
    open: Vec<Vec<u8>>,
    in_entry: bool,
    entries: usize,
    field: Option<Field>,
    field_text: String,
    upload_key: Option<String>,
    url_declared: bool,
    limit: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Prolog,
    Root,
    Epilog,
}

/// A top-level element whose text the rewrite reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Key,
    EncodingType,
    KeyCount,
}

impl Outline {
    /// Starts before the document; `limit` bounds the text kept from one top-level element.
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            stage: Stage::Prolog,
            kind: EntryKind::Object,
            open: Vec::new(),
            in_entry: false,
            entries: 0,
            field: None,
            field_text: String::new(),
            upload_key: None,
            url_declared: false,
            limit,
        }
    }

    /// Places the next token, whose bytes are `raw`.
    pub(crate) fn observe(&mut self, kind: Kind, raw: &[u8]) -> Result<Event, UpstreamXmlError> {
        match (self.stage, kind) {
            (_, Kind::Other) => Ok(self.pass()),
            (Stage::Root, Kind::Start | Kind::Empty) => self.open_tag(kind, raw),
            (Stage::Root, Kind::End) => self.close_tag(raw),
            (Stage::Root, Kind::Text | Kind::CData) => self.text(kind, raw),
            (Stage::Prolog, Kind::Start | Kind::Empty) => self.root(kind, raw),
            (_, Kind::Text) if is_blank(raw) => Ok(Event::Pass),
            (Stage::Prolog, _) => Err(UpstreamXmlError::malformed("content before the root")),
            (Stage::Epilog, _) => Err(UpstreamXmlError::malformed("content after the root")),
        }
    }

    /// Checks, at the end of the input, that the document was complete.
    pub(crate) fn finish(&self) -> Result<(), UpstreamXmlError> {
        match self.stage {
            Stage::Epilog => Ok(()),
            _ => Err(UpstreamXmlError::Truncated),
        }
    }

    /// What the entries read so far depend on; `requested` is the encoding the client asked
    /// for, which an `<EncodingType>url</EncodingType>` ahead of the entries confirms.
    pub(crate) fn context(&self, requested: KeyEncoding) -> EntryContext<'_> {
        EntryContext {
            kind: self.kind,
            encoding: if self.url_declared {
                KeyEncoding::Url
            } else {
                requested
            },
            upload_key: self.upload_key.as_deref(),
        }
    }

    fn root(&mut self, kind: Kind, raw: &[u8]) -> Result<Event, UpstreamXmlError> {
        let name = tag_name(raw);
        self.kind = match local(name) {
            b"ListBucketResult" => EntryKind::Object,
            b"ListVersionsResult" => EntryKind::Version,
            // moto names its ListParts root ListPartsResponse.
            b"ListPartsResult" | b"ListPartsResponse" => EntryKind::Part,
            other => {
                return Err(UpstreamXmlError::UnexpectedRoot {
                    found: String::from_utf8_lossy(other).into_owned(),
                    expected: "ListBucketResult, ListVersionsResult or ListPartsResult",
                })
            }
        };
        if kind == Kind::Empty {
            self.stage = Stage::Epilog;
        } else {
            self.stage = Stage::Root;
            self.open.push(name.to_vec());
        }
        Ok(Event::Pass)
    }

    fn open_tag(&mut self, kind: Kind, raw: &[u8]) -> Result<Event, UpstreamXmlError> {
        if self.open.len() >= MAX_DEPTH {
            return Err(UpstreamXmlError::malformed("elements nest too deeply"));
        }
        let name = tag_name(raw);
        let top_level = self.open.len() == 1;
        let event = if self.in_entry {
            Event::InEntry
        } else if top_level && local(name) == self.entry_name() {
            if kind == Kind::Empty {
                return Err(UpstreamXmlError::malformed("an entry element is empty"));
            }
            self.in_entry = true;
            self.entries += 1;
            Event::EntryOpen
        } else {
            if top_level && kind == Kind::Start {
                self.field = self.field_named(local(name));
                self.field_text.clear();
            }
            Event::Pass
        };
        if kind == Kind::Start {
            self.open.push(name.to_vec());
        }
        Ok(event)
    }

    fn close_tag(&mut self, raw: &[u8]) -> Result<Event, UpstreamXmlError> {
        let name = tag_name(raw);
        if self.open.last().map(Vec::as_slice) != Some(name) {
            return Err(UpstreamXmlError::malformed(format!(
                "</{}> does not close the open element",
                String::from_utf8_lossy(name)
            )));
        }
        self.open.pop();
        if self.in_entry {
            self.in_entry = self.open.len() > 1;
            return Ok(if self.in_entry {
                Event::InEntry
            } else {
                Event::EntryClose
            });
        }
        if self.open.len() == 1 {
            self.end_field();
        }
        if self.open.is_empty() {
            self.stage = Stage::Epilog;
        }
        Ok(Event::Pass)
    }

    fn text(&mut self, kind: Kind, raw: &[u8]) -> Result<Event, UpstreamXmlError> {
        if self.in_entry {
            return Ok(Event::InEntry);
        }
        match self.field {
            Some(Field::KeyCount) if kind == Kind::Text => Ok(key_count(raw)),
            Some(Field::Key | Field::EncodingType) => {
                let text = match kind {
                    Kind::CData => String::from_utf8_lossy(cdata_content(raw)),
                    _ => unescape(raw)?,
                };
                if self.field_text.len() + text.len() > self.limit {
                    return Err(UpstreamXmlError::ElementTooLarge { limit: self.limit });
                }
                self.field_text.push_str(&text);
                Ok(Event::Pass)
            }
            _ => Ok(Event::Pass),
        }
    }

    fn end_field(&mut self) {
        match self.field.take() {
            Some(Field::Key) => self.upload_key = Some(std::mem::take(&mut self.field_text)),
            Some(Field::EncodingType) if self.entries == 0 => {
                self.url_declared = self.field_text.trim() == "url";
            }
            _ => {}
        }
    }

    fn field_named(&self, name: &[u8]) -> Option<Field> {
        match (name, self.kind) {
            (b"Key", EntryKind::Part) => Some(Field::Key),
            (b"EncodingType", _) => Some(Field::EncodingType),
            (b"KeyCount", EntryKind::Object) => Some(Field::KeyCount),
            _ => None,
        }
    }

    fn entry_name(&self) -> &'static [u8] {
        match self.kind {
            EntryKind::Object => b"Contents",
            EntryKind::Version => b"Version",
            EntryKind::Part => b"Part",
        }
    }

    fn pass(&self) -> Event {
        if self.in_entry {
            Event::InEntry
        } else {
            Event::Pass
        }
    }
}

/// A `<KeyCount>` the rewrite may lower, or plain text when it is not a number.
fn key_count(raw: &[u8]) -> Event {
    std::str::from_utf8(raw)
        .ok()
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse().ok())
        .map_or(Event::Pass, Event::KeyCount)
}
