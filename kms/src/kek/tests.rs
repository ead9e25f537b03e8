use std::sync::atomic::AtomicU64;

use super::*;
use crate::Keyring;

/// The local keyring, counting the calls that reach it.
#[derive(Debug)]
struct Counted {
    ring: Keyring,
    generate: AtomicU64,
    unwrap: AtomicU64,
    rewrap: AtomicU64,
}

#[async_trait]
impl KeyProvider for Counted {
    fn name(&self) -> &str {
        "keyring"
    }

    async fn generate_data_key(
        &self,
        key_id: &str,
        context: &EncryptionContext,
    ) -> Result<GeneratedKey, KeyError> {
        self.generate.fetch_add(1, Ordering::Relaxed);
        self.ring.generate_data_key(key_id, context).await
    }

    async fn unwrap_key(
        &self,
        wrapped: &WrappedKey,
        context: &EncryptionContext,
    ) -> Result<DataKey, KeyError> {
        self.unwrap.fetch_add(1, Ordering::Relaxed);
        tokio::task::yield_now().await;
        self.ring.unwrap_key(wrapped, context).await
    }

    async fn rewrap_key(
        &self,
        wrapped: &WrappedKey,
        context: &EncryptionContext,
        new_context: &EncryptionContext,
    ) -> Result<WrappedKey, KeyError> {
        self.rewrap.fetch_add(1, Ordering::Relaxed);
        self.ring.rewrap_key(wrapped, context, new_context).await
    }
}

impl Counted {
    fn calls(&self) -> (u64, u64, u64) {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        (n(&self.generate), n(&self.unwrap), n(&self.rewrap))
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    remote: Arc<Counted>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let ring = Keyring::open_or_create(&dir.path().join("ring.toml"), "m").expect("keyring");
    let remote = Arc::new(Counted {
        ring,
        generate: AtomicU64::new(0),
        unwrap: AtomicU64::new(0),
        rewrap: AtomicU64::new(0),
    });
    Fixture { _dir: dir, remote }
}

impl Fixture {
    fn provider(&self, config: KekConfig) -> KekProvider {
        KekProvider::new(self.remote.clone(), config)
    }
}

fn ctx(bucket: &str, key: &str) -> EncryptionContext {
    EncryptionContext::new()
        .with("bucket", bucket)
        .with("key", key)
}

#[tokio::test]
async fn a_thousand_puts_in_one_bucket_cost_one_remote_call() {
    let f = fixture();
    let kek = f.provider(KekConfig::default());

    let mut stored = Vec::new();
    for i in 0..1000 {
        let c = ctx("b", &format!("obj-{i}"));
        stored.push((kek.generate_data_key("m", &c).await.expect("generate"), c));
    }

    assert_eq!(f.remote.calls(), (1, 0, 0));
    for (i, (g, c)) in stored.iter().enumerate() {
        assert_eq!(
            kek.unwrap_key(&g.wrapped, c).await.as_ref(),
            Ok(&g.plaintext)
        );
        let neighbour = &stored[(i + 1) % stored.len()].1;
        let moved = kek.unwrap_key(&g.wrapped, neighbour).await;
        assert!(matches!(moved, Err(KeyError::Corrupt(_))), "{i}: {moved:?}");
    }
    assert_eq!(
        f.remote.calls(),
        (1, 0, 0),
        "unwraps reuse the KEK just made"
    );
    assert!(stored[0].0.wrapped.ciphertext.len() < 200);
}

#[tokio::test]
async fn each_dataset_has_its_own_kek() {
    let f = fixture();
    let kek = f.provider(KekConfig::default());

    let a = kek
        .generate_data_key("m", &ctx("a", "x"))
        .await
        .expect("generate");
    let b = kek
        .generate_data_key("m", &ctx("b", "x"))
        .await
        .expect("generate");

    assert_eq!(f.remote.calls().0, 2);
    let moved = kek.unwrap_key(&a.wrapped, &ctx("b", "x")).await;
    assert!(moved.is_err(), "{moved:?}");
    assert_eq!(
        kek.unwrap_key(&b.wrapped, &ctx("b", "x")).await,
        Ok(b.plaintext)
    );
}

#[tokio::test(start_paused = true)]
async fn a_kek_is_replaced_after_its_lifetime_or_use_count() {
    let f = fixture();
    let config = KekConfig {
        lifetime: Duration::from_secs(60),
        max_uses: 3,
        ..KekConfig::default()
    };
    let kek = f.provider(config);
    let contexts: Vec<_> = (0..5).map(|i| ctx("b", &i.to_string())).collect();
    let put = |i: usize| kek.generate_data_key("m", &contexts[i]);

    for i in 0..3 {
        put(i).await.expect("generate");
    }
    assert_eq!(f.remote.calls().0, 1);
    put(3).await.expect("generate");
    assert_eq!(f.remote.calls().0, 2, "the fourth key needs a new KEK");

    tokio::time::advance(Duration::from_secs(61)).await;
    put(4).await.expect("generate");
    assert_eq!(
        f.remote.calls().0,
        3,
        "the second KEK outlived its lifetime"
    );
}

#[tokio::test]
async fn a_fresh_process_unwraps_a_dataset_with_one_remote_call() {
    let f = fixture();
    let writer = f.provider(KekConfig::default());
    let mut stored = Vec::new();
    for i in 0..100 {
        let c = ctx("b", &i.to_string());
        stored.push((
            writer.generate_data_key("m", &c).await.expect("generate"),
            c,
        ));
    }

    let reader = f.provider(KekConfig::default());
    let opens = stored.iter().map(|(g, c)| reader.unwrap_key(&g.wrapped, c));
    let opened = futures_util::future::join_all(opens).await;

    for ((g, _), key) in stored.iter().zip(opened) {
        assert_eq!(key.as_ref(), Ok(&g.plaintext));
    }
    assert_eq!(f.remote.calls(), (1, 1, 0));
}

#[tokio::test]
async fn rewrap_in_a_dataset_follows_a_rotation_with_one_remote_call() {
    let f = fixture();
    let kek = f.provider(KekConfig::default());
    let mut stored = Vec::new();
    for i in 0..20 {
        let c = ctx("b", &i.to_string());
        stored.push((kek.generate_data_key("m", &c).await.expect("generate"), c));
    }
    f.remote.ring.rotate("m").expect("rotate");

    for (i, (g, c)) in stored.iter().enumerate() {
        let renamed = ctx("b", &format!("renamed-{i}"));
        let moved = kek
            .rewrap_key(&g.wrapped, c, &renamed)
            .await
            .expect("rewrap");
        assert_eq!(moved.version, 2);
        assert_eq!(
            kek.unwrap_key(&moved, &renamed).await.as_ref(),
            Ok(&g.plaintext)
        );
        assert!(kek.unwrap_key(&moved, c).await.is_err());
    }
    assert_eq!(f.remote.calls(), (1, 0, 1));
}

#[tokio::test]
async fn rewrap_into_another_dataset_uses_that_datasets_kek() {
    let f = fixture();
    let kek = f.provider(KekConfig::default());
    let from = ctx("a", "x");
    let to = ctx("b", "x");
    let g = kek.generate_data_key("m", &from).await.expect("generate");

    let moved = kek
        .rewrap_key(&g.wrapped, &from, &to)
        .await
        .expect("rewrap");

    assert_eq!(kek.unwrap_key(&moved, &to).await, Ok(g.plaintext));
    assert!(kek.unwrap_key(&moved, &from).await.is_err());
    // Two KEKs made; the one unwrap is the refused attempt to open b's KEK as a's.
    assert_eq!(f.remote.calls(), (2, 1, 0));
}

#[tokio::test]
async fn the_remote_kek_is_bound_to_its_purpose() {
    let f = fixture();
    let kek = f.provider(KekConfig::default());
    let g = kek
        .generate_data_key("m", &ctx("b", "x"))
        .await
        .expect("generate");
    let remote_kek = Blob::parse(&g.wrapped).expect("parse").kek;

    // Opened as if it were an ordinary data key of the dataset, it must fail.
    let bucket_only = EncryptionContext::new().with("bucket", "b");
    let out = f.remote.ring.unwrap_key(&remote_kek, &bucket_only).await;
    assert!(out.is_err(), "{out:?}");
}

#[tokio::test]
async fn shredding_the_master_key_reaches_held_keks_when_they_are_forgotten() {
    let f = fixture();
    let kek = f.provider(KekConfig::default());
    let c = ctx("b", "x");
    let g = kek.generate_data_key("m", &c).await.expect("generate");
    f.remote.ring.shred("m").expect("shred");

    // The documented delay: a KEK already held still opens its objects.
    assert_eq!(kek.unwrap_key(&g.wrapped, &c).await, Ok(g.plaintext));

    kek.forget_all();
    let out = kek.unwrap_key(&g.wrapped, &c).await;
    assert!(matches!(out, Err(KeyError::NotFound(_))), "{out:?}");
    let out = kek.generate_data_key("m", &c).await;
    assert!(matches!(out, Err(KeyError::NotFound(_))), "{out:?}");
}

#[tokio::test(start_paused = true)]
async fn a_held_kek_stops_opening_a_shredded_masters_objects_after_its_ttl() {
    let f = fixture();
    let config = KekConfig {
        lifetime: Duration::from_secs(60),
        open_ttl: Duration::from_secs(60),
        ..KekConfig::default()
    };
    let kek = f.provider(config);
    let c = ctx("b", "x");
    let g = kek.generate_data_key("m", &c).await.expect("generate");
    f.remote.ring.shred("m").expect("shred");

    tokio::time::advance(Duration::from_secs(59)).await;
    assert_eq!(kek.unwrap_key(&g.wrapped, &c).await, Ok(g.plaintext));

    // Past the TTL, neither reads nor new writes find the held KEK any more.
    tokio::time::advance(Duration::from_secs(2)).await;
    let out = kek.unwrap_key(&g.wrapped, &c).await;
    assert!(matches!(out, Err(KeyError::NotFound(_))), "{out:?}");
    let out = kek.generate_data_key("m", &ctx("b", "y")).await;
    assert!(matches!(out, Err(KeyError::NotFound(_))), "{out:?}");
}

#[tokio::test(start_paused = true)]
async fn rewraps_answered_from_memory_never_extend_a_shredded_keks_life() {
    let f = fixture();
    let config = KekConfig {
        lifetime: Duration::from_secs(600),
        open_ttl: Duration::from_secs(60),
        ..KekConfig::default()
    };
    let kek = f.provider(config);
    let (a, b) = (ctx("b", "x"), ctx("b", "y"));
    let g = kek.generate_data_key("m", &a).await.expect("generate");
    let moved = kek.rewrap_key(&g.wrapped, &a, &b).await.expect("rewrap");
    f.remote.ring.shred("m").expect("shred");

    // Copies keep re-binding within the dataset, answered from memory while it lasts.
    for _ in 0..5 {
        tokio::time::advance(Duration::from_secs(15)).await;
        let _ = kek.rewrap_key(&g.wrapped, &a, &b).await;
    }
    let out = kek.unwrap_key(&moved, &b).await;
    assert!(matches!(out, Err(KeyError::NotFound(_))), "{out:?}");
}
