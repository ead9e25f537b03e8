//! A Cloak of the test's own making, for tests the shared harness cannot express: another
//! store behind it (moto, for versions) or other hooks (a policy). It runs until the test's
//! runtime ends.

#![allow(dead_code)]

use std::path::Path;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use cloak_proxy::config::Config;
use cloak_proxy::hooks::Hooks;
use cloak_proxy::state::App;
use tokio::net::TcpListener;

pub const ACCESS_KEY: &str = "CLOAKTESTCLIENT";
pub const SECRET_KEY: &str = "cloak-test-client-secret-0123456789abcdef";

/// The store Cloak signs its requests to.
pub struct Store<'a> {
    pub endpoint: &'a str,
    pub access_key: &'a str,
    pub secret_key: &'a str,
}

/// Starts Cloak in front of `store`, configured in `dir`, with `hooks`; its endpoint.
pub async fn start(dir: &Path, store: &Store<'_>, hooks: Hooks) -> String {
    let keyring = dir.join("keyring.toml");
    cloak_kms::Keyring::open_or_create(&keyring, "default").expect("keyring");
    let client = secret(dir, "client-secret", SECRET_KEY);
    let upstream = secret(dir, "upstream-secret", store.secret_key);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let text = format!(
        "[server]\nlisten = \"{addr}\"\n\n[upstream]\nendpoint = \"{}\"\n\
         region = \"us-east-1\"\naccess_key_id = \"{}\"\n\
         secret_access_key_file = \"{}\"\n\n[[clients]]\naccess_key_id = \"{ACCESS_KEY}\"\n\
         name = \"tests\"\nsecret_key_file = \"{}\"\n\n[keys]\nkeyring_path = \"{}\"\n",
        store.endpoint,
        store.access_key,
        upstream.display(),
        client.display(),
        keyring.display()
    );
    let path = dir.join("cloak.toml");
    std::fs::write(&path, text).expect("config");
    let config = Config::load(&path).expect("valid config");
    let app = App::from_config(&config, hooks).await.expect("proxy state");
    let serve = cloak_proxy::server::serve(app, listener, None, std::future::pending());
    tokio::spawn(serve);
    format!("http://{addr}")
}

/// An SDK client for a Cloak started by [`start`].
pub fn client(endpoint: &str) -> aws_sdk_s3::Client {
    let credentials = Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "tests");
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(credentials)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

fn secret(dir: &Path, name: &str, value: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    std::fs::write(&path, value).expect("write a secret");
    let mode = std::fs::Permissions::from_mode(0o600);
    std::fs::set_permissions(&path, mode).expect("secret mode");
    path
}
