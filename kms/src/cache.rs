//! A cache of unwrapped data keys in front of any key provider.
//!
//! Reading an object needs its data key, and a remote key service adds a network round trip
//! and a per-call charge to every read. This layer keeps unwrapped data keys in memory, keyed
//! by the wrapped key *and* the encryption context, so a cached key is only ever handed out
//! for the context it was unwrapped under.
//!
//! The two settings in [`CacheConfig`] are also the revocation delay. After a master key is
//! disabled, shredded or its grant withdrawn, a data key already in the cache keeps opening
//! its object for up to `ttl`; `max_entries` only ever shortens that, by evicting keys early.
//! [`CachingProvider::forget_all`] ends the delay at once for a revocation Cloak itself
//! performs. Failures are never cached: a refused or unreachable unwrap is asked again.
//!
//! Concurrent unwraps of the same wrapped key under the same context wait for a single call
//! to the wrapped provider. Newly generated data keys are cached too, so reading an object
//! right after writing it costs no call.
//!
//! A `max_entries` of 0 turns the cache off: every call goes through and is still counted.
//! That is the setting under a [`crate::KekProvider`], which keeps its own unwrapped KEKs, so
//! that a key is held by one layer only and the revocation delay is that layer's TTL alone.
//!
//! Expiry is decided on each hit against tokio's clock, which tests can pause and advance;
//! the cache's own time-to-live, on the real clock, only reclaims the memory.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use moka::future::Cache;
use tokio::time::Instant;

use crate::metrics::{Metrics, MetricsSnapshot, Op};
use crate::{DataKey, EncryptionContext, GeneratedKey, KeyError, KeyProvider, WrappedKey};

/// Bounds of the data-key cache; see the module documentation for what they cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// Data keys held at most.
    pub max_entries: u64,
    /// How long an unwrapped data key is reused.
    pub ttl: Duration,
}

/// A key provider that remembers unwrapped data keys and counts calls to the one it wraps.
pub struct CachingProvider {
    inner: Arc<dyn KeyProvider>,
    ttl: Duration,
    /// False when `max_entries` is 0: count calls, keep nothing.
    enabled: bool,
    keys: Cache<Slot, Cached>,
    metrics: Metrics,
}

/// What a cached key is filed under: everything the wrapped provider would be asked.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Slot {
    key_id: String,
    version: u32,
    ciphertext: Vec<u8>,
    context: Vec<u8>,
}

#[derive(Clone)]
struct Cached {
    key: DataKey,
    at: Instant,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            max_entries: 10_000,
            ttl: Duration::from_secs(300),
        }
    }
}

impl CachingProvider {
    pub fn new(inner: Arc<dyn KeyProvider>, config: CacheConfig) -> Self {
        let keys = Cache::builder()
            .max_capacity(config.max_entries)
            .time_to_live(config.ttl)
            .build();
        Self {
            inner,
            ttl: config.ttl,
            enabled: config.max_entries > 0,
            keys,
            metrics: Metrics::default(),
        }
    }

    /// The counters so far.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.metrics.snapshot(self.keys.entry_count())
    }

    /// Drops every cached data key, ending the revocation delay now.
    pub fn forget_all(&self) {
        self.keys.invalidate_all();
    }

    /// A cached key for `slot` that is still within its time to live.
    async fn fresh(&self, slot: &Slot) -> Option<DataKey> {
        let cached = self.keys.get(slot).await?;
        if cached.at.elapsed() < self.ttl {
            return Some(cached.key);
        }
        self.keys.invalidate(slot).await;
        None
    }

    /// Runs a call to the wrapped provider, recording its outcome and latency.
    async fn timed<T>(
        &self,
        op: Op,
        call: impl Future<Output = Result<T, KeyError>>,
    ) -> Result<T, KeyError> {
        let start = std::time::Instant::now();
        let out = call.await;
        self.metrics.record(op, start.elapsed(), out.is_ok());
        out
    }
}

impl Slot {
    fn new(wrapped: &WrappedKey, context: &EncryptionContext) -> Self {
        Self {
            key_id: wrapped.key_id.clone(),
            version: wrapped.version,
            ciphertext: wrapped.ciphertext.clone(),
            context: context.canonical_bytes(),
        }
    }
}

impl std::fmt::Debug for CachingProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachingProvider")
            .field("inner", &self.inner)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl KeyProvider for CachingProvider {
    /// The wrapped provider's name: the cache changes nothing about the stored form.
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn generate_data_key(
        &self,
        key_id: &str,
        context: &EncryptionContext,
    ) -> Result<GeneratedKey, KeyError> {
        let call = self.inner.generate_data_key(key_id, context);
        let generated = self.timed(Op::Generate, call).await?;
        if !self.enabled {
            return Ok(generated);
        }
        let cached = Cached {
            key: generated.plaintext.clone(),
            at: Instant::now(),
        };
        self.keys
            .insert(Slot::new(&generated.wrapped, context), cached)
            .await;
        Ok(generated)
    }

    async fn unwrap_key(
        &self,
        wrapped: &WrappedKey,
        context: &EncryptionContext,
    ) -> Result<DataKey, KeyError> {
        if !self.enabled {
            self.metrics.miss();
            return self
                .timed(Op::Unwrap, self.inner.unwrap_key(wrapped, context))
                .await;
        }
        let slot = Slot::new(wrapped, context);
        if let Some(key) = self.fresh(&slot).await {
            self.metrics.hit();
            return Ok(key);
        }
        let called = AtomicBool::new(false);
        let fetch = async {
            called.store(true, Ordering::Relaxed);
            let key = self
                .timed(Op::Unwrap, self.inner.unwrap_key(wrapped, context))
                .await?;
            Ok::<_, KeyError>(Cached {
                key,
                at: Instant::now(),
            })
        };
        let out = self.keys.try_get_with(slot, fetch).await;
        match called.load(Ordering::Relaxed) {
            true => self.metrics.miss(),
            false => self.metrics.hit(),
        }
        out.map(|c| c.key).map_err(|e| (*e).clone())
    }

    async fn rewrap_key(
        &self,
        wrapped: &WrappedKey,
        context: &EncryptionContext,
        new_context: &EncryptionContext,
    ) -> Result<WrappedKey, KeyError> {
        let call = self.inner.rewrap_key(wrapped, context, new_context);
        self.timed(Op::Rewrap, call).await
    }

    async fn current_version(&self, key_id: &str) -> Result<Option<u32>, KeyError> {
        self.inner.current_version(key_id).await
    }
}

#[cfg(test)]
mod tests;
