//! UploadPartCopy: a part made from a plaintext range of another object, re-encrypted.
//!
//! The stored bytes of the source cannot become the part: the part must be sealed under the
//! destination upload's data key, as its own part number, with a fresh salt. So the proxy
//! reads the units covering `x-amz-copy-source-range` (plaintext offsets) through the
//! decrypting read path, which checks every unit's tag and position before releasing its
//! plaintext, and streams that plaintext into the same sealing path as UploadPart. Memory
//! stays at a few segments whatever the part's size. The answer's ETag is the MD5 of the
//! part's plaintext, the ETag the client lists for it in CompleteMultipartUpload.

use cloak_envelope::layout::Layout;
use http::{HeaderMap, Response, StatusCode};
use http_body_util::BodyExt;

use super::super::copy::copy_response_headers;
use super::super::copy_source::{copy_range, CopySource};
use super::super::forward::relay;
use super::super::headers;
use super::super::probe::{probe_object, Probed, Sealed};
use super::super::read::{stream_units, ReadFrom};
use super::super::Call;
use super::create::xml_response;
use super::part::{part_number, store_part, Stored};
use super::upload_id::UploadId;
use crate::body::{self, BoxError, ProxyBody};
use crate::checksum::{BodyDigests, Expectations};
use crate::error::{Fault, S3Error};
use crate::xml::{CopyResult, CopyResultKind};

/// The probe reads the trailer only.
const TRAILER_PROBE: u64 = 96;

pub async fn upload_part_copy(call: Call) -> Result<Response<ProxyBody>, S3Error> {
    let id = UploadId::decode(call.target.param("uploadId").unwrap_or_default())?;
    let part = part_number(&call)?;
    let source = CopySource::from_call(&call)?;
    source.authorize(&call)?;
    let path = source.upstream_path();
    let probed = probe_object(&call.app, &source.bucket, &source.key, &path, TRAILER_PROBE);
    let (sealed, source_meta) = match probed.await? {
        Probed::Sealed(s, h) => (s, h),
        Probed::Failed(resp) => return Ok(relay(resp)),
        Probed::Foreign(_) => return Err(foreign_source()),
    };
    let facts = sealed.facts();
    let modified = headers::get(&source_meta, "last-modified");
    crate::conditional::check_copy_source(&call.parts.headers, &facts.etag, modified)?;

    let range = headers::get(&call.parts.headers, "x-amz-copy-source-range");
    let (first, len) = match range {
        Some(r) => copy_range(r, facts.plain_len).map(|(a, b)| (a, b - a + 1))?,
        None => (0, facts.plain_len),
    };
    let from = ReadFrom {
        app: &call.app,
        path_and_query: path,
        label: source.resource(),
        inspect: None,
    };
    let pin = headers::get(&source_meta, "etag").map(str::to_owned);
    let plaintext = source_plaintext(&from, &sealed, first, len, pin).await?;

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
        "The copy source was not written through Cloak (it has no envelope header); \
         UploadPartCopy accepts only Cloak objects as sources",
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
