//! Part markers and staged parts, kept in the store under `.cloak/mpu/<upload hash>/`.
//!
//! A marker is a zero-byte object whose name records one upload attempt of one part:
//! `<part:05>.<d|s>.<upstream ETag>.<sealed note>`, where `d` means the part went upstream as
//! a part and `s` that it was staged as an object, and the note (sealed under the object's
//! content key, bound to the part number and upstream ETag) holds the part's plaintext MD5 and
//! length. Complete reads all markers of an upload with one listing per 1,000 names.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use cloak_envelope::ContentKey;
use http::HeaderMap;
use http_body_util::BodyExt;

use super::super::headers;
use crate::body;
use crate::error::S3Error;
use crate::state::App;
use crate::upstream::UpstreamRequest;

/// What a marker says about one part attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Marker {
    pub part: u32,
    pub staged: bool,
    pub upstream_etag: String,
    pub md5: [u8; 16],
    pub plain_len: u64,
    /// The marker's own object key, for cleanup.
    pub name: String,
}

/// The reserved folder of one upload.
pub fn folder(upstream_upload_id: &str) -> String {
    let digest =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, upstream_upload_id.as_bytes());
    format!(".cloak/mpu/{}/", hex::encode(&digest.as_ref()[..16]))
}

/// The object key of a staged part.
pub fn staged_key(folder: &str, part: u32) -> String {
    format!("{folder}{part:05}.staged")
}

/// The upstream path of a key in a bucket.
pub fn path(bucket: &str, key: &str) -> String {
    crate::route::object_path(bucket, key)
}

/// Writes the marker for one part attempt.
pub async fn write(
    app: &App,
    bucket: &str,
    folder: &str,
    key: &ContentKey,
    m: &Marker,
) -> Result<(), S3Error> {
    let etag = hex_etag(&m.upstream_etag);
    let mut note = m.md5.to_vec();
    note.extend_from_slice(&m.plain_len.to_be_bytes());
    let sealed = key.seal_note(&note_aad(m.part, &etag), &note);
    let kind = if m.staged { "s" } else { "d" };
    let name = format!(
        "{folder}{:05}.{kind}.{etag}.{}",
        m.part,
        B64URL.encode(sealed)
    );
    let mut h = HeaderMap::new();
    h.insert("content-length", 0.into());
    let req = UpstreamRequest {
        method: http::Method::PUT,
        path_and_query: path(bucket, &name),
        headers: h,
        body: body::empty(),
    };
    let resp = app.upstream.call(req).await?;
    if !resp.status().is_success() {
        return Err(S3Error::upstream(format!(
            "The store refused a part marker ({})",
            resp.status()
        )));
    }
    Ok(())
}

/// Reads every marker of an upload, keyed by part number (all attempts).
pub async fn read_all(
    app: &App,
    bucket: &str,
    folder: &str,
    key: &ContentKey,
) -> Result<HashMap<u32, Vec<Marker>>, S3Error> {
    let mut out: HashMap<u32, Vec<Marker>> = HashMap::new();
    for name in list_keys(app, bucket, folder).await? {
        if let Some(m) = parse(folder, &name, key) {
            out.entry(m.part).or_default().push(m);
        }
    }
    Ok(out)
}

/// Every object key under `folder`, following continuation tokens.
pub async fn list_keys(app: &App, bucket: &str, folder: &str) -> Result<Vec<String>, S3Error> {
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut q = format!("list-type=2&prefix={}", crate::route::encode_param(folder));
        if let Some(t) = &token {
            q.push_str(&format!(
                "&continuation-token={}",
                crate::route::encode_param(t)
            ));
        }
        let req = UpstreamRequest {
            method: http::Method::GET,
            path_and_query: format!("{}?{q}", path(bucket, "").trim_end_matches('/')),
            headers: HeaderMap::new(),
            body: body::empty(),
        };
        let resp = app.upstream.call(req).await?;
        if !resp.status().is_success() {
            return Err(S3Error::upstream(format!(
                "The store refused to list markers ({})",
                resp.status()
            )));
        }
        let xml = resp
            .into_body()
            .collect()
            .await
            .map_err(|_| S3Error::upstream("listing cut short"))?;
        let page = key_page(&xml.to_bytes())
            .map_err(|_| S3Error::upstream("The store's listing could not be read"))?;
        keys.extend(page.keys);
        match page.next_token {
            Some(t) if page.truncated => token = Some(t),
            _ => return Ok(keys),
        }
    }
}

/// Deletes objects (markers, staged parts), best effort: leftovers are harmless and hidden.
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

fn parse(folder: &str, name: &str, key: &ContentKey) -> Option<Marker> {
    let rest = name.strip_prefix(folder)?;
    let mut fields = rest.splitn(4, '.');
    let part: u32 = fields.next()?.parse().ok()?;
    let staged = match fields.next()? {
        "s" => true,
        "d" => false,
        _ => return None,
    };
    let etag = fields.next()?.to_owned();
    let sealed = B64URL.decode(fields.next()?).ok()?;
    let note = key.open_note(&note_aad(part, &etag), &sealed)?;
    let md5: [u8; 16] = note.get(..16)?.try_into().ok()?;
    let plain_len = u64::from_be_bytes(note.get(16..24)?.try_into().ok()?);
    Some(Marker {
        part,
        staged,
        upstream_etag: etag,
        md5,
        plain_len,
        name: name.to_owned(),
    })
}

fn note_aad(part: u32, etag: &str) -> Vec<u8> {
    let mut aad = b"mpu-marker".to_vec();
    aad.extend_from_slice(&part.to_be_bytes());
    aad.extend_from_slice(etag.as_bytes());
    aad
}

/// An upstream ETag as a name-safe token: its hex digits (and `-N`), without quotes.
pub fn hex_etag(etag: &str) -> String {
    etag.trim()
        .trim_matches('"')
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

pub fn bytes_etag(h: &HeaderMap) -> Option<String> {
    headers::get(h, "etag").map(hex_etag)
}

/// One page of a ListObjectsV2 answer: keys, and where the next page starts.
struct KeyPage {
    keys: Vec<String>,
    truncated: bool,
    next_token: Option<String>,
}

fn key_page(xml: &[u8]) -> Result<KeyPage, quick_xml::Error> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut page = KeyPage {
        keys: Vec::new(),
        truncated: false,
        next_token: None,
    };
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) => path.push(e.local_name().as_ref().to_vec()),
            Event::End(_) => {
                path.pop();
            }
            Event::Text(t) => {
                let text = t.unescape()?.into_owned();
                match path
                    .iter()
                    .map(Vec::as_slice)
                    .collect::<Vec<_>>()
                    .as_slice()
                {
                    [_, b"Contents", b"Key"] => page.keys.push(text),
                    [_, b"IsTruncated"] => page.truncated = text == "true",
                    [_, b"NextContinuationToken"] => page.next_token = Some(text),
                    _ => {}
                }
            }
            Event::Eof => return Ok(page),
            _ => {}
        }
        buf.clear();
    }
}
