//! Requests that never touch object bodies: bucket settings, tagging, ACLs, deletes, the
//! bucket list. They go upstream as the client sent them, re-signed; the answer comes back
//! with the proxy's request id.
//!
//! A forwarded request body (a policy, a tagging set, a DeleteObjects list) is small. It is
//! read whole, checked against the client's signature and checksums, and sent with a plain
//! Content-Length, so aws-chunked framing never reaches the store.

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Response};
use http_body_util::BodyExt;

use super::{headers, Call};
use crate::body::{self, ProxyBody};
use crate::checksum::{BodyDigests, Expectations};
use crate::error::S3Error;
use crate::upstream::UpstreamRequest;

/// Largest request body forwarded without transformation.
const MAX_FORWARDED_BODY: usize = 16 << 20;

pub async fn forward(mut call: Call) -> Result<Response<ProxyBody>, S3Error> {
    let mut headers = headers::forwarded_request_headers(&call.parts.headers);
    let body = read_verified_body(&mut call, &mut headers).await?;
    headers.insert("content-length", body.len().into());
    let req = UpstreamRequest {
        method: call.parts.method.clone(),
        path_and_query: call.target.upstream_path_and_query(),
        headers,
        body: if body.is_empty() {
            body::empty()
        } else {
            body::full(body)
        },
    };
    let upstream = call.app.upstream.call(req).await?;
    Ok(relay(upstream))
}

/// Streams an upstream response back unchanged but for the proxy's own headers.
pub fn relay(upstream: Response<hyper::body::Incoming>) -> Response<ProxyBody> {
    let (parts, incoming) = upstream.into_parts();
    let mut resp = Response::new(body::boxed(incoming));
    *resp.status_mut() = parts.status;
    headers::forwarded_response_headers(&parts.headers, resp.headers_mut());
    resp
}

/// Reads the whole (small) client body, removing aws-chunked framing and verifying the
/// signed payload hash and any checksum. A trailing checksum becomes a header upstream.
async fn read_verified_body(call: &mut Call, headers: &mut HeaderMap) -> Result<Bytes, S3Error> {
    let expect = Expectations::from_request(&call.parts.headers, &call.verified.payload)?;
    let (mut stream, _) = call.plaintext_body()?;
    let mut digests = BodyDigests::new(expect);
    let mut buf = BytesMut::new();
    let mut trailers = None;
    while let Some(frame) = stream.frame().await {
        let frame = frame.map_err(|e| super::put::body_error(e.as_ref()))?;
        match frame.into_data() {
            Ok(data) => {
                if buf.len() + data.len() > MAX_FORWARDED_BODY {
                    return Err(S3Error::bad_request(
                        "EntityTooLarge",
                        "Request body too large",
                    ));
                }
                digests.update(&data);
                buf.extend_from_slice(&data);
            }
            Err(frame) => trailers = frame.into_trailers().ok(),
        }
    }
    let digests = digests.finish(trailers.as_ref())?;
    headers.remove("content-encoding");
    if let Some((alg, value)) = &digests.checksum {
        headers::set(headers, alg.header_name(), value);
    }
    if let Some(enc) = headers::get(&call.parts.headers, "content-encoding") {
        if let Some(kept) = crate::chunked::strip_aws_chunked(enc) {
            headers::set(headers, "content-encoding", &kept);
        }
    }
    Ok(buf.freeze())
}
