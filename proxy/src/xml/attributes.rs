//! The GetObjectAttributes answer, written from the proxy's plaintext facts (the store's own
//! answer describes ciphertext and is never relayed).
//!
//! As S3 writes it: root `GetObjectAttributesResponse`, the ETag without quotes, elements in
//! the order ETag, Checksum, ObjectParts, StorageClass, ObjectSize, each only when asked for
//! and known.

use bytes::Bytes;

use super::flat::FlatWriter;

/// The attributes to answer with; `None` is left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectAttributes {
    /// Unquoted, as S3 writes it here (`<hex>` or `<hex>-N`).
    pub etag: Option<String>,
    pub parts: Option<AttributeParts>,
    pub storage_class: Option<String>,
    pub object_size: Option<u64>,
}

/// `<ObjectParts>`: a page of a multipart object's parts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributeParts {
    pub parts_count: u32,
    pub part_number_marker: u32,
    pub next_part_number_marker: Option<u32>,
    pub max_parts: u32,
    pub is_truncated: bool,
    /// `(part number, plaintext size)`, ascending.
    pub parts: Vec<(u32, u64)>,
}

impl ObjectAttributes {
    const ROOT: &'static str = "GetObjectAttributesResponse";

    pub fn to_xml(&self) -> Bytes {
        let mut doc = FlatWriter::new(Self::ROOT);
        doc.optional("ETag", self.etag.as_deref());
        if let Some(parts) = &self.parts {
            write_parts(&mut doc, parts);
        }
        doc.optional("StorageClass", self.storage_class.as_deref());
        if let Some(size) = self.object_size {
            doc.field("ObjectSize", &size.to_string());
        }
        doc.finish()
    }
}

fn write_parts(doc: &mut FlatWriter, p: &AttributeParts) {
    doc.open("ObjectParts")
        .field("PartsCount", &p.parts_count.to_string())
        .field("PartNumberMarker", &p.part_number_marker.to_string());
    if let Some(next) = p.next_part_number_marker {
        doc.field("NextPartNumberMarker", &next.to_string());
    }
    doc.field("MaxParts", &p.max_parts.to_string())
        .field("IsTruncated", if p.is_truncated { "true" } else { "false" });
    for (number, size) in &p.parts {
        doc.open("Part")
            .field("PartNumber", &number.to_string())
            .field("Size", &size.to_string())
            .close("Part");
    }
    doc.close("ObjectParts");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_only_what_is_known_in_s3_order() {
        let attrs = ObjectAttributes {
            etag: Some("abc-2".into()),
            parts: Some(AttributeParts {
                parts_count: 2,
                part_number_marker: 0,
                next_part_number_marker: Some(1),
                max_parts: 1,
                is_truncated: true,
                parts: vec![(1, 5 << 20)],
            }),
            storage_class: Some("STANDARD".into()),
            object_size: Some((5 << 20) + 3),
        };
        let xml = String::from_utf8(attrs.to_xml().to_vec()).unwrap();
        let body = xml.split_once("\">").unwrap().1;
        assert_eq!(
            body,
            "<ETag>abc-2</ETag><ObjectParts><PartsCount>2</PartsCount>\
             <PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>1</NextPartNumberMarker>\
             <MaxParts>1</MaxParts><IsTruncated>true</IsTruncated>\
             <Part><PartNumber>1</PartNumber><Size>5242880</Size></Part></ObjectParts>\
             <StorageClass>STANDARD</StorageClass><ObjectSize>5242883</ObjectSize>\
             </GetObjectAttributesResponse>"
        );
        let empty = ObjectAttributes::default().to_xml();
        assert!(String::from_utf8(empty.to_vec())
            .unwrap()
            .ends_with("\"></GetObjectAttributesResponse>"));
    }
}
