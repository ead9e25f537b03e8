//! The reserved folder of one upload, `.cloak/mpu/<upload hash>/`, as the store lists it: one
//! ListObjectsV2 page (at most 1,000 names) at a time, in name order, which is part-number
//! order because marker and staged names start with the zero-padded part number.

use std::collections::VecDeque;

use http::HeaderMap;
use http_body_util::BodyExt;

use super::markers::path;
use crate::body;
use crate::error::S3Error;
use crate::route::encode_param;
use crate::state::App;
use crate::upstream::UpstreamRequest;

/// One object in the folder, as listed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FolderEntry {
    pub key: String,
    /// The store's ETag without quotes; empty when the listing gave none.
    pub etag: String,
    /// As the store wrote it, e.g. `2009-10-12T17:50:30.000Z`.
    pub last_modified: String,
}

/// Reads a folder page by page, from a starting name on.
pub struct FolderPages<'a> {
    app: &'a App,
    bucket: &'a str,
    folder: &'a str,
    start_after: Option<String>,
    token: Option<String>,
    page: VecDeque<FolderEntry>,
    done: bool,
}

impl<'a> FolderPages<'a> {
    /// Lists `folder` from the first name after `start_after` (a full key), or from its start.
    pub fn new(
        app: &'a App,
        bucket: &'a str,
        folder: &'a str,
        start_after: Option<String>,
    ) -> Self {
        Self {
            app,
            bucket,
            folder,
            start_after,
            token: None,
            page: VecDeque::new(),
            done: false,
        }
    }

    /// The next entry without taking it, reading the next page when this one is used up.
    pub async fn peek(&mut self) -> Result<Option<&FolderEntry>, S3Error> {
        while self.page.is_empty() && !self.done {
            self.read_page().await?;
        }
        Ok(self.page.front())
    }

    /// Takes the entry [`FolderPages::peek`] showed.
    pub fn take(&mut self) -> Option<FolderEntry> {
        self.page.pop_front()
    }

    async fn read_page(&mut self) -> Result<(), S3Error> {
        let mut q = format!("list-type=2&prefix={}", encode_param(self.folder));
        if let Some(t) = &self.token {
            q.push_str(&format!("&continuation-token={}", encode_param(t)));
        } else if let Some(s) = &self.start_after {
            q.push_str(&format!("&start-after={}", encode_param(s)));
        }
        let req = UpstreamRequest {
            method: http::Method::GET,
            path_and_query: format!("{}?{q}", path(self.bucket, "").trim_end_matches('/')),
            headers: HeaderMap::new(),
            body: body::empty(),
        };
        let resp = self.app.upstream.call(req).await?;
        if !resp.status().is_success() {
            return Err(S3Error::upstream(format!(
                "The store refused to list multipart markers ({})",
                resp.status()
            )));
        }
        let xml = resp
            .into_body()
            .collect()
            .await
            .map_err(|_| S3Error::upstream("The store's marker listing was cut short"))?;
        let page = parse_page(&xml.to_bytes())
            .map_err(|_| S3Error::upstream("The store's marker listing could not be read"))?;
        self.page = page.entries.into();
        match page.next_token {
            Some(t) if page.truncated => self.token = Some(t),
            _ => self.done = true,
        }
        Ok(())
    }
}

/// Every object key under `folder`.
pub async fn list_keys(app: &App, bucket: &str, folder: &str) -> Result<Vec<String>, S3Error> {
    let mut pages = FolderPages::new(app, bucket, folder, None);
    let mut keys = Vec::new();
    while pages.peek().await?.is_some() {
        keys.extend(pages.take().map(|e| e.key));
    }
    Ok(keys)
}

/// Deletes everything under `folder` (markers, staged parts), best effort: leftovers are
/// harmless and hidden from clients.
pub async fn clear(app: &App, bucket: &str, folder: &str) -> Result<(), S3Error> {
    let keys = list_keys(app, bucket, folder).await?;
    delete(app, bucket, &keys).await;
    Ok(())
}

/// Deletes objects, best effort (see [`clear`]).
pub async fn delete(app: &App, bucket: &str, keys: &[String]) {
    for key in keys {
        let req = UpstreamRequest {
            method: http::Method::DELETE,
            path_and_query: path(bucket, key),
            headers: HeaderMap::new(),
            body: body::empty(),
        };
        if let Err(e) = app.upstream.call(req).await {
            tracing::warn!(key = %key, error = %e, "could not delete a multipart marker");
        }
    }
}

/// One page of a ListObjectsV2 answer: entries, and where the next page starts.
struct Page {
    entries: Vec<FolderEntry>,
    truncated: bool,
    next_token: Option<String>,
}

fn parse_page(xml: &[u8]) -> Result<Page, quick_xml::Error> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut page = Page {
        entries: Vec::new(),
        truncated: false,
        next_token: None,
    };
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) => {
                if path.len() == 1 && e.local_name().as_ref() == b"Contents" {
                    page.entries.push(FolderEntry::default());
                }
                path.push(e.local_name().as_ref().to_vec());
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Text(t) => file_text(&mut page, &path, t.unescape()?.into_owned()),
            Event::Eof => return Ok(page),
            _ => {}
        }
        buf.clear();
    }
}

/// Files one text node of a listing where its element path says.
fn file_text(page: &mut Page, path: &[Vec<u8>], text: String) {
    let names: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
    let entry = page.entries.last_mut();
    match (names.as_slice(), entry) {
        ([_, b"Contents", b"Key"], Some(e)) => e.key.push_str(&text),
        ([_, b"Contents", b"ETag"], Some(e)) => e.etag = super::markers::hex_etag(&text),
        ([_, b"Contents", b"LastModified"], Some(e)) => e.last_modified = text,
        ([_, b"IsTruncated"], _) => page.truncated = text == "true",
        ([_, b"NextContinuationToken"], _) => page.next_token = Some(text),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_etags_dates_and_the_next_token() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name>
<Contents><Key>.cloak/mpu/ab/00001.d.e1.n</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified><ETag>&quot;d41d&quot;</ETag><Size>0</Size></Contents>
<Contents><Key>.cloak/mpu/ab/00002.staged</Key><Size>9</Size></Contents>
<IsTruncated>true</IsTruncated><NextContinuationToken>t&amp;1</NextContinuationToken>
</ListBucketResult>"#;
        let page = parse_page(xml).expect("readable");
        assert_eq!(page.entries.len(), 2);
        assert_eq!(page.entries[0].key, ".cloak/mpu/ab/00001.d.e1.n");
        assert_eq!(page.entries[0].etag, "d41d");
        assert_eq!(page.entries[0].last_modified, "2026-01-02T03:04:05.000Z");
        assert_eq!(page.entries[1].etag, "");
        assert!(page.truncated);
        assert_eq!(page.next_token.as_deref(), Some("t&1"));
    }
}
