//! ListParts: one page of the store's answer, read; and the answer Cloak writes for the client.
//!
//! The store's page describes ciphertext parts and misses staged ones, so its entries are only
//! evidence of which attempt of a part the store holds; the client's answer is written anew
//! from the markers, with the client's own upload id.

use bytes::Bytes;
use quick_xml::events::Event;
use quick_xml::Reader;

use super::error::UpstreamXmlError;
use super::flat::FlatWriter;
use super::text::parse_number;

/// One part as a ListParts answer shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListedPart {
    pub number: u32,
    /// Quoted as S3 writes it; empty when the store gave none.
    pub etag: String,
    pub size: u64,
    /// As the store wrote it, e.g. `2009-10-12T17:50:30.000Z`.
    pub last_modified: String,
}

/// One page of the store's ListParts answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartsPage {
    pub parts: Vec<ListedPart>,
    pub truncated: bool,
    pub next_marker: Option<u32>,
    pub storage_class: Option<String>,
}

/// The ListParts answer for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartsListing<'a> {
    pub bucket: &'a str,
    /// As it is to be shown (already URL-encoded when `url_encoded`).
    pub key: &'a str,
    pub url_encoded: bool,
    /// The id the client sent.
    pub upload_id: &'a str,
    pub marker: u32,
    pub max_parts: u32,
    pub parts: &'a [ListedPart],
    pub truncated: bool,
    pub storage_class: Option<&'a str>,
}

impl PartsPage {
    /// Reads a `<ListPartsResult>` (or moto's `<ListPartsResponse>`).
    pub fn parse(doc: &[u8]) -> Result<Self, UpstreamXmlError> {
        let mut reader = Reader::from_reader(doc);
        reader.config_mut().trim_text(true);
        let mut page = Self::default();
        let mut path: Vec<Vec<u8>> = Vec::new();
        loop {
            match reader.read_event().map_err(malformed)? {
                Event::Start(tag) => {
                    let name = tag.local_name().as_ref().to_vec();
                    page.open(&path, &name)?;
                    path.push(name);
                }
                Event::End(_) => {
                    path.pop();
                }
                Event::Text(t) => page.text(&path, &t.unescape().map_err(malformed)?)?,
                Event::DocType(_) => return Err(malformed("document type declarations")),
                Event::Eof if path.is_empty() => return Ok(page),
                Event::Eof => return Err(UpstreamXmlError::Truncated),
                _ => {}
            }
        }
    }

    fn open(&mut self, path: &[Vec<u8>], name: &[u8]) -> Result<(), UpstreamXmlError> {
        if let [root] = path {
            // moto names the root `ListPartsResponse`; the children are S3's.
            if root != b"ListPartsResult" && root != b"ListPartsResponse" {
                return Err(UpstreamXmlError::UnexpectedRoot {
                    found: String::from_utf8_lossy(root).into_owned(),
                    expected: "ListPartsResult",
                });
            }
            if name == b"Part" {
                self.parts.push(ListedPart::default());
            }
        }
        Ok(())
    }

    fn text(&mut self, path: &[Vec<u8>], text: &str) -> Result<(), UpstreamXmlError> {
        let names: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
        let part = self.parts.last_mut();
        match (names.as_slice(), part) {
            ([_, b"Part", b"PartNumber"], Some(p)) => p.number = parse_number("PartNumber", text)?,
            ([_, b"Part", b"ETag"], Some(p)) => p.etag = text.to_owned(),
            ([_, b"Part", b"Size"], Some(p)) => p.size = parse_number("Size", text)?,
            ([_, b"Part", b"LastModified"], Some(p)) => p.last_modified = text.to_owned(),
            ([_, b"IsTruncated"], _) => self.truncated = text == "true",
            ([_, b"NextPartNumberMarker"], _) => {
                self.next_marker = Some(parse_number("NextPartNumberMarker", text)?);
            }
            ([_, b"StorageClass"], _) => self.storage_class = Some(text.to_owned()),
            _ => {}
        }
        Ok(())
    }
}

impl PartsListing<'_> {
    /// The document, in S3's element order.
    pub fn to_xml(&self) -> Bytes {
        let mut w = FlatWriter::new("ListPartsResult");
        w.field("Bucket", self.bucket)
            .field("Key", self.key)
            .field("UploadId", self.upload_id)
            .field("PartNumberMarker", &self.marker.to_string());
        if let Some(last) = self.parts.last() {
            w.field("NextPartNumberMarker", &last.number.to_string());
        }
        w.field("MaxParts", &self.max_parts.to_string())
            .field("IsTruncated", if self.truncated { "true" } else { "false" })
            .optional("StorageClass", self.storage_class);
        if self.url_encoded {
            w.field("EncodingType", "url");
        }
        for p in self.parts {
            w.open("Part")
                .field("PartNumber", &p.number.to_string())
                .field("LastModified", &p.last_modified)
                .field("ETag", &p.etag)
                .field("Size", &p.size.to_string())
                .close("Part");
        }
        w.finish()
    }
}

fn malformed(e: impl std::fmt::Display) -> UpstreamXmlError {
    UpstreamXmlError::malformed(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>
<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>b</Bucket><Key>k</Key><UploadId>up</UploadId>
  <Initiator><ID>x</ID></Initiator><StorageClass>STANDARD</StorageClass>
  <PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>2</NextPartNumberMarker>
  <MaxParts>2</MaxParts><IsTruncated>true</IsTruncated>
  <Part><PartNumber>1</PartNumber><LastModified>2026-01-01T00:00:00.000Z</LastModified>
    <ETag>&quot;aa&quot;</ETag><Size>5243040</Size></Part>
  <Part><PartNumber>2</PartNumber><Size>7</Size></Part>
</ListPartsResult>"#;

    #[test]
    fn reads_a_page_of_parts() {
        let page = PartsPage::parse(PAGE).expect("readable");
        assert_eq!(page.parts.len(), 2);
        assert_eq!(page.parts[0].number, 1);
        assert_eq!(page.parts[0].etag, "\"aa\"");
        assert_eq!(page.parts[0].size, 5_243_040);
        assert_eq!(page.parts[0].last_modified, "2026-01-01T00:00:00.000Z");
        assert_eq!(page.parts[1].etag, "");
        assert!(page.truncated);
        assert_eq!(page.next_marker, Some(2));
        assert_eq!(page.storage_class.as_deref(), Some("STANDARD"));
    }

    #[test]
    fn refuses_other_documents_and_bad_numbers() {
        assert!(PartsPage::parse(b"<Error><Code>x</Code></Error>").is_err());
        let bad = b"<ListPartsResult><Part><PartNumber>one</PartNumber></Part></ListPartsResult>";
        assert!(PartsPage::parse(bad).is_err());
        assert!(PartsPage::parse(b"<ListPartsResult><Part>").is_err());
    }

    #[test]
    fn writes_the_clients_page() {
        let parts = [ListedPart {
            number: 3,
            etag: "\"cc\"".into(),
            size: 4,
            last_modified: "2026-01-01T00:00:00.000Z".into(),
        }];
        let listing = PartsListing {
            bucket: "b",
            key: "a&b",
            url_encoded: false,
            upload_id: "c1.x.y",
            marker: 2,
            max_parts: 1,
            parts: &parts,
            truncated: true,
            storage_class: None,
        };
        let xml = String::from_utf8(listing.to_xml().to_vec()).expect("utf-8");
        assert!(
            xml.contains("<Key>a&amp;b</Key><UploadId>c1.x.y</UploadId>"),
            "{xml}"
        );
        assert!(
            xml.contains("<PartNumberMarker>2</PartNumberMarker>"),
            "{xml}"
        );
        assert!(
            xml.contains("<NextPartNumberMarker>3</NextPartNumberMarker>"),
            "{xml}"
        );
        assert!(xml.contains("<IsTruncated>true</IsTruncated>"), "{xml}");
        assert!(
            xml.contains("<ETag>&quot;cc&quot;</ETag><Size>4</Size></Part>"),
            "{xml}"
        );
    }
}
