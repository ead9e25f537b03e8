//! Key providers for Cloak.
//!
//! Every object Cloak stores is encrypted under a fresh *data key*. A *key provider* generates
//! those data keys and hands back two forms: the plaintext key, used once to seal the object,
//! and the *wrapped* key, sealed under a named *master key*, which is stored beside the object.
//! Reading the object later means asking the provider to unwrap it again.
//!
//! Layout:
//! - `secret`: `DataKey` and `MasterKey`, 256-bit secrets that zero themselves on drop and
//!   never print, and `SecretString` for tokens and other credentials.
//! - `context`: the encryption context, the name/value pairs a wrapped key is bound to.
//! - `provider`: the `KeyProvider` trait every provider implements, and `WrappedKey`.
//! - `admin`: `MasterKeyAdmin`, rotation and destruction of master keys (operator actions).
//! - `error`: `KeyError`, which says whether a failure was a denial, a missing key, an
//!   unavailable service or corrupt input.
//! - `keyring`: the local keyring, a 0600 file of versioned master keys.
//! - `retry`: `RetryPolicy`, bounded retries of transient key-service failures.
//! - `vault`: `VaultProvider`, Vault/OpenBao Transit, with token, AppRole and Kubernetes
//!   logins kept alive by renewal.
//! - `awskms`: `AwsKmsProvider`, AWS KMS (or any endpoint that speaks its API).
//! - `cache`: `CachingProvider`, unwrapped data keys kept for a bounded time in front of any
//!   provider, with call counters (`metrics`).
//! - `kek`: `KekProvider`, per-dataset key-encryption keys that turn a remote call per
//!   object into one per dataset and KEK lifetime.

pub mod admin;
pub mod awskms;
pub mod cache;
pub mod context;
pub mod error;
pub mod kek;
pub mod keyring;
pub mod metrics;
pub mod provider;
pub mod retry;
pub mod secret;
pub mod vault;

pub use admin::{MasterKeyAdmin, ShredOutcome};
pub use awskms::{AwsCredentials, AwsKmsConfig, AwsKmsProvider};
pub use cache::{CacheConfig, CachingProvider};
pub use context::EncryptionContext;
pub use error::KeyError;
pub use kek::{KekConfig, KekProvider};
pub use keyring::Keyring;
pub use metrics::{LatencySnapshot, MetricsSnapshot, OpStats};
pub use provider::{GeneratedKey, KeyProvider, WrappedKey};
pub use retry::RetryPolicy;
pub use secret::{DataKey, MasterKey, SecretString};
pub use vault::{AuthStats, ContextBinding, VaultAuth, VaultConfig, VaultProvider};
