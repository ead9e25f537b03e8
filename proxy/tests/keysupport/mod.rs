//! What the key-provider tests share: a real OpenBao dev server (the kms crate's test
//! support, reused as is), the `[keys]` sections that point Cloak at it, and reading the
//! envelope header an object was stored with.

#![allow(dead_code, unused_imports)]

#[path = "../../../kms/tests/support/bao.rs"]
pub mod bao;
#[path = "../../../kms/tests/support/k8s.rs"]
pub mod k8s;
#[path = "../../../kms/tests/support/moto.rs"]
pub mod moto;
#[path = "../../../kms/tests/support/process.rs"]
pub mod process;

use std::path::{Path, PathBuf};

use cloak_envelope::Header;

use crate::common::{Cloak, BUCKET};
pub use bao::Bao;
pub use moto::Moto;

/// Writes `secret` to a 0600 file named `name` in the test's directory.
pub fn secret_file(cloak_dir: &Path, name: &str, secret: &str) -> PathBuf {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = cloak_dir.join(name);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .expect("create a secret file");
    file.write_all(secret.as_bytes()).expect("write a secret");
    path
}

/// A `[keys.providers.NAME]` table for `bao`, logging in with its root token, and failing
/// fast (two attempts of two seconds) so that outage tests stay short.
pub fn vault_table(name: &str, bao: &Bao, token_file: &Path) -> String {
    format!(
        "[keys.providers.{name}]\nkind = \"vault\"\naddress = \"{}\"\n\
         timeout_secs = 2\nattempts = 2\n\
         auth = {{ method = \"token\", token_file = \"{}\" }}\n",
        bao.addr,
        token_file.display()
    )
}

/// `[keys]` with `bao` as the default provider (master key `aead`) and the test keyring
/// defined too, under its simple-form name `keyring`.
pub fn vault_keys(bao: &Bao, ring: &Path, extra: &str) -> String {
    let dir = ring.parent().expect("the keyring is in the test directory");
    let token = secret_file(dir, "vault-token", &bao.root_token);
    format!(
        "[keys]\nprovider = \"bao\"\ndefault_key = \"aead\"\nkeyring_path = \"{}\"\n{extra}\n{}",
        ring.display(),
        vault_table("bao", bao, &token)
    )
}

/// The envelope header `key` is stored with, read from the store directly.
pub async fn stored_header(cloak: &Cloak, key: &str) -> Header {
    let head = cloak
        .store_s3()
        .head_object()
        .bucket(BUCKET)
        .key(key)
        .send();
    let head = head
        .await
        .unwrap_or_else(|e| panic!("HEAD {key} at the store: {e:?}"));
    let value = head
        .metadata()
        .and_then(|m| m.get("cloak"))
        .unwrap_or_else(|| panic!("{key} has no envelope header"));
    Header::decode(value).expect("the stored header parses")
}

/// Whether the store holds `key` at all.
pub async fn stored_at_all(cloak: &Cloak, key: &str) -> bool {
    let head = cloak
        .store_s3()
        .head_object()
        .bucket(BUCKET)
        .key(key)
        .send();
    head.await.is_ok()
}

/// What a run of the `cloak` binary printed, and whether it succeeded.
#[derive(Debug)]
pub struct Ran {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the `cloak` binary built with these tests.
pub async fn cloak_cli(args: &[&str]) -> Ran {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_cloak"))
        .args(args)
        .env("CLOAK_LOG", "warn")
        .output()
        .await
        .expect("run the cloak binary");
    Ran {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `cloak keys ARGS --config <the proxy's config>`, which must succeed.
pub async fn keys_cli(cloak: &Cloak, args: &[&str]) -> Ran {
    let config = cloak.config_path();
    let mut all = vec!["keys"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--config", config.to_str().expect("utf-8 path")]);
    let ran = cloak_cli(&all).await;
    assert!(ran.ok, "cloak {all:?} failed: {ran:?}");
    ran
}
