//! The Vault provider against a real OpenBao dev server, one per test.
//!
//! The `bao` binary comes from `$CLOAK_BAO_BIN`, the repository's `.venv` (see
//! `scripts/python-env.sh`) or `PATH`; without it these tests fail rather than skip.

#[path = "support/bao.rs"]
mod bao;
#[path = "support/k8s.rs"]
mod k8s;
#[path = "support/process.rs"]
mod process;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bao::Bao;
use cloak_kms::{
    CacheConfig, CachingProvider, EncryptionContext, KekConfig, KekProvider, KeyError, KeyProvider,
    RetryPolicy, SecretString, VaultAuth, VaultConfig, VaultProvider,
};

fn ctx(bucket: &str, key: &str) -> EncryptionContext {
    EncryptionContext::new()
        .with("bucket", bucket)
        .with("key", key)
}

/// Quick retries, so that failure tests finish in seconds.
fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(200),
        call_timeout: Duration::from_secs(2),
    }
}

fn provider(bao: &Bao, auth: VaultAuth) -> VaultProvider {
    let mut config = VaultConfig::new(&bao.addr, auth);
    config.retry = fast_retries();
    VaultProvider::new(config).expect("valid configuration")
}

fn root(bao: &Bao) -> VaultProvider {
    provider(
        bao,
        VaultAuth::Token(SecretString::from(bao.root_token.as_str())),
    )
}

/// A token from `bao token create` with the given flags and the `cloak` policy.
fn token(bao: &Bao, flags: &[&str]) -> SecretString {
    bao.data_key_policy("cloak", &["aead", "derived"]);
    let mut args = vec!["token", "create", "-field=token", "-policy=cloak"];
    args.extend_from_slice(flags);
    SecretString::new(bao.cli(&args))
}

fn is_refusal(out: &Result<cloak_kms::DataKey, KeyError>) -> bool {
    matches!(out, Err(KeyError::Corrupt(_) | KeyError::Denied(_)))
}

#[tokio::test]
async fn token_login_generates_unwraps_and_rewraps() {
    let bao = Bao::with_transit();
    let vault = root(&bao);
    let (a, b) = (ctx("photos", "a.jpg"), ctx("photos", "b.jpg"));

    let g = vault.generate_data_key("aead", &a).await.expect("generate");
    assert_eq!((g.wrapped.key_id.as_str(), g.wrapped.version), ("aead", 1));
    assert_eq!(
        g.wrapped.ciphertext.len(),
        60,
        "nonce, key and tag, without the text form"
    );
    assert_eq!(
        vault.unwrap_key(&g.wrapped, &a).await,
        Ok(g.plaintext.clone())
    );

    let moved = vault.rewrap_key(&g.wrapped, &a, &b).await.expect("rewrap");
    assert_eq!(vault.unwrap_key(&moved, &b).await, Ok(g.plaintext));
    assert!(is_refusal(&vault.unwrap_key(&moved, &a).await));
    assert_eq!(vault.auth_stats().logins, 1);
}

#[tokio::test]
async fn a_wrapped_key_opens_only_under_its_own_context() {
    let bao = Bao::with_transit();
    let vault = root(&bao);
    let (a, b) = (ctx("photos", "a.jpg"), ctx("photos", "b.jpg"));

    for key in ["aead", "derived"] {
        let g = vault.generate_data_key(key, &a).await.expect("generate");
        assert_eq!(vault.unwrap_key(&g.wrapped, &a).await, Ok(g.plaintext));

        let moved = vault.unwrap_key(&g.wrapped, &b).await;
        assert!(is_refusal(&moved), "{key}: {moved:?}");
        let unbound = vault
            .unwrap_key(&g.wrapped, &EncryptionContext::new())
            .await;
        assert!(is_refusal(&unbound), "{key}: {unbound:?}");

        let mut altered = g.wrapped.clone();
        altered.ciphertext[20] ^= 1;
        let out = vault.unwrap_key(&altered, &a).await;
        assert!(matches!(out, Err(KeyError::Corrupt(_))), "{key}: {out:?}");
    }
}

#[tokio::test]
async fn derived_rewrap_in_place_and_rotation_move_to_the_new_version() {
    let bao = Bao::with_transit();
    let vault = root(&bao);
    let a = ctx("photos", "a.jpg");

    for key in ["aead", "derived"] {
        let old = vault.generate_data_key(key, &a).await.expect("generate");
        vault.rotate(key).await.expect("rotate");

        let moved = vault
            .rewrap_key(&old.wrapped, &a, &a)
            .await
            .expect("rewrap");
        assert_eq!(moved.version, 2, "{key}");
        assert_eq!(
            vault.unwrap_key(&moved, &a).await,
            Ok(old.plaintext.clone())
        );
        assert_eq!(vault.unwrap_key(&old.wrapped, &a).await, Ok(old.plaintext));

        let new = vault.generate_data_key(key, &a).await.expect("generate");
        assert_eq!(new.wrapped.version, 2, "{key}");
    }
}

#[tokio::test]
async fn shredded_keys_are_gone_not_garbage() {
    let bao = Bao::with_transit();
    let vault = root(&bao);
    let a = ctx("photos", "a.jpg");
    let g = vault
        .generate_data_key("derived", &a)
        .await
        .expect("generate");

    vault.shred("derived").await.expect("shred");

    let out = vault.unwrap_key(&g.wrapped, &a).await;
    assert!(
        matches!(out, Err(KeyError::NotFound(_) | KeyError::Denied(_))),
        "{out:?}"
    );
    let out = vault.generate_data_key("derived", &a).await;
    assert!(matches!(out, Err(KeyError::NotFound(_))), "{out:?}");
    assert!(!bao.cli(&["list", "transit/keys"]).contains("derived"));
}

#[tokio::test]
async fn unknown_keys_and_bad_names_are_not_found() {
    let bao = Bao::with_transit();
    let vault = root(&bao);
    let mut fixed = VaultConfig::new(&bao.addr, VaultAuth::Token(bao.root_token.as_str().into()));
    fixed.binding = cloak_kms::ContextBinding::AssociatedData;
    let fixed = VaultProvider::new(fixed).expect("valid configuration");
    let a = ctx("photos", "a.jpg");

    for v in [&vault, &fixed] {
        for name in ["missing", "../sys/seal"] {
            let out = v.generate_data_key(name, &a).await;
            assert!(matches!(out, Err(KeyError::NotFound(_))), "{name}: {out:?}");
        }
    }
}

#[tokio::test]
async fn approle_logs_in_and_policy_denials_are_final() {
    let bao = Bao::with_transit();
    bao.data_key_policy("aead-only", &["aead"]);
    let (role_id, secret_id) = bao.approle("cloak", "aead-only", "1h", "4h");
    let vault = provider(
        &bao,
        VaultAuth::AppRole {
            mount: "approle".into(),
            role_id,
            secret_id: SecretString::new(secret_id),
        },
    );
    let a = ctx("photos", "a.jpg");

    let g = vault.generate_data_key("aead", &a).await.expect("generate");
    assert_eq!(vault.unwrap_key(&g.wrapped, &a).await, Ok(g.plaintext));
    let out = vault.generate_data_key("derived", &a).await;
    assert!(matches!(out, Err(KeyError::Denied(_))), "{out:?}");

    // The token still worked, so the denial did not cost a new login.
    assert_eq!(vault.auth_stats().logins, 1);
}

#[tokio::test]
async fn a_revoked_token_is_replaced_by_logging_in_again() {
    let bao = Bao::with_transit();
    bao.data_key_policy("cloak", &["aead"]);
    let (role_id, secret_id) = bao.approle("cloak", "cloak", "1h", "4h");
    let vault = provider(
        &bao,
        VaultAuth::AppRole {
            mount: "approle".into(),
            role_id,
            secret_id: SecretString::new(secret_id),
        },
    );
    let a = ctx("photos", "a.jpg");
    vault.generate_data_key("aead", &a).await.expect("generate");

    bao.cli(&["token", "revoke", "-mode=path", "auth/approle/login"]);

    vault
        .generate_data_key("aead", &a)
        .await
        .expect("generate after revocation");
    assert_eq!(vault.auth_stats().logins, 2);
}

/// Calls `generate` every `every` for `span`, requiring each to succeed.
async fn keep_calling(vault: &VaultProvider, span: Duration, every: Duration) {
    let start = Instant::now();
    let a = ctx("photos", "a.jpg");
    while start.elapsed() < span {
        let out = vault.generate_data_key("aead", &a).await;
        assert!(
            out.is_ok(),
            "at {:?}: {out:?} ({:?})",
            start.elapsed(),
            vault.auth_stats()
        );
        tokio::time::sleep(every).await;
    }
}

#[tokio::test]
async fn a_short_lived_token_is_renewed_on_use() {
    let bao = Bao::with_transit();
    let token = token(&bao, &["-ttl=3s", "-explicit-max-ttl=60s"]);
    let vault = provider(&bao, VaultAuth::Token(token));

    keep_calling(&vault, Duration::from_secs(6), Duration::from_millis(250)).await;

    let stats = vault.auth_stats();
    assert!(stats.renewals >= 2, "{stats:?}");
    assert_eq!(stats.logins, 1, "{stats:?}");
}

#[tokio::test]
async fn approle_logs_in_again_when_renewal_reaches_the_max_ttl() {
    let bao = Bao::with_transit();
    bao.data_key_policy("cloak", &["aead"]);
    let (role_id, secret_id) = bao.approle("cloak", "cloak", "3s", "4s");
    let vault = provider(
        &bao,
        VaultAuth::AppRole {
            mount: "approle".into(),
            role_id,
            secret_id: SecretString::new(secret_id),
        },
    );

    keep_calling(&vault, Duration::from_secs(9), Duration::from_millis(250)).await;

    let stats = vault.auth_stats();
    assert!(stats.logins >= 2, "{stats:?}");
}

#[tokio::test]
async fn approle_logs_in_again_after_its_token_expired_while_idle() {
    let bao = Bao::with_transit();
    bao.data_key_policy("cloak", &["aead"]);
    let (role_id, secret_id) = bao.approle("cloak", "cloak", "2s", "2s");
    let vault = provider(
        &bao,
        VaultAuth::AppRole {
            mount: "approle".into(),
            role_id,
            secret_id: SecretString::new(secret_id),
        },
    );
    let a = ctx("photos", "a.jpg");
    vault.generate_data_key("aead", &a).await.expect("generate");

    tokio::time::sleep(Duration::from_millis(2500)).await;

    vault
        .generate_data_key("aead", &a)
        .await
        .expect("generate after expiry");
    let stats = vault.auth_stats();
    assert_eq!((stats.logins, stats.renewals), (2, 0), "{stats:?}");
}

#[tokio::test]
async fn an_expired_fixed_token_is_denied() {
    let bao = Bao::with_transit();
    let token = token(&bao, &["-ttl=2s", "-renewable=false"]);
    let vault = provider(&bao, VaultAuth::Token(token));
    let a = ctx("photos", "a.jpg");
    vault.generate_data_key("aead", &a).await.expect("generate");

    tokio::time::sleep(Duration::from_millis(2500)).await;

    let out = vault.generate_data_key("aead", &a).await;
    assert!(matches!(out, Err(KeyError::Denied(_))), "{out:?}");
}

#[tokio::test]
async fn tls_with_a_ca_bundle_and_a_namespace() {
    let bao = Bao::start(true);
    let ca = bao.ca.clone().expect("tls server has a CA");
    bao.cli(&["namespace", "create", "team"]);
    bao.cli_in(Some("team"), &["secrets", "enable", "transit"]);
    bao.cli_in(Some("team"), &["write", "-f", "transit/keys/aead"]);
    let config = |ca: Option<std::path::PathBuf>, namespace: Option<&str>| {
        let mut c = VaultConfig::new(&bao.addr, VaultAuth::Token(bao.root_token.as_str().into()));
        (c.ca_bundle, c.namespace, c.retry) = (ca, namespace.map(Into::into), fast_retries());
        VaultProvider::new(c).expect("valid configuration")
    };
    let a = ctx("photos", "a.jpg");

    let vault = config(Some(ca.clone()), Some("team"));
    let g = vault.generate_data_key("aead", &a).await.expect("generate");
    assert_eq!(vault.unwrap_key(&g.wrapped, &a).await, Ok(g.plaintext));

    let untrusted = config(None, Some("team"))
        .generate_data_key("aead", &a)
        .await;
    assert!(
        matches!(untrusted, Err(KeyError::Unavailable(_))),
        "{untrusted:?}"
    );
    let elsewhere = config(Some(ca), None).generate_data_key("aead", &a).await;
    assert!(
        matches!(elsewhere, Err(KeyError::NotFound(_))),
        "{elsewhere:?}"
    );
}

#[tokio::test]
async fn kubernetes_login_reads_a_fresh_service_account_token_each_time() {
    let bao = Bao::with_transit();
    let reviewer = k8s::TokenReviewer::start().await;
    bao.data_key_policy("cloak", &["aead"]);
    bao.cli(&["auth", "enable", "kubernetes"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = dir.path().join("cluster-ca.pem");
    std::fs::write(&ca, k8s::CLUSTER_CA).expect("write cluster CA");
    bao.cli(&[
        "write",
        "auth/kubernetes/config",
        &format!("kubernetes_host={}", reviewer.url),
        &format!("kubernetes_ca_cert=@{}", ca.display()),
        "disable_local_ca_jwt=true",
    ]);
    bao.cli(&[
        "write",
        "auth/kubernetes/role/cloak",
        &format!("bound_service_account_names={}", k8s::ACCOUNT),
        &format!("bound_service_account_namespaces={}", k8s::NAMESPACE),
        "token_policies=cloak",
        "token_ttl=1h",
    ]);
    let jwt_path = dir.path().join("token");
    let first = reviewer.issue(1);
    std::fs::write(&jwt_path, &first).expect("write token");
    let vault = provider(
        &bao,
        VaultAuth::Kubernetes {
            mount: "kubernetes".into(),
            role: "cloak".into(),
            jwt_path: jwt_path.clone(),
        },
    );
    let a = ctx("photos", "a.jpg");
    vault.generate_data_key("aead", &a).await.expect("generate");

    // The kubelet rotates the projected token, and the Vault token is revoked: the next
    // login must present the new service-account token, read from the file again.
    let second = reviewer.issue(2);
    std::fs::write(&jwt_path, &second).expect("rotate token");
    bao.cli(&["token", "revoke", "-mode=path", "auth/kubernetes/login"]);
    vault
        .generate_data_key("aead", &a)
        .await
        .expect("generate after rotation");

    assert_eq!(reviewer.reviewed(), [first, second]);
    assert_eq!(vault.auth_stats().logins, 2);
}

#[tokio::test]
async fn kubernetes_login_needs_its_service_account_token_file() {
    let bao = Bao::with_transit();
    let vault = provider(
        &bao,
        VaultAuth::Kubernetes {
            mount: "kubernetes".into(),
            role: "cloak".into(),
            jwt_path: "/nonexistent/cloak/token".into(),
        },
    );

    let out = vault
        .generate_data_key("aead", &ctx("photos", "a.jpg"))
        .await;

    match out {
        Err(KeyError::Denied(why)) => assert!(why.contains("/nonexistent/cloak/token"), "{why}"),
        other => panic!("expected a denial naming the file, got {other:?}"),
    }
}

#[tokio::test]
async fn an_outage_is_unavailable_within_the_retry_bound_and_cached_keys_still_open() {
    let mut bao = Bao::with_transit();
    let vault = Arc::new(root(&bao));
    let cache = CachingProvider::new(vault.clone(), CacheConfig::default());
    let (a, b) = (ctx("photos", "a.jpg"), ctx("photos", "b.jpg"));
    let cached = vault.generate_data_key("aead", &a).await.expect("generate");
    let uncached = vault.generate_data_key("aead", &b).await.expect("generate");
    cache.unwrap_key(&cached.wrapped, &a).await.expect("unwrap");

    bao.stop();

    let start = Instant::now();
    let out = cache.unwrap_key(&uncached.wrapped, &b).await;
    let took = start.elapsed();
    assert!(matches!(out, Err(KeyError::Unavailable(_))), "{out:?}");
    assert!(took <= fast_retries().worst_case(), "took {took:?}");

    assert_eq!(
        cache.unwrap_key(&cached.wrapped, &a).await,
        Ok(cached.plaintext)
    );
    let m = cache.metrics();
    assert_eq!((m.unwrap.calls, m.unwrap.errors), (2, 1));
    assert_eq!(m.cache_hits, 1);
}

#[tokio::test]
async fn kek_layer_turns_a_thousand_puts_into_a_handful_of_vault_calls() {
    let bao = Bao::with_transit();
    let vault: Arc<dyn KeyProvider> = Arc::new(root(&bao));
    let counted = Arc::new(CachingProvider::new(vault.clone(), CacheConfig::default()));
    let kek = KekProvider::new(counted.clone(), KekConfig::default());

    let start = Instant::now();
    let mut stored = Vec::new();
    for i in 0..1000 {
        let c = ctx("photos", &format!("img-{i:04}.jpg"));
        stored.push((
            kek.generate_data_key("derived", &c)
                .await
                .expect("generate"),
            c,
        ));
    }
    let puts = counted.metrics().inner_calls();
    println!("1000 PUTs: {puts} Vault calls in {:?}", start.elapsed());
    assert!(puts <= 10, "{puts} Vault calls for 1000 PUTs");
    assert!(stored[0].0.wrapped.ciphertext.len() <= 130);

    // A fresh process reading everything back: one Vault call per KEK, and every data key
    // opens under its own object's context only.
    let counted = Arc::new(CachingProvider::new(vault, CacheConfig::default()));
    let reader = KekProvider::new(counted.clone(), KekConfig::default());
    for (i, (g, c)) in stored.iter().enumerate() {
        assert_eq!(
            reader.unwrap_key(&g.wrapped, c).await.as_ref(),
            Ok(&g.plaintext)
        );
        if i % 50 == 0 {
            let neighbour = &stored[(i + 1) % stored.len()].1;
            assert!(reader.unwrap_key(&g.wrapped, neighbour).await.is_err());
        }
    }
    let gets = counted.metrics().inner_calls();
    println!("1000 GETs: {gets} Vault calls");
    assert!(gets <= 10, "{gets} Vault calls for 1000 GETs");
}
