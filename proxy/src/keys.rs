//! The proxy's side of key management: which provider and master key an object uses, fresh
//! data keys for writes, and unwrapped, commitment-checked content keys for reads.
//!
//! Providers are layered (see `stack`): unwrapped keys are held in memory for
//! `keys.cache_ttl_secs`, by one layer only. That TTL is the revocation delay: after a master
//! key is disabled or shredded at the service, objects whose keys (or KEKs) are still held
//! stay readable on this replica until the entries expire, and a KEK already held keeps
//! sealing new objects for its lifetime (by default the same TTL). Nothing here is
//! authoritative: every replica can unwrap any key.
//!
//! Failing closed: a key service that cannot be reached fails a write before any of its body
//! is read (`ServiceUnavailable`), and a read whose key is not held in memory.

mod stack;

use std::sync::Arc;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use cloak_envelope::keys::OBJECT_SALT_LEN;
use cloak_envelope::{ContentKey, Header, KeyRef, VERSION};
use cloak_kms::{EncryptionContext, KeyProvider, WrappedKey};
use http::StatusCode;

pub use stack::{ProviderStack, Providers};

use crate::config::{ConfigError, KeysConfig};
use crate::error::{Fault, S3Error};

/// Chooses providers and master keys, and opens data keys.
pub struct KeyService {
    providers: Providers,
    rules: Vec<Rule>,
    default: Target,
    segment_size: u32,
}

/// Where new objects' data keys come from: a provider by name, and a master key there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub provider: String,
    pub key: String,
}

struct Rule {
    bucket: String,
    prefix: String,
    target: Target,
}

/// A new object's header (for its metadata) and its content key.
pub struct NewObjectKey {
    pub header: Header,
    pub key: Arc<ContentKey>,
}

impl KeyService {
    /// Builds every configured provider and the rules that choose among them.
    pub async fn from_config(config: &KeysConfig, segment_size: u32) -> Result<Self, ConfigError> {
        let providers = Providers::from_config(config).await?;
        Ok(Self::new(providers, config, segment_size))
    }

    pub fn new(providers: Providers, config: &KeysConfig, segment_size: u32) -> Self {
        let rules = config
            .rules
            .iter()
            .map(|r| Rule {
                bucket: r.bucket.clone(),
                prefix: r.prefix.clone(),
                target: Target {
                    provider: config.rule_provider(r).to_owned(),
                    key: r.key.clone(),
                },
            })
            .collect();
        let default = Target {
            provider: config.provider.clone(),
            key: config.default_key.clone(),
        };
        Self {
            providers,
            rules,
            default,
            segment_size,
        }
    }

    pub fn segment_size(&self) -> u32 {
        self.segment_size
    }

    /// The configured providers, for metrics and the `cloak keys` command.
    pub fn providers(&self) -> &Providers {
        &self.providers
    }

    /// Where a new object's key comes from: the first matching rule, else the default.
    pub fn target_for(&self, bucket: &str, key: &str) -> &Target {
        self.rules
            .iter()
            .find(|r| r.bucket == bucket && key.starts_with(&r.prefix))
            .map_or(&self.default, |r| &r.target)
    }

    /// A fresh data key for a new object, wrapped under the object's identity.
    pub async fn new_object(&self, bucket: &str, key: &str) -> Result<NewObjectKey, S3Error> {
        let target = self.target_for(bucket, key);
        let stack = self.providers.get(&target.provider).ok_or_else(|| {
            S3Error::internal(format!("key provider {:?} is missing", target.provider))
        })?;
        let (label, layer) = stack.writer();
        let generated = layer
            .generate_data_key(&target.key, &context(bucket, key))
            .await
            .map_err(|e| write_error(e, target))?;
        let mut salt = [0u8; OBJECT_SALT_LEN];
        SystemRandom::new()
            .fill(&mut salt)
            .map_err(|_| S3Error::internal("the random source failed"))?;
        let content = ContentKey::derive(generated.plaintext.expose(), &salt);
        let header = Header {
            version: VERSION,
            segment_size: self.segment_size,
            object_salt: salt,
            commitment: *content.commitment(),
            key: key_ref(&label, &generated.wrapped),
        };
        Ok(NewObjectKey {
            header,
            key: Arc::new(content),
        })
    }

    /// The content key of an existing object, checked against its key commitment.
    pub async fn open(
        &self,
        header: &Header,
        bucket: &str,
        key: &str,
    ) -> Result<Arc<ContentKey>, S3Error> {
        let layer = self.reader(header)?;
        let data_key = layer
            .unwrap_key(&wrapped(header), &context(bucket, key))
            .await?;
        let content = ContentKey::derive_committed(
            data_key.expose(),
            &header.object_salt,
            &header.commitment,
        )?;
        Ok(Arc::new(content))
    }

    /// The header of `header`'s object re-wrapped under its master key's current version and
    /// bound to `to` (bucket, key) instead of `from`: for a key rotation (`to == from`) and a
    /// server-side copy. The data key, and so the stored body, stay the same; the object keeps
    /// the provider it was written with.
    pub async fn rewrap_header(
        &self,
        header: &Header,
        from: (&str, &str),
        to: (&str, &str),
    ) -> Result<Header, S3Error> {
        let layer = self.reader(header)?;
        let moved = layer
            .rewrap_key(
                &wrapped(header),
                &context(from.0, from.1),
                &context(to.0, to.1),
            )
            .await?;
        Ok(Header {
            key: key_ref(&header.key.provider, &moved),
            ..header.clone()
        })
    }

    /// The layer that opens `header`'s data key.
    fn reader(&self, header: &Header) -> Result<Arc<dyn KeyProvider>, S3Error> {
        let label = &header.key.provider;
        let (_, layer) = self.providers.reader(label).ok_or_else(|| {
            tracing::error!(provider = %label, "an object names a key provider not configured");
            S3Error::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                format!(
                    "This object's key is held by key provider {label:?}, which this proxy \
                     does not have configured"
                ),
            )
            .fault(Fault::Internal)
        })?;
        Ok(layer)
    }
}

/// The encryption context that binds a wrapped key to one object.
pub fn context(bucket: &str, key: &str) -> EncryptionContext {
    EncryptionContext::new()
        .with("bucket", bucket)
        .with("key", key)
}

/// The wrapped data key an object header carries.
pub fn wrapped(header: &Header) -> WrappedKey {
    WrappedKey {
        key_id: header.key.key_id.clone(),
        version: header.key.key_version,
        ciphertext: header.key.wrapped.clone(),
    }
}

/// A write's key failure, in a write's words: a missing master key is the one configured for
/// new objects here, not the object's (there is none yet).
fn write_error(e: cloak_kms::KeyError, target: &Target) -> S3Error {
    match e {
        cloak_kms::KeyError::NotFound(_) => {
            tracing::warn!(error = %e, "the master key for new objects is missing");
            S3Error::new(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                format!(
                    "The master key configured for new objects here ({}/{}) does not exist \
                     (it may have been shredded); nothing was stored",
                    target.provider, target.key
                ),
            )
            .fault(Fault::KeyService)
        }
        other => other.into(),
    }
}

fn key_ref(label: &str, wrapped: &WrappedKey) -> KeyRef {
    KeyRef {
        provider: label.to_owned(),
        key_id: wrapped.key_id.clone(),
        key_version: wrapped.version,
        wrapped: wrapped.ciphertext.clone(),
    }
}

#[cfg(test)]
mod tests;
