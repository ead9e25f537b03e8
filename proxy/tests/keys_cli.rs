//! `cloak keys` against a running proxy's store and key providers: rotating a master key and
//! re-wrapping every object without touching bodies, and crypto-shredding, with a real
//! OpenBao dev server and with the local keyring.

mod common;
mod keysupport;

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;

use common::{fetch, plaintext, Cloak, BUCKET};
use keysupport::{cloak_cli, keys_cli, stored_at_all, stored_header, vault_keys, Bao};

/// The revocation delay the shred tests run with.
const TTL: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_rewraps_every_object_in_place_and_reads_still_work() {
    let bao = Bao::with_transit();
    let cloak = Cloak::start_with_keys(|ring| vault_keys(&bao, ring, "")).await;
    let bodies: Vec<Vec<u8>> = (0..25).map(|i| plaintext(2000 + i * 100)).collect();
    for (i, body) in bodies.iter().enumerate() {
        cloak.put(&format!("r/{i:02}"), body).await;
    }
    let with_meta = cloak.s3().put_object().bucket(BUCKET).key("r/meta");
    with_meta
        .body(ByteStream::from(b"with metadata".to_vec()))
        .content_type("text/x-cloak")
        .metadata("owner", "alice")
        .send()
        .await
        .expect("PUT with metadata");
    let foreign = cloak
        .store_s3()
        .put_object()
        .bucket(BUCKET)
        .key("r/foreign");
    foreign
        .body(ByteStream::from(b"not Cloak's".to_vec()))
        .send()
        .await
        .expect("PUT at store");
    let before = cloak.stored("r/07");

    let ran = keys_cli(
        &cloak,
        &["rotate-master", "--provider", "bao", "--key", "aead"],
    )
    .await;
    assert!(ran.stdout.contains("now at version 2"), "{ran:?}");
    let checkpoint = cloak.scratch("rotate.checkpoint");
    let checkpoint = checkpoint.to_str().expect("utf-8 path");
    let args = [
        "rotate",
        "--bucket",
        BUCKET,
        "--prefix",
        "r/",
        "--checkpoint",
        checkpoint,
    ];
    let ran = keys_cli(&cloak, &args).await;
    let expect = "scanned 27, rewrapped 26, already current 0, skipped foreign 1, vanished 0, \
                  failed 0";
    assert!(ran.stdout.contains(expect), "{ran:?}");
    assert!(
        !std::path::Path::new(checkpoint).exists(),
        "a clean run removes its checkpoint"
    );

    // Only the header changed: same body bytes, the new version, and reads still work.
    assert_eq!(cloak.stored("r/07"), before, "the body was rewritten");
    let header = stored_header(&cloak, "r/07").await;
    assert_eq!(
        (header.key.provider.as_str(), header.key.key_version),
        ("kek+bao", 2)
    );
    for (i, body) in bodies.iter().enumerate() {
        assert_eq!(&cloak.get(&format!("r/{i:02}")).await, body);
    }
    let head = cloak
        .head_object("r/meta")
        .send()
        .await
        .expect("HEAD through Cloak");
    assert_eq!(head.content_type(), Some("text/x-cloak"));
    let owner = head
        .metadata()
        .and_then(|m| m.get("owner"))
        .map(String::as_str);
    assert_eq!(owner, Some("alice"));

    let ran = keys_cli(&cloak, &args).await;
    assert!(
        ran.stdout.contains("rewrapped 0, already current 26"),
        "{ran:?}"
    );
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_rotation_starts_after_its_checkpoint() {
    let cloak = Cloak::start().await;
    for key in ["a", "b", "c", "d"] {
        cloak.put(key, key.as_bytes()).await;
    }
    keys_cli(
        &cloak,
        &["rotate-master", "--provider", "keyring", "--key", "default"],
    )
    .await;
    let checkpoint = cloak.scratch("checkpoint");
    std::fs::write(&checkpoint, "b").expect("write a checkpoint");
    let checkpoint = checkpoint.to_str().expect("utf-8 path");
    let ran = keys_cli(
        &cloak,
        &["rotate", "--bucket", BUCKET, "--checkpoint", checkpoint],
    )
    .await;
    assert!(ran.stdout.contains("scanned 2, rewrapped 2"), "{ran:?}");
    assert_eq!(stored_header(&cloak, "a").await.key.key_version, 1);
    assert_eq!(stored_header(&cloak, "d").await.key.key_version, 2);
    for key in ["a", "b", "c", "d"] {
        assert_eq!(cloak.get(key).await, key.as_bytes());
    }
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shredding_a_datasets_vault_key_makes_its_objects_unreadable_after_the_ttl() {
    let bao = Bao::with_transit();
    let extra = format!(
        "cache_ttl_secs = {}\n[[keys.rules]]\nbucket = \"{BUCKET}\"\nprefix = \"doomed/\"\n\
         key = \"derived\"\n",
        TTL.as_secs()
    );
    let cloak = Cloak::start_with_keys(|ring| vault_keys(&bao, ring, &extra)).await;
    for i in 0..5 {
        cloak.put(&format!("doomed/{i}"), &plaintext(900 + i)).await;
    }
    cloak.put("kept", b"another key entirely").await;

    let config = cloak.config_path();
    let refused = cloak_cli(&[
        "keys",
        "shred",
        "--config",
        config.to_str().expect("utf-8"),
        "--bucket",
        BUCKET,
        "--prefix",
        "doomed/",
    ])
    .await;
    assert!(
        !refused.ok && refused.stderr.contains("--yes-destroy-keys"),
        "{refused:?}"
    );

    let report = cloak.scratch("shred.json");
    let report_arg = report.to_str().expect("utf-8 path");
    let args = [
        "shred",
        "--bucket",
        BUCKET,
        "--prefix",
        "doomed/",
        "--report",
        report_arg,
        "--yes-destroy-keys",
    ];
    keys_cli(&cloak, &args).await;
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("the report")).expect("JSON");
    let key = &json["keys"][0];
    assert_eq!(
        (key["provider"].as_str(), key["key"].as_str()),
        (Some("bao"), Some("derived"))
    );
    assert_eq!(
        (key["destroyed"].as_bool(), key["immediate"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(key["objects_affected"].as_u64(), Some(5));
    assert_eq!(json["scan"]["objects_scanned"].as_u64(), Some(5));
    assert_eq!(json["revocation_delay_secs"].as_u64(), Some(TTL.as_secs()));
    assert!(json["shredded_at"]
        .as_str()
        .is_some_and(|t| t.contains('T')));

    // The documented delay: held keys open for up to the TTL, then never again.
    assert_eq!(cloak.get("doomed/0").await, plaintext(900));
    tokio::time::sleep(TTL + Duration::from_millis(500)).await;
    for i in 0..5 {
        let f = fetch(cloak.get_object(&format!("doomed/{i}")))
            .await
            .expect_err("shredded");
        assert_eq!((f.status, f.code.as_str()), (403, "AccessDenied"), "{f:?}");
        assert!(f.message.contains("no longer exists"), "{f:?}");
    }
    assert_eq!(cloak.get("kept").await, b"another key entirely");

    let put = cloak.s3().put_object().bucket(BUCKET).key("doomed/new");
    let err = put
        .body(ByteStream::from(b"x".to_vec()))
        .send()
        .await
        .expect_err("shredded");
    let f = common::failure(&err);
    assert_eq!((f.status, f.code.as_str()), (403, "AccessDenied"), "{f:?}");
    assert!(
        f.message.contains("bao/derived") && f.message.contains("nothing was stored"),
        "{f:?}"
    );
    assert!(!stored_at_all(&cloak, "doomed/new").await);
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shredding_a_keyring_key_reaches_the_running_proxy() {
    let cloak = Cloak::start_with_keys(|ring| {
        format!(
            "[keys]\nkeyring_path = \"{}\"\ncache_ttl_secs = 1\n",
            ring.display()
        )
    })
    .await;
    cloak.put("k", b"keyring object").await;
    let ran = keys_cli(
        &cloak,
        &[
            "shred",
            "--provider",
            "keyring",
            "--key",
            "default",
            "--yes-destroy-keys",
        ],
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(&ran.stdout).expect("JSON on stdout");
    assert_eq!(json["keys"][0]["versions"], serde_json::json!([1]));
    assert!(json["scan"].is_null());

    // The proxy re-reads the replaced keyring file within a second, then its cache expires.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let f = fetch(cloak.get_object("k")).await.expect_err("shredded");
    assert_eq!((f.status, f.code.as_str()), (403, "AccessDenied"), "{f:?}");
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_multipart_object_reads_whole_and_by_part() {
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
    let cloak = Cloak::start().await;
    let s3 = cloak.s3();
    let parts = [plaintext(5 << 20), plaintext(1000)];
    let create = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("mpu")
        .send();
    let upload = create
        .await
        .expect("create")
        .upload_id()
        .expect("id")
        .to_owned();
    let mut done = CompletedMultipartUpload::builder();
    for (i, body) in parts.iter().enumerate() {
        let number = i32::try_from(i + 1).expect("small");
        let part = s3
            .upload_part()
            .bucket(BUCKET)
            .key("mpu")
            .upload_id(&upload);
        let part = part
            .part_number(number)
            .body(ByteStream::from(body.clone()));
        let etag = part
            .send()
            .await
            .expect("upload part")
            .e_tag()
            .expect("etag")
            .to_owned();
        done = done.parts(
            CompletedPart::builder()
                .part_number(number)
                .e_tag(etag)
                .build(),
        );
    }
    let complete = s3.complete_multipart_upload().bucket(BUCKET).key("mpu");
    let complete = complete
        .upload_id(&upload)
        .multipart_upload(done.build())
        .send();
    complete.await.expect("complete");

    keys_cli(
        &cloak,
        &["rotate-master", "--provider", "keyring", "--key", "default"],
    )
    .await;
    let ran = keys_cli(&cloak, &["rotate", "--bucket", BUCKET]).await;
    assert!(ran.stdout.contains("scanned 1, rewrapped 1"), "{ran:?}");
    assert_eq!(stored_header(&cloak, "mpu").await.key.key_version, 2);

    assert_eq!(cloak.get("mpu").await, parts.concat());
    let second = fetch(cloak.get_object("mpu").part_number(2))
        .await
        .expect("part 2");
    assert_eq!(second.body, parts[1]);
    cloak.stop().await;
}
