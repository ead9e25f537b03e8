//! The probe: one ranged read of an object's tail, which brings its metadata (the envelope
//! header), its stored length (from Content-Range) and its sealed trailer in one round trip.
//! For small objects the probe is large enough to hold the whole object, so a GET needs no
//! second request.

use bytes::{Bytes, BytesMut};
use cloak_envelope::layout::Layout;
use cloak_envelope::trailer::TRAILER_LEN;
use cloak_envelope::{ContentKey, Expect, Header, Trailer};
use http::{HeaderMap, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::sync::Arc;

use super::headers::{self, ENVELOPE_META};
use super::Call;
use crate::error::S3Error;
use crate::state::{App, ObjectFacts};
use crate::upstream::UpstreamRequest;

/// What the probe learned about a Cloak object.
pub struct Sealed {
    pub header: Header,
    pub key: Arc<ContentKey>,
    pub layout: Layout,
    pub trailer: Trailer,
    pub expect: Expect,
    pub stored_len: u64,
    /// Stored bytes from `tail_start` to the end of the object.
    pub tail: Bytes,
    pub tail_start: u64,
}

/// The probe's result.
pub enum Probed {
    /// A Cloak object, with the upstream response headers.
    Sealed(Box<Sealed>, HeaderMap),
    /// An object without an envelope header.
    Foreign(HeaderMap),
    /// The store answered with an error (404, 403, ...): relay it.
    Failed(Response<Incoming>),
}

/// Reads the last `suffix` bytes (at least the trailer) of the object the call targets.
pub async fn probe(call: &Call, suffix: u64) -> Result<Probed, S3Error> {
    probe_object(
        &call.app,
        call.bucket(),
        call.key(),
        &probe_path(call),
        suffix,
    )
    .await
}

/// Probes object `bucket`/`key` at the upstream `path_and_query` (which carries the version).
pub async fn probe_object(
    app: &App,
    bucket: &str,
    key: &str,
    path_and_query: &str,
    suffix: u64,
) -> Result<Probed, S3Error> {
    let suffix = suffix.max(TRAILER_LEN);
    let mut resp = ranged_get(app, path_and_query, &format!("bytes=-{suffix}")).await?;
    if resp.status() == StatusCode::RANGE_NOT_SATISFIABLE {
        // S3 serves a suffix longer than the object as the whole object; `rclone serve s3`
        // answers 416 instead. Asking from byte 0 brings the whole (short) object from either.
        resp = ranged_get(app, path_and_query, &format!("bytes=0-{}", suffix - 1)).await?;
    }
    let status = resp.status();
    if status == StatusCode::RANGE_NOT_SATISFIABLE {
        // Only an empty object has no first byte; Cloak never writes one.
        return Ok(Probed::Foreign(resp.headers().clone()));
    }
    if !status.is_success() {
        return Ok(Probed::Failed(resp));
    }
    let (parts, body) = resp.into_parts();
    let Some(meta) = headers::get(&parts.headers, ENVELOPE_META) else {
        return Ok(Probed::Foreign(parts.headers));
    };
    let header = Header::decode(meta)?;
    let (tail_start, stored_len) = extent(status, &parts.headers)?;
    let tail = collect(body, suffix as usize).await?;
    let sealed = open(app, bucket, key, header, tail, tail_start, stored_len).await?;
    Ok(Probed::Sealed(Box::new(sealed), parts.headers))
}

async fn open(
    app: &App,
    bucket: &str,
    key: &str,
    header: Header,
    tail: Bytes,
    tail_start: u64,
    stored_len: u64,
) -> Result<Sealed, S3Error> {
    if (tail.len() as u64) < TRAILER_LEN || tail_start + tail.len() as u64 != stored_len {
        return Err(
            cloak_envelope::FormatError::Truncated("probe did not reach the trailer").into(),
        );
    }
    let content = app.keys.open(&header, bucket, key).await?;
    let layout = Layout::new(header.segment_size);
    let trailer = Trailer::open(&content, &tail[tail.len() - TRAILER_LEN as usize..])?;
    let expect = Expect::from_trailer(&trailer, &layout, stored_len)?;
    Ok(Sealed {
        header,
        key: content,
        layout,
        trailer,
        expect,
        stored_len,
        tail,
        tail_start,
    })
}

impl Sealed {
    pub fn facts(&self) -> ObjectFacts {
        ObjectFacts {
            etag: self.trailer.etag(),
            plain_len: self.trailer.plaintext_len,
        }
    }

    /// The stored bytes `first..=last`, if the probe already holds them.
    pub fn held(&self, first: u64, last: u64) -> Option<Bytes> {
        let end = self.tail_start + self.tail.len() as u64;
        (first >= self.tail_start && last < end).then(|| {
            self.tail
                .slice((first - self.tail_start) as usize..=(last - self.tail_start) as usize)
        })
    }
}

/// The version and response-override parameters a read of this object must carry upstream.
pub fn probe_path(call: &Call) -> String {
    let keep: Vec<&str> = call
        .target
        .raw_query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|p| p.starts_with("versionId=") || p.starts_with("response-"))
        .collect();
    if keep.is_empty() {
        call.target.upstream_path.clone()
    } else {
        format!("{}?{}", call.target.upstream_path, keep.join("&"))
    }
}

async fn ranged_get(
    app: &App,
    path_and_query: &str,
    range: &str,
) -> Result<Response<Incoming>, S3Error> {
    let mut up = HeaderMap::new();
    headers::set(&mut up, "range", range);
    let req = UpstreamRequest {
        method: http::Method::GET,
        path_and_query: path_and_query.to_owned(),
        headers: up,
        body: crate::body::empty(),
    };
    app.upstream.call(req).await
}

/// Where the received bytes sit in the stored object, and its total length.
fn extent(status: StatusCode, h: &HeaderMap) -> Result<(u64, u64), S3Error> {
    let bad = || S3Error::upstream("The store sent an unusable Content-Range");
    // `rclone serve s3` answers a satisfied range with 200 and a Content-Range: the header,
    // not the status, says whether the body is the whole object.
    let range = headers::get(h, "content-range");
    if status == StatusCode::PARTIAL_CONTENT || range.is_some() {
        let range = range.ok_or_else(bad)?;
        let spec = range.strip_prefix("bytes ").ok_or_else(bad)?;
        let (span, total) = spec.split_once('/').ok_or_else(bad)?;
        let first = span.split_once('-').ok_or_else(bad)?.0;
        return Ok((
            first.parse().map_err(|_| bad())?,
            total.parse().map_err(|_| bad())?,
        ));
    }
    let len = headers::get(h, "content-length")
        .and_then(|v| v.parse().ok())
        .ok_or_else(bad)?;
    Ok((0, len))
}

/// Reads a body of at most `cap` bytes (more means the store ignored the range).
async fn collect(mut body: Incoming, cap: usize) -> Result<Bytes, S3Error> {
    let mut buf = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| S3Error::upstream("The store's response was cut short"))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > cap {
                return Err(S3Error::upstream("The store ignored a Range request"));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap()))
            .collect()
    }

    #[test]
    fn extent_reads_content_range_whatever_the_status() {
        let ranged = headers(&[
            ("content-range", "bytes 904-999/1000"),
            ("content-length", "96"),
        ]);

        assert_eq!(
            extent(StatusCode::PARTIAL_CONTENT, &ranged).unwrap(),
            (904, 1000)
        );
        assert_eq!(extent(StatusCode::OK, &ranged).unwrap(), (904, 1000));
        let whole = headers(&[("content-length", "96")]);
        assert_eq!(extent(StatusCode::OK, &whole).unwrap(), (0, 96));
        assert!(extent(StatusCode::PARTIAL_CONTENT, &whole).is_err());
    }
}
