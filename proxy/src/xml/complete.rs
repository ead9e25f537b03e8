//! The client's CompleteMultipartUpload request body, and the one the proxy sends upstream.
//!
//! The client names its parts by the plaintext ETags the proxy gave it; the proxy translates
//! them into the upstream's ETags, so the ETag forms clients send are all accepted: quoted,
//! unquoted (`mc`) and entity-quoted (`&quot;…&quot;` or `&#34;…&#34;`, which the XML reader
//! resolves, or the same left literal by a client that escaped twice).

use bytes::Bytes;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::error::CompleteRequestError;
use super::text::{escape, normalize_etag};
use super::S3_NAMESPACE;
use crate::checksum::ChecksumAlgorithm;

/// The largest CompleteMultipartUpload body accepted; collect the body with
/// `http_body_util::Limited` at this size.
///
/// A part at its most verbose takes 177 bytes before any whitespace: `<Part>` and `</Part>`
/// (13 bytes), `<PartNumber>10000</PartNumber>` (30), an entity-quoted ETag of 32 hex digits
/// (57) and a `<ChecksumSHA256>` of 44 base64 characters (77). Pretty-printed with eight-space
/// indentation it is about 215, so 10,000 parts come to 1.8-2.2 MB: more than 1 MiB allows.
/// 4 MiB leaves room for namespace prefixes and deeper indentation, while still refusing
/// bodies no valid request needs.
pub const MAX_COMPLETE_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// The highest part number S3 accepts.
const MAX_PART_NUMBER: u32 = 10_000;

/// One `<Part>` of the client's request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    pub part_number: u32,
    /// The ETag without quotes.
    pub etag: String,
    /// The part's `Checksum*` elements, for checking against what UploadPart recorded.
    pub checksums: Vec<PartChecksum>,
}

/// A `<ChecksumCRC32>` (or other algorithm) element of a part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartChecksum {
    pub algorithm: ChecksumAlgorithm,
    /// Base64, as sent.
    pub value: String,
}

/// Reads the client's request body: at least one part, in strictly ascending order.
pub fn parse_complete_request(body: &[u8]) -> Result<Vec<CompletedPart>, CompleteRequestError> {
    if body.len() > MAX_COMPLETE_REQUEST_BYTES {
        return Err(CompleteRequestError::BodyTooLarge {
            limit: MAX_COMPLETE_REQUEST_BYTES,
        });
    }
    let mut reader = Reader::from_reader(body);
    reader.config_mut().trim_text(true);
    let mut request = Request::default();
    loop {
        match reader.read_event().map_err(malformed)? {
            Event::Start(tag) => request.open(&tag)?,
            Event::Empty(tag) => {
                request.open(&tag)?;
                request.close()?;
            }
            Event::Text(text) => request.text(&text.unescape().map_err(malformed)?)?,
            Event::CData(data) => request.text(&String::from_utf8_lossy(&data))?,
            Event::End(_) => request.close()?,
            Event::DocType(_) => return Err(malformed("a document type declaration")),
            Event::Eof => return request.finish(),
            _ => {}
        }
    }
}

/// The request body sending `parts` (part number and upstream ETag, quoted or not) upstream.
pub fn write_complete_request<'a>(parts: impl IntoIterator<Item = (u32, &'a str)>) -> Bytes {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <CompleteMultipartUpload xmlns=\"{S3_NAMESPACE}\">"
    );
    for (number, etag) in parts {
        out.push_str(&format!(
            "<Part><PartNumber>{number}</PartNumber><ETag>{}</ETag></Part>",
            escape(&format!("\"{}\"", normalize_etag(etag)))
        ));
    }
    out.push_str("</CompleteMultipartUpload>");
    Bytes::from(out)
}

/// The reading state: which element is open, and the part being read.
#[derive(Debug, Default)]
struct Request {
    parts: Vec<CompletedPart>,
    depth: usize,
    part: Option<Draft>,
    field: Option<Field>,
    text: String,
    done: bool,
}

/// A `<Part>` not yet closed.
#[derive(Debug, Default)]
struct Draft {
    number: Option<String>,
    etag: Option<String>,
    checksums: Vec<PartChecksum>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    PartNumber,
    ETag,
    Checksum(ChecksumAlgorithm),
}

impl Request {
    fn open(&mut self, tag: &BytesStart<'_>) -> Result<(), CompleteRequestError> {
        let name = tag.local_name();
        let name = std::str::from_utf8(name.as_ref()).map_err(malformed)?;
        match (self.depth, name) {
            (0, "CompleteMultipartUpload") if !self.done => {}
            (1, "Part") => self.part = Some(Draft::default()),
            (2, _) => self.field = Some(field(name)?),
            _ => return Err(malformed(format!("unexpected <{name}>"))),
        }
        self.depth += 1;
        self.text.clear();
        Ok(())
    }

    fn text(&mut self, text: &str) -> Result<(), CompleteRequestError> {
        match self.depth {
            3 => {
                self.text.push_str(text);
                Ok(())
            }
            _ => Err(malformed("text outside a part's fields")),
        }
    }

    fn close(&mut self) -> Result<(), CompleteRequestError> {
        self.depth = self.depth.saturating_sub(1);
        match self.depth {
            0 => self.done = true,
            1 => self.close_part()?,
            2 => self.close_field()?,
            _ => {}
        }
        Ok(())
    }

    fn close_field(&mut self) -> Result<(), CompleteRequestError> {
        let (Some(part), Some(field)) = (self.part.as_mut(), self.field.take()) else {
            return Err(malformed("a field outside a part"));
        };
        let text = std::mem::take(&mut self.text);
        let slot = match field {
            Field::PartNumber => &mut part.number,
            Field::ETag => &mut part.etag,
            Field::Checksum(algorithm) => {
                part.checksums.push(PartChecksum {
                    algorithm,
                    value: text.trim().to_owned(),
                });
                return Ok(());
            }
        };
        if slot.replace(text).is_some() {
            return Err(malformed("a part repeats a field"));
        }
        Ok(())
    }

    fn close_part(&mut self) -> Result<(), CompleteRequestError> {
        let draft = self.part.take().unwrap_or_default();
        let number = draft
            .number
            .ok_or_else(|| malformed("a part has no PartNumber"))?;
        let etag = draft.etag.ok_or_else(|| malformed("a part has no ETag"))?;
        let part_number = part_number(&number)?;
        if let Some(previous) = self.parts.last().map(|p| p.part_number) {
            if part_number <= previous {
                let next = part_number;
                return Err(CompleteRequestError::InvalidPartOrder { previous, next });
            }
        }
        self.parts.push(CompletedPart {
            part_number,
            etag: normalize_etag(&etag).to_owned(),
            checksums: draft.checksums,
        });
        Ok(())
    }

    fn finish(self) -> Result<Vec<CompletedPart>, CompleteRequestError> {
        if !self.done {
            return Err(malformed("the document is incomplete"));
        }
        if self.parts.is_empty() {
            return Err(malformed("no parts"));
        }
        Ok(self.parts)
    }
}

fn field(name: &str) -> Result<Field, CompleteRequestError> {
    match name {
        "PartNumber" => Ok(Field::PartNumber),
        "ETag" => Ok(Field::ETag),
        _ => name
            .strip_prefix("Checksum")
            .and_then(ChecksumAlgorithm::from_name)
            .map(Field::Checksum)
            .ok_or_else(|| malformed(format!("unexpected <{name}> in a part"))),
    }
}

fn part_number(text: &str) -> Result<u32, CompleteRequestError> {
    let trimmed = text.trim();
    let invalid = || CompleteRequestError::InvalidPartNumber {
        value: text.to_owned(),
    };
    if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    match trimmed.parse::<u32>() {
        Ok(n) if (1..=MAX_PART_NUMBER).contains(&n) => Ok(n),
        _ => Err(invalid()),
    }
}

fn malformed(e: impl std::fmt::Display) -> CompleteRequestError {
    CompleteRequestError::malformed(e.to_string())
}
