//! Part markers and staged parts, kept in the store under `.cloak/mpu/<upload hash>/`.
//!
//! A marker is a zero-byte object whose name records one upload attempt of one part:
//! `<part:05>.<d|s>.<upstream ETag>.<sealed note>`, where `d` means the part went upstream as
//! a part and `s` that it was staged as an object, and the note (sealed under the object's
//! content key, bound to the part number and upstream ETag) holds the part's plaintext MD5,
//! length and the time it was written. `folder` lists them; `current` decides which attempt of
//! each part is the one the store still holds.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use cloak_envelope::ContentKey;
use http::HeaderMap;

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
    /// When the proxy wrote the marker (ms since the Unix epoch; 0 in markers written before
    /// this was recorded). It orders a part's attempts when both kinds are still stored.
    pub written_ms: u64,
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
    note.extend_from_slice(&m.written_ms.to_be_bytes());
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

/// The part number a name in `folder` is about (marker or staged part).
pub fn part_of(folder: &str, name: &str) -> Option<u32> {
    name.strip_prefix(folder)?.get(..5)?.parse().ok()
}

/// A name that sorts after every name of part `part` and before those of the next part, for a
/// listing's `start-after` (`/` follows the `.` after the number).
pub fn after_part(folder: &str, part: u32) -> String {
    format!("{folder}{part:05}/")
}

/// Reads a marker's name; `None` for a staged part, a foreign name, or a note that does not
/// open under this upload's key.
pub fn parse(folder: &str, name: &str, key: &ContentKey) -> Option<Marker> {
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
    let written_ms = note
        .get(24..32)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u64::from_be_bytes);
    Some(Marker {
        part,
        staged,
        upstream_etag: etag,
        md5,
        plain_len,
        written_ms,
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
