//! Signing raw requests the way SDKs do, written for the tests and independent of the proxy's
//! own verifier: the request signature comes from the `aws-sigv4` crate, and the aws-chunked
//! chunk signature chain and body framing are built here by hand.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4::SigningParams;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use http::Request;
use sha2::{Digest as _, Sha256};
use time::macros::format_description;
use time::OffsetDateTime;

use super::raw::Body;
use super::{ACCESS_KEY, REGION};

/// SHA-256 of nothing, which every chunk string to sign carries.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A request to `{endpoint}{target}` with the given headers, not yet signed.
pub fn request(
    method: &str,
    endpoint: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Body,
) -> Request<Body> {
    let url = format!("{endpoint}{target}");
    let host = endpoint.trim_start_matches("http://");
    let mut builder = Request::builder()
        .method(method)
        .uri(&url)
        .header("host", host);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(body).expect("a valid test request")
}

/// Signs `request` in place with SigV4 (Authorization header, `x-amz-content-sha256` set to
/// what `payload` declares) and returns the signature, the seed of any chunk chain.
pub fn sign_v4(
    request: &mut Request<Body>,
    payload: SignableBody<'_>,
    secret: &str,
    time: SystemTime,
) -> String {
    let identity: Identity = Credentials::new(ACCESS_KEY, secret, None, None, "tests").into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("s3")
        .time(time)
        .settings(settings)
        .build()
        .expect("all signing parameters are set")
        .into();
    let url = request.uri().to_string();
    let headers = request
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str(), v.to_str().expect("test headers are text")));
    let signable = SignableRequest::new(request.method().as_str(), &url, headers, payload)
        .expect("a signable request");
    let (instructions, signature) = sign(signable, &params).expect("signing works").into_parts();
    instructions.apply_to_request_http1x(request);
    signature
}

/// The chunk signature chain of `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, seeded with the request
/// signature: each chunk's signature covers its data and the signature before it.
pub struct ChunkChain {
    key: [u8; 32],
    amz_date: String,
    scope: String,
    previous: String,
}

impl ChunkChain {
    pub fn new(secret: &str, time: SystemTime, seed: String) -> Self {
        let time = OffsetDateTime::from(time);
        let date = time
            .format(format_description!("[year][month][day]"))
            .expect("date");
        let clock = time
            .format(format_description!("[hour][minute][second]"))
            .expect("time");
        Self {
            key: signing_key(secret, &date),
            amz_date: format!("{date}T{clock}Z"),
            scope: format!("{date}/{REGION}/s3/aws4_request"),
            previous: seed,
        }
    }

    /// Signs the next chunk (the empty final chunk included).
    pub fn next(&mut self, data: &[u8]) -> String {
        let to_sign = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{EMPTY_SHA256}\n{}",
            self.amz_date,
            self.scope,
            self.previous,
            hex::encode(Sha256::digest(data)),
        );
        self.previous = hex::encode(hmac(&self.key, to_sign.as_bytes()));
        self.previous.clone()
    }

    /// Signs the trailer after the final chunk; `canonical` is each trailer as `name:value\n`.
    pub fn trailer(&mut self, canonical: &[u8]) -> String {
        let to_sign = format!(
            "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}",
            self.amz_date,
            self.scope,
            self.previous,
            hex::encode(Sha256::digest(canonical)),
        );
        self.previous = hex::encode(hmac(&self.key, to_sign.as_bytes()));
        self.previous.clone()
    }
}

/// `data` framed as signed aws-chunked, `chunk` bytes per chunk, then the final empty chunk.
pub fn signed_chunks(data: &[u8], chunk: usize, chain: &mut ChunkChain) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 256);
    for piece in data.chunks(chunk).chain([&[][..]]) {
        let signature = chain.next(piece);
        out.extend_from_slice(
            format!("{:x};chunk-signature={signature}\r\n", piece.len()).as_bytes(),
        );
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// `data` framed as unsigned aws-chunked, then the final chunk and the trailer lines.
pub fn unsigned_chunks(data: &[u8], chunk: usize, trailers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 256);
    for piece in data.chunks(chunk) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n");
    for (name, value) in trailers {
        out.extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// The base64 CRC32 that `x-amz-checksum-crc32` carries.
pub fn crc32_base64(data: &[u8]) -> String {
    let crc = crc32fast::hash(data);
    base64::engine::general_purpose::STANDARD.encode(crc.to_be_bytes())
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// SigV4's derived key: the secret narrowed to one day, region and service.
fn signing_key(secret: &str, date: &str) -> [u8; 32] {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, REGION.as_bytes());
    let k_service = hmac(&k_region, b"s3");
    hmac(&k_service, b"aws4_request")
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}
