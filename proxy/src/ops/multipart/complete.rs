//! CompleteMultipartUpload: check the client's parts against their markers, seal the trailer,
//! put it after the last part, complete upstream, and clean up.
//!
//! A conditional Complete (`If-Match`, `If-None-Match: *`) is checked before anything is
//! read or written, and its conditions go to the store's Complete. Until the store has
//! completed, the upload and its markers stay as they were, so a refused Complete can be
//! retried or aborted.

use std::collections::HashMap;

use cloak_envelope::{ContentKey, PartSummary, Trailer};
use http::{HeaderMap, Response};
use http_body_util::BodyExt;

use super::super::{forward::relay, Call};
use super::create::xml_response;
use super::folder;
use super::markers::{self, Marker};
use super::part::enc;
use super::upload_id::UploadId;
use super::walk::{PartWalk, Upload};
use super::{invalid_part, MIN_PART};
use crate::body::{self, ProxyBody};
use crate::conditional::{gate_write, WriteGate};
use crate::error::S3Error;
use crate::state::ObjectFacts;
use crate::upstream::UpstreamRequest;
use crate::xml::{parse_complete_request, write_complete_request, CompleteOutcome, CompleteResult};

/// Largest CompleteMultipartUpload request body read (10,000 parts with checksums fit).
const MAX_COMPLETE_BODY: usize = 4 << 20;

pub async fn complete(mut call: Call) -> Result<Response<ProxyBody>, S3Error> {
    let id = UploadId::decode(call.target.param("uploadId").unwrap_or_default())?;
    let conditions = match gate_write(&call).await? {
        WriteGate::Proceed(conditions) => conditions,
        WriteGate::Refused(resp) => return Ok(relay(resp)),
    };
    let request = read_body(&mut call).await?;
    let wanted = parse_complete_request(&request)
        .map_err(|e| S3Error::bad_request(e.s3_code(), e.to_string()))?;
    let (bucket, key) = (call.bucket().to_owned(), call.key().to_owned());
    let content = call.app.keys.open(&id.header, &bucket, &key).await?;
    let folder = markers::folder(&id.upstream);
    let found = match current_parts(&call, &id, &folder, &content).await? {
        Ok(found) => found,
        Err(refused) => return Ok(refused),
    };
    let chosen = choose(&wanted, &found, id.header.segment_size as u64)?;

    let summaries: Vec<PartSummary> = chosen
        .iter()
        .map(|m| PartSummary {
            number: m.part,
            plain_len: m.plain_len,
            md5: m.md5,
        })
        .collect();
    let trailer = Trailer::for_parts(&summaries, id.header.segment_size as u64)
        .map_err(|e| invalid_part(format!("These parts cannot form an object: {e}")))?;
    let tail = upload_tail(
        &call,
        &id,
        &folder,
        &content,
        &trailer,
        chosen.last().expect("one part"),
    )
    .await?;

    let mut list: Vec<(u32, String)> = chosen
        .iter()
        .filter(|m| !m.staged)
        .map(|m| (m.part, format!("\"{}\"", m.upstream_etag)))
        .collect();
    list.push(tail);
    let outcome = complete_upstream(&call, &id, &list, conditions).await?;
    let result = match outcome {
        Ok(result) => result,
        Err(resp) => return Ok(resp),
    };

    let facts = ObjectFacts {
        etag: trailer.etag(),
        plain_len: trailer.plaintext_len,
    };
    call.app.remember(&bucket, &key, &result.etag, facts).await;
    // The object is complete whatever becomes of its markers: they are hidden, and only
    // cost space.
    if let Err(e) = folder::clear(&call.app, &bucket, &folder).await {
        tracing::warn!(error = %e, "could not clear a completed upload's markers");
    }
    Ok(xml_response(
        CompleteResult {
            etag: trailer.etag(),
            checksum: None,
            ..result
        }
        .to_xml(),
    ))
}

/// The current attempt of every part (see `current`), by part number. Complete holds them
/// all, as it holds the client's part list: at most 10,000.
async fn current_parts(
    call: &Call,
    id: &UploadId,
    folder: &str,
    content: &ContentKey,
) -> Result<Result<HashMap<u32, Marker>, Response<ProxyBody>>, S3Error> {
    let upload = Upload {
        object_path: &call.target.upstream_path,
        upstream_id: &id.upstream,
    };
    let walk = PartWalk::start(&call.app, call.bucket(), upload, folder, content, 0).await?;
    let mut walk = match walk {
        Ok(walk) => walk,
        Err(refused) => return Ok(Err(refused)),
    };
    let mut found = HashMap::new();
    while let Some(c) = walk.next().await? {
        found.insert(c.marker.part, c.marker);
    }
    Ok(Ok(found))
}

/// Matches each part the client lists to the current attempt of that part: an ETag of an
/// attempt uploaded again since is refused, as S3 refuses it.
fn choose(
    wanted: &[crate::xml::CompletedPart],
    found: &HashMap<u32, Marker>,
    segment: u64,
) -> Result<Vec<Marker>, S3Error> {
    let mut chosen = Vec::with_capacity(wanted.len());
    for (i, w) in wanted.iter().enumerate() {
        let last = i + 1 == wanted.len();
        let md5 = hex::decode(w.etag.trim_matches('"')).ok();
        let m = found
            .get(&w.part_number)
            .filter(|m| Some(m.md5.to_vec()) == md5)
            .ok_or_else(|| {
                invalid_part(format!(
                    "Part {} was not uploaded with that ETag, or was uploaded again since",
                    w.part_number
                ))
            })?;
        if !last && m.plain_len < MIN_PART {
            return Err(S3Error::bad_request(
                "EntityTooSmall",
                format!(
                    "Part {} is {} bytes, smaller than the 5 MiB minimum for every part but \
                     the last",
                    w.part_number, m.plain_len
                ),
            ));
        }
        // A part of 5 MiB or more is staged only when it is not whole segments, which the
        // check below explains; reporting it as too small would mislead.
        if !last && !m.plain_len.is_multiple_of(segment) {
            return Err(invalid_part(format!(
                "Part {} is {} bytes: Cloak needs every part but the last to be a multiple of \
                 {segment} bytes (all common clients' part sizes are)",
                w.part_number, m.plain_len
            )));
        }
        if !last && m.staged {
            // Only part 10,000 is staged for its number alone, and nothing can follow it.
            return Err(invalid_part(format!(
                "Part {} can only be the last part",
                w.part_number
            )));
        }
        chosen.push(m.clone());
    }
    Ok(chosen)
}

/// Puts the trailer after the last part: re-uploads a staged last part with the trailer
/// appended, or adds the trailer as one more small part. Returns that upstream part.
async fn upload_tail(
    call: &Call,
    id: &UploadId,
    folder: &str,
    content: &ContentKey,
    trailer: &Trailer,
    last: &Marker,
) -> Result<(u32, String), S3Error> {
    let sealed = bytes::Bytes::from(trailer.seal(content));
    let (number, body, len) = if last.staged {
        let staged = fetch(call, &markers::staged_key(folder, last.part)).await?;
        let (staged_body, staged_len) = staged;
        let tail = http_body_util::StreamBody::new(futures_util::stream::iter(vec![Ok::<
            _,
            crate::body::BoxError,
        >(
            http_body::Frame::data(sealed.clone()),
        )]));
        let joined = crate::body::boxed(Chain::new(staged_body, body::boxed(tail)));
        (last.part, joined, staged_len + sealed.len() as u64)
    } else {
        (
            last.part + 1,
            body::full(sealed.clone()),
            sealed.len() as u64,
        )
    };
    let mut h = HeaderMap::new();
    h.insert("content-length", len.into());
    let req = UpstreamRequest {
        method: http::Method::PUT,
        path_and_query: format!(
            "{}?partNumber={number}&uploadId={}",
            call.target.upstream_path,
            enc(&id.upstream)
        ),
        headers: h,
        body,
    };
    let resp = call.app.upstream.call(req).await?;
    if !resp.status().is_success() {
        return Err(S3Error::upstream(format!(
            "The store refused the final part ({})",
            resp.status()
        )));
    }
    let etag = crate::ops::headers::get(resp.headers(), "etag")
        .ok_or_else(|| S3Error::upstream("The store's part answer has no ETag"))?;
    Ok((number, etag.to_owned()))
}

async fn fetch(call: &Call, key: &str) -> Result<(ProxyBody, u64), S3Error> {
    let req = UpstreamRequest {
        method: http::Method::GET,
        path_and_query: markers::path(call.bucket(), key),
        headers: HeaderMap::new(),
        body: body::empty(),
    };
    let resp = call.app.upstream.call(req).await?;
    if !resp.status().is_success() {
        return Err(invalid_part(
            "The last part's staged copy is missing from the store",
        ));
    }
    let len = crate::ops::headers::get(resp.headers(), "content-length")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| S3Error::upstream("The staged part has no length"))?;
    Ok((body::boxed(resp.into_body()), len))
}

/// The store's Complete, carrying the client's conditions in the store's terms. A refusal
/// (a 412 among them) is relayed, and the upload is left for the client to retry or abort.
async fn complete_upstream(
    call: &Call,
    id: &UploadId,
    parts: &[(u32, String)],
    conditions: HeaderMap,
) -> Result<Result<CompleteResult, Response<ProxyBody>>, S3Error> {
    let xml = write_complete_request(parts.iter().map(|(n, e)| (*n, e.as_str())));
    let mut h = conditions;
    h.insert("content-length", xml.len().into());
    let req = UpstreamRequest {
        method: http::Method::POST,
        path_and_query: format!(
            "{}?uploadId={}",
            call.target.upstream_path,
            enc(&id.upstream)
        ),
        headers: h,
        body: body::full(xml),
    };
    let resp = call.app.upstream.call(req).await?;
    if !resp.status().is_success() {
        return Ok(Err(relay(resp)));
    }
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map_err(|_| S3Error::upstream("cut short"))?;
    match CompleteResult::parse(&bytes.to_bytes()) {
        Ok(CompleteOutcome::Completed(r)) => Ok(Ok(r)),
        Ok(CompleteOutcome::Failed(e)) => Err(S3Error::upstream(format!(
            "The store failed to complete: {} {}",
            e.code, e.message
        ))),
        Err(_) => Err(S3Error::upstream(
            "The store's CompleteMultipartUpload answer is unreadable",
        )),
    }
}

async fn read_body(call: &mut Call) -> Result<bytes::Bytes, S3Error> {
    let (mut stream, _) = call.plaintext_body()?;
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = stream.frame().await {
        let frame = frame.map_err(|e| super::super::put::body_error(e.as_ref()))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > MAX_COMPLETE_BODY {
                return Err(S3Error::bad_request(
                    "MalformedXML",
                    "The part list is too large",
                ));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

/// Two bodies, one after the other.
struct Chain {
    first: Option<ProxyBody>,
    second: ProxyBody,
}

impl Chain {
    fn new(first: ProxyBody, second: ProxyBody) -> Self {
        Self {
            first: Some(first),
            second,
        }
    }
}

impl http_body::Body for Chain {
    type Data = bytes::Bytes;
    type Error = crate::body::BoxError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        use std::task::Poll;
        while let Some(first) = self.first.as_mut() {
            match std::pin::Pin::new(first).poll_frame(cx) {
                Poll::Ready(None) => self.first = None,
                // A stored object's response has no trailers worth passing on.
                Poll::Ready(Some(Ok(f))) if f.is_trailers() => continue,
                other => return other,
            }
        }
        std::pin::Pin::new(&mut self.second).poll_frame(cx)
    }
}
