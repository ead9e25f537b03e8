//! The upstream store: re-signs each request with the proxy's own credentials and sends it.
//!
//! Every request reaches the store path-style (`/bucket/key?query`) with the key exactly as the
//! client percent-encoded it, signed with SigV4 over `UNSIGNED-PAYLOAD` so bodies stream without
//! being hashed twice. The client's own authentication, checksum and aws-chunked headers never
//! reach the store; the handlers decide which headers to forward.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4::SigningParams;
use http::{HeaderMap, HeaderValue, Method, Request, Response, Uri};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::body::ProxyBody;
use crate::config::{Config, ConfigError, SecretString};
use crate::error::S3Error;

/// A connection pool to the store, and the credentials to sign for it.
pub struct Upstream {
    client: Client<HttpsConnector<HttpConnector>, ProxyBody>,
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
    region: String,
    identity: aws_smithy_runtime_api::client::identity::Identity,
    timeout: Duration,
}

/// One request to the store.
pub struct UpstreamRequest {
    pub method: Method,
    /// Path-style, percent-encoded: `/bucket/key?query`.
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: ProxyBody,
}

impl Upstream {
    pub fn new(config: &Config, secret: SecretString) -> Result<Self, ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            field: "upstream".into(),
            reason,
        };
        let uri: Uri = config
            .upstream
            .endpoint
            .parse()
            .map_err(|e| invalid(format!("{e}")))?;
        let scheme = uri.scheme().cloned().unwrap_or(http::uri::Scheme::HTTP);
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| invalid("no host".into()))?;
        let tls = tls_config(config.upstream.ca_file.as_deref()).map_err(invalid)?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(256)
            .build(connector);
        let creds = Credentials::new(
            config.upstream.access_key_id.clone(),
            secret.expose().to_owned(),
            None,
            None,
            "cloak-config",
        );
        Ok(Self {
            client,
            scheme,
            authority,
            region: config.upstream.region.clone(),
            identity: creds.into(),
            timeout: config.upstream_timeout(),
        })
    }

    /// Signs and sends a request. Requests without a body are bounded by the configured timeout
    /// until the response headers arrive; uploads are not, since a slow client sets their pace.
    pub async fn call(&self, req: UpstreamRequest) -> Result<Response<Incoming>, S3Error> {
        let what = format!("{} {}", req.method, req.path_and_query);
        let bounded = req
            .headers
            .get(http::header::CONTENT_LENGTH)
            .is_none_or(|v| v.as_bytes() == b"0");
        let pending = self.client.request(self.signed(req));
        let result = if bounded {
            match tokio::time::timeout(self.timeout, pending).await {
                Ok(result) => result,
                Err(_) => {
                    tracing::warn!(request = %what, "upstream request timed out");
                    return Err(S3Error::slow_down(
                        "The storage backend did not answer in time",
                    ));
                }
            }
        } else {
            pending.await
        };
        result.map_err(|e| {
            tracing::warn!(request = %what, error = %e, "upstream request failed");
            S3Error::upstream("The storage backend could not be reached")
        })
    }

    fn signed(&self, req: UpstreamRequest) -> Request<ProxyBody> {
        let uri = Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(req.path_and_query.as_str())
            .build()
            .unwrap_or_else(|_| Uri::from_static("http://invalid/"));
        let mut request = Request::new(req.body);
        *request.method_mut() = req.method;
        *request.uri_mut() = uri;
        *request.headers_mut() = req.headers;
        let host =
            HeaderValue::from_str(self.authority.as_str()).expect("authority is a valid header");
        request.headers_mut().insert(http::header::HOST, host);
        self.sign(&mut request);
        request
    }

    fn sign(&self, request: &mut Request<ProxyBody>) {
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let params = SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name("s3")
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .expect("all signing parameters are set");
        let headers = request
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)));
        let uri = request.uri().to_string();
        let signable = SignableRequest::new(
            request.method().as_str(),
            &uri,
            headers,
            SignableBody::UnsignedPayload,
        );
        match signable.and_then(|s| sign(s, &params.into())) {
            Ok(out) => out.into_parts().0.apply_to_request_http1x(request),
            Err(e) => tracing::error!(error = %e, "could not sign an upstream request"),
        }
    }
}

fn tls_config(ca_file: Option<&std::path::Path>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| format!("ca_file {}: {e}", path.display()))?;
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            let cert = cert.map_err(|e| format!("ca_file {}: {e}", path.display()))?;
            roots
                .add(cert)
                .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
