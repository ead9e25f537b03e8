//! UploadPart: seal one part under the upload's data key and record its marker.
//!
//! A part that can only be the last one (under 5 MiB, not a whole number of segments, or part
//! 10,000) is staged as an object, because Complete must append the trailer after it.

use cloak_envelope::layout::Layout;
use cloak_envelope::Sealer;
use http::{HeaderMap, Response, StatusCode};

use super::super::encrypt_body::{EncryptingBody, Ending};
use super::super::headers;
use super::super::put::{client_fault_first, settle};
use super::super::Call;
use super::markers::{self, Marker};
use super::upload_id::UploadId;
use super::{MAX_PART, MAX_PART_NUMBER, MIN_PART};
use crate::body::{self, ProxyBody};
use crate::checksum::{BodyDigests, Expectations};
use crate::error::S3Error;
use crate::upstream::UpstreamRequest;

pub async fn upload_part(mut call: Call) -> Result<Response<ProxyBody>, S3Error> {
    let id = UploadId::decode(call.target.param("uploadId").unwrap_or_default())?;
    let part = part_number(&call)?;
    let expect = Expectations::from_request(&call.parts.headers, &call.verified.payload)?;
    let (plaintext, len) = call.plaintext_body()?;
    let len = len.ok_or_else(|| {
        S3Error::new(
            StatusCode::LENGTH_REQUIRED,
            "MissingContentLength",
            "Content-Length is required",
        )
    })?;
    if len > MAX_PART {
        return Err(S3Error::bad_request(
            "EntityTooLarge",
            "A part may be at most 5 GiB",
        ));
    }
    let (bucket, key) = (call.bucket().to_owned(), call.key().to_owned());
    let content = call.app.keys.open(&id.header, &bucket, &key).await?;
    let layout = Layout::new(id.header.segment_size);
    let staged = len < MIN_PART || part == MAX_PART_NUMBER || len % layout.segment_size() != 0;

    let sealer = Sealer::new(content.clone(), layout, part, len);
    let inspector = call.app.hooks.inspector.start(&call.ctx);
    let (sealed, outcome) = EncryptingBody::new(
        plaintext,
        content.clone(),
        sealer,
        BodyDigests::new(expect),
        inspector,
        Ending::PartOnly,
    );
    let folder = markers::folder(&id.upstream);
    let path_and_query = if staged {
        markers::path(&bucket, &markers::staged_key(&folder, part))
    } else {
        format!(
            "{}?partNumber={part}&uploadId={}",
            call.target.upstream_path,
            enc(&id.upstream)
        )
    };
    let mut h = HeaderMap::new();
    h.insert("content-length", layout.stored_part_len(len).into());
    let req = UpstreamRequest {
        method: http::Method::PUT,
        path_and_query,
        headers: h,
        body: body::boxed(sealed),
    };
    let upstream = call
        .app
        .upstream
        .call(req)
        .await
        .map_err(|e| client_fault_first(&outcome, e))?;
    if !upstream.status().is_success() {
        return Ok(super::super::forward::relay(upstream));
    }
    let digests = settle(&outcome)?;
    let upstream_etag = markers::bytes_etag(upstream.headers())
        .ok_or_else(|| S3Error::upstream("The store's part answer has no ETag"))?;
    let marker = Marker {
        part,
        staged,
        upstream_etag,
        md5: digests.md5,
        plain_len: len,
        name: String::new(),
    };
    markers::write(&call.app, &bucket, &folder, &content, &marker).await?;

    let mut resp = Response::new(body::empty());
    headers::set(resp.headers_mut(), "etag", &digests.etag());
    if let Some((alg, value)) = &digests.checksum {
        headers::set(resp.headers_mut(), alg.header_name(), value);
    }
    Ok(resp)
}

pub fn part_number(call: &Call) -> Result<u32, S3Error> {
    call.target
        .param("partNumber")
        .and_then(|p| p.parse::<u32>().ok())
        .filter(|p| (1..=MAX_PART_NUMBER).contains(p))
        .ok_or_else(invalid_part_number)
}

fn invalid_part_number() -> S3Error {
    S3Error::bad_request(
        "InvalidArgument",
        "Part number must be an integer between 1 and 10000, inclusive",
    )
}

pub fn enc(s: &str) -> String {
    crate::route::encode_param(s)
}
