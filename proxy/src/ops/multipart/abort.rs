//! AbortMultipartUpload and ListMultipartUploads.
//!
//! These need no data key: abort accepts both Cloak's upload ids and the raw upstream
//! ids that ListMultipartUploads shows (Cloak cannot rebuild a client's upload id from a
//! listing, since the envelope header is not readable from an in-progress upstream upload).

use http::{HeaderMap, Response};

use super::super::{forward::relay, Call};
use super::part::enc;
use super::upload_id::UploadId;
use super::{folder, markers};
use crate::body::{self, ProxyBody};
use crate::error::S3Error;
use crate::upstream::UpstreamRequest;

pub async fn abort(call: Call) -> Result<Response<ProxyBody>, S3Error> {
    let upstream_id = UploadId::upstream_of(call.target.param("uploadId").unwrap_or_default())?;
    let req = UpstreamRequest {
        method: http::Method::DELETE,
        path_and_query: format!(
            "{}?uploadId={}",
            call.target.upstream_path,
            enc(&upstream_id)
        ),
        headers: HeaderMap::new(),
        body: body::empty(),
    };
    let resp = call.app.upstream.call(req).await?;
    if resp.status().is_success() {
        let folder = markers::folder(&upstream_id);
        folder::clear(&call.app, call.bucket(), &folder).await?;
    }
    Ok(relay(resp))
}

/// ListMultipartUploads, forwarded; the ids shown are upstream ids (see the module doc).
pub async fn list_uploads(call: Call) -> Result<Response<ProxyBody>, S3Error> {
    super::super::forward::forward(call).await
}
