//! UploadPartCopy: a part made from a plaintext range of another object, re-encrypted.
//!
//! The stored bytes of the source cannot become the part: the part must be sealed under the
//! destination upload's data key, as its own part number, with a fresh salt. So the proxy
//! reads the units covering `x-amz-copy-source-range` (plaintext offsets) through the
//! decrypting read path, which checks every unit's tag and position before releasing its
//! plaintext, and streams that plaintext into the same sealing path as UploadPart. Memory
//! stays at a few segments whatever the part's size. The answer's ETag is the MD5 of the
//! part's plaintext, the ETag the client lists for it in CompleteMultipartUpload.
//!
//! A source not written through Cloak is refused, unless `objects.foreign = passthrough`:
//! then its stored bytes are its plaintext, and they are sealed like any other part (a way to
//! bring an object larger than 5 GiB under encryption).

use cloak_envelope::layout::Layout;
use http::{HeaderMap, Response, StatusCode};
use http_body_util::BodyExt;

use super::super::copy::copy_response_headers;
use super::super::copy_source::{copy_range, CopySource};
use super::super::forward::relay;
use super::super::headers;
use super::super::probe::{probe_object, Probed, Sealed};
use super::super::read::{fetch, stream_units, ReadFrom};
use super::super::Call;
use super::create::xml_response;
use super::part::{part_number, store_part, Stored};
use super::upload_id::UploadId;
use crate::body::{self, BoxError, ProxyBody};
use crate::checksum::{BodyDigests, Expectations};
use crate::config::ForeignPolicy;
use crate::error::{Fault, S3Error};
use crate::xml::{CopyResult, CopyResultKind};

/// The probe reads the trailer only.
const TRAILER_PROBE: u64 = 96;

pub async fn upload_part_copy(call: Call) -> Result<Response<ProxyBody>, S3Error> {
    let id = UploadId::decode(call.target.param("uploadId").unwrap_or_default())?;
    let part = part_number(&call)?;
    let source = CopySource::from_call(&call)?;
    source.authorize(&call)?;
    let from = ReadFrom {
        app: &call.app,
        path_and_query: source.upstream_path(),
        label: source.resource(),
        inspect: None,
    };
    let (plaintext, len, source_meta) = match read_source(&call, &source, &from).await? {
        Ok(read) => read,
        Err(refused) => return Ok(refused),
    };

    let inspector = call.app.hooks.inspector.start(&call.ctx);
    let digests = BodyDigests::new(Expectations::default());
    let stored = store_part(&call, &id, part, plaintext, len, digests, inspector).await?;
    let digests = match stored {
        Stored::Sealed(d) => d,
        Stored::Refused(resp) => return Ok(resp),
    };
    let result = CopyResult {
        etag: digests.etag(),
        last_modified: now_iso8601(),
        checksum: None,
    };
    let mut resp = xml_response(result.to_xml(CopyResultKind::Part));
    let mut shown = HeaderMap::new();
    if let Some(v) = source_meta.get("x-amz-version-id") {
        shown.insert("x-amz-copy-source-version-id", v.clone());
    }
    copy_response_headers(&shown, resp.headers_mut());
    Ok(resp)
}

/// A copy source as the probe found it.
enum View {
    Sealed(Box<Sealed>),
    /// Not written through Cloak, read as stored (only with `objects.foreign = passthrough`);
    /// its size.
    Foreign(u64),
}

/// Probes the source, checks the client's conditions on it, and opens the plaintext of the
/// requested range: its body, its length and the source's headers. The store's refusal (no
/// such key, ...) comes back to relay.
async fn read_source(
    call: &Call,
    source: &CopySource,
    from: &ReadFrom<'_>,
) -> Result<Result<(ProxyBody, u64, HeaderMap), Response<ProxyBody>>, S3Error> {
    let (bucket, key, path) = (&source.bucket, &source.key, &from.path_and_query);
    let probed = probe_object(&call.app, bucket, key, path, TRAILER_PROBE).await?;
    let passthrough = call.app.foreign == ForeignPolicy::Passthrough;
    let (view, meta) = match probed {
        Probed::Sealed(s, h) => (View::Sealed(s), h),
        Probed::Foreign(h) if passthrough => (View::Foreign(stored_size(&h)?), h),
        Probed::Foreign(_) => return Err(foreign_source()),
        Probed::Failed(resp) => return Ok(Err(relay(resp))),
    };
    // Reads are pinned to the probed version by its store ETag, when the store keeps one.
    let pin = headers::get(&meta, "etag")
        .filter(|e| !e.trim_matches('"').is_empty())
        .map(str::to_owned);
    let (etag, size) = match &view {
        View::Sealed(s) => (s.facts().etag, s.trailer.plaintext_len),
        // A foreign object's store ETag is already about its plaintext.
        View::Foreign(size) => (pin.clone().unwrap_or_default(), *size),
    };
    let modified = headers::get(&meta, "last-modified");
    crate::conditional::check_copy_source(&call.parts.headers, &etag, modified)?;

    let range = headers::get(&call.parts.headers, "x-amz-copy-source-range");
    let (first, len) = match range {
        Some(r) => copy_range(r, size).map(|(a, b)| (a, b - a + 1))?,
        None => (0, size),
    };
    let body = match &view {
        View::Sealed(sealed) => source_plaintext(from, sealed, first, len, pin).await?,
        View::Foreign(_) => foreign_plaintext(from, first, len, pin).await?,
    };
    Ok(Ok((body, len, meta)))
}

/// The source's plaintext bytes `first..first + len`, decrypted and checked as they stream.
/// A failure mid-stream (a unit that fails its check, a broken store connection) ends the
/// body with an error that says so, and the part is not stored.
async fn source_plaintext(
    from: &ReadFrom<'_>,
    sealed: &Sealed,
    first: u64,
    len: u64,
    pin: Option<String>,
) -> Result<ProxyBody, S3Error> {
    if len == 0 {
        return Ok(body::empty());
    }
    let layout: Layout = sealed.layout;
    let plan = layout.plan(first, first + len - 1, sealed.stored_len)?;
    let plaintext = stream_units(from, sealed, &plan, pin).await?;
    let label = from.label.clone();
    Ok(body::boxed(plaintext.map_err(move |e| -> BoxError {
        tracing::warn!(source = %label, error = %e, "a part copy's source failed mid-read");
        Box::new(source_failed())
    })))
}

/// A foreign source's bytes `first..first + len`, as stored.
async fn foreign_plaintext(
    from: &ReadFrom<'_>,
    first: u64,
    len: u64,
    pin: Option<String>,
) -> Result<ProxyBody, S3Error> {
    if len == 0 {
        return Ok(body::empty());
    }
    let stored = fetch(from, first, first + len - 1, pin).await?;
    Ok(body::boxed(
        stored.map_err(|_| -> BoxError { Box::new(source_failed()) }),
    ))
}

/// The total size in a probe's answer: `Content-Range: bytes a-b/N` or `bytes */N` (an empty
/// object), else the Content-Length of a whole-object answer.
fn stored_size(h: &HeaderMap) -> Result<u64, S3Error> {
    let total = match headers::get(h, "content-range") {
        Some(range) => range.rsplit_once('/').and_then(|(_, n)| n.parse().ok()),
        None => headers::get(h, "content-length").and_then(|v| v.parse().ok()),
    };
    total.ok_or_else(|| S3Error::upstream("The store did not say how large the copy source is"))
}

fn source_failed() -> S3Error {
    S3Error::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalError",
        "The copy source could not be read to the end (it failed its integrity check, or the \
         store's connection broke); the part was not stored",
    )
    .fault(Fault::Upstream)
}

fn foreign_source() -> S3Error {
    S3Error::new(
        StatusCode::FORBIDDEN,
        "InvalidObjectState",
        "The copy source was not written through Cloak (it has no envelope header), so it is \
         refused. Set objects.foreign = \"passthrough\" to copy such objects as stored.",
    )
}

/// The current time as S3 writes it in XML results, e.g. `2026-12-03T21:00:00.000Z`.
fn now_iso8601() -> String {
    let now = time::OffsetDateTime::now_utc();
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    now.format(&format)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".into())
}
