//! SigV4 request signing with `aws-sigv4`, the way S3 clients sign over plain HTTP.
//!
//! Every request is signed with `UNSIGNED-PAYLOAD`: the signature still covers the method,
//! path, query, host and date, but the client never hashes the body, so a 1 GiB PUT costs the
//! client nothing beyond producing its bytes.

use std::fmt;
use std::time::SystemTime;

use anyhow::Context as _;
use aws_credential_types::Credentials as AwsCredentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4::SigningParams;
use aws_smithy_runtime_api::client::identity::Identity;

/// An access key pair. The secret is kept out of `Debug` output.
#[derive(Clone)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
}

/// Signs requests for one access key and region.
#[derive(Clone)]
pub struct Signer {
    identity: Identity,
    region: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

impl Signer {
    pub fn new(credentials: &Credentials, region: &str) -> Self {
        let aws = AwsCredentials::new(
            &credentials.access_key,
            &credentials.secret_key,
            None,
            None,
            "cloak-loadtest",
        );
        Self {
            identity: aws.into(),
            region: region.to_owned(),
        }
    }

    /// Adds the SigV4 headers to `request`, whose URI must be absolute and whose Host header,
    /// if set, must be what the server will see.
    pub fn sign<B>(&self, request: &mut http::Request<B>) -> anyhow::Result<()> {
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let params: aws_sigv4::http_request::SigningParams<'_> = SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name("s3")
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .context("SigV4 parameters")?
            .into();

        let uri = request.uri().to_string();
        let headers = request
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str(), v.to_str().ok()?)));
        let method = request.method().as_str();
        let signable = SignableRequest::new(method, &uri, headers, SignableBody::UnsignedPayload)
            .context("request cannot be signed")?;
        let (instructions, _signature) = sign(signable, &params)
            .context("SigV4 signing")?
            .into_parts();
        instructions.apply_to_request_http1x(request);
        Ok(())
    }
}
