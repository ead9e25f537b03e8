//! Fewer key-service calls for many small objects: data keys sealed under a shared,
//! short-lived key-encryption key (KEK).
//!
//! A remote key service charges a round trip per data key, which dominates the cost of a small
//! PUT. [`KekProvider`] asks the remote provider for one data key per master key and
//! *dataset* and uses it, for a while, as a KEK: each object still gets its own fresh data key,
//! sealed locally with AES-256-GCM under the KEK, with the object's full encryption context as
//! associated data. The stored form (see `blob`) carries the remote-wrapped KEK beside the
//! sealed data key, so reading an object needs the remote provider once per KEK, not per
//! object. The dataset is the part of the context named by [`KekConfig::dataset_fields`]
//! (by default the bucket): objects share a KEK only within one dataset, and the remote
//! provider sees, and can audit and refuse, each dataset separately.
//!
//! A KEK seals new data keys for [`KekConfig::lifetime`] or [`KekConfig::max_uses`] keys,
//! whichever ends first. Unwrapped KEKs are kept for [`KekConfig::open_ttl`] to open objects.
//!
//! The trade-off, stated plainly:
//! - Revoking or disabling a master key takes effect for every *new* unwrap of a KEK at once,
//!   but a KEK already held keeps sealing new objects for up to `lifetime` and opening stored
//!   ones for up to `open_ttl`; a caching layer in front adds its own TTL for data keys.
//! - Shredding works at the granularity of the master key: destroying it makes every KEK,
//!   and so every object, under it unreadable. One object cannot be shredded alone through
//!   the key service, as its data key is not wrapped there.
//! - A master-key rotation reaches new objects when their dataset's KEK is next replaced,
//!   within `lifetime`. [`KeyProvider::rewrap_key`] moves an object to the current version
//!   at once, by re-wrapping its KEK remotely (once per KEK, however many objects share it).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use moka::future::Cache;
use moka::ops::compute::Op;
use tokio::time::Instant;

mod blob;

use self::blob::{seal, Blob};
use crate::{DataKey, EncryptionContext, GeneratedKey, KeyError, KeyProvider, WrappedKey};

/// The context field, added to a dataset's context, that marks a remote data key as a KEK, so
/// that it can never be confused with an ordinary object's data key.
const PURPOSE_FIELD: &str = "cloak:purpose";

/// How KEKs are shared and for how long.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KekConfig {
    /// How long one KEK seals new data keys.
    pub lifetime: Duration,
    /// How many data keys one KEK seals at most.
    pub max_uses: u64,
    /// The context fields that name a dataset; objects share KEKs only within one.
    pub dataset_fields: Vec<String>,
    /// Unwrapped KEKs kept for opening objects, at most.
    pub open_entries: u64,
    /// How long an unwrapped KEK is kept for opening objects.
    pub open_ttl: Duration,
}

/// A key provider that seals data keys under KEKs obtained from another provider.
pub struct KekProvider {
    inner: Arc<dyn KeyProvider>,
    name: String,
    config: KekConfig,
    /// The KEK sealing new keys, per (master key id, dataset).
    sealing: Cache<(String, Vec<u8>), Arc<ActiveKek>>,
    /// Unwrapped KEKs, per (wrapped KEK, dataset).
    opened: Cache<(WrappedKey, Vec<u8>), OpenedKek>,
    /// Remote re-wraps of KEKs already done, with when the service did them.
    rewrapped: Cache<(WrappedKey, Vec<u8>), (WrappedKey, Instant)>,
}

struct ActiveKek {
    key: DataKey,
    wrapped: WrappedKey,
    born: Instant,
    uses: AtomicU64,
}

#[derive(Clone)]
struct OpenedKek {
    key: DataKey,
    at: Instant,
}

impl Default for KekConfig {
    fn default() -> Self {
        Self {
            lifetime: Duration::from_secs(300),
            max_uses: 1 << 20,
            dataset_fields: vec!["bucket".to_owned()],
            open_entries: 1_000,
            open_ttl: Duration::from_secs(300),
        }
    }
}

impl KekProvider {
    pub fn new(inner: Arc<dyn KeyProvider>, config: KekConfig) -> Self {
        let name = format!("kek+{}", inner.name());
        Self {
            sealing: bounded(config.lifetime, 10_000),
            opened: bounded(config.open_ttl, config.open_entries),
            rewrapped: bounded(config.lifetime, config.open_entries),
            inner,
            name,
            config,
        }
    }

    /// Drops every KEK held, so that the next seal and every next unwrap asks the remote
    /// provider again: the way to end the revocation delay after revoking a master key.
    pub fn forget_all(&self) {
        self.sealing.invalidate_all();
        self.opened.invalidate_all();
        self.rewrapped.invalidate_all();
    }

    /// The part of `context` that names its dataset.
    fn dataset(&self, context: &EncryptionContext) -> EncryptionContext {
        let mut out = EncryptionContext::new();
        for field in &self.config.dataset_fields {
            if let Some(value) = context.get(field) {
                out.insert(field, value);
            }
        }
        out
    }

    /// A KEK that may seal one more data key for `dataset`, counting that use.
    async fn sealing_kek(
        &self,
        key_id: &str,
        dataset: &EncryptionContext,
    ) -> Result<Arc<ActiveKek>, KeyError> {
        let slot = (key_id.to_owned(), dataset.canonical_bytes());
        loop {
            let kek = self
                .sealing
                .try_get_with_by_ref(&slot, self.new_kek(key_id, dataset))
                .await
                .map_err(|e| (*e).clone())?;
            if kek.take_use(&self.config) {
                return Ok(kek);
            }
            self.retire(&slot, &kek).await;
        }
    }

    /// Removes `spent` from the sealing slot, unless another task has replaced it already.
    async fn retire(&self, slot: &(String, Vec<u8>), spent: &Arc<ActiveKek>) {
        self.sealing
            .entry_by_ref(slot)
            .and_compute_with(|entry| {
                let op = match entry {
                    Some(e) if Arc::ptr_eq(e.value(), spent) => Op::Remove,
                    _ => Op::Nop,
                };
                std::future::ready(op)
            })
            .await;
    }

    /// Asks the remote provider for a new KEK for `dataset`.
    async fn new_kek(
        &self,
        key_id: &str,
        dataset: &EncryptionContext,
    ) -> Result<Arc<ActiveKek>, KeyError> {
        let generated = self
            .inner
            .generate_data_key(key_id, &kek_context(dataset))
            .await?;
        let born = Instant::now();
        self.remember_open(&generated.wrapped, dataset, &generated.plaintext, born)
            .await;
        Ok(Arc::new(ActiveKek {
            key: generated.plaintext,
            wrapped: generated.wrapped,
            born: Instant::now(),
            uses: AtomicU64::new(0),
        }))
    }

    /// The plaintext of a wrapped KEK, from the cache or the remote provider.
    async fn open_kek(
        &self,
        wrapped: &WrappedKey,
        dataset: &EncryptionContext,
    ) -> Result<DataKey, KeyError> {
        let slot = (wrapped.clone(), dataset.canonical_bytes());
        if let Some(opened) = self.opened.get(&slot).await {
            if opened.at.elapsed() < self.config.open_ttl {
                return Ok(opened.key);
            }
            self.opened.invalidate(&slot).await;
        }
        let fetch = async {
            let key = self
                .inner
                .unwrap_key(wrapped, &kek_context(dataset))
                .await?;
            Ok::<_, KeyError>(OpenedKek {
                key,
                at: Instant::now(),
            })
        };
        let opened = self.opened.try_get_with(slot, fetch).await;
        opened.map(|o| o.key).map_err(|e| (*e).clone())
    }

    /// Keeps an unwrapped KEK for opening objects, as of `at`: the moment the remote
    /// provider last vouched for it, from which its `open_ttl` runs.
    async fn remember_open(
        &self,
        wrapped: &WrappedKey,
        dataset: &EncryptionContext,
        key: &DataKey,
        at: Instant,
    ) {
        let opened = OpenedKek {
            key: key.clone(),
            at,
        };
        let slot = (wrapped.clone(), dataset.canonical_bytes());
        self.opened.insert(slot, opened).await;
    }

    /// `kek` re-wrapped remotely under the master key's current version, once per KEK, and
    /// when that was done. A repeated re-wrap answered from memory keeps that first time, so
    /// that it never extends how long a revoked master key's KEK stays usable.
    async fn rewrap_kek(
        &self,
        kek: &WrappedKey,
        dataset: &EncryptionContext,
    ) -> Result<(WrappedKey, Instant), KeyError> {
        let slot = (kek.clone(), dataset.canonical_bytes());
        if let Some((_, at)) = self.rewrapped.get(&slot).await {
            if at.elapsed() >= self.config.open_ttl {
                // The service vouched for this KEK too long ago: ask it again.
                self.rewrapped.invalidate(&slot).await;
            }
        }
        let context = kek_context(dataset);
        let call = async {
            let moved = self.inner.rewrap_key(kek, &context, &context).await?;
            Ok::<_, KeyError>((moved, Instant::now()))
        };
        self.rewrapped
            .try_get_with(slot, call)
            .await
            .map_err(|e| (*e).clone())
    }
}

impl ActiveKek {
    /// Counts one use, if the KEK may still seal. Its first use is always allowed, so that a
    /// zero lifetime or use count still lets every call make progress.
    fn take_use(&self, config: &KekConfig) -> bool {
        let used = self.uses.fetch_add(1, Ordering::Relaxed);
        used == 0 || (used < config.max_uses && self.born.elapsed() < config.lifetime)
    }
}

impl std::fmt::Debug for KekProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KekProvider")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl KeyProvider for KekProvider {
    /// `kek+` and the remote provider's name: the stored form is this layer's own.
    fn name(&self) -> &str {
        &self.name
    }

    async fn generate_data_key(
        &self,
        key_id: &str,
        context: &EncryptionContext,
    ) -> Result<GeneratedKey, KeyError> {
        let kek = self.sealing_kek(key_id, &self.dataset(context)).await?;
        let plaintext = DataKey::generate();
        let wrapped = seal(&kek.key, &kek.wrapped, context, &plaintext)?;
        Ok(GeneratedKey { plaintext, wrapped })
    }

    async fn unwrap_key(
        &self,
        wrapped: &WrappedKey,
        context: &EncryptionContext,
    ) -> Result<DataKey, KeyError> {
        let blob = Blob::parse(wrapped)?;
        let kek = self.open_kek(&blob.kek, &self.dataset(context)).await?;
        blob.open(&kek, context)
    }

    /// Within a dataset, the KEK is re-wrapped remotely (picking up a rotated master key) and
    /// the data key re-sealed under it for the new context; into another dataset, the data key
    /// is sealed under that dataset's current KEK.
    async fn rewrap_key(
        &self,
        wrapped: &WrappedKey,
        context: &EncryptionContext,
        new_context: &EncryptionContext,
    ) -> Result<WrappedKey, KeyError> {
        let (dataset, new_dataset) = (self.dataset(context), self.dataset(new_context));
        let blob = Blob::parse(wrapped)?;
        let kek = self.open_kek(&blob.kek, &dataset).await?;
        let key = blob.open(&kek, context)?;
        if dataset != new_dataset {
            let current = self.sealing_kek(&wrapped.key_id, &new_dataset).await?;
            return seal(&current.key, &current.wrapped, new_context, &key);
        }
        let (moved, at) = self.rewrap_kek(&blob.kek, &dataset).await?;
        self.remember_open(&moved, &dataset, &kek, at).await;
        seal(&kek, &moved, new_context, &key)
    }

    /// The remote master key's: a blob records the version of the KEK's remote wrapping.
    async fn current_version(&self, key_id: &str) -> Result<Option<u32>, KeyError> {
        self.inner.current_version(key_id).await
    }
}

/// A cache whose entries the real clock reclaims after `ttl`; freshness itself is checked on
/// tokio's clock by the callers.
fn bounded<K, V>(ttl: Duration, entries: u64) -> Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder()
        .max_capacity(entries)
        .time_to_live(ttl)
        .build()
}

fn kek_context(dataset: &EncryptionContext) -> EncryptionContext {
    dataset.clone().with(PURPOSE_FIELD, "kek")
}

#[cfg(test)]
mod tests;
