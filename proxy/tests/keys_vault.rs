//! Cloak with a real OpenBao dev server as its key provider: objects through Vault Transit,
//! failing closed when Vault is gone, and rules that pick providers and keys per prefix.
//!
//! `bao` comes from `$CLOAK_BAO_BIN`, the repository's `.venv` or `PATH`; without it these
//! tests fail rather than skip.

mod common;
mod keysupport;

use aws_sdk_s3::primitives::ByteStream;

use common::{failure, fetch, plaintext, Cloak, BUCKET};
use keysupport::{stored_at_all, stored_header, vault_keys, Bao};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_go_through_vault_with_a_call_per_kek_not_per_object() {
    let bao = Bao::with_transit();
    let cloak = Cloak::start_with_keys(|ring| vault_keys(&bao, ring, "")).await;

    let bodies: Vec<Vec<u8>> = (0..40).map(|i| plaintext(1000 + i * 37)).collect();
    for (i, body) in bodies.iter().enumerate() {
        cloak.put(&format!("small/{i:03}"), body).await;
    }
    for (i, body) in bodies.iter().enumerate() {
        assert_eq!(&cloak.get(&format!("small/{i:03}")).await, body);
    }

    let header = stored_header(&cloak, "small/007").await;
    assert_eq!(header.key.provider, "kek+bao");
    assert_eq!(
        (header.key.key_id.as_str(), header.key.key_version),
        ("aead", 1)
    );

    // One KEK for the bucket: Transit is asked once (plus reading the key's shape).
    let stack = cloak
        .app
        .keys
        .providers()
        .get("bao")
        .expect("bao is configured");
    let calls = stack.metrics().inner_calls();
    assert!(calls <= 2, "{calls} Transit calls for 40 PUTs and 40 GETs");
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_vault_gone_writes_fail_closed_and_held_keys_still_read() {
    let mut bao = Bao::with_transit();
    let cloak = Cloak::start_with_keys(|ring| {
        // Direct wrapping (no KEK), so that the read below depends on the data-key cache.
        let table = "[keys.providers.bao.kek]\nenabled = false\n";
        format!("{}{table}", vault_keys(&bao, ring, ""))
    })
    .await;
    let before = plaintext(5000);
    cloak.put("before", &before).await;
    assert_eq!(stored_header(&cloak, "before").await.key.provider, "bao");
    bao.stop();

    let put = cloak.s3().put_object().bucket(BUCKET).key("during");
    let err = put
        .body(ByteStream::from(plaintext(4096)))
        .send()
        .await
        .expect_err("a PUT without the key service must fail");
    let f = failure(&err);
    assert_eq!(
        (f.status, f.code.as_str()),
        (503, "ServiceUnavailable"),
        "{f:?}"
    );
    assert!(f.message.contains("key service is unavailable"), "{f:?}");
    assert!(
        !stored_at_all(&cloak, "during").await,
        "nothing may be stored"
    );

    let create = cloak
        .s3()
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("mpu");
    let err = create
        .send()
        .await
        .expect_err("no multipart upload without keys");
    assert_eq!(failure(&err).status, 503);

    // The key of an object written a moment ago is still in memory.
    assert_eq!(cloak.get("before").await, before);
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_choose_the_provider_and_key_per_prefix_and_reads_follow_the_header() {
    let bao = Bao::with_transit();
    let rules = format!(
        "[[keys.rules]]\nbucket = \"{BUCKET}\"\nprefix = \"derived/\"\nkey = \"derived\"\n\n\
         [[keys.rules]]\nbucket = \"{BUCKET}\"\nprefix = \"local/\"\nprovider = \"keyring\"\n\
         key = \"default\"\n"
    );
    let cloak = Cloak::start_with_keys(|ring| vault_keys(&bao, ring, &rules)).await;
    let cases = [
        ("derived/a", "kek+bao", "derived"),
        ("local/b", "keyring", "default"),
        ("elsewhere/c", "kek+bao", "aead"),
    ];
    for (key, provider, master) in cases {
        let body = plaintext(3000 + key.len());
        cloak.put(key, &body).await;
        let header = stored_header(&cloak, key).await;
        assert_eq!(
            (header.key.provider.as_str(), header.key.key_id.as_str()),
            (provider, master),
            "{key}"
        );
        assert_eq!(cloak.get(key).await, body, "{key}");
    }

    // A wrapped key moved onto another object fails to open: the context binds it.
    let stolen = cloak
        .store_s3()
        .head_object()
        .bucket(BUCKET)
        .key("derived/a")
        .send()
        .await
        .expect("head at the store");
    let meta = stolen.metadata().expect("metadata").clone();
    let copy = cloak.store_s3().copy_object().bucket(BUCKET).key("moved");
    copy.copy_source(format!("{BUCKET}/derived/a"))
        .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
        .set_metadata(Some(meta))
        .send()
        .await
        .expect("copy at the store");
    let out = fetch(cloak.get_object("moved")).await;
    let f = out.expect_err("a moved wrapped key must not open");
    assert!(f.status == 500 || f.status == 403, "{f:?}");
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approle_login_from_the_config_is_limited_to_its_policy() {
    let bao = Bao::with_transit();
    bao.data_key_policy("cloak", &["aead"]);
    let (role_id, secret_id) = bao.approle("cloak", "cloak", "1h", "4h");
    let cloak = Cloak::start_with_keys(|ring| {
        let dir = ring.parent().expect("the test directory");
        let secret = keysupport::secret_file(dir, "secret-id", &secret_id);
        format!(
            "[keys]\nprovider = \"bao\"\ndefault_key = \"aead\"\n\n\
             [[keys.rules]]\nbucket = \"{BUCKET}\"\nprefix = \"other/\"\nkey = \"derived\"\n\n\
             [keys.providers.bao]\nkind = \"vault\"\naddress = \"{}\"\nattempts = 2\n\
             auth = {{ method = \"approle\", role_id = \"{role_id}\", secret_id_file = \"{}\" }}\n",
            bao.addr,
            secret.display()
        )
    })
    .await;
    let body = plaintext(2048);
    cloak.put("mine", &body).await;
    assert_eq!(cloak.get("mine").await, body);

    // The policy grants `aead` only: a rule pointing at another key is refused, not stored.
    let put = cloak.s3().put_object().bucket(BUCKET).key("other/x");
    let err = put
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect_err("denied");
    let f = failure(&err);
    assert_eq!((f.status, f.code.as_str()), (403, "AccessDenied"), "{f:?}");
    assert!(!stored_at_all(&cloak, "other/x").await);
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kubernetes_login_from_the_config_reads_the_service_account_token() {
    let bao = Bao::with_transit();
    let reviewer = keysupport::k8s::TokenReviewer::start().await;
    bao.data_key_policy("cloak", &["aead"]);
    bao.cli(&["auth", "enable", "kubernetes"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = dir.path().join("cluster-ca.pem");
    std::fs::write(&ca, keysupport::k8s::CLUSTER_CA).expect("write the cluster CA");
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
        &format!("bound_service_account_names={}", keysupport::k8s::ACCOUNT),
        &format!(
            "bound_service_account_namespaces={}",
            keysupport::k8s::NAMESPACE
        ),
        "token_policies=cloak",
        "token_ttl=1h",
    ]);
    let jwt = dir.path().join("token");
    std::fs::write(&jwt, reviewer.issue(1)).expect("write the service-account token");
    let cloak = Cloak::start_with_keys(|_| {
        format!(
            "[keys]\nprovider = \"bao\"\ndefault_key = \"aead\"\n\n\
             [keys.providers.bao]\nkind = \"vault\"\naddress = \"{}\"\n\
             auth = {{ method = \"kubernetes\", role = \"cloak\", jwt_file = \"{}\" }}\n",
            bao.addr,
            jwt.display()
        )
    })
    .await;
    let body = plaintext(3000);
    cloak.put("k8s", &body).await;
    assert_eq!(cloak.get("k8s").await, body);
    assert_eq!(reviewer.reviewed().len(), 1);
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_ca_file_and_a_namespace_from_the_config() {
    let bao = Bao::start(true);
    let ca = bao.ca.clone().expect("a TLS server has a CA");
    bao.cli(&["namespace", "create", "team"]);
    bao.cli_in(Some("team"), &["secrets", "enable", "transit"]);
    bao.cli_in(Some("team"), &["write", "-f", "transit/keys/aead"]);
    let cloak = Cloak::start_with_keys(|ring| {
        let extra = format!("namespace = \"team\"\nca_file = \"{}\"\n", ca.display());
        format!("{}{extra}", vault_keys(&bao, ring, ""))
    })
    .await;
    let body = plaintext(3000);
    cloak.put("tls", &body).await;
    assert_eq!(cloak.get("tls").await, body);
    cloak.stop().await;
}
