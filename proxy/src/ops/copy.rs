//! CopyObject, within or across buckets, without re-encryption (docs/FORMAT.md, "Copy without
//! re-encryption").
//!
//! Nothing in an object's units or trailer names the object: only the wrapping of its data
//! key is bound to `{bucket, key}`. So the proxy probes the source (which authenticates its
//! trailer under the unwrapped, commitment-checked key), evaluates the client's
//! `x-amz-copy-source-if-*` against the plaintext ETag, asks the key provider to re-wrap the
//! data key under the destination's identity, and has the store copy the bytes as they are,
//! with the new envelope header as the destination's metadata. The copy's plaintext ETag and
//! size are the source's, read from its trailer (a multipart source's copy keeps its
//! `"<md5 of md5s>-N"` ETag and its part table, since no byte is read to compute another).

use http::{HeaderMap, Response, StatusCode};
use http_body_util::BodyExt;

use super::copy_headers::{self, CopyPlan, Directive};
use super::copy_source::CopySource;
use super::forward::relay;
use super::headers;
use super::multipart::create::xml_response;
use super::probe::{probe_object, Probed};
use super::Call;
use crate::body::{self, ProxyBody};
use crate::conditional;
use crate::error::S3Error;
use crate::state::ObjectFacts;
use crate::upstream::UpstreamRequest;
use crate::xml::{CopyResult, CopyResultKind, UpstreamError};

/// S3's largest CopyObject source.
const MAX_COPY: u64 = 5 << 30;
/// The probe reads the trailer only.
const TRAILER_PROBE: u64 = 96;

pub async fn copy_object(call: Call) -> Result<Response<ProxyBody>, S3Error> {
    let source = CopySource::from_call(&call)?;
    source.authorize(&call)?;
    let directive = Directive::of(&call.parts.headers)?;
    refuse_pointless_self_copy(&call, &source, directive)?;
    let path = source.upstream_path();
    let probed = probe_object(&call.app, &source.bucket, &source.key, &path, TRAILER_PROBE);
    let (sealed, source_meta) = match probed.await? {
        Probed::Sealed(s, h) => (s, h),
        Probed::Failed(resp) => return Ok(relay(resp)),
        Probed::Foreign(_) => return super::read::foreign(call).await,
    };
    let facts = sealed.facts();
    let modified = headers::get(&source_meta, "last-modified");
    conditional::check_copy_source(&call.parts.headers, &facts.etag, modified)?;
    check_size(sealed.trailer.plaintext_len, sealed.stored_len)?;

    let from = (source.bucket.as_str(), source.key.as_str());
    let to = (call.bucket(), call.key());
    let keys = &call.app.keys;
    let rebound = keys.rewrap_header(&sealed.header, from, to).await?;
    let plan = CopyPlan {
        source: &source,
        // A store that keeps no ETags (`rclone serve s3` without hashing) gives none to pin.
        source_etag: headers::get(&source_meta, "etag").filter(|e| !e.trim_matches('"').is_empty()),
        envelope: rebound.encode(),
        directive,
    };
    let resp = copy_upstream(&call, &source_meta, &plan).await?;
    if !resp.status().is_success() {
        return Ok(relay(resp));
    }
    answer(&call, resp, facts).await
}

/// S3 refuses a copy onto the source itself that changes nothing.
fn refuse_pointless_self_copy(
    call: &Call,
    source: &CopySource,
    directive: Directive,
) -> Result<(), S3Error> {
    let itself = source.is(call.bucket(), call.key()) && source.version_id.is_none();
    if itself && copy_headers::changes_nothing(&call.parts.headers, directive) {
        return Err(S3Error::bad_request(
            "InvalidRequest",
            "This copy request is illegal because it is trying to copy an object to itself \
             without changing the object's metadata, storage class, website redirect location \
             or encryption attributes.",
        ));
    }
    Ok(())
}

/// The store's CopyObject, pinned to the probed source version.
async fn copy_upstream(
    call: &Call,
    source_meta: &HeaderMap,
    plan: &CopyPlan<'_>,
) -> Result<Response<hyper::body::Incoming>, S3Error> {
    let req = UpstreamRequest {
        method: http::Method::PUT,
        path_and_query: call.target.upstream_path.clone(),
        headers: copy_headers::upstream_headers(&call.parts.headers, source_meta, plan),
        body: body::empty(),
    };
    let resp = call.app.upstream.call(req).await?;
    if resp.status() == StatusCode::PRECONDITION_FAILED {
        // The client's conditions were evaluated here; only the version pin can fail.
        return Err(S3Error::slow_down(
            "The copy source changed while it was being copied; retry",
        ));
    }
    Ok(resp)
}

/// S3 refuses a CopyObject of more than 5 GiB. The stored object is slightly larger than the
/// plaintext, so a source just under 5 GiB is refused too, and either way the client is told
/// to copy with a multipart upload (UploadPartCopy), which Cloak re-encrypts part by part.
fn check_size(plain: u64, stored: u64) -> Result<(), S3Error> {
    if plain > MAX_COPY {
        return Err(S3Error::bad_request(
            "InvalidRequest",
            format!(
                "The specified copy source is larger than the maximum allowable size for a \
                 copy source: {MAX_COPY}"
            ),
        ));
    }
    if stored > MAX_COPY {
        return Err(S3Error::bad_request(
            "InvalidRequest",
            format!(
                "The copy source is {plain} bytes, but Cloak stores it as {stored} bytes, over \
                 S3's 5 GiB limit for a single copy; copy it with a multipart upload \
                 (UploadPartCopy) instead"
            ),
        ));
    }
    Ok(())
}

/// The client's CopyObjectResult: the store's LastModified with the plaintext ETag.
async fn answer(
    call: &Call,
    resp: Response<hyper::body::Incoming>,
    facts: ObjectFacts,
) -> Result<Response<ProxyBody>, S3Error> {
    let (parts, incoming) = resp.into_parts();
    let xml = incoming
        .collect()
        .await
        .map_err(|_| S3Error::upstream("The store's CopyObject answer was cut short"))?
        .to_bytes();
    let result = match CopyResult::parse(&xml, CopyResultKind::Object) {
        Ok(result) => result,
        Err(_) => return Err(failed_inside_200(&xml)),
    };
    call.app
        .remember(call.bucket(), call.key(), &result.etag, facts.clone())
        .await;
    let shown = CopyResult {
        etag: facts.etag,
        checksum: None,
        ..result
    };
    let mut out = xml_response(shown.to_xml(CopyResultKind::Object));
    copy_response_headers(&parts.headers, out.headers_mut());
    Ok(out)
}

/// S3 may report a copy's failure inside a 200 response.
fn failed_inside_200(xml: &[u8]) -> S3Error {
    match UpstreamError::parse(xml) {
        Ok(e) => S3Error::upstream(format!(
            "The store failed the copy: {} {}",
            e.code, e.message
        )),
        Err(_) => S3Error::upstream("The store's CopyObject answer is unreadable"),
    }
}

/// The store's headers about the new object that the client may see.
pub fn copy_response_headers(from: &HeaderMap, into: &mut HeaderMap) {
    for name in [
        "x-amz-version-id",
        "x-amz-copy-source-version-id",
        "x-amz-expiration",
        "x-amz-server-side-encryption",
        "x-amz-server-side-encryption-aws-kms-key-id",
        "x-amz-server-side-encryption-bucket-key-enabled",
    ] {
        if let Some(v) = from.get(name) {
            into.insert(name, v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_over_5_gib_plaintext_or_stored_are_refused_as_s3_does() {
        assert!(check_size(MAX_COPY - (4 << 20), MAX_COPY - 1).is_ok());
        let over = check_size(MAX_COPY + 1, MAX_COPY + 3_000_000).unwrap_err();
        assert_eq!((over.status.as_u16(), over.code), (400, "InvalidRequest"));
        assert!(over.message.contains("5368709120"));
        let stored_over = check_size(MAX_COPY, MAX_COPY + 2_621_536).unwrap_err();
        assert_eq!(stored_over.code, "InvalidRequest");
        assert!(stored_over.message.contains("UploadPartCopy"));
    }
}
