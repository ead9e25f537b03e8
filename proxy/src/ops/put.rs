//! PutObject: encrypt under a fresh data key while streaming to the store.

use cloak_envelope::layout::Layout;
use cloak_envelope::Sealer;
use http::{Response, StatusCode};

use super::encrypt_body::{EncryptingBody, Ending, Outcome};
use super::headers::{self, ENVELOPE_META};
use super::Call;
use crate::body::{self, ProxyBody};
use crate::checksum::{BodyDigests, Digests, Expectations};
use crate::chunked::ChunkedError;
use crate::conditional::{gate_write, WriteGate};
use crate::error::S3Error;
use crate::state::ObjectFacts;
use crate::upstream::UpstreamRequest;

/// S3's largest single PUT.
const MAX_PUT: u64 = 5 << 30;

pub async fn put_object(mut call: Call) -> Result<Response<ProxyBody>, S3Error> {
    let expect = Expectations::from_request(&call.parts.headers, &call.verified.payload)?;
    let (plaintext, len) = call.sized_plaintext_body()?;
    if len > MAX_PUT {
        return Err(S3Error::bad_request(
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed object size (5 GiB); use multipart",
        ));
    }

    // Conditions are checked before the body is read: a refused write consumes nothing.
    let conditions = match gate_write(&call).await? {
        WriteGate::Proceed(conditions) => conditions,
        WriteGate::Refused(resp) => return Ok(super::forward::relay(resp)),
    };

    // Key material comes first: without a key the body is never read, so nothing is stored.
    let (bucket, key) = (call.bucket().to_owned(), call.key().to_owned());
    let fresh = call.app.keys.new_object(&bucket, &key).await?;
    let layout = Layout::new(fresh.header.segment_size);
    let sealer = Sealer::new(fresh.key.clone(), layout, 0, len);
    let inspector = call.app.hooks.inspector.start(&call.ctx);
    let (sealed, outcome) = EncryptingBody::new(
        plaintext,
        fresh.key,
        sealer,
        BodyDigests::new(expect),
        inspector,
        Ending::Trailer,
    );

    let mut up = headers::object_headers(&call.parts.headers);
    up.extend(conditions);
    up.insert("content-length", layout.stored_len(len).into());
    headers::set(&mut up, ENVELOPE_META, &fresh.header.encode());
    let req = UpstreamRequest {
        method: http::Method::PUT,
        path_and_query: call.target.upstream_path.clone(),
        headers: up,
        body: body::boxed(sealed),
    };
    let upstream = call
        .app
        .upstream
        .call(req)
        .await
        .map_err(|e| client_fault_first(&outcome, e))?;
    if !upstream.status().is_success() {
        return Ok(super::forward::relay(upstream));
    }
    let digests = settle(&outcome)?;

    let upstream_etag = headers::get(upstream.headers(), "etag").map(str::to_owned);
    if let Some(etag) = upstream_etag {
        let facts = ObjectFacts {
            etag: digests.etag(),
            plain_len: len,
        };
        call.app.remember(&bucket, &key, &etag, facts).await;
    }
    Ok(answer(&upstream, &digests))
}

/// When the upstream request failed, the client's body may be why (a bad checksum or a short
/// body aborts it on purpose): that reason wins over the transport error.
pub fn client_fault_first(outcome: &Outcome, upstream: S3Error) -> S3Error {
    match outcome
        .lock()
        .expect("outcome lock is never poisoned")
        .take()
    {
        Some(Err(client)) => client,
        _ => upstream,
    }
}

/// The verified digests of a body the store accepted.
pub fn settle(outcome: &Outcome) -> Result<Digests, S3Error> {
    match outcome
        .lock()
        .expect("outcome lock is never poisoned")
        .take()
    {
        Some(Ok(d)) => Ok(d),
        Some(Err(client)) => Err(client),
        None => Err(S3Error::upstream(
            "The store accepted a body it had not fully received",
        )),
    }
}

fn answer(upstream: &Response<hyper::body::Incoming>, digests: &Digests) -> Response<ProxyBody> {
    let mut resp = Response::new(body::empty());
    let h = resp.headers_mut();
    headers::set(h, "etag", &digests.etag());
    if let Some((alg, value)) = &digests.checksum {
        headers::set(h, alg.header_name(), value);
    }
    for name in [
        "x-amz-version-id",
        "x-amz-expiration",
        "x-amz-server-side-encryption",
    ] {
        if let Some(v) = upstream.headers().get(name) {
            h.insert(name, v.clone());
        }
    }
    resp
}

/// Maps a body error (from aws-chunked decoding or the connection) to an S3 error.
pub fn body_error(e: &(dyn std::error::Error + Send + Sync + 'static)) -> S3Error {
    if let Some(chunked) = e.downcast_ref::<ChunkedError>() {
        return chunked.clone_into_s3();
    }
    // A body produced inside the proxy (the decrypted source of a part copy) says itself why
    // it ended.
    if let Some(own) = e.downcast_ref::<S3Error>() {
        return own.clone();
    }
    S3Error::bad_request(
        "IncompleteBody",
        "The request body ended before its declared length",
    )
}

trait IntoS3 {
    fn clone_into_s3(&self) -> S3Error;
}

impl IntoS3 for ChunkedError {
    fn clone_into_s3(&self) -> S3Error {
        let status = StatusCode::from_u16(self.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        S3Error::new(status, self.s3_code(), self.to_string())
    }
}
