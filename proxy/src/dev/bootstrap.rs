//! `cloak serve --dev`: everything a first run needs, in one data directory.
//!
//! The directory holds the embedded store's buckets (`store/`), the local keyring
//! (`keyring.toml`), the client's secret key (`client-secret`) and this run's upstream secret
//! (`upstream-secret`), all secrets at mode 0600. The client secret is printed once, when it is
//! created, and never written to logs.

use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use super::DevError;

/// The access key id of the dev client.
pub const DEV_ACCESS_KEY: &str = "CLOAKDEVACCESSKEY";
/// A bucket created on first start so the first copy has somewhere to go.
pub const DEV_BUCKET: &str = "demo";

/// The files of a dev data directory.
pub struct DevDir {
    pub root: PathBuf,
    pub store: PathBuf,
    pub keyring: PathBuf,
    pub client_secret: PathBuf,
    pub upstream_secret: PathBuf,
    /// The client secret, when this run created it (to print once).
    pub new_client_secret: Option<String>,
}

impl DevDir {
    /// Creates the directory layout, the demo bucket and the secrets that are missing.
    pub fn prepare(root: &Path) -> Result<Self, DevError> {
        let io = |source| DevError::DataDir {
            path: root.to_owned(),
            source,
        };
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root)
            .map_err(io)?;
        let store = root.join("store");
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(store.join(DEV_BUCKET))
            .map_err(io)?;
        let client_secret = root.join("client-secret");
        let new_client_secret = if client_secret.exists() {
            None
        } else {
            let secret = random_secret();
            write_private(&client_secret, &secret).map_err(io)?;
            Some(secret)
        };
        let upstream_secret = root.join("upstream-secret");
        write_private(&upstream_secret, &random_secret()).map_err(io)?;
        Ok(Self {
            root: root.to_owned(),
            store,
            keyring: root.join("keyring.toml"),
            client_secret,
            upstream_secret,
            new_client_secret,
        })
    }

    /// The configuration text for this directory, the store endpoint and the listen address.
    pub fn config_text(&self, listen: SocketAddr, store_endpoint: &str) -> String {
        format!(
            "[server]\nlisten = \"{listen}\"\n\n[upstream]\nendpoint = \"{store_endpoint}\"\n\
             access_key_id = \"cloak-dev-upstream\"\nsecret_access_key_file = \"{}\"\n\n\
             [[clients]]\naccess_key_id = \"{DEV_ACCESS_KEY}\"\nname = \"dev\"\n\
             secret_key_file = \"{}\"\n\n[keys]\nkeyring_path = \"{}\"\n",
            self.upstream_secret.display(),
            self.client_secret.display(),
            self.keyring.display(),
        )
    }

    /// The upstream secret generated for this run.
    pub fn read_upstream_secret(&self) -> Result<String, DevError> {
        fs::read_to_string(&self.upstream_secret).map_err(|source| DevError::DataDir {
            path: self.root.clone(),
            source,
        })
    }
}

/// 40 characters from a 62-letter alphabet: about 238 bits.
fn random_secret() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut raw = [0u8; 40];
    SystemRandom::new()
        .fill(&mut raw)
        .expect("the OS random source is available");
    // 248 = 4 * 62: rejection keeps the letters uniform.
    let mut out = String::with_capacity(40);
    let mut pool = raw.to_vec();
    while out.len() < 40 {
        if pool.is_empty() {
            let mut more = [0u8; 40];
            SystemRandom::new()
                .fill(&mut more)
                .expect("the OS random source is available");
            pool.extend_from_slice(&more);
        }
        let b = pool.pop().expect("refilled above");
        if b < 248 {
            out.push(ALPHABET[(b % 62) as usize] as char);
        }
    }
    out
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}
