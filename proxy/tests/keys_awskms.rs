//! Cloak with AWS KMS as its key provider, configured as an operator would, against a real
//! moto server: objects, rotation (which KMS keeps invisible) and a scheduled deletion.
//!
//! `moto_server` comes from `$CLOAK_MOTO_BIN`, the repository's `.venv` or `PATH`; without it
//! these tests fail rather than skip.

mod common;
mod keysupport;

use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};

use common::{plaintext, Cloak, BUCKET, REGION};
use keysupport::{keys_cli, secret_file, stored_header, Moto};

fn admin(moto: &Moto) -> aws_sdk_kms::Client {
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(&moto.url)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

async fn create_key(moto: &Moto) -> String {
    let out = admin(moto)
        .create_key()
        .send()
        .await
        .expect("create a KMS key");
    out.key_metadata.expect("key metadata").key_id
}

fn kms_keys(moto: &Moto, key: &str, ring: &std::path::Path) -> String {
    let dir = ring.parent().expect("the test directory");
    let secret = secret_file(dir, "kms-secret", "testing");
    format!(
        "[keys]\nprovider = \"kms\"\ndefault_key = \"{key}\"\ncache_ttl_secs = 1\n\n\
         [keys.providers.kms]\nkind = \"awskms\"\nendpoint = \"{}\"\nregion = \"{REGION}\"\n\
         access_key_id = \"testing\"\nsecret_access_key_file = \"{}\"\nattempts = 2\n",
        moto.url,
        secret.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_rotation_and_shredding_through_kms() {
    let moto = Moto::start();
    let key = create_key(&moto).await;
    let cloak = Cloak::start_with_keys(|ring| kms_keys(&moto, &key, ring)).await;
    let bodies: Vec<Vec<u8>> = (0..10).map(|i| plaintext(4096 + i)).collect();
    for (i, body) in bodies.iter().enumerate() {
        cloak.put(&format!("o/{i}"), body).await;
    }
    for (i, body) in bodies.iter().enumerate() {
        assert_eq!(&cloak.get(&format!("o/{i}")).await, body);
    }
    let header = stored_header(&cloak, "o/3").await;
    assert_eq!(
        (header.key.provider.as_str(), header.key.key_id.as_str()),
        ("kek+kms", &*key)
    );
    let calls = cloak
        .app
        .keys
        .providers()
        .get("kms")
        .expect("kms")
        .metrics()
        .inner_calls();
    assert!(calls <= 2, "{calls} KMS calls for 10 PUTs and 10 GETs");

    // KMS does not number versions, so every object is re-encrypted, and still reads.
    let ran = keys_cli(&cloak, &["rotate", "--bucket", BUCKET]).await;
    assert!(ran.stdout.contains("scanned 10, rewrapped 10"), "{ran:?}");
    assert_eq!(cloak.get("o/4").await, bodies[4]);

    let args = [
        "shred",
        "--provider",
        "kms",
        "--key",
        &key,
        "--yes-destroy-keys",
    ];
    let ran = keys_cli(&cloak, &args).await;
    let json: serde_json::Value = serde_json::from_str(&ran.stdout).expect("JSON report");
    assert_eq!(
        json["keys"][0]["immediate"].as_bool(),
        Some(false),
        "{json}"
    );
    let note = json["keys"][0]["note"].as_str().unwrap_or_default();
    assert!(note.contains("scheduled for deletion"), "{note}");

    // KMS refuses every use of a key pending deletion; moto records the state but keeps
    // decrypting, so the refused read is shown with Vault and the keyring (keys_cli.rs).
    let described = admin(&moto).describe_key().key_id(&key).send().await;
    let state = described
        .expect("describe")
        .key_metadata
        .and_then(|m| m.key_state);
    assert_eq!(state, Some(aws_sdk_kms::types::KeyState::PendingDeletion));
    cloak.stop().await;
}
