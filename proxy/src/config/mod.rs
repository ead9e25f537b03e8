//! Cloak's configuration: one TOML file, parsed into typed values at load time.
//!
//! Every field has a default where one makes sense and a doc comment here; `cloak.example.toml`
//! at the repository root is the commented example. Secrets never appear in the file itself or
//! on the command line: each secret names a file (`*_file`) or an environment variable (`*_env`)
//! to read it from. Invalid configuration is refused at start with a message naming the field.

mod keys;
mod providers;
mod secret;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;

pub use keys::{KeyRule, KeysConfig, SIMPLE_KEYRING};
pub use providers::{
    retry_policy, AwsKmsTable, Binding, KekTable, KeyringTable, ProviderConfig, VaultAuthTable,
    VaultTable,
};
pub use secret::{SecretSource, SecretString};

/// The whole configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub upstream: UpstreamConfig,
    /// Downstream clients allowed to sign requests.
    #[serde(default)]
    pub clients: Vec<ClientConfig>,
    #[serde(default)]
    pub auth: AuthConfig,
    pub keys: KeysConfig,
    #[serde(default)]
    pub objects: ObjectsConfig,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on, e.g. "127.0.0.1:9090".
    pub listen: SocketAddr,
    /// Serve HTTPS with these PEM files. Plain HTTP when absent.
    pub tls: Option<TlsConfig>,
    /// Domain for virtual-hosted-style requests (`bucket.DOMAIN`). Path-style always works.
    pub virtual_host_domain: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// The store's endpoint, "http://host:port" or "https://host".
    pub endpoint: String,
    /// Region used to sign upstream requests.
    #[serde(default = "default_region")]
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key_file: Option<PathBuf>,
    pub secret_access_key_env: Option<String>,
    /// Extra CA bundle (PEM) to trust for an https endpoint, besides the system roots.
    pub ca_file: Option<PathBuf>,
    /// Seconds to wait for the store to start answering a request.
    #[serde(default = "default_upstream_timeout")]
    pub timeout_secs: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    pub access_key_id: String,
    /// A name for logs and audit records; defaults to the access key id.
    pub name: Option<String>,
    pub secret_key_file: Option<PathBuf>,
    pub secret_key_env: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Accept Signature Version 2 (older boto3 presigned URLs, gsutil without use-sigv4).
    #[serde(default = "yes")]
    pub allow_sigv2: bool,
    /// Largest accepted difference between the client's clock and ours, in seconds.
    #[serde(default = "default_skew")]
    pub max_skew_secs: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectsConfig {
    /// What to do with objects Cloak did not write: "refuse" or "passthrough" (served as
    /// plaintext, with a logged warning).
    #[serde(default)]
    pub foreign: ForeignPolicy,
    /// Plaintext bytes per segment; a power of two from 4 KiB to 16 MiB.
    #[serde(default = "default_segment")]
    pub segment_size: u32,
    /// Show plaintext ETags in listings (one small ranged read per uncached object), or the
    /// store's ETags (no extra requests, but they differ from HEAD's).
    #[serde(default = "yes")]
    pub plaintext_list_etags: bool,
    /// Concurrent ranged reads while rewriting one listing page.
    #[serde(default = "default_list_concurrency")]
    pub list_concurrency: usize,
}

#[derive(Debug, Default, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ForeignPolicy {
    #[default]
    Refuse,
    Passthrough,
}

/// A configuration problem, naming the field.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config field `{field}`: {reason}")]
    Invalid { field: String, reason: String },
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates config text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field: &str, reason: &str| {
            Err(ConfigError::Invalid {
                field: field.into(),
                reason: reason.into(),
            })
        };
        let endpoint = &self.upstream.endpoint;
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return invalid("upstream.endpoint", "must start with http:// or https://");
        }
        if endpoint.parse::<http::Uri>().is_err() {
            return invalid("upstream.endpoint", "is not a valid URL");
        }
        let seg = self.objects.segment_size;
        if !seg.is_power_of_two() || !(4096..=1 << 24).contains(&seg) {
            return invalid(
                "objects.segment_size",
                "must be a power of two, 4096 to 16777216",
            );
        }
        self.keys.validate()?;
        if self.objects.list_concurrency == 0 {
            return invalid("objects.list_concurrency", "must be at least 1");
        }
        self.upstream_secret_source()?;
        for (i, client) in self.clients.iter().enumerate() {
            client.secret_source(i)?;
        }
        Ok(())
    }

    /// Where the upstream secret comes from.
    pub fn upstream_secret_source(&self) -> Result<SecretSource, ConfigError> {
        SecretSource::pick(
            "upstream.secret_access_key",
            self.upstream.secret_access_key_file.as_deref(),
            self.upstream.secret_access_key_env.as_deref(),
        )
    }

    pub fn upstream_timeout(&self) -> Duration {
        Duration::from_secs(self.upstream.timeout_secs)
    }
}

impl ClientConfig {
    pub fn secret_source(&self, index: usize) -> Result<SecretSource, ConfigError> {
        SecretSource::pick(
            &format!("clients[{index}].secret_key"),
            self.secret_key_file.as_deref(),
            self.secret_key_env.as_deref(),
        )
    }

    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.access_key_id)
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            allow_sigv2: true,
            max_skew_secs: default_skew(),
        }
    }
}

impl Default for ObjectsConfig {
    fn default() -> Self {
        Self {
            foreign: ForeignPolicy::Refuse,
            segment_size: default_segment(),
            plaintext_list_etags: true,
            list_concurrency: default_list_concurrency(),
        }
    }
}

fn default_region() -> String {
    "us-east-1".into()
}
fn default_upstream_timeout() -> u64 {
    30
}
fn yes() -> bool {
    true
}
fn default_skew() -> u64 {
    15 * 60
}
fn default_segment() -> u32 {
    cloak_envelope::DEFAULT_SEGMENT_SIZE
}
fn default_list_concurrency() -> usize {
    32
}

#[cfg(test)]
mod tests;
