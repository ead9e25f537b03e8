//! The few S3 XML documents the load test reads or writes.

use anyhow::{bail, Context as _};
use quick_xml::events::Event;
use quick_xml::Reader;

/// One page of a ListObjectsV2 answer.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ListPage {
    pub keys: Vec<String>,
    pub next_token: Option<String>,
    pub truncated: bool,
}

/// Reads a ListObjectsV2 answer.
pub fn list_page(xml: &[u8]) -> anyhow::Result<ListPage> {
    let mut page = ListPage::default();
    for_each_text(xml, |path, text| {
        match path {
            ["ListBucketResult", "Contents", "Key"] => page.keys.push(text.to_owned()),
            ["ListBucketResult", "NextContinuationToken"] => {
                page.next_token = Some(text.to_owned())
            }
            ["ListBucketResult", "IsTruncated"] => page.truncated = text == "true",
            _ => {}
        }
        Ok(())
    })?;
    if page.truncated && page.next_token.is_none() {
        bail!("truncated listing without a NextContinuationToken");
    }
    Ok(page)
}

/// Reads the upload id from an InitiateMultipartUploadResult.
pub fn upload_id(xml: &[u8]) -> anyhow::Result<String> {
    let mut id = None;
    for_each_text(xml, |path, text| {
        // AWS names the root InitiateMultipartUploadResult; rclone InitiateMultipartUpload.
        if path.len() == 2
            && path[0].starts_with("InitiateMultipartUpload")
            && path[1] == "UploadId"
        {
            id = Some(text.to_owned());
        }
        Ok(())
    })?;
    id.context("no UploadId in the CreateMultipartUpload answer")
}

/// Fails if a CompleteMultipartUpload answer (which can be an error despite a 200) is one.
pub fn complete_ok(xml: &[u8]) -> anyhow::Result<()> {
    let mut root = None;
    let mut error = None;
    for_each_text(xml, |path, text| {
        root.get_or_insert_with(|| path[0].to_owned());
        if path == ["Error", "Code"] {
            error = Some(text.to_owned());
        }
        Ok(())
    })?;
    if let Some(code) = error {
        bail!("CompleteMultipartUpload failed: {code}");
    }
    match root.as_deref() {
        Some(r) if r.starts_with("CompleteMultipartUpload") => Ok(()),
        other => bail!("unexpected CompleteMultipartUpload answer (root {other:?})"),
    }
}

/// The CompleteMultipartUpload request body for parts 1..=n with these ETags.
pub fn complete_body(etags: &[String]) -> String {
    let mut xml = String::from("<CompleteMultipartUpload>");
    for (i, etag) in etags.iter().enumerate() {
        let etag = etag.replace('&', "&amp;").replace('"', "&quot;");
        xml += &format!(
            "<Part><PartNumber>{}</PartNumber><ETag>{etag}</ETag></Part>",
            i + 1
        );
    }
    xml + "</CompleteMultipartUpload>"
}

/// The S3 error code in an error answer, for messages; `None` if there is none.
pub fn error_code(xml: &[u8]) -> Option<String> {
    let mut code = None;
    let _ = for_each_text(xml, |path, text| {
        if path == ["Error", "Code"] {
            code = Some(text.to_owned());
        }
        Ok(())
    });
    code
}

/// Calls `f` with the element path (local names, root first) and text of every text node.
fn for_each_text(
    xml: &[u8],
    mut f: impl FnMut(&[&str], &str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut reader = Reader::from_reader(xml);
    let mut path: Vec<String> = Vec::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).context("malformed XML")? {
            Event::Start(e) => {
                path.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned())
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Text(t) => {
                let text = t.unescape().context("malformed XML text")?;
                let view: Vec<&str> = path.iter().map(String::as_str).collect();
                if !view.is_empty() {
                    f(&view, &text)?;
                }
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
        buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_truncated_list_page() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Name>b</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>
<Contents><Key>p/a</Key><Size>1</Size></Contents>
<Contents><Key>p/b&amp;c</Key><Size>2</Size></Contents>
<NextContinuationToken>tok</NextContinuationToken></ListBucketResult>"#;
        let page = list_page(xml).unwrap();
        assert_eq!(page.keys, ["p/a", "p/b&c"]);
        assert!(page.truncated);
        assert_eq!(page.next_token.as_deref(), Some("tok"));
    }

    #[test]
    fn a_truncated_page_needs_a_token() {
        let xml = b"<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>";
        assert!(list_page(xml).is_err());
    }

    #[test]
    fn reads_upload_id_and_errors() {
        let xml = b"<InitiateMultipartUploadResult><Bucket>b</Bucket>\
            <UploadId>u-1</UploadId></InitiateMultipartUploadResult>";
        assert_eq!(upload_id(xml).unwrap(), "u-1");
        let err = b"<Error><Code>InvalidPart</Code></Error>";
        assert!(complete_ok(err).is_err());
        assert_eq!(error_code(err).as_deref(), Some("InvalidPart"));
        assert!(complete_ok(
            b"<CompleteMultipartUploadResult><ETag>x</ETag>\
            </CompleteMultipartUploadResult>"
        )
        .is_ok());
    }

    #[test]
    fn complete_body_numbers_parts_from_one() {
        let body = complete_body(&["\"a\"".into(), "\"b\"".into()]);
        assert!(body.contains("<PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag>"));
        assert!(body.contains("<PartNumber>2</PartNumber>"));
    }
}
