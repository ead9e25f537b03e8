use std::path::Path;

use super::*;

/// A key service over the keyring at `ring`, KEK-sealing new objects or not.
async fn service(ring: &Path, kek: bool) -> KeyService {
    let text = format!(
        "provider = \"ring\"\n[providers.ring]\nkind = \"keyring\"\npath = \"{}\"\n\
         kek = {{ enabled = {kek} }}\n",
        ring.display()
    );
    let config: KeysConfig = toml::from_str(&text).expect("a keys section");
    KeyService::from_config(&config, 65536)
        .await
        .expect("the key service builds")
}

#[tokio::test]
async fn objects_stay_readable_when_kek_sealing_is_switched_either_way() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ring = dir.path().join("ring.toml");
    cloak_kms::Keyring::open_or_create(&ring, "default").expect("keyring");
    let (with, without) = (service(&ring, true).await, service(&ring, false).await);

    let sealed = with.new_object("b", "k1").await.expect("KEK-sealed");
    let direct = without.new_object("b", "k2").await.expect("direct");
    assert_eq!(sealed.header.key.provider, "kek+ring");
    assert_eq!(direct.header.key.provider, "ring");
    for service in [&with, &without] {
        let a = service.open(&sealed.header, "b", "k1").await.expect("open");
        let b = service.open(&direct.header, "b", "k2").await.expect("open");
        assert_eq!(a.commitment(), sealed.key.commitment());
        assert_eq!(b.commitment(), direct.key.commitment());
    }
    assert!(without.open(&sealed.header, "b", "k2").await.is_err());
}

#[tokio::test]
async fn direct_reads_are_cached_and_kek_reads_counted_in_one_snapshot() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ring = dir.path().join("ring.toml");
    cloak_kms::Keyring::open_or_create(&ring, "default").expect("keyring");
    let (writer, reader) = (service(&ring, false).await, service(&ring, true).await);
    let direct = writer.new_object("b", "k").await.expect("direct");
    for _ in 0..3 {
        reader.open(&direct.header, "b", "k").await.expect("open");
    }
    let sealed = reader.new_object("b", "s").await.expect("KEK-sealed");
    reader.open(&sealed.header, "b", "s").await.expect("open");

    // One unwrap for three direct reads, one generate for the KEK, nothing for its reads.
    let m = reader.providers().get("ring").expect("ring").metrics();
    assert_eq!((m.unwrap.calls, m.generate.calls), (1, 1));
    assert_eq!(m.cache_hits, 2);
}

#[tokio::test]
async fn an_object_naming_an_unknown_provider_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ring = dir.path().join("ring.toml");
    cloak_kms::Keyring::open_or_create(&ring, "default").expect("keyring");
    let keys = service(&ring, false).await;
    let mut header = keys.new_object("b", "k").await.expect("new").header;
    header.key.provider = "elsewhere".into();
    let err = keys.open(&header, "b", "k").await.expect_err("refused");
    assert!(err.message.contains("\"elsewhere\""), "{err:?}");
}
