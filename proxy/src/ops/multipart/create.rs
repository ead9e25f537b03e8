//! CreateMultipartUpload: a fresh data key for the whole upload, its header in the upstream
//! upload's metadata and in the upload id the client gets back.

use http::{HeaderMap, Response};
use http_body_util::BodyExt;

use super::super::headers::{self, ENVELOPE_META};
use super::super::{forward::relay, Call};
use super::upload_id::UploadId;
use crate::body::{self, ProxyBody};
use crate::error::S3Error;
use crate::upstream::UpstreamRequest;
use crate::xml::InitiateResult;

pub async fn create(call: Call) -> Result<Response<ProxyBody>, S3Error> {
    let fresh = call.app.keys.new_object(call.bucket(), call.key()).await?;
    let mut up = headers::object_headers(&call.parts.headers);
    headers::set(&mut up, ENVELOPE_META, &fresh.header.encode());
    up.insert("content-length", 0.into());
    let req = UpstreamRequest {
        method: http::Method::POST,
        path_and_query: format!("{}?uploads", call.target.upstream_path),
        headers: up,
        body: body::empty(),
    };
    let resp = call.app.upstream.call(req).await?;
    if !resp.status().is_success() {
        return Ok(relay(resp));
    }
    let xml = resp
        .into_body()
        .collect()
        .await
        .map_err(|_| S3Error::upstream("cut short"))?;
    let result = InitiateResult::parse(&xml.to_bytes()).map_err(|_| {
        S3Error::upstream("The store's InitiateMultipartUpload answer is unreadable")
    })?;
    let id = UploadId {
        upstream: result.upload_id.clone(),
        header: fresh.header,
    };
    let answer = InitiateResult {
        upload_id: id.encode(),
        ..result
    };
    Ok(xml_response(answer.to_xml()))
}

pub fn xml_response(xml: bytes::Bytes) -> Response<ProxyBody> {
    let mut h = HeaderMap::new();
    headers::set(&mut h, "content-type", "application/xml");
    h.insert("content-length", xml.len().into());
    let mut resp = Response::new(body::full(xml));
    *resp.headers_mut() = h;
    resp
}
