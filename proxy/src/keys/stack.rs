//! One stack of key-provider layers per configured provider, built at start.
//!
//! ```text
//! KEK-sealed objects:  KekProvider (per-dataset KEKs; unwrapped KEKs kept for the TTL)
//!                        -> CachingProvider, count only
//!                          -> the provider itself (keyring, Vault Transit, AWS KMS)
//! direct objects:      CachingProvider (unwrapped data keys kept for the TTL)
//!                        -> the provider itself
//! ```
//!
//! Holding each key in one layer only keeps the revocation delay to `keys.cache_ttl_secs`:
//! two stacked caches would each restart the clock when one refilled the other. Both counting
//! layers report together (`ProviderStack::metrics`), so every call to the service is seen.
//!
//! An object records which layer sealed its data key in its header's provider field: the
//! provider's name for a data key wrapped by the service itself, `kek+NAME` for one sealed
//! under a KEK. Both layers exist for every provider, so turning KEKs on or off later leaves
//! every stored object readable.

use std::collections::BTreeMap;
use std::sync::Arc;

use cloak_kms::{
    AwsCredentials, AwsKmsConfig, AwsKmsProvider, CacheConfig, CachingProvider, ContextBinding,
    KekConfig, KekProvider, KeyProvider, Keyring, MasterKeyAdmin, MetricsSnapshot, VaultAuth,
    VaultConfig, VaultProvider,
};

use crate::config::{
    retry_policy, AwsKmsTable, Binding, ConfigError, KeysConfig, ProviderConfig, VaultAuthTable,
    VaultTable, SIMPLE_KEYRING,
};

/// The label prefix of KEK-sealed objects.
const KEK_LABEL: &str = "kek+";

/// Every configured provider's stack, by name.
pub struct Providers(BTreeMap<String, ProviderStack>);

/// The layers of one provider.
pub struct ProviderStack {
    pub name: String,
    pub kind: &'static str,
    /// Rotation and destruction of its master keys, for `cloak keys`.
    pub admin: Arc<dyn MasterKeyAdmin>,
    /// Data keys wrapped by the service itself, cached.
    direct: Arc<CachingProvider>,
    /// The count-only layer under `kek`.
    under_kek: Arc<CachingProvider>,
    kek: Arc<KekProvider>,
    kek_writes: bool,
}

/// The provider itself, as both a key source and an administrator.
struct Base {
    keys: Arc<dyn KeyProvider>,
    admin: Arc<dyn MasterKeyAdmin>,
}

impl Providers {
    /// Opens or prepares every provider. Remote services are not contacted yet, so the proxy
    /// starts while they are still coming up; a missing secret or keyring file fails here.
    pub async fn from_config(keys: &KeysConfig) -> Result<Self, ConfigError> {
        let mut out = BTreeMap::new();
        for (name, provider) in keys.all_providers() {
            let stack = ProviderStack::build(&name, &provider, keys).await?;
            out.insert(name, stack);
        }
        Ok(Self(out))
    }

    pub fn get(&self, name: &str) -> Option<&ProviderStack> {
        self.0.get(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &ProviderStack> {
        self.0.values()
    }

    /// The stack and layer that open an object whose header names `label`.
    pub fn reader(&self, label: &str) -> Option<(&ProviderStack, Arc<dyn KeyProvider>)> {
        match label.strip_prefix(KEK_LABEL) {
            Some(name) => self
                .get(name)
                .map(|s| (s, s.kek.clone() as Arc<dyn KeyProvider>)),
            None => self
                .get(label)
                .map(|s| (s, s.direct.clone() as Arc<dyn KeyProvider>)),
        }
    }
}

impl ProviderStack {
    async fn build(
        name: &str,
        provider: &ProviderConfig,
        keys: &KeysConfig,
    ) -> Result<Self, ConfigError> {
        let field = format!("keys.providers.{name}");
        let base = Base::build(&field, provider)
            .await
            .map_err(|e| simple_form(e, keys))?;
        let cache = |max_entries| CacheConfig {
            max_entries,
            ttl: keys.cache_ttl(),
        };
        let direct = CachingProvider::new(base.keys.clone(), cache(keys.cache_capacity));
        let under_kek = Arc::new(CachingProvider::new(base.keys, cache(0)));
        let kek_table = provider.kek();
        let kek = KekConfig {
            lifetime: kek_table
                .lifetime_secs
                .map_or(keys.cache_ttl(), std::time::Duration::from_secs),
            max_uses: kek_table.max_uses,
            open_entries: keys.cache_capacity,
            open_ttl: keys.cache_ttl(),
            ..KekConfig::default()
        };
        Ok(Self {
            name: name.to_owned(),
            kind: provider.kind(),
            admin: base.admin,
            kek: Arc::new(KekProvider::new(under_kek.clone(), kek)),
            direct: Arc::new(direct),
            under_kek,
            kek_writes: provider.kek_enabled(),
        })
    }

    /// The label new objects record, and the layer that seals their data keys.
    pub fn writer(&self) -> (String, Arc<dyn KeyProvider>) {
        if self.kek_writes {
            (format!("{KEK_LABEL}{}", self.name), self.kek.clone())
        } else {
            (self.name.clone(), self.direct.clone())
        }
    }

    /// The provider's current version of `key_id`, asked of the service (not cached).
    pub async fn current_version(&self, key_id: &str) -> Result<Option<u32>, cloak_kms::KeyError> {
        self.direct.current_version(key_id).await
    }

    /// Calls made to the service so far, through either layer, and cache hits.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.direct.metrics().combined(&self.under_kek.metrics())
    }

    /// Drops every key held in memory: the revocation delay ends now.
    pub fn forget_all(&self) {
        self.kek.forget_all();
        self.direct.forget_all();
    }
}

impl Base {
    async fn build(field: &str, provider: &ProviderConfig) -> Result<Self, ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            field: field.to_owned(),
            reason,
        };
        match provider {
            ProviderConfig::Keyring(t) => {
                let ring = Keyring::open(&t.path).map_err(|e| ConfigError::Invalid {
                    field: format!("{field}.path"),
                    reason: e.to_string(),
                })?;
                let ring = Arc::new(ring);
                Ok(Self {
                    keys: ring.clone(),
                    admin: ring,
                })
            }
            ProviderConfig::Vault(t) => {
                let vault = VaultProvider::new(vault_config(field, t)?)
                    .map_err(|e| invalid(e.to_string()))?;
                let vault = Arc::new(vault);
                Ok(Self {
                    keys: vault.clone(),
                    admin: vault,
                })
            }
            ProviderConfig::Awskms(t) => {
                let kms = AwsKmsProvider::new(kms_config(field, t)?)
                    .await
                    .map_err(|e| invalid(e.to_string()))?;
                let kms = Arc::new(kms);
                Ok(Self {
                    keys: kms.clone(),
                    admin: kms,
                })
            }
        }
    }
}

/// Names the simple form's own field when its keyring fails to open.
fn simple_form(e: ConfigError, keys: &KeysConfig) -> ConfigError {
    match e {
        ConfigError::Invalid { field, reason }
            if keys.keyring_path.is_some()
                && field == format!("keys.providers.{SIMPLE_KEYRING}.path") =>
        {
            ConfigError::Invalid {
                field: "keys.keyring_path".into(),
                reason,
            }
        }
        other => other,
    }
}

fn vault_config(field: &str, t: &VaultTable) -> Result<VaultConfig, ConfigError> {
    let auth_field = format!("{field}.auth");
    let secret = match t.auth.secret_source(&auth_field)? {
        Some(source) => Some(kms_secret(&source.read(&auth_field)?)),
        None => None,
    };
    let auth = match (&t.auth, secret) {
        (VaultAuthTable::Token { .. }, Some(token)) => VaultAuth::Token(token),
        (VaultAuthTable::Approle { mount, role_id, .. }, Some(secret_id)) => VaultAuth::AppRole {
            mount: mount.clone(),
            role_id: role_id.clone(),
            secret_id,
        },
        (
            VaultAuthTable::Kubernetes {
                mount,
                role,
                jwt_file,
            },
            _,
        ) => VaultAuth::Kubernetes {
            mount: mount.clone(),
            role: role.clone(),
            jwt_path: jwt_file.clone(),
        },
        _ => unreachable!("token and AppRole logins always have a secret source"),
    };
    let mut config = VaultConfig::new(&t.address, auth);
    config.namespace = t.namespace.clone();
    config.ca_bundle = t.ca_file.clone();
    config.transit_mount = t.mount.clone();
    config.binding = match t.binding {
        Binding::Auto => ContextBinding::Auto,
        Binding::Derived => ContextBinding::Derived,
        Binding::AssociatedData => ContextBinding::AssociatedData,
    };
    config.retry = retry_policy(t.timeout_secs, t.attempts);
    Ok(config)
}

fn kms_config(field: &str, t: &AwsKmsTable) -> Result<AwsKmsConfig, ConfigError> {
    let credentials = match (t.secret_sources(field)?, &t.access_key_id) {
        (Some((secret, token)), Some(id)) => AwsCredentials::Static {
            access_key_id: id.clone(),
            secret_access_key: kms_secret(&secret.read(&format!("{field}.secret_access_key"))?),
            session_token: match token {
                Some(s) => Some(kms_secret(&s.read(&format!("{field}.session_token"))?)),
                None => None,
            },
        },
        _ => AwsCredentials::DefaultChain,
    };
    Ok(AwsKmsConfig {
        region: t.region.clone(),
        endpoint_url: t.endpoint.clone(),
        credentials,
        retry: retry_policy(t.timeout_secs, t.attempts),
    })
}

fn kms_secret(secret: &crate::config::SecretString) -> cloak_kms::SecretString {
    cloak_kms::SecretString::new(secret.expose().to_owned())
}
