//! Vault and OpenBao Transit as a key provider.
//!
//! The master keys are Transit keys and never leave Vault. Each data key comes from
//! `datakey/plaintext`, which answers with the key in both forms; unwrapping is `decrypt`.
//!
//! The encryption context reaches Transit in one of two ways, chosen per key from its
//! configuration (or fixed by [`ContextBinding`]):
//! - a key created with `derived=true` derives a separate key from each context, passed as
//!   `context`;
//! - any other AEAD key (aes256-gcm96, say) authenticates the context as `associated_data`.
//!
//! Either way the context is the base64 of [`EncryptionContext::canonical_bytes`], and a
//! wrapped key moved to another object fails to open. Transit's `rewrap` takes no associated
//! data and only one context, so it is used only for a derived key whose context stays the
//! same; any other re-wrap is a `decrypt` followed by an `encrypt` under the key's latest
//! version, and the data key passes through the proxy.
//!
//! Every call goes through the provider's [`RetryPolicy`]; a call refused because the token
//! was revoked is repeated once after logging in again (see `session`).

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::de::DeserializeOwned;
use vaultrs::api::transit::requests::UpdateKeyConfigurationRequest;
use vaultrs::error::ClientError;
use zeroize::Zeroizing;

mod failure;
mod lease;
mod session;
mod transit;

pub use session::{AuthStats, VaultAuth};

use self::failure::classify;
use self::session::{Server, Session, Sessions};
use self::transit::{check_key_name, join_ciphertext, split_ciphertext, Bound, Call, Tie};
use self::transit::{CiphertextAnswer, KeyAnswer, KeyShape, PlaintextAnswer};
use crate::admin::{MasterKeyAdmin, ShredOutcome};
use crate::{
    DataKey, EncryptionContext, GeneratedKey, KeyError, KeyProvider, RetryPolicy, WrappedKey,
};

/// How a Transit key binds the encryption context.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ContextBinding {
    /// Read each key's configuration once (this needs `read` on `<mount>/keys/<name>`) and
    /// use `context` for derived keys, `associated_data` for the others.
    #[default]
    Auto,
    /// Every key is derived: send the context as `context`.
    Derived,
    /// Every key is an AEAD key: send the context as `associated_data`.
    AssociatedData,
}

/// Everything the Vault provider needs.
#[derive(Clone, Debug)]
pub struct VaultConfig {
    /// Vault's base URL, such as `https://vault.internal:8200`.
    pub address: String,
    /// Sent as `X-Vault-Namespace` when set (Vault Enterprise and OpenBao namespaces).
    pub namespace: Option<String>,
    /// PEM file of the CAs that may sign Vault's certificate, instead of the system roots.
    pub ca_bundle: Option<PathBuf>,
    /// Where the Transit engine is mounted.
    pub transit_mount: String,
    pub auth: VaultAuth,
    pub binding: ContextBinding,
    /// Retries, and the time allowed for each attempt.
    pub retry: RetryPolicy,
}

/// The Transit key provider.
pub struct VaultProvider {
    mount: String,
    binding: ContextBinding,
    retry: RetryPolicy,
    sessions: Sessions,
    /// How each key binds its context, learnt once per key when `binding` is `Auto`.
    ties: Mutex<HashMap<String, Tie>>,
}

impl VaultConfig {
    /// A configuration with the defaults: mount `transit`, automatic binding, default retries.
    pub fn new(address: &str, auth: VaultAuth) -> Self {
        Self {
            address: address.to_owned(),
            namespace: None,
            ca_bundle: None,
            transit_mount: "transit".to_owned(),
            auth,
            binding: ContextBinding::Auto,
            retry: RetryPolicy::default(),
        }
    }
}

impl VaultProvider {
    /// Checks the configuration and prepares the HTTP client. Nothing is sent to Vault until
    /// the first call, so the proxy can start while Vault is still coming up.
    pub fn new(config: VaultConfig) -> Result<Self, KeyError> {
        check_address(&config.address)?;
        let server = Server {
            address: config.address,
            namespace: config.namespace,
            ca_bundle: config.ca_bundle,
            call_timeout: config.retry.call_timeout,
        };
        Ok(Self {
            mount: config.transit_mount.trim_matches('/').to_owned(),
            binding: config.binding,
            retry: config.retry,
            sessions: Sessions::new(server, config.auth)?,
            ties: Mutex::new(HashMap::new()),
        })
    }

    /// What the token lifecycle has done so far.
    pub fn auth_stats(&self) -> AuthStats {
        self.sessions.stats()
    }

    /// Adds a version to the Transit key and makes it current. Existing wrapped keys still
    /// open; [`KeyProvider::rewrap_key`] moves them to the new version.
    pub async fn rotate(&self, key_id: &str) -> Result<(), KeyError> {
        check_key_name(key_id)?;
        self.call("rotate", |c| async move {
            vaultrs::transit::key::rotate(&c.client, &self.mount, key_id).await
        })
        .await
    }

    /// Destroys the Transit key, every version of it: everything wrapped under it becomes
    /// unreadable for good. Transit refuses to delete a key until its configuration allows it,
    /// so this first sets `deletion_allowed`.
    pub async fn shred(&self, key_id: &str) -> Result<(), KeyError> {
        check_key_name(key_id)?;
        self.call("allow deletion", |c| async move {
            let mut opts = UpdateKeyConfigurationRequest::builder();
            opts.deletion_allowed(true);
            vaultrs::transit::key::update(&c.client, &self.mount, key_id, Some(&mut opts)).await
        })
        .await?;
        self.call("delete key", |c| async move {
            vaultrs::transit::key::delete(&c.client, &self.mount, key_id).await
        })
        .await?;
        self.ties
            .lock()
            .expect("tie lock is never poisoned")
            .remove(key_id);
        Ok(())
    }

    /// Runs one Vault call under the retry policy, with a fresh session for each attempt.
    async fn call<T, F, Fut>(&self, what: &str, op: F) -> Result<T, KeyError>
    where
        F: Fn(Arc<Session>) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        self.retry
            .run(what, || async {
                let session = self.sessions.session().await?;
                match op(session.clone()).await.map_err(|e| classify(what, e)) {
                    Err(KeyError::Denied(why)) => {
                        if !self.sessions.after_denial(&session).await? {
                            return Err(KeyError::Denied(why));
                        }
                        let session = self.sessions.session().await?;
                        op(session).await.map_err(|e| classify(what, e))
                    }
                    other => other,
                }
            })
            .await
    }

    /// A Transit data call: `POST <mount>/<action>/<key>` answered with `R`.
    async fn transit<R: DeserializeOwned + Send + Sync>(
        &self,
        action: &str,
        key_id: &str,
        body: &Bound<'_>,
    ) -> Result<R, KeyError> {
        let path = format!("{}/{action}/{key_id}", self.mount);
        self.call(action, |c| {
            let call = Call::<R>::post(path.clone(), body);
            async move { vaultrs::api::exec_with_result(&c.client, call).await }
        })
        .await
    }

    /// Reads the Transit key's configuration (this needs `read` on `<mount>/keys/<name>`).
    async fn key_shape(&self, key_id: &str) -> Result<KeyShape, KeyError> {
        let path = format!("{}/keys/{key_id}", self.mount);
        self.call("read key", |c| {
            let call = Call::<KeyShape>::get(path.clone());
            async move { vaultrs::api::exec_with_result(&c.client, call).await }
        })
        .await
    }

    /// How `key_id` binds contexts, reading its configuration the first time if need be.
    async fn tie(&self, key_id: &str) -> Result<Tie, KeyError> {
        check_key_name(key_id)?;
        match self.binding {
            ContextBinding::Derived => return Ok(Tie::Derived),
            ContextBinding::AssociatedData => return Ok(Tie::AssociatedData),
            ContextBinding::Auto => {}
        }
        if let Some(tie) = self
            .ties
            .lock()
            .expect("tie lock is never poisoned")
            .get(key_id)
        {
            return Ok(*tie);
        }
        let tie = self.key_shape(key_id).await?.tie(key_id)?;
        let mut ties = self.ties.lock().expect("tie lock is never poisoned");
        ties.insert(key_id.to_owned(), tie);
        Ok(tie)
    }

    async fn decrypt(
        &self,
        wrapped: &WrappedKey,
        tie: Tie,
        context: &EncryptionContext,
    ) -> Result<DataKey, KeyError> {
        let text = join_ciphertext(wrapped.version, &wrapped.ciphertext);
        let body = Bound::new(tie, context).ciphertext(text);
        let answer: PlaintextAnswer = self.transit("decrypt", &wrapped.key_id, &body).await?;
        decode_key(&answer.plaintext)
    }

    async fn encrypt(
        &self,
        key_id: &str,
        tie: Tie,
        context: &EncryptionContext,
        key: &DataKey,
    ) -> Result<WrappedKey, KeyError> {
        let plaintext = Zeroizing::new(B64.encode(key.expose()));
        let body = Bound::new(tie, context).plaintext(&plaintext);
        let answer: CiphertextAnswer = self.transit("encrypt", key_id, &body).await?;
        wrapped(key_id, &answer.ciphertext)
    }
}

impl std::fmt::Debug for VaultProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultProvider")
            .field("mount", &self.mount)
            .field("binding", &self.binding)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl KeyProvider for VaultProvider {
    fn name(&self) -> &str {
        "vault"
    }

    async fn generate_data_key(
        &self,
        key_id: &str,
        context: &EncryptionContext,
    ) -> Result<GeneratedKey, KeyError> {
        let tie = self.tie(key_id).await?;
        let body = Bound::new(tie, context).key_bits();
        let answer: KeyAnswer = self.transit("datakey/plaintext", key_id, &body).await?;
        Ok(GeneratedKey {
            plaintext: decode_key(&answer.plaintext)?,
            wrapped: wrapped(key_id, &answer.ciphertext)?,
        })
    }

    async fn unwrap_key(
        &self,
        wrapped: &WrappedKey,
        context: &EncryptionContext,
    ) -> Result<DataKey, KeyError> {
        let tie = self.tie(&wrapped.key_id).await?;
        self.decrypt(wrapped, tie, context).await
    }

    async fn rewrap_key(
        &self,
        old: &WrappedKey,
        context: &EncryptionContext,
        new_context: &EncryptionContext,
    ) -> Result<WrappedKey, KeyError> {
        let tie = self.tie(&old.key_id).await?;
        if tie == Tie::Derived && context == new_context {
            let text = join_ciphertext(old.version, &old.ciphertext);
            let body = Bound::new(tie, context).ciphertext(text);
            let answer: CiphertextAnswer = self.transit("rewrap", &old.key_id, &body).await?;
            return wrapped(&old.key_id, &answer.ciphertext);
        }
        let key = self.decrypt(old, tie, context).await?;
        self.encrypt(&old.key_id, tie, new_context, &key).await
    }

    async fn current_version(&self, key_id: &str) -> Result<Option<u32>, KeyError> {
        check_key_name(key_id)?;
        Ok(Some(self.key_shape(key_id).await?.latest_version))
    }
}

#[async_trait]
impl MasterKeyAdmin for VaultProvider {
    async fn rotate_master(&self, key_id: &str) -> Result<Option<u32>, KeyError> {
        self.rotate(key_id).await?;
        self.current_version(key_id).await
    }

    async fn shred_master(&self, key_id: &str) -> Result<ShredOutcome, KeyError> {
        let versions = self.key_shape(key_id).await?.latest_version;
        self.shred(key_id).await?;
        Ok(ShredOutcome {
            versions: Some((1..=versions).collect()),
            immediate: true,
            note: format!(
                "Transit key {key_id} deleted (deletion_allowed set first); its versions are gone"
            ),
        })
    }
}

fn check_address(address: &str) -> Result<(), KeyError> {
    let url = url::Url::parse(address)
        .map_err(|e| KeyError::Denied(format!("vault address {address:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(KeyError::Denied(format!(
            "vault address {address:?}: scheme must be http or https"
        )));
    }
    Ok(())
}

fn wrapped(key_id: &str, text: &str) -> Result<WrappedKey, KeyError> {
    let (version, ciphertext) = split_ciphertext(text)?;
    Ok(WrappedKey {
        key_id: key_id.to_owned(),
        version,
        ciphertext,
    })
}

fn decode_key(b64: &crate::SecretString) -> Result<DataKey, KeyError> {
    let raw =
        Zeroizing::new(B64.decode(b64.expose()).map_err(|_| {
            KeyError::Corrupt("Transit returned a data key that is not base64".into())
        })?);
    DataKey::from_slice(&raw)
        .ok_or_else(|| KeyError::Corrupt("Transit returned a data key of the wrong size".into()))
}
