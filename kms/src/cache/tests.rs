use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::*;
use crate::Keyring;

/// The local keyring, made to take `delay` per call so that calls overlap.
#[derive(Debug)]
struct Slow {
    ring: Keyring,
    delay: Duration,
}

#[async_trait]
impl KeyProvider for Slow {
    fn name(&self) -> &str {
        "slow-keyring"
    }

    async fn generate_data_key(
        &self,
        key_id: &str,
        context: &EncryptionContext,
    ) -> Result<GeneratedKey, KeyError> {
        tokio::time::sleep(self.delay).await;
        self.ring.generate_data_key(key_id, context).await
    }

    async fn unwrap_key(
        &self,
        wrapped: &WrappedKey,
        context: &EncryptionContext,
    ) -> Result<DataKey, KeyError> {
        tokio::time::sleep(self.delay).await;
        self.ring.unwrap_key(wrapped, context).await
    }

    async fn rewrap_key(
        &self,
        wrapped: &WrappedKey,
        context: &EncryptionContext,
        new_context: &EncryptionContext,
    ) -> Result<WrappedKey, KeyError> {
        tokio::time::sleep(self.delay).await;
        self.ring.rewrap_key(wrapped, context, new_context).await
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    ring: Arc<Slow>,
    cache: CachingProvider,
}

fn fixture(ttl: Duration) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let ring = Keyring::open_or_create(&dir.path().join("ring.toml"), "m").expect("keyring");
    let ring = Arc::new(Slow {
        ring,
        delay: Duration::from_millis(20),
    });
    let config = CacheConfig {
        max_entries: 100,
        ttl,
    };
    let cache = CachingProvider::new(ring.clone(), config);
    Fixture {
        _dir: dir,
        ring,
        cache,
    }
}

fn ctx(key: &str) -> EncryptionContext {
    EncryptionContext::new()
        .with("bucket", "b")
        .with("key", key)
}

/// A key wrapped straight through the keyring, so the cache has not seen it.
async fn wrapped_elsewhere(f: &Fixture, key: &str) -> (DataKey, WrappedKey) {
    let g = f
        .ring
        .ring
        .generate_data_key("m", &ctx(key))
        .await
        .expect("generate");
    (g.plaintext, g.wrapped)
}

#[tokio::test(start_paused = true)]
async fn second_unwrap_is_a_hit() {
    let f = fixture(Duration::from_secs(60));
    let (key, wrapped) = wrapped_elsewhere(&f, "a").await;

    for _ in 0..3 {
        assert_eq!(
            f.cache.unwrap_key(&wrapped, &ctx("a")).await,
            Ok(key.clone())
        );
    }

    let m = f.cache.metrics();
    assert_eq!(m.unwrap.calls, 1);
    assert_eq!((m.cache_misses, m.cache_hits), (1, 2));
    assert_eq!(m.latency.count, 1);
}

#[tokio::test(start_paused = true)]
async fn keys_expire_after_the_ttl_exactly() {
    let f = fixture(Duration::from_secs(60));
    let (key, wrapped) = wrapped_elsewhere(&f, "a").await;
    f.cache
        .unwrap_key(&wrapped, &ctx("a"))
        .await
        .expect("first unwrap");

    tokio::time::advance(Duration::from_secs(59)).await;
    f.cache
        .unwrap_key(&wrapped, &ctx("a"))
        .await
        .expect("cached");
    assert_eq!(f.cache.metrics().unwrap.calls, 1, "still within the ttl");

    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(f.cache.unwrap_key(&wrapped, &ctx("a")).await, Ok(key));
    assert_eq!(f.cache.metrics().unwrap.calls, 2, "expired, so asked again");
}

#[tokio::test(start_paused = true)]
async fn a_cached_key_is_not_served_for_another_context() {
    let f = fixture(Duration::from_secs(60));
    let (_, wrapped) = wrapped_elsewhere(&f, "a").await;
    f.cache
        .unwrap_key(&wrapped, &ctx("a"))
        .await
        .expect("first unwrap");

    let moved = f.cache.unwrap_key(&wrapped, &ctx("b")).await;

    assert!(matches!(moved, Err(KeyError::Corrupt(_))), "{moved:?}");
    assert_eq!(f.cache.metrics().unwrap.calls, 2);
}

#[tokio::test(start_paused = true)]
async fn concurrent_misses_make_one_call() {
    let f = fixture(Duration::from_secs(60));
    let (key, wrapped) = wrapped_elsewhere(&f, "a").await;

    let context = ctx("a");
    let unwraps = (0..50).map(|_| f.cache.unwrap_key(&wrapped, &context));
    let results = futures_util::future::join_all(unwraps).await;

    assert!(results.iter().all(|r| r.as_ref() == Ok(&key)));
    let m = f.cache.metrics();
    assert_eq!(m.unwrap.calls, 1);
    assert_eq!((m.cache_misses, m.cache_hits), (1, 49));
}

#[tokio::test(start_paused = true)]
async fn failures_are_counted_and_not_cached() {
    let f = fixture(Duration::from_secs(60));
    let (_, mut wrapped) = wrapped_elsewhere(&f, "a").await;
    wrapped.key_id = "no-such-key".into();

    for _ in 0..2 {
        let out = f.cache.unwrap_key(&wrapped, &ctx("a")).await;
        assert!(matches!(out, Err(KeyError::NotFound(_))), "{out:?}");
    }

    let m = f.cache.metrics();
    assert_eq!(
        m.unwrap,
        crate::metrics::OpStats {
            calls: 2,
            errors: 2
        }
    );
}

#[tokio::test(start_paused = true)]
async fn generated_keys_are_cached_and_forget_all_drops_them() {
    let f = fixture(Duration::from_secs(60));
    let g = f
        .cache
        .generate_data_key("m", &ctx("a"))
        .await
        .expect("generate");

    assert_eq!(
        f.cache.unwrap_key(&g.wrapped, &ctx("a")).await,
        Ok(g.plaintext.clone())
    );
    assert_eq!(f.cache.metrics().unwrap.calls, 0);

    f.cache.forget_all();
    assert_eq!(
        f.cache.unwrap_key(&g.wrapped, &ctx("a")).await,
        Ok(g.plaintext)
    );
    assert_eq!(f.cache.metrics().unwrap.calls, 1);
    assert_eq!(f.cache.metrics().generate.calls, 1);
}

#[tokio::test(start_paused = true)]
async fn zero_entries_counts_every_call_and_keeps_nothing() {
    let f = fixture(Duration::from_secs(60));
    let counting = CachingProvider::new(
        f.ring.clone(),
        CacheConfig {
            max_entries: 0,
            ttl: Duration::from_secs(60),
        },
    );
    let g = counting
        .generate_data_key("m", &ctx("a"))
        .await
        .expect("generate");
    for _ in 0..3 {
        let key = counting.unwrap_key(&g.wrapped, &ctx("a")).await;
        assert_eq!(key, Ok(g.plaintext.clone()));
    }
    let m = counting.metrics();
    assert_eq!((m.generate.calls, m.unwrap.calls), (1, 3));
    assert_eq!((m.cache_hits, m.cache_misses, m.cache_entries), (0, 3, 0));
}
