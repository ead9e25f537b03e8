//! A small signed S3 client on hyper, path-style, that checks every body it reads.
//!
//! It does only what the scenarios need and nothing per byte beyond producing or checking
//! the deterministic contents (`content`), so that the client is not what a run measures.

mod body;
mod sign;
pub mod xml;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_RANGE, ETAG, RANGE};
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::content::{ContentBody, Verifier};
pub use body::RequestBody;
pub use sign::{Credentials, Signer};

/// Everything a client needs to reach one S3 endpoint.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    pub credentials: Credentials,
    pub region: String,
}

/// A pooled, signing S3 client for one endpoint. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: hyper_util::client::legacy::Client<HttpConnector, RequestBody>,
    base: Arc<str>,
    signer: Signer,
}

/// What a checked GET read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    pub bytes: u64,
    /// False if the read stopped at its deadline before the body ended.
    pub complete: bool,
}

/// One page of a listing, with the size of the answer.
pub struct Listed {
    pub page: xml::ListPage,
    pub bytes: u64,
}

/// RFC 3986's unreserved characters stay; everything else in a query value is escaped.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Largest error or XML answer read into memory.
const SMALL_BODY_LIMIT: usize = 16 << 20;

impl Client {
    pub fn new(endpoint: &Endpoint) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let http = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(512)
            .pool_idle_timeout(Duration::from_secs(60))
            .build(connector);
        Self {
            http,
            base: endpoint.base.clone().into(),
            signer: Signer::new(&endpoint.credentials, &endpoint.region),
        }
    }

    /// Creates `bucket`; one that already exists and is ours is fine.
    pub async fn create_bucket(&self, bucket: &str) -> anyhow::Result<()> {
        let response = self
            .send(Method::PUT, &format!("/{bucket}"), &[], RequestBody::Empty)
            .await?;
        if response.status().is_success() {
            return Ok(());
        }
        let status = response.status();
        let body = small_body(response).await?;
        match xml::error_code(&body).as_deref() {
            Some("BucketAlreadyOwnedByYou") | Some("BucketAlreadyExists") => Ok(()),
            code => bail!("CreateBucket {bucket}: {status} {code:?}"),
        }
    }

    /// Writes object `seed` of `size` bytes to `bucket/key`.
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        seed: u64,
        size: u64,
    ) -> anyhow::Result<()> {
        let body = RequestBody::Content(ContentBody::new(seed, 0, size));
        let headers = [(CONTENT_LENGTH, size.to_string())];
        let response = self
            .send(Method::PUT, &format!("/{bucket}/{key}"), &headers, body)
            .await?;
        expect_status(response, StatusCode::OK, "PutObject").await?;
        Ok(())
    }

    /// Reads `bucket/key`, all of it or `range` (start, length), checking every byte against
    /// object `seed` of `size` bytes. With a deadline, stops reading when it passes.
    pub async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        seed: u64,
        size: u64,
        range: Option<(u64, u64)>,
        deadline: Option<Instant>,
    ) -> anyhow::Result<Read> {
        let mut headers = Vec::new();
        if let Some((start, len)) = range {
            headers.push((RANGE, format!("bytes={start}-{}", start + len - 1)));
        }
        let path = format!("/{bucket}/{key}");
        let response = self
            .send(Method::GET, &path, &headers, RequestBody::Empty)
            .await?;
        let response = match range {
            Some(r @ (start, len)) => expect_range(response, r, size)
                .await
                .with_context(|| format!("range {start}+{len} of {path}"))?,
            None => expect_status(response, StatusCode::OK, "GetObject").await?,
        };
        let (start, len) = range.unwrap_or((0, size));
        read_checked(response, seed, (start, len), deadline).await
    }

    /// The first `len` stored bytes of `bucket/key`, unchecked: for looking at what a proxy
    /// wrote upstream.
    pub async fn get_prefix_raw(&self, bucket: &str, key: &str, len: u64) -> anyhow::Result<Bytes> {
        let headers = [(RANGE, format!("bytes=0-{}", len - 1))];
        let path = format!("/{bucket}/{key}");
        let response = self
            .send(Method::GET, &path, &headers, RequestBody::Empty)
            .await?;
        // rclone answers a range with 200 (see `expect_range`); either way the body is a prefix.
        let response = match response.status() {
            StatusCode::OK | StatusCode::PARTIAL_CONTENT => response,
            _ => expect_status(response, StatusCode::PARTIAL_CONTENT, "GetObject").await?,
        };
        small_body(response).await
    }

    /// One ListObjectsV2 page of `prefix`.
    pub async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        max_keys: u32,
        token: Option<&str>,
    ) -> anyhow::Result<Listed> {
        let mut query = format!("list-type=2&max-keys={max_keys}&prefix={}", encode(prefix));
        if let Some(token) = token {
            query += &format!("&continuation-token={}", encode(token));
        }
        let path = format!("/{bucket}?{query}");
        let response = self
            .send(Method::GET, &path, &[], RequestBody::Empty)
            .await?;
        let response = expect_status(response, StatusCode::OK, "ListObjectsV2").await?;
        let body = small_body(response).await?;
        Ok(Listed {
            page: xml::list_page(&body)?,
            bytes: body.len() as u64,
        })
    }

    /// Starts a multipart upload and returns its upload id.
    pub async fn create_multipart(&self, bucket: &str, key: &str) -> anyhow::Result<String> {
        let path = format!("/{bucket}/{key}?uploads=");
        let response = self
            .send(Method::POST, &path, &[], RequestBody::Empty)
            .await?;
        let response = expect_status(response, StatusCode::OK, "CreateMultipartUpload").await?;
        xml::upload_id(&small_body(response).await?)
    }

    /// Uploads part `number` (from 1) as the bytes `[start, start + len)` of object `seed`;
    /// returns its ETag.
    pub async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        seed: u64,
        (start, len): (u64, u64),
    ) -> anyhow::Result<String> {
        let path = format!(
            "/{bucket}/{key}?partNumber={number}&uploadId={}",
            encode(upload_id)
        );
        let headers = [(CONTENT_LENGTH, len.to_string())];
        let body = RequestBody::Content(ContentBody::new(seed, start, len));
        let response = self.send(Method::PUT, &path, &headers, body).await?;
        let response = expect_status(response, StatusCode::OK, "UploadPart").await?;
        let etag = response
            .headers()
            .get(ETAG)
            .context("UploadPart answer has no ETag")?;
        let etag = etag
            .to_str()
            .context("UploadPart ETag is not text")?
            .to_owned();
        drain(response).await?;
        Ok(etag)
    }

    /// Completes a multipart upload with the ETags of parts 1..=n.
    pub async fn complete_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        etags: &[String],
    ) -> anyhow::Result<()> {
        let path = format!("/{bucket}/{key}?uploadId={}", encode(upload_id));
        let xml_body = xml::complete_body(etags);
        let headers = [(CONTENT_LENGTH, xml_body.len().to_string())];
        let body = RequestBody::Bytes(Some(Bytes::from(xml_body)));
        let response = self.send(Method::POST, &path, &headers, body).await?;
        let response = expect_status(response, StatusCode::OK, "CompleteMultipartUpload").await?;
        xml::complete_ok(&small_body(response).await?)
    }

    /// Signs and sends one request; `path` starts with `/` and may carry a query.
    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(http::HeaderName, String)],
        body: RequestBody,
    ) -> anyhow::Result<Response<Incoming>> {
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        let mut request = builder.body(body).context("building the request")?;
        self.signer.sign(&mut request)?;
        let response = self.http.request(request).await;
        response.with_context(|| format!("request to {}{path}", self.base))
    }
}

/// Passes the response on if it has `want`; otherwise fails with the S3 error code.
async fn expect_status(
    response: Response<Incoming>,
    want: StatusCode,
    operation: &str,
) -> anyhow::Result<Response<Incoming>> {
    if response.status() == want {
        return Ok(response);
    }
    let status = response.status();
    let body = small_body(response).await.unwrap_or_default();
    let code = xml::error_code(&body).unwrap_or_else(|| format!("{} bytes of body", body.len()));
    bail!("{operation}: {status} ({code})")
}

/// Passes on an answer to a ranged GET if it carries exactly the range asked for.
///
/// S3 answers 206. `rclone serve s3` answers 200 with the range's Content-Range and bytes,
/// and proxies pass that on; a 200 is taken only with a Content-Range that matches.
async fn expect_range(
    response: Response<Incoming>,
    (start, len): (u64, u64),
    size: u64,
) -> anyhow::Result<Response<Incoming>> {
    let want = format!("bytes {start}-{}/{size}", start + len - 1);
    let got = response
        .headers()
        .get(CONTENT_RANGE)
        .and_then(|v| v.to_str().ok());
    let ranged = matches!(
        response.status(),
        StatusCode::PARTIAL_CONTENT | StatusCode::OK
    );
    if ranged && got == Some(want.as_str()) {
        return Ok(response);
    }
    if !ranged {
        return expect_status(response, StatusCode::PARTIAL_CONTENT, "GetObject").await;
    }
    bail!(
        "Content-Range {got:?}, expected {want:?} (status {})",
        response.status()
    )
}

/// Streams a body, checking it is exactly `[start, start + len)` of object `seed`.
async fn read_checked(
    response: Response<Incoming>,
    seed: u64,
    (start, len): (u64, u64),
    deadline: Option<Instant>,
) -> anyhow::Result<Read> {
    if let Some(declared) = response.headers().get(CONTENT_LENGTH) {
        let declared: u64 = declared.to_str()?.parse().context("Content-Length")?;
        if declared != len {
            bail!("Content-Length {declared}, expected {len}");
        }
    }
    let mut verifier = Verifier::new(seed, start, len);
    let mut body = response.into_body();
    let mut read = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.context("reading the body")?;
        if let Some(data) = frame.data_ref() {
            verifier.update(data)?;
            read += data.len() as u64;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) && read < len {
            return Ok(Read {
                bytes: read,
                complete: false,
            });
        }
    }
    verifier.finish(start)?;
    Ok(Read {
        bytes: read,
        complete: true,
    })
}

/// Reads a body that is expected to be small (XML, an error).
async fn small_body(response: Response<Incoming>) -> anyhow::Result<Bytes> {
    let limited = http_body_util::Limited::new(response.into_body(), SMALL_BODY_LIMIT);
    let collected = limited
        .collect()
        .await
        .map_err(|e| anyhow::anyhow!("reading the body: {e}"))?;
    Ok(collected.to_bytes())
}

/// Reads and drops a body so the connection can be reused.
async fn drain(response: Response<Incoming>) -> anyhow::Result<()> {
    small_body(response).await.map(drop)
}

fn encode(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}
