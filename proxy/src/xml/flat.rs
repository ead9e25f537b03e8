//! Reading and writing documents whose root holds only simple elements (`<Error>`, the
//! multipart and copy results): a name and its text per element, nothing deeper needed.
//!
//! Reading goes through quick-xml, which checks well-formedness; nothing here must survive
//! byte for byte, unlike the listings. Leading whitespace is allowed, because S3 may send
//! blanks to keep a slow CompleteMultipartUpload alive before the result.

use bytes::Bytes;
use quick_xml::events::Event;
use quick_xml::Reader;

use super::error::UpstreamXmlError;
use super::text::escape;
use super::S3_NAMESPACE;

/// The root's local name and each direct child's local name and text, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Flat {
    pub(crate) root: String,
    fields: Vec<(String, String)>,
}

/// Builds a result document.
#[derive(Debug)]
pub(crate) struct FlatWriter {
    root: &'static str,
    out: String,
}

impl Flat {
    /// Reads a document. Elements nested deeper than the root's children are skipped.
    pub(crate) fn parse(doc: &[u8]) -> Result<Self, UpstreamXmlError> {
        let mut reader = Reader::from_reader(doc);
        reader.config_mut().trim_text(true);
        let mut flat = Self {
            root: String::new(),
            fields: Vec::new(),
        };
        let mut depth = 0usize;
        let mut text = String::new();
        loop {
            let event = reader.read_event().map_err(malformed)?;
            match event {
                Event::Start(tag) => {
                    flat.open(depth, local_name(tag.local_name().as_ref()));
                    depth += 1;
                    text.clear();
                }
                Event::Empty(tag) => {
                    flat.open(depth, local_name(tag.local_name().as_ref()));
                    if depth == 0 {
                        return Ok(flat);
                    }
                }
                Event::Text(t) if depth == 2 => text.push_str(&t.unescape().map_err(malformed)?),
                Event::CData(c) if depth == 2 => text.push_str(&String::from_utf8_lossy(&c)),
                Event::End(_) => {
                    depth = depth
                        .checked_sub(1)
                        .ok_or_else(|| malformed("an end tag without a start"))?;
                    match depth {
                        0 => return Ok(flat),
                        1 => flat.set_last(std::mem::take(&mut text)),
                        _ => {}
                    }
                }
                Event::DocType(_) => return Err(malformed("document type declarations")),
                Event::Eof => return Err(UpstreamXmlError::Truncated),
                _ => {}
            }
        }
    }

    /// The text of the first child named `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, text)| text.as_str())
    }

    /// The text of a child the document must have.
    pub(crate) fn require(
        &self,
        parent: &'static str,
        element: &'static str,
    ) -> Result<String, UpstreamXmlError> {
        self.get(element)
            .map(str::to_owned)
            .ok_or(UpstreamXmlError::MissingElement { parent, element })
    }

    /// Fails unless the root is `expected`.
    pub(crate) fn expect_root(&self, expected: &'static str) -> Result<(), UpstreamXmlError> {
        if self.root == expected {
            return Ok(());
        }
        Err(UpstreamXmlError::UnexpectedRoot {
            found: self.root.clone(),
            expected,
        })
    }

    fn open(&mut self, depth: usize, name: String) {
        match depth {
            0 => self.root = name,
            1 => self.fields.push((name, String::new())),
            _ => {}
        }
    }

    fn set_last(&mut self, text: String) {
        if let Some((_, value)) = self.fields.last_mut() {
            *value = text;
        }
    }
}

impl FlatWriter {
    /// Starts a document with S3's declaration and namespace.
    pub(crate) fn new(root: &'static str) -> Self {
        let mut out = String::with_capacity(256);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<");
        out.push_str(root);
        out.push_str(" xmlns=\"");
        out.push_str(S3_NAMESPACE);
        out.push_str("\">");
        Self { root, out }
    }

    /// Appends `<name>text</name>`, escaping the text.
    pub(crate) fn field(&mut self, name: &str, text: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self.out.push_str(&escape(text));
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// Opens a nested element; [`FlatWriter::close`] ends it.
    pub(crate) fn open(&mut self, name: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// Ends an element opened with [`FlatWriter::open`].
    pub(crate) fn close(&mut self, name: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// Appends the field when there is a value.
    pub(crate) fn optional(&mut self, name: &str, text: Option<&str>) -> &mut Self {
        if let Some(text) = text {
            self.field(name, text);
        }
        self
    }

    /// Closes the root.
    pub(crate) fn finish(mut self) -> Bytes {
        self.out.push_str("</");
        self.out.push_str(self.root);
        self.out.push('>');
        Bytes::from(self.out)
    }
}

fn local_name(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

fn malformed(e: impl std::fmt::Display) -> UpstreamXmlError {
    UpstreamXmlError::malformed(e.to_string())
}
