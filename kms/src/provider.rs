//! The interface every key provider implements.

use async_trait::async_trait;

use crate::{DataKey, EncryptionContext, KeyError};

/// A data key sealed under a master key. The bytes are opaque outside the provider that made
/// them; `key_id` and `version` say which master key version can open them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WrappedKey {
    pub key_id: String,
    pub version: u32,
    pub ciphertext: Vec<u8>,
}

/// A freshly generated data key in both forms.
#[derive(Debug)]
pub struct GeneratedKey {
    pub plaintext: DataKey,
    pub wrapped: WrappedKey,
}

/// A source of data keys.
///
/// Contexts are bound on every call: a key wrapped under one context must fail to unwrap under
/// any other. Providers for remote services (Vault/OpenBao Transit, AWS KMS) override the
/// batch method to use their batch endpoints; the default loops.
#[async_trait]
pub trait KeyProvider: Send + Sync + std::fmt::Debug {
    /// A short stable name, recorded in object metadata (for example `keyring`, `vault`).
    fn name(&self) -> &str;

    /// A new random data key for `key_id`, wrapped under its current version.
    async fn generate_data_key(
        &self,
        key_id: &str,
        context: &EncryptionContext,
    ) -> Result<GeneratedKey, KeyError>;

    /// Opens a wrapped key. Fails with `Denied` or `Corrupt` if the context differs.
    async fn unwrap_key(
        &self,
        wrapped: &WrappedKey,
        context: &EncryptionContext,
    ) -> Result<DataKey, KeyError>;

    /// Re-seals a wrapped key under the current version of its master key, possibly with a new
    /// context (a server-side copy re-binds the object's identity this way). The plaintext
    /// data key never leaves the provider where the service supports that.
    async fn rewrap_key(
        &self,
        wrapped: &WrappedKey,
        context: &EncryptionContext,
        new_context: &EncryptionContext,
    ) -> Result<WrappedKey, KeyError>;

    /// The version new data keys of `key_id` are wrapped under, where the service tells it;
    /// `None` when versions are invisible to callers (AWS KMS) or unknown. A key rotation
    /// tool compares stored versions with this to skip objects that are already current.
    async fn current_version(&self, key_id: &str) -> Result<Option<u32>, KeyError> {
        let _ = key_id;
        Ok(None)
    }

    /// Opens several wrapped keys at once.
    async fn unwrap_keys(
        &self,
        items: &[(WrappedKey, EncryptionContext)],
    ) -> Vec<Result<DataKey, KeyError>> {
        let mut out = Vec::with_capacity(items.len());
        for (wrapped, context) in items {
            out.push(self.unwrap_key(wrapped, context).await);
        }
        out
    }
}
