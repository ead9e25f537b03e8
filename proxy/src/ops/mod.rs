//! The S3 operations, one file per mechanism.
//!
//! - `forward`: requests that never touch object bodies go upstream unchanged.
//! - `put`: PutObject, encrypting the body as it streams.
//! - `read`: GetObject and HeadObject, decrypting ranges and parts.
//! - `parts`: an object's plaintext part table, from its trailer; `boundaries` finds it from
//!   authenticated unit locators when the parts differ in size.
//! - `attributes`: GetObjectAttributes, from the trailer.
//! - `copy`: CopyObject, re-binding the data key instead of re-encrypting; `copy_source` and
//!   `copy_headers` parse its source and build the upstream copy's headers.
//! - `list`: listings, rewritten to plaintext sizes and ETags.
//! - `multipart`: multipart uploads without shared state.
//! - `headers`: which headers cross the proxy.
//! - `encrypt_body` / `decrypt_body`: the streaming bodies that seal and open units.

pub mod attributes;
pub mod boundaries;
pub mod copy;
pub mod copy_headers;
pub mod copy_source;
pub mod decrypt_body;
pub mod encrypt_body;
pub mod forward;
pub mod headers;
pub mod list;
pub mod multipart;
pub mod parts;
pub mod probe;
pub mod put;
pub mod read;

use std::sync::Arc;

use http::request::Parts;
use http::Response;
use hyper::body::Incoming;

use crate::audit_body::{ByteCount, CountedBody};
use crate::auth::Verified;
use crate::body::{self, ProxyBody};
use crate::chunked::{AwsChunkedBody, DecoderConfig};
use crate::error::S3Error;
use crate::hooks::RequestContext;
use crate::route::{Op, Target};
use crate::state::App;

/// Everything a handler needs about one request.
pub struct Call {
    pub app: Arc<App>,
    pub parts: Parts,
    pub body: Option<Incoming>,
    /// The audit record's `bytes_in`: [`Call::plaintext_body`] counts what it yields.
    pub bytes_in: ByteCount,
    pub target: Target,
    pub verified: Verified,
    pub ctx: RequestContext,
}

impl Call {
    /// [`Call::plaintext_body`] for operations whose length S3 requires up front (PutObject,
    /// UploadPart): the upstream Content-Length is computed from it before any byte moves.
    pub fn sized_plaintext_body(&mut self) -> Result<(ProxyBody, u64), S3Error> {
        let (body, len) = self.plaintext_body()?;
        let len = len.ok_or_else(|| {
            S3Error::new(
                http::StatusCode::LENGTH_REQUIRED,
                "MissingContentLength",
                "Content-Length is required",
            )
        })?;
        Ok((body, len))
    }

    /// The client's body with aws-chunked framing removed (chunk signatures verified on the
    /// way), and the plaintext length it declares. Its bytes are counted into `bytes_in` as
    /// they are read.
    pub fn plaintext_body(&mut self) -> Result<(ProxyBody, Option<u64>), S3Error> {
        let incoming = self
            .body
            .take()
            .ok_or_else(|| S3Error::internal("body taken twice"))?;
        let decoded = crate::chunked::decoded_content_length(&self.parts.headers)?;
        match DecoderConfig::for_payload(&self.verified.payload, decoded) {
            Some(config) => {
                let len = decoded.ok_or_else(|| {
                    S3Error::new(
                        http::StatusCode::LENGTH_REQUIRED,
                        "MissingContentLength",
                        "aws-chunked uploads must send x-amz-decoded-content-length",
                    )
                })?;
                let decoded = AwsChunkedBody::new(incoming, config);
                Ok((self.counted(body::boxed(decoded)), Some(len)))
            }
            None => Ok((self.counted(body::boxed(incoming)), self.content_length())),
        }
    }

    fn counted(&self, payload: ProxyBody) -> ProxyBody {
        body::boxed(CountedBody::new(payload, self.bytes_in.clone()))
    }

    pub fn content_length(&self) -> Option<u64> {
        headers::get(&self.parts.headers, "content-length").and_then(|v| v.parse().ok())
    }

    pub fn bucket(&self) -> &str {
        self.target.bucket.as_deref().unwrap_or_default()
    }

    pub fn key(&self) -> &str {
        self.target.key.as_deref().unwrap_or_default()
    }
}

/// Runs the operation.
pub async fn dispatch(call: Call) -> Result<Response<ProxyBody>, S3Error> {
    match call.ctx.op {
        Op::PutObject => put::put_object(call).await,
        Op::GetObject => read::get_object(call, false).await,
        Op::HeadObject => read::get_object(call, true).await,
        Op::ListObjects | Op::ListObjectsV2 | Op::ListObjectVersions => list::list(call).await,
        Op::ListBuckets | Op::Forward => forward::forward(call).await,
        Op::Refused(what) => Err(S3Error::not_implemented(what)),
        Op::CreateMultipartUpload => multipart::create::create(call).await,
        Op::UploadPart => multipart::part::upload_part(call).await,
        Op::CompleteMultipartUpload => multipart::complete::complete(call).await,
        Op::AbortMultipartUpload => multipart::abort::abort(call).await,
        Op::ListParts => multipart::list_parts::list_parts(call).await,
        Op::ListMultipartUploads => multipart::abort::list_uploads(call).await,
        Op::CopyObject => copy::copy_object(call).await,
        Op::UploadPartCopy => multipart::part_copy::upload_part_copy(call).await,
        Op::GetObjectAttributes => attributes::get_object_attributes(call).await,
    }
}
