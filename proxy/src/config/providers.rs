//! One `[keys.providers.NAME]` table: a local keyring, Vault/OpenBao Transit, or AWS KMS, and
//! how data keys are amortised over it (`[keys.providers.NAME.kek]`).
//!
//! Secrets (a Vault token, an AppRole secret id, AWS keys) are never in the file: each names
//! a file (`*_file`) or an environment variable (`*_env`) holding it. They are read when the
//! proxy starts, not here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, SecretSource};

/// A provider, by kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum ProviderConfig {
    Keyring(KeyringTable),
    Vault(VaultTable),
    Awskms(AwsKmsTable),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyringTable {
    /// The keyring file (mode 0600).
    pub path: PathBuf,
    /// Off by default: the keyring is local, there is no round trip to save.
    #[serde(default)]
    pub kek: KekTable,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultTable {
    /// Vault's base URL, such as `https://vault.internal:8200`.
    pub address: String,
    /// Where the Transit engine is mounted.
    #[serde(default = "default_mount")]
    pub mount: String,
    /// Sent as `X-Vault-Namespace` (Vault Enterprise and OpenBao namespaces).
    pub namespace: Option<String>,
    /// PEM file of the CAs that may sign Vault's certificate, instead of the system roots.
    pub ca_file: Option<PathBuf>,
    /// How Transit keys bind the encryption context: `auto` (read each key's configuration),
    /// `derived` or `associated_data`.
    #[serde(default)]
    pub binding: Binding,
    pub auth: VaultAuthTable,
    /// Seconds allowed for one call.
    #[serde(default = "default_call_timeout")]
    pub timeout_secs: u64,
    /// Attempts in all for a transient failure; 1 disables retries.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// On by default: one Transit call per dataset and KEK lifetime instead of per object.
    #[serde(default)]
    pub kek: KekTable,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Binding {
    #[default]
    Auto,
    Derived,
    AssociatedData,
}

/// How Cloak logs in to Vault.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase", deny_unknown_fields)]
pub enum VaultAuthTable {
    /// A token issued out of band.
    Token {
        token_file: Option<PathBuf>,
        token_env: Option<String>,
    },
    /// AppRole: the role id is not secret, the secret id is.
    Approle {
        #[serde(default = "default_approle_mount")]
        mount: String,
        role_id: String,
        secret_id_file: Option<PathBuf>,
        secret_id_env: Option<String>,
    },
    /// A Kubernetes service-account token, re-read from `jwt_file` at each login.
    Kubernetes {
        #[serde(default = "default_kubernetes_mount")]
        mount: String,
        role: String,
        #[serde(default = "default_jwt_file")]
        jwt_file: PathBuf,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsKmsTable {
    /// The region; the SDK's default chain (AWS_REGION, profile) decides when absent.
    pub region: Option<String>,
    /// Another endpoint than the region's: a VPC endpoint, or a test server.
    pub endpoint: Option<String>,
    /// Fixed credentials: the access key id (not secret) and where its secret is. Without
    /// them, the SDK's default chain (environment, profile, web identity, instance role).
    pub access_key_id: Option<String>,
    pub secret_access_key_file: Option<PathBuf>,
    pub secret_access_key_env: Option<String>,
    pub session_token_file: Option<PathBuf>,
    pub session_token_env: Option<String>,
    /// Seconds allowed for one call.
    #[serde(default = "default_call_timeout")]
    pub timeout_secs: u64,
    /// Attempts in all for a transient failure; 1 disables retries.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// On by default, as for Vault.
    #[serde(default)]
    pub kek: KekTable,
}

/// Per-dataset key-encryption keys: each object still gets its own data key, sealed locally
/// under a KEK that the key service wraps once per bucket and master key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KekTable {
    /// Whether new objects are KEK-sealed; default on for remote providers, off for the
    /// keyring. Objects already KEK-sealed stay readable either way.
    pub enabled: Option<bool>,
    /// How long one KEK seals new data keys; `keys.cache_ttl_secs` when absent.
    pub lifetime_secs: Option<u64>,
    /// How many data keys one KEK seals at most.
    #[serde(default = "default_kek_uses")]
    pub max_uses: u64,
}

impl Default for KekTable {
    fn default() -> Self {
        Self {
            enabled: None,
            lifetime_secs: None,
            max_uses: default_kek_uses(),
        }
    }
}

impl ProviderConfig {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Keyring(_) => "keyring",
            Self::Vault(_) => "vault",
            Self::Awskms(_) => "awskms",
        }
    }

    pub fn kek(&self) -> &KekTable {
        match self {
            Self::Keyring(t) => &t.kek,
            Self::Vault(t) => &t.kek,
            Self::Awskms(t) => &t.kek,
        }
    }

    /// Whether new objects are KEK-sealed.
    pub fn kek_enabled(&self) -> bool {
        let remote = !matches!(self, Self::Keyring(_));
        self.kek().enabled.unwrap_or(remote)
    }

    /// Checks what can be checked without reading secrets or reaching the service; `field`
    /// is the table's path, such as `keys.providers.vault`.
    pub(super) fn validate(&self, field: &str) -> Result<(), ConfigError> {
        match self {
            Self::Keyring(_) => Ok(()),
            Self::Vault(t) => t.validate(field),
            Self::Awskms(t) => t.validate(field),
        }?;
        if self.kek().lifetime_secs == Some(0) {
            return invalid(&format!("{field}.kek.lifetime_secs"), "must be at least 1");
        }
        if self.kek().max_uses == 0 {
            return invalid(&format!("{field}.kek.max_uses"), "must be at least 1");
        }
        Ok(())
    }

    /// Whether `key` can name a master key at this provider.
    pub(super) fn check_key_name(&self, key: &str) -> Result<(), String> {
        if key.is_empty() {
            return Err("must not be empty".into());
        }
        let transit = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        match self {
            Self::Vault(_) if key.starts_with('.') || !key.chars().all(transit) => {
                Err("a Transit key name is letters, digits, '-', '_' and '.'".into())
            }
            _ => Ok(()),
        }
    }
}

impl KeyringTable {
    pub fn at(path: PathBuf) -> Self {
        Self {
            path,
            kek: KekTable::default(),
        }
    }
}

impl VaultTable {
    fn validate(&self, field: &str) -> Result<(), ConfigError> {
        let scheme_ok = self.address.starts_with("http://") || self.address.starts_with("https://");
        if !scheme_ok || self.address.parse::<http::Uri>().is_err() {
            return invalid(
                &format!("{field}.address"),
                "must be an http:// or https:// URL",
            );
        }
        if self.mount.trim_matches('/').is_empty() {
            return invalid(&format!("{field}.mount"), "must not be empty");
        }
        check_retry(field, self.timeout_secs, self.attempts)?;
        self.auth
            .secret_source(&format!("{field}.auth"))
            .map(|_| ())
    }
}

impl VaultAuthTable {
    /// Where the login secret comes from; `None` for Kubernetes, whose token is a file read
    /// at every login.
    pub fn secret_source(&self, field: &str) -> Result<Option<SecretSource>, ConfigError> {
        match self {
            Self::Token {
                token_file,
                token_env,
            } => SecretSource::pick(
                &format!("{field}.token"),
                token_file.as_deref(),
                token_env.as_deref(),
            )
            .map(Some),
            Self::Approle {
                secret_id_file,
                secret_id_env,
                ..
            } => SecretSource::pick(
                &format!("{field}.secret_id"),
                secret_id_file.as_deref(),
                secret_id_env.as_deref(),
            )
            .map(Some),
            Self::Kubernetes { .. } => Ok(None),
        }
    }
}

impl AwsKmsTable {
    fn validate(&self, field: &str) -> Result<(), ConfigError> {
        if let Some(url) = &self.endpoint {
            let ok = (url.starts_with("http://") || url.starts_with("https://"))
                && url.parse::<http::Uri>().is_ok();
            if !ok {
                return invalid(
                    &format!("{field}.endpoint"),
                    "must be an http:// or https:// URL",
                );
            }
        }
        check_retry(field, self.timeout_secs, self.attempts)?;
        self.secret_sources(field).map(|_| ())
    }

    /// The static credentials' secret and session token sources, when an access key id is
    /// configured.
    pub fn secret_sources(
        &self,
        field: &str,
    ) -> Result<Option<(SecretSource, Option<SecretSource>)>, ConfigError> {
        let secret_given =
            self.secret_access_key_file.is_some() || self.secret_access_key_env.is_some();
        if self.access_key_id.is_none() {
            if secret_given {
                return Err(ConfigError::Invalid {
                    field: format!("{field}.access_key_id"),
                    reason: "is required when a secret access key is given".into(),
                });
            }
            return Ok(None);
        }
        let secret = SecretSource::pick(
            &format!("{field}.secret_access_key"),
            self.secret_access_key_file.as_deref(),
            self.secret_access_key_env.as_deref(),
        )?;
        let token = match (&self.session_token_file, &self.session_token_env) {
            (None, None) => None,
            (file, env) => Some(SecretSource::pick(
                &format!("{field}.session_token"),
                file.as_deref(),
                env.as_deref(),
            )?),
        };
        Ok(Some((secret, token)))
    }
}

/// The retry policy of a remote provider's `timeout_secs` and `attempts`.
pub fn retry_policy(timeout_secs: u64, attempts: u32) -> cloak_kms::RetryPolicy {
    cloak_kms::RetryPolicy {
        attempts,
        call_timeout: Duration::from_secs(timeout_secs),
        ..cloak_kms::RetryPolicy::default()
    }
}

fn check_retry(field: &str, timeout_secs: u64, attempts: u32) -> Result<(), ConfigError> {
    if timeout_secs == 0 {
        return invalid(&format!("{field}.timeout_secs"), "must be at least 1");
    }
    if attempts == 0 {
        return invalid(&format!("{field}.attempts"), "must be at least 1");
    }
    Ok(())
}

fn invalid(field: &str, reason: &str) -> Result<(), ConfigError> {
    Err(ConfigError::Invalid {
        field: field.into(),
        reason: reason.into(),
    })
}

fn default_mount() -> String {
    "transit".into()
}
fn default_approle_mount() -> String {
    "approle".into()
}
fn default_kubernetes_mount() -> String {
    "kubernetes".into()
}
fn default_jwt_file() -> PathBuf {
    Path::new("/var/run/secrets/kubernetes.io/serviceaccount/token").to_owned()
}
fn default_call_timeout() -> u64 {
    5
}
fn default_attempts() -> u32 {
    4
}
fn default_kek_uses() -> u64 {
    1 << 20
}
