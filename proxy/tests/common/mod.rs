//! The harness shared by the integration tests: an embedded store and a Cloak proxy in front
//! of it, both on loopback port 0, living in one temporary directory for one test.
//!
//! The directory holds the store's buckets (`store/`), the keyring, the configuration and the
//! two secrets (mode 0600). Tests reach the proxy through the AWS SDK ([`Cloak::s3`]) or raw
//! HTTP ([`Cloak::raw`], [`raw`]), and the stored bytes directly ([`Cloak::stored_path`]).

#![allow(dead_code)]

pub mod raw;
pub mod signing;

use std::fs;
use std::io::Write as _;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::builders::GetObjectFluentBuilder;
use aws_sdk_s3::operation::head_object::builders::HeadObjectFluentBuilder;
use aws_sdk_s3::primitives::ByteStream;
use aws_sigv4::http_request::SignableBody;
use cloak_envelope::layout::Layout;
use cloak_proxy::config::Config;
use cloak_proxy::dev::EmbeddedStore;
use cloak_proxy::hooks::Hooks;
use cloak_proxy::server;
use cloak_proxy::state::App;
use md5::{Digest as _, Md5};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const REGION: &str = "us-east-1";
/// The bucket every test works in; [`Cloak::start`] creates it.
pub const BUCKET: &str = "bucket";
pub const ACCESS_KEY: &str = "CLOAKTESTCLIENT";
pub const SECRET_KEY: &str = "cloak-test-client-secret-0123456789abcdef";
pub const UPSTREAM_ACCESS_KEY: &str = "CLOAKTESTUPSTREAM";
pub const UPSTREAM_SECRET_KEY: &str = "cloak-test-upstream-secret-0123456789";
/// The segment size Cloak writes with by default; the tests' offsets are planned around it.
pub const SEGMENT: usize = 64 * 1024;

/// A running store and proxy. Call [`Cloak::stop`] at the end of a test; a test that panics
/// instead leaves both to die with its runtime.
pub struct Cloak {
    /// `http://127.0.0.1:PORT` of the proxy.
    pub endpoint: String,
    /// `http://127.0.0.1:PORT` of the embedded store, for requests that bypass Cloak.
    pub store_endpoint: String,
    /// The store's data directory: object `k` of bucket `b` is the file `b/k` under it.
    pub store_dir: PathBuf,
    /// The proxy's state, for its key-provider metrics.
    pub app: Arc<App>,
    dir: TempDir,
    store: EmbeddedStore,
    stop: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

/// A successful GET, body and all.
#[derive(Debug)]
pub struct Got {
    pub etag: Option<String>,
    pub content_length: Option<i64>,
    pub content_range: Option<String>,
    pub body: Vec<u8>,
}

/// How an SDK call failed, as seen on the wire.
#[derive(Debug)]
pub struct Failure {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// The `x-amz-request-id` response header.
    pub request_id: String,
    pub body: String,
}

impl Cloak {
    /// Starts a store and a proxy in a fresh directory, and creates [`BUCKET`] through it.
    pub async fn start() -> Self {
        Self::start_with_hooks(Hooks::default()).await
    }

    /// [`Cloak::start`] with a `[keys]` section of the test's own, made from the path of a
    /// keyring (already created, with master key `default`) in the test's directory.
    pub async fn start_with_keys(keys: impl FnOnce(&Path) -> String) -> Self {
        Self::start_with(keys, Hooks::default()).await
    }

    /// [`Cloak::start`] with the test's own hooks, such as an audit sink that keeps records.
    pub async fn start_with_hooks(hooks: Hooks) -> Self {
        let keys = |ring: &Path| format!("[keys]\nkeyring_path = \"{}\"\n", ring.display());
        Self::start_with(keys, hooks).await
    }

    async fn start_with(keys: impl FnOnce(&Path) -> String, hooks: Hooks) -> Self {
        init_tracing();
        let dir = tempfile::tempdir().expect("temporary directory");
        let store_dir = dir.path().join("store");
        let store = EmbeddedStore::start(&store_dir, 0, UPSTREAM_ACCESS_KEY, UPSTREAM_SECRET_KEY);
        let store = store.await.expect("the embedded store starts");

        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let addr = listener.local_addr().expect("bound address");
        let config = write_config(dir.path(), addr, &store.endpoint(), keys);
        let app = App::from_config(&config, hooks).await;
        let app = app.expect("proxy state builds");
        let state = app.clone();

        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let server = tokio::spawn(server::serve(app, listener, None, shutdown));
        let cloak = Self {
            endpoint: format!("http://{addr}"),
            store_endpoint: store.endpoint(),
            store_dir,
            app: state,
            dir,
            store,
            stop,
            server,
        };
        let created = cloak.s3().create_bucket().bucket(BUCKET).send().await;
        created.expect("create the bucket through the proxy");
        cloak
    }

    /// Stops the proxy (which must drain promptly) and then the store.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let drained = tokio::time::timeout(Duration::from_secs(10), self.server).await;
        let ended = drained.expect("the proxy drains within 10 s of shutdown");
        ended.expect("the proxy task ends cleanly");
        self.store.shutdown().await;
        drop(self.dir);
    }

    /// An SDK client for the proxy, signing with the configured client credentials.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        self.s3_signing_with(SECRET_KEY)
    }

    /// An SDK client for the proxy that signs with `secret` instead of the real one.
    pub fn s3_signing_with(&self, secret: &str) -> aws_sdk_s3::Client {
        sdk_client(&self.endpoint, ACCESS_KEY, secret)
    }

    /// An SDK client for the store itself, bypassing Cloak, with the proxy's upstream keys.
    pub fn store_s3(&self) -> aws_sdk_s3::Client {
        sdk_client(
            &self.store_endpoint,
            UPSTREAM_ACCESS_KEY,
            UPSTREAM_SECRET_KEY,
        )
    }

    /// A GetObject of `key`, to add headers to and [`fetch`].
    pub fn get_object(&self, key: &str) -> GetObjectFluentBuilder {
        self.s3().get_object().bucket(BUCKET).key(key)
    }

    /// A HeadObject of `key`.
    pub fn head_object(&self, key: &str) -> HeadObjectFluentBuilder {
        self.s3().head_object().bucket(BUCKET).key(key)
    }

    /// PUTs `body` as `key` through the proxy with the SDK, and checks the answered ETag.
    pub async fn put(&self, key: &str, body: &[u8]) {
        let put = self.s3().put_object().bucket(BUCKET).key(key);
        let out = put.body(ByteStream::from(body.to_vec())).send().await;
        let out = out.unwrap_or_else(|e| panic!("PUT {key}: {e:?}"));
        assert_eq!(
            out.e_tag(),
            Some(md5_etag(body).as_str()),
            "PUT ETag of {key}"
        );
    }

    /// GETs the whole of `key` through the proxy with the SDK.
    pub async fn get(&self, key: &str) -> Vec<u8> {
        let got = fetch(self.get_object(key)).await;
        got.unwrap_or_else(|f| panic!("GET {key}: {f:?}")).body
    }

    /// Sends a raw request to the proxy, SigV4-signed over the hex SHA-256 of `body`.
    pub async fn raw(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> raw::Reply {
        let full = raw::full(body.to_vec());
        let mut request = signing::request(method, &self.endpoint, target, headers, full);
        let payload = SignableBody::Bytes(body);
        signing::sign_v4(&mut request, payload, SECRET_KEY, SystemTime::now());
        raw::send(request).await
    }

    /// Where the store keeps the bytes of `key`.
    pub fn stored_path(&self, key: &str) -> PathBuf {
        self.store_dir.join(BUCKET).join(key)
    }

    /// The stored bytes of `key`, read straight from the store's directory.
    pub fn stored(&self, key: &str) -> Vec<u8> {
        let path = self.stored_path(key);
        fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// The configuration file the proxy was started with, for `cloak --config`.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("cloak.toml")
    }

    /// A path for the test's own files, outside the store's directory.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Every file in the store's directory, metadata sidecars included.
    pub fn store_files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        walk(&self.store_dir, &mut out);
        out
    }

    /// Proves the proxy still answers: a small object goes in and comes back out.
    pub async fn still_serves(&self) {
        let body = b"the proxy still serves after bad input".to_vec();
        self.put("still-serving", &body).await;
        assert_eq!(self.get("still-serving").await, body);
    }
}

/// Sends a GET and reads its whole body, or says how it failed.
pub async fn fetch(get: GetObjectFluentBuilder) -> Result<Got, Failure> {
    let out = get.send().await.map_err(|e| failure(&e))?;
    let etag = out.e_tag().map(str::to_owned);
    let content_length = out.content_length();
    let content_range = out.content_range().map(str::to_owned);
    let body = out
        .body
        .collect()
        .await
        .expect("the whole body")
        .into_bytes();
    let body = body.to_vec();
    Ok(Got {
        etag,
        content_length,
        content_range,
        body,
    })
}

/// Reads the HTTP status, S3 error code and body of a failed SDK call.
pub fn failure<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Failure {
    let raw = err.raw_response();
    let header = |name| raw.and_then(|r| r.headers().get(name)).unwrap_or_default();
    let body = raw.and_then(|r| r.body().bytes()).unwrap_or_default();
    Failure {
        status: raw.map_or(0, |r| r.status().as_u16()),
        code: err.code().unwrap_or_default().to_owned(),
        message: err.message().unwrap_or_default().to_owned(),
        request_id: header("x-amz-request-id").to_owned(),
        body: String::from_utf8_lossy(body).into_owned(),
    }
}

/// The stored size of a single-PUT object of `plain` bytes, in Cloak's default layout.
pub fn stored_len(plain: usize) -> u64 {
    let segment = u32::try_from(SEGMENT).expect("the segment size fits u32");
    Layout::new(segment).stored_len(plain as u64)
}

/// A size as the SDK reports it.
pub fn sdk_len(n: usize) -> Option<i64> {
    Some(i64::try_from(n).expect("test sizes fit i64"))
}

/// `"<hex md5>"`, the ETag S3 gives a single-part object.
pub fn md5_etag(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(Md5::digest(body)))
}

/// Recognisable text: numbered 30-byte lines, so any 32 bytes of it occur in one place only.
pub fn plaintext(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut line = 0u64;
    while out.len() < len {
        out.extend_from_slice(format!("cloak plaintext line {line:08}\n").as_bytes());
        line += 1;
    }
    out.truncate(len);
    out
}

/// The offset of the first 16-byte window of `plain` that occurs anywhere in `stored`.
pub fn shared_window(plain: &[u8], stored: &[u8]) -> Option<usize> {
    const W: usize = 16;
    let seen: std::collections::HashSet<&[u8]> = stored.windows(W).collect();
    plain.windows(W).position(|w| seen.contains(w))
}

pub fn sdk_client(endpoint: &str, access_key: &str, secret: &str) -> aws_sdk_s3::Client {
    let credentials = Credentials::new(access_key, secret, None, None, "cloak-tests");
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(credentials)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        // Errors are what several tests are after; retrying them only slows the suite.
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// Writes the keyring, the secrets and the configuration file, and loads the configuration
/// the way `cloak serve --config` does.
fn write_config(
    dir: &Path,
    listen: SocketAddr,
    store: &str,
    keys: impl FnOnce(&Path) -> String,
) -> Config {
    let keyring = dir.join("keyring.toml");
    cloak_kms::Keyring::open_or_create(&keyring, "default").expect("the keyring is created");
    let client_secret = write_secret(dir, "client-secret", SECRET_KEY);
    let upstream_secret = write_secret(dir, "upstream-secret", UPSTREAM_SECRET_KEY);
    let text = format!(
        "[server]\nlisten = \"{listen}\"\n\n\
         [upstream]\nendpoint = \"{store}\"\nregion = \"{REGION}\"\n\
         access_key_id = \"{UPSTREAM_ACCESS_KEY}\"\nsecret_access_key_file = \"{}\"\n\n\
         [[clients]]\naccess_key_id = \"{ACCESS_KEY}\"\nname = \"tests\"\n\
         secret_key_file = \"{}\"\n\n{}",
        upstream_secret.display(),
        client_secret.display(),
        keys(&keyring),
    );
    let path = dir.join("cloak.toml");
    fs::write(&path, text).expect("write the config");
    Config::load(&path).expect("the test config is valid")
}

fn write_secret(dir: &Path, name: &str, secret: &str) -> PathBuf {
    let path = dir.join(name);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .expect("create a secret file");
    file.write_all(secret.as_bytes()).expect("write a secret");
    path
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir)
        .expect("read the store directory")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// `CLOAK_LOG=debug cargo test ...` shows the proxy's logs for a failing test.
fn init_tracing() {
    if let Ok(filter) = std::env::var("CLOAK_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
}
