//! The AWS KMS provider against a real moto server, one per test.
//!
//! `moto_server` comes from `$CLOAK_MOTO_BIN`, the repository's `.venv` (see
//! `scripts/python-env.sh`) or `PATH`; without it these tests fail rather than skip.

#[path = "support/moto.rs"]
mod moto;
#[path = "support/process.rs"]
mod process;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use cloak_kms::{
    AwsCredentials, AwsKmsConfig, AwsKmsProvider, EncryptionContext, KekConfig, KekProvider,
    KeyError, KeyProvider, RetryPolicy, SecretString,
};
use moto::Moto;

const REGION: &str = "us-east-1";

fn ctx(bucket: &str, key: &str) -> EncryptionContext {
    EncryptionContext::new()
        .with("bucket", bucket)
        .with("key", key)
}

fn retries() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(200),
        call_timeout: Duration::from_secs(5),
    }
}

async fn provider(moto: &Moto) -> AwsKmsProvider {
    let config = AwsKmsConfig {
        region: Some(REGION.into()),
        endpoint_url: Some(moto.url.clone()),
        credentials: AwsCredentials::Static {
            access_key_id: "testing".into(),
            secret_access_key: SecretString::from("testing"),
            session_token: None,
        },
        retry: retries(),
    };
    AwsKmsProvider::new(config)
        .await
        .expect("valid configuration")
}

/// An administrator's client, to set up keys as an operator would.
fn admin(moto: &Moto) -> aws_sdk_kms::Client {
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(&moto.url)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

async fn create_key(admin: &aws_sdk_kms::Client) -> String {
    let out = admin.create_key().send().await.expect("create key");
    out.key_metadata.expect("key metadata").key_id
}

#[tokio::test]
async fn generates_decrypts_and_re_encrypts() {
    let moto = Moto::start();
    let key = create_key(&admin(&moto)).await;
    let kms = provider(&moto).await;
    let (a, b) = (ctx("photos", "a.jpg"), ctx("photos", "b.jpg"));

    let g = kms.generate_data_key(&key, &a).await.expect("generate");
    assert_eq!(g.wrapped.key_id, key);
    assert_eq!(
        kms.unwrap_key(&g.wrapped, &a).await,
        Ok(g.plaintext.clone())
    );

    let moved = kms
        .rewrap_key(&g.wrapped, &a, &b)
        .await
        .expect("re-encrypt");
    assert_ne!(moved.ciphertext, g.wrapped.ciphertext);
    assert_eq!(kms.unwrap_key(&moved, &b).await, Ok(g.plaintext));
    let old = kms.unwrap_key(&moved, &a).await;
    assert!(matches!(old, Err(KeyError::Corrupt(_))), "{old:?}");
}

#[tokio::test]
async fn a_context_mismatch_is_refused() {
    let moto = Moto::start();
    let key = create_key(&admin(&moto)).await;
    let kms = provider(&moto).await;
    let g = kms
        .generate_data_key(&key, &ctx("photos", "a.jpg"))
        .await
        .expect("generate");

    for wrong in [
        ctx("photos", "b.jpg"),
        ctx("other", "a.jpg"),
        EncryptionContext::new(),
    ] {
        let out = kms.unwrap_key(&g.wrapped, &wrong).await;
        assert!(
            matches!(out, Err(KeyError::Corrupt(_))),
            "{wrong:?}: {out:?}"
        );
    }
    let mut altered = g.wrapped.clone();
    let last = altered.ciphertext.len() - 1;
    altered.ciphertext[last] ^= 1;
    let out = kms.unwrap_key(&altered, &ctx("photos", "a.jpg")).await;
    assert!(matches!(out, Err(KeyError::Corrupt(_))), "{out:?}");
}

/// Disabled and pending-deletion keys are not covered: moto does not enforce key states.
#[tokio::test]
async fn unknown_keys_and_foreign_ciphertexts_are_final_failures() {
    let moto = Moto::start();
    let admin = admin(&moto);
    let (key, other) = (create_key(&admin).await, create_key(&admin).await);
    let kms = provider(&moto).await;
    let a = ctx("photos", "a.jpg");

    let missing = kms
        .generate_data_key("11111111-2222-3333-4444-555555555555", &a)
        .await;
    assert!(matches!(missing, Err(KeyError::NotFound(_))), "{missing:?}");

    let g = kms.generate_data_key(&key, &a).await.expect("generate");
    let mut relabelled = g.wrapped.clone();
    relabelled.key_id = other;
    let out = kms.unwrap_key(&relabelled, &a).await;
    assert!(
        matches!(out, Err(KeyError::Denied(_) | KeyError::Corrupt(_))),
        "{out:?}"
    );
}

#[tokio::test]
async fn an_outage_is_unavailable_within_the_retry_bound() {
    let mut moto = Moto::start();
    let key = create_key(&admin(&moto)).await;
    let kms = provider(&moto).await;
    let a = ctx("photos", "a.jpg");
    let g = kms.generate_data_key(&key, &a).await.expect("generate");

    moto.stop();

    let start = Instant::now();
    let out = kms.unwrap_key(&g.wrapped, &a).await;
    assert!(matches!(out, Err(KeyError::Unavailable(_))), "{out:?}");
    assert!(
        start.elapsed() <= retries().worst_case(),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn kek_layer_over_kms_stays_small_and_bound() {
    let moto = Moto::start();
    let key = create_key(&admin(&moto)).await;
    let kek = KekProvider::new(Arc::new(provider(&moto).await), KekConfig::default());
    let (a, b) = (ctx("photos", "a.jpg"), ctx("photos", "b.jpg"));

    let g = kek.generate_data_key(&key, &a).await.expect("generate");
    println!(
        "KEK-sealed KMS data key: {} bytes",
        g.wrapped.ciphertext.len()
    );
    assert!(g.wrapped.ciphertext.len() < 512);
    assert_eq!(kek.unwrap_key(&g.wrapped, &a).await, Ok(g.plaintext));
    assert!(kek.unwrap_key(&g.wrapped, &b).await.is_err());
}
