//! The `[keys]` section: named key providers, the rules that pick one per dataset, and the
//! caches in front of them.
//!
//! Two forms are accepted. The simple one names a local keyring file (`keyring_path`) and
//! defines a provider called `keyring`; it is what `cloak serve --dev` writes. The full form
//! names providers under `[keys.providers.NAME]`. Both may be combined, and rules
//! (`[[keys.rules]]`) choose a provider and master key by bucket and key prefix; the first
//! match wins, and objects no rule matches use `provider` and `default_key`.
//!
//! Rules decide only where *new* objects go. Each stored object names the provider it was
//! written with, so a rule changed later never strands an object, as long as that provider
//! stays configured under the same name.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::providers::{KeyringTable, ProviderConfig};
use super::ConfigError;

/// The name of the provider the simple form (`keys.keyring_path`) defines, and the name
/// every object written by the simple form records.
pub const SIMPLE_KEYRING: &str = "keyring";

/// Longest provider name: the object header stores it with a one-byte length, after `kek+`.
const MAX_NAME: usize = 64;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysConfig {
    /// The provider for objects no rule matches: a name under `providers`, or `keyring` for
    /// the simple form.
    #[serde(default = "default_provider")]
    pub provider: String,
    /// The simple form: a local keyring file (created at 0600 by `cloak serve --dev` or
    /// `cloak keys init`), defining the provider `keyring`.
    pub keyring_path: Option<PathBuf>,
    /// Master key for objects no rule matches.
    #[serde(default = "default_key")]
    pub default_key: String,
    /// Per-dataset providers and master keys: the first rule whose bucket and prefix match
    /// wins.
    #[serde(default)]
    pub rules: Vec<KeyRule>,
    /// How long an unwrapped data key (or KEK) may be reused from memory: the revocation
    /// delay after a master key is disabled or shredded elsewhere.
    #[serde(default = "default_key_ttl")]
    pub cache_ttl_secs: u64,
    /// How many unwrapped keys to keep in memory, per provider.
    #[serde(default = "default_key_capacity")]
    pub cache_capacity: u64,
    /// Named key providers.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRule {
    pub bucket: String,
    /// Key prefix; empty matches the whole bucket.
    #[serde(default)]
    pub prefix: String,
    /// A provider name; `keys.provider` when absent.
    pub provider: Option<String>,
    /// The master key's name at that provider.
    pub key: String,
}

impl KeysConfig {
    /// Every provider, the simple form's `keyring` included, by name.
    pub fn all_providers(&self) -> BTreeMap<String, ProviderConfig> {
        let mut out = self.providers.clone();
        if let Some(path) = &self.keyring_path {
            let table = KeyringTable::at(path.clone());
            out.insert(SIMPLE_KEYRING.to_owned(), ProviderConfig::Keyring(table));
        }
        out
    }

    /// The provider a rule uses.
    pub fn rule_provider<'a>(&'a self, rule: &'a KeyRule) -> &'a str {
        rule.provider.as_deref().unwrap_or(&self.provider)
    }

    pub fn cache_ttl(&self) -> Duration {
        Duration::from_secs(self.cache_ttl_secs)
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.keyring_path.is_some() && self.providers.contains_key(SIMPLE_KEYRING) {
            return invalid(
                "keys.keyring_path",
                "also defines the provider `keyring`, which [keys.providers.keyring] defines too",
            );
        }
        let all = self.all_providers();
        if all.is_empty() {
            return invalid(
                "keys",
                "no key provider: set keyring_path, or define [keys.providers.NAME]",
            );
        }
        for (name, provider) in &all {
            check_name(name)?;
            provider.validate(&format!("keys.providers.{name}"))?;
        }
        self.check_target("keys.provider", &self.provider, &self.default_key, &all)?;
        for (i, rule) in self.rules.iter().enumerate() {
            let field = format!("keys.rules[{i}]");
            if rule.bucket.is_empty() {
                return invalid(&format!("{field}.bucket"), "must not be empty");
            }
            self.check_target(&field, self.rule_provider(rule), &rule.key, &all)?;
        }
        if self.cache_ttl_secs == 0 {
            return invalid("keys.cache_ttl_secs", "must be at least 1");
        }
        if self.cache_capacity == 0 {
            return invalid("keys.cache_capacity", "must be at least 1");
        }
        Ok(())
    }

    /// A provider name must exist and the key name must suit it.
    fn check_target(
        &self,
        field: &str,
        provider: &str,
        key: &str,
        all: &BTreeMap<String, ProviderConfig>,
    ) -> Result<(), ConfigError> {
        let Some(found) = all.get(provider) else {
            let known: Vec<&str> = all.keys().map(String::as_str).collect();
            return invalid(
                &format!("{field}.provider"),
                &format!(
                    "no provider named {provider:?} (defined: {})",
                    known.join(", ")
                ),
            );
        };
        found
            .check_key_name(key)
            .map_err(|reason| ConfigError::Invalid {
                field: format!("{field}.key"),
                reason,
            })
    }
}

/// Names are written into every object header: short, plain, and never mistaken for the
/// `kek+` label of a KEK-sealed object.
fn check_name(name: &str) -> Result<(), ConfigError> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_');
    if name.is_empty() || name.len() > MAX_NAME || !name.chars().all(plain) {
        return invalid(
            &format!("keys.providers.{name}"),
            "a provider name is 1 to 64 letters, digits, '-' or '_'",
        );
    }
    Ok(())
}

fn invalid(field: &str, reason: &str) -> Result<(), ConfigError> {
    Err(ConfigError::Invalid {
        field: field.into(),
        reason: reason.into(),
    })
}

fn default_provider() -> String {
    SIMPLE_KEYRING.into()
}
fn default_key() -> String {
    "default".into()
}
fn default_key_ttl() -> u64 {
    300
}
fn default_key_capacity() -> u64 {
    10_000
}
