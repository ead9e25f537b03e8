//! The embedded store driven over HTTP with requests signed by the `aws-sigv4` crate, the way
//! the proxy's upstream client will reach it.

use std::io;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Empty, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use md5::{Digest as _, Md5};
use tempfile::TempDir;

use super::EmbeddedStore;

pub(super) const ACCESS_KEY: &str = "DEVSTOREACCESSKEY";
pub(super) const SECRET_KEY: &str = "dev-store-secret-key";

pub(super) type TestBody = BoxBody<Bytes, io::Error>;

/// A running store in a fresh directory, and a client that signs for it.
pub(super) struct Harness {
    pub(super) store: EmbeddedStore,
    pub(super) dir: TempDir,
    client: Client<HttpConnector, TestBody>,
}

/// What came back: status, headers and the whole body.
pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
}

/// One request to send: method, path and query, extra headers, body, and the secret to sign with.
pub(super) struct Call<'a> {
    pub(super) method: &'a str,
    pub(super) target: &'a str,
    pub(super) headers: &'a [(&'a str, &'a str)],
    pub(super) body: Bytes,
    pub(super) secret: &'a str,
}

impl Harness {
    pub(super) async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let data = dir.path().join("data");
        let store = EmbeddedStore::start(&data, 0, ACCESS_KEY, SECRET_KEY)
            .await
            .expect("store starts");
        let client = Client::builder(TokioExecutor::new()).build_http();
        Self { store, dir, client }
    }

    /// A harness with bucket `bkt` already created.
    pub(super) async fn with_bucket() -> Self {
        let h = Self::start().await;
        let created = h.send(Call::new("PUT", "/bkt")).await;
        assert_eq!(
            created.status,
            StatusCode::OK,
            "create bucket: {:?}",
            created.body
        );
        h
    }

    pub(super) async fn send(&self, call: Call<'_>) -> Reply {
        let payload = SignableBody::Bytes(&call.body);
        let request = self.signed(&call, payload, full(call.body.clone()));
        self.send_request(request).await
    }

    /// The request for `call`, signed for `payload` and carrying `body` instead of `call.body`.
    pub(super) fn signed(
        &self,
        call: &Call<'_>,
        payload: SignableBody<'_>,
        body: TestBody,
    ) -> Request<TestBody> {
        let url = format!("{}{}", self.store.endpoint(), call.target);
        let host = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .expect("endpoint has a host")
            .to_owned();
        let mut request = Request::builder()
            .method(call.method)
            .uri(&url)
            .header("host", host);
        for (name, value) in call.headers {
            request = request.header(*name, *value);
        }
        let mut request = request.body(body).expect("valid test request");
        sign_request(&mut request, &url, payload, call.secret);
        request
    }

    pub(super) fn client(&self) -> Client<HttpConnector, TestBody> {
        self.client.clone()
    }

    pub(super) async fn send_request(&self, request: Request<TestBody>) -> Reply {
        let response = self.client.request(request).await.expect("store answers");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("whole body").to_bytes();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }
}

impl<'a> Call<'a> {
    pub(super) fn new(method: &'a str, target: &'a str) -> Self {
        Self {
            method,
            target,
            headers: &[],
            body: Bytes::new(),
            secret: SECRET_KEY,
        }
    }

    pub(super) fn headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Self {
        self.headers = headers;
        self
    }

    pub(super) fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }
}

impl Reply {
    pub(super) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
            .to_str()
            .expect("ascii header")
    }

    pub(super) fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("utf-8 body")
    }
}

pub(super) fn full(bytes: Bytes) -> TestBody {
    if bytes.is_empty() {
        return Empty::new().map_err(|never| match never {}).boxed();
    }
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

/// Every element's text for `tag`, in order; enough for the flat XML that S3 answers with.
pub(super) fn xml_values<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    xml.split(open.as_str())
        .skip(1)
        .filter_map(|rest| rest.split(close.as_str()).next())
        .collect()
}

/// The quoted hex MD5 that S3 uses as the ETag of a single-part object.
pub(super) fn md5_etag(data: &[u8]) -> String {
    format!("\"{}\"", hex::encode(Md5::digest(data)))
}

/// Signs like an S3 SDK does: single percent-encoding, no path normalisation, and an
/// `x-amz-content-sha256` header.
fn sign_request(
    request: &mut Request<TestBody>,
    url: &str,
    payload: SignableBody<'_>,
    secret: &str,
) {
    let identity: Identity = Credentials::new(ACCESS_KEY, secret, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .expect("complete params")
        .into();

    let headers = request
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str(), v.to_str().expect("ascii test header")));
    let method = request.method().as_str();
    let signable = SignableRequest::new(method, url, headers, payload).expect("signable");
    let (instructions, _) = sign(signable, &params).expect("signed").into_parts();
    instructions.apply_to_request_http1x(request);
}

#[tokio::test]
async fn unsigned_and_wrongly_signed_requests_are_refused() {
    let h = Harness::with_bucket().await;

    let unsigned = Request::builder()
        .method("GET")
        .uri(format!("{}/bkt?list-type=2", h.store.endpoint()))
        .body(full(Bytes::new()))
        .expect("valid request");
    let reply = h.send_request(unsigned).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());

    let mut wrong = Call::new("PUT", "/bkt/k").body("data");
    wrong.secret = "not-the-secret";
    let reply = h.send(wrong).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(xml_values(reply.text(), "Code"), ["SignatureDoesNotMatch"]);

    let reply = h.send(Call::new("HEAD", "/bkt/k")).await;
    assert_eq!(
        reply.status,
        StatusCode::NOT_FOUND,
        "refused PUT stored nothing"
    );
    h.store.shutdown().await;
}

#[tokio::test]
async fn start_fails_on_a_data_dir_that_is_a_file() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").expect("write file");
    let err = EmbeddedStore::start(&file, 0, ACCESS_KEY, SECRET_KEY)
        .await
        .expect_err("a file is not a data directory");
    assert!(matches!(err, super::DevError::DataDir { .. }), "{err}");
}
