//! The proxy's side of key management: which master key an object uses, fresh data keys for
//! writes, and unwrapped, commitment-checked content keys for reads.
//!
//! Unwrapped keys are cached in memory for `keys.cache_ttl_secs` (at most
//! `keys.cache_capacity` of them). That TTL is the revocation delay: after a master key is
//! disabled or shredded, objects whose keys are still cached stay readable on this replica
//! until their entries expire. The cache is only a cache: every replica can unwrap any key.

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use cloak_envelope::keys::OBJECT_SALT_LEN;
use cloak_envelope::{ContentKey, Header, KeyRef, VERSION};
use cloak_kms::{EncryptionContext, KeyProvider, WrappedKey};
use moka::future::Cache;

use crate::config::{KeyRule, KeysConfig};
use crate::error::S3Error;

/// Chooses master keys and opens data keys.
pub struct KeyService {
    provider: Arc<dyn KeyProvider>,
    rules: Vec<KeyRule>,
    default_key: String,
    segment_size: u32,
    cache: Cache<String, Arc<ContentKey>>,
}

/// A new object's header (for its metadata) and its content key.
pub struct NewObjectKey {
    pub header: Header,
    pub key: Arc<ContentKey>,
}

impl KeyService {
    pub fn new(provider: Arc<dyn KeyProvider>, config: &KeysConfig, segment_size: u32) -> Self {
        let cache = Cache::builder()
            .max_capacity(config.cache_capacity)
            .time_to_live(Duration::from_secs(config.cache_ttl_secs))
            .build();
        Self {
            provider,
            rules: config.rules.iter().map(clone_rule).collect(),
            default_key: config.default_key.clone(),
            segment_size,
            cache,
        }
    }

    pub fn segment_size(&self) -> u32 {
        self.segment_size
    }

    /// The master key for an object: the first matching rule, else the default.
    pub fn master_key_for(&self, bucket: &str, key: &str) -> &str {
        self.rules
            .iter()
            .find(|r| r.bucket == bucket && key.starts_with(&r.prefix))
            .map_or(&self.default_key, |r| &r.key)
    }

    /// A fresh data key for a new object, wrapped under the object's identity.
    pub async fn new_object(&self, bucket: &str, key: &str) -> Result<NewObjectKey, S3Error> {
        let master = self.master_key_for(bucket, key);
        let generated = self
            .provider
            .generate_data_key(master, &context(bucket, key))
            .await?;
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
            key: key_ref(self.provider.name(), &generated.wrapped),
        };
        let content = Arc::new(content);
        self.cache
            .insert(cache_key(bucket, key, &header), content.clone())
            .await;
        Ok(NewObjectKey {
            header,
            key: content,
        })
    }

    /// The content key of an existing object, checked against its key commitment.
    pub async fn open(
        &self,
        header: &Header,
        bucket: &str,
        key: &str,
    ) -> Result<Arc<ContentKey>, S3Error> {
        let id = cache_key(bucket, key, header);
        if let Some(found) = self.cache.get(&id).await {
            return Ok(found);
        }
        let wrapped = WrappedKey {
            key_id: header.key.key_id.clone(),
            version: header.key.key_version,
            ciphertext: header.key.wrapped.clone(),
        };
        let data_key = self
            .provider
            .unwrap_key(&wrapped, &context(bucket, key))
            .await?;
        let content = ContentKey::derive_committed(
            data_key.expose(),
            &header.object_salt,
            &header.commitment,
        )?;
        let content = Arc::new(content);
        self.cache.insert(id, content.clone()).await;
        Ok(content)
    }
}

/// The encryption context that binds a wrapped key to one object.
pub fn context(bucket: &str, key: &str) -> EncryptionContext {
    EncryptionContext::new()
        .with("bucket", bucket)
        .with("key", key)
}

fn key_ref(provider: &str, wrapped: &WrappedKey) -> KeyRef {
    KeyRef {
        provider: provider.to_owned(),
        key_id: wrapped.key_id.clone(),
        key_version: wrapped.version,
        wrapped: wrapped.ciphertext.clone(),
    }
}

fn cache_key(bucket: &str, key: &str, header: &Header) -> String {
    format!("{bucket}\u{0}{key}\u{0}{}", header.encode())
}

fn clone_rule(r: &KeyRule) -> KeyRule {
    KeyRule {
        bucket: r.bucket.clone(),
        prefix: r.prefix.clone(),
        key: r.key.clone(),
    }
}
