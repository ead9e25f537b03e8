use super::*;

fn ctx(key: &str) -> EncryptionContext {
    EncryptionContext::new()
        .with("bucket", "b")
        .with("key", key)
}

fn temp_ring() -> (tempfile::TempDir, Keyring) {
    let dir = tempfile::tempdir().unwrap();
    let ring = Keyring::open_or_create(&dir.path().join("keyring.toml"), "default").unwrap();
    (dir, ring)
}

#[tokio::test]
async fn file_is_created_private() {
    let (dir, _ring) = temp_ring();
    let mode = fs::metadata(dir.path().join("keyring.toml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[tokio::test]
async fn wraps_and_unwraps_under_the_same_context_only() {
    let (_dir, ring) = temp_ring();
    let gen = ring.generate_data_key("default", &ctx("a")).await.unwrap();
    let back = ring.unwrap_key(&gen.wrapped, &ctx("a")).await.unwrap();
    assert_eq!(back, gen.plaintext);

    let err = ring
        .unwrap_key(&gen.wrapped, &ctx("other"))
        .await
        .unwrap_err();
    assert!(matches!(err, KeyError::Corrupt(_)), "{err:?}");
}

#[tokio::test]
async fn altered_wrapped_key_is_corrupt() {
    let (_dir, ring) = temp_ring();
    let mut gen = ring.generate_data_key("default", &ctx("a")).await.unwrap();
    gen.wrapped.ciphertext[20] ^= 1;
    let err = ring.unwrap_key(&gen.wrapped, &ctx("a")).await.unwrap_err();
    assert!(matches!(err, KeyError::Corrupt(_)));
}

#[tokio::test]
async fn relabelled_version_fails() {
    let (_dir, ring) = temp_ring();
    ring.rotate("default").unwrap();
    let mut gen = ring.generate_data_key("default", &ctx("a")).await.unwrap();
    assert_eq!(gen.wrapped.version, 2);
    gen.wrapped.version = 1;
    assert!(ring.unwrap_key(&gen.wrapped, &ctx("a")).await.is_err());
}

#[tokio::test]
async fn rotation_keeps_old_versions_and_rewrap_moves_to_current() {
    let (_dir, ring) = temp_ring();
    let old = ring.generate_data_key("default", &ctx("a")).await.unwrap();
    assert_eq!(ring.rotate("default").unwrap(), 2);

    assert_eq!(
        ring.unwrap_key(&old.wrapped, &ctx("a")).await.unwrap(),
        old.plaintext
    );
    let new = ring
        .rewrap_key(&old.wrapped, &ctx("a"), &ctx("a"))
        .await
        .unwrap();
    assert_eq!(new.version, 2);
    assert_eq!(
        ring.unwrap_key(&new, &ctx("a")).await.unwrap(),
        old.plaintext
    );
}

#[tokio::test]
async fn rewrap_can_rebind_the_context() {
    let (_dir, ring) = temp_ring();
    let gen = ring.generate_data_key("default", &ctx("a")).await.unwrap();
    let moved = ring
        .rewrap_key(&gen.wrapped, &ctx("a"), &ctx("b"))
        .await
        .unwrap();
    assert_eq!(
        ring.unwrap_key(&moved, &ctx("b")).await.unwrap(),
        gen.plaintext
    );
    assert!(ring.unwrap_key(&moved, &ctx("a")).await.is_err());
}

#[tokio::test]
async fn shred_makes_keys_unrecoverable_even_after_reopen() {
    let (dir, ring) = temp_ring();
    let gen = ring.generate_data_key("default", &ctx("a")).await.unwrap();
    assert_eq!(ring.shred("default").unwrap(), vec![1]);
    let err = ring.unwrap_key(&gen.wrapped, &ctx("a")).await.unwrap_err();
    assert!(matches!(err, KeyError::NotFound(_)));

    let reopened = Keyring::open(&dir.path().join("keyring.toml")).unwrap();
    assert!(reopened.unwrap_key(&gen.wrapped, &ctx("a")).await.is_err());
    let text = fs::read_to_string(dir.path().join("keyring.toml")).unwrap();
    assert!(!text.contains("default"));
}

#[tokio::test]
async fn another_process_rotation_is_picked_up() {
    let (dir, ring) = temp_ring();
    let other = Keyring::open(&dir.path().join("keyring.toml")).unwrap();
    other.rotate("default").unwrap();
    let gen = other.generate_data_key("default", &ctx("a")).await.unwrap();
    // `ring` has never seen version 2; it re-reads the file on a miss.
    assert_eq!(
        ring.unwrap_key(&gen.wrapped, &ctx("a")).await.unwrap(),
        gen.plaintext
    );
}

#[test]
fn refuses_world_readable_file() {
    let (dir, _ring) = temp_ring();
    let path = dir.path().join("keyring.toml");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    assert!(matches!(Keyring::open(&path), Err(KeyError::Denied(_))));
}

#[test]
fn unknown_key_is_not_found() {
    let (_dir, ring) = temp_ring();
    assert!(matches!(ring.rotate("nope"), Err(KeyError::NotFound(_))));
}

#[tokio::test]
async fn a_shred_by_another_process_reaches_an_open_keyring_within_the_recheck() {
    let (dir, proxy) = temp_ring();
    let gen = proxy.generate_data_key("default", &ctx("a")).await.unwrap();
    let cli = Keyring::open(&dir.path().join("keyring.toml")).unwrap();
    cli.rotate("default").unwrap();
    cli.shred("default").unwrap();

    std::thread::sleep(RECHECK + Duration::from_millis(100));
    let out = proxy.unwrap_key(&gen.wrapped, &ctx("a")).await;
    assert!(matches!(out, Err(KeyError::NotFound(_))), "{out:?}");
    assert!(proxy.list().is_empty());
}
