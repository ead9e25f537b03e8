//! CopyObject through Cloak: the copy is the same ciphertext (the data key is re-bound, not
//! the body re-encrypted), reads back bit-exact under its new name, keeps or replaces metadata
//! as the client's directive says, and honours `x-amz-copy-source-if-*` against plaintext
//! ETags.

mod common;
mod mpu;

use std::time::{Duration, SystemTime};

use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::MetadataDirective;

use common::{failure, fetch, md5_etag, plaintext, sdk_len, Cloak, BUCKET};
use mpu::MIB;

const OTHER: &str = "other-bucket";

/// The envelope header the store holds for `key` in `bucket` (its wrapped data key).
async fn envelope(cloak: &Cloak, bucket: &str, key: &str) -> String {
    let head = cloak.store_s3().head_object().bucket(bucket).key(key);
    let head = head.send().await.expect("HEAD at the store");
    let meta = head.metadata().expect("metadata");
    meta.get("cloak").expect("an envelope header").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_within_and_across_buckets_are_the_same_ciphertext() {
    let cloak = Cloak::start().await;
    let s3 = cloak.s3();
    s3.create_bucket()
        .bucket(OTHER)
        .send()
        .await
        .expect("bucket");
    let plain = plaintext(300_000);
    cloak.put("dir/source file", &plain).await;

    let copy = s3
        .copy_object()
        .copy_source(format!("{BUCKET}/dir/source%20file"));
    let out = copy.bucket(BUCKET).key("copy").send().await.expect("copy");
    let result = out.copy_object_result().expect("a CopyObjectResult");
    assert_eq!(result.e_tag(), Some(md5_etag(&plain).as_str()));
    assert!(result.last_modified().is_some());
    let across = s3
        .copy_object()
        .copy_source(format!("/{BUCKET}/dir/source%20file"));
    across
        .bucket(OTHER)
        .key("far/copy")
        .send()
        .await
        .expect("copy across");

    // Byte for byte the source's units and trailer: nothing was re-encrypted.
    let source = cloak.stored("dir/source file");
    assert_eq!(cloak.stored("copy"), source);
    let far = std::fs::read(cloak.store_dir.join(OTHER).join("far/copy")).expect("stored");
    assert_eq!(far, source);
    // But each copy's data key is wrapped for its own name.
    let original = envelope(&cloak, BUCKET, "dir/source file").await;
    assert_ne!(envelope(&cloak, BUCKET, "copy").await, original);
    assert_ne!(envelope(&cloak, OTHER, "far/copy").await, original);

    assert_eq!(cloak.get("copy").await, plain);
    let got = fetch(s3.get_object().bucket(OTHER).key("far/copy")).await;
    let got = got.expect("GET across");
    assert_eq!(got.body, plain);
    assert_eq!(got.etag, Some(md5_etag(&plain)));
    let ranged = fetch(cloak.get_object("copy").range("bytes=65530-131080")).await;
    assert_eq!(ranged.expect("range").body, plain[65530..=131080]);
    let head = cloak.head_object("copy").send().await.expect("HEAD");
    assert_eq!(head.content_length(), sdk_len(plain.len()));
    assert_eq!(
        cloak.get("dir/source file").await,
        plain,
        "the source is intact"
    );
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_keeps_metadata_and_replace_swaps_it() {
    let cloak = Cloak::start().await;
    let s3 = cloak.s3();
    let plain = plaintext(1000);
    let put = s3
        .put_object()
        .bucket(BUCKET)
        .key("src")
        .metadata("colour", "blue");
    let put = put
        .content_type("text/x-source")
        .cache_control("max-age=60");
    put.body(ByteStream::from(plain.clone()))
        .send()
        .await
        .expect("PUT");

    let kept = s3.copy_object().copy_source(format!("{BUCKET}/src"));
    let kept = kept
        .metadata("ignored", "yes")
        .content_type("text/x-ignored");
    kept.bucket(BUCKET).key("kept").send().await.expect("COPY");
    let head = cloak.head_object("kept").send().await.expect("HEAD");
    let meta = head.metadata().expect("metadata");
    assert_eq!(meta.get("colour").map(String::as_str), Some("blue"));
    assert!(!meta.contains_key("ignored") && !meta.contains_key("cloak"));
    assert_eq!(head.content_type(), Some("text/x-source"));
    assert_eq!(head.cache_control(), Some("max-age=60"));

    let replaced = s3.copy_object().copy_source(format!("{BUCKET}/src"));
    let replaced = replaced.metadata_directive(MetadataDirective::Replace);
    let replaced = replaced
        .metadata("shape", "round")
        .content_type("text/x-new");
    replaced
        .bucket(BUCKET)
        .key("replaced")
        .send()
        .await
        .expect("REPLACE");
    let head = cloak.head_object("replaced").send().await.expect("HEAD");
    let meta = head.metadata().expect("metadata");
    assert_eq!(meta.get("shape").map(String::as_str), Some("round"));
    assert!(!meta.contains_key("colour") && !meta.contains_key("cloak"));
    assert_eq!(head.content_type(), Some("text/x-new"));
    assert_eq!(cloak.get("replaced").await, plain);
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_copies_onto_itself_only_to_change_its_metadata() {
    let cloak = Cloak::start().await;
    let s3 = cloak.s3();
    let plain = plaintext(70_000);
    cloak.put("self", &plain).await;
    let before = cloak.stored("self");

    let pointless = s3.copy_object().copy_source(format!("{BUCKET}/self"));
    let err = pointless
        .bucket(BUCKET)
        .key("self")
        .send()
        .await
        .unwrap_err();
    let f = failure(&err);
    assert_eq!((f.status, f.code.as_str()), (400, "InvalidRequest"));

    let change = s3.copy_object().copy_source(format!("{BUCKET}/self"));
    let change = change.metadata_directive(MetadataDirective::Replace);
    let out = change
        .metadata("state", "reviewed")
        .bucket(BUCKET)
        .key("self")
        .send();
    let out = out.await.expect("copy onto itself with REPLACE");
    let etag = out.copy_object_result().and_then(|r| r.e_tag());
    assert_eq!(etag, Some(md5_etag(&plain).as_str()));
    let head = cloak.head_object("self").send().await.expect("HEAD");
    let state = head
        .metadata()
        .and_then(|m| m.get("state"))
        .map(String::as_str);
    assert_eq!(state, Some("reviewed"));
    assert_eq!(cloak.stored("self"), before);
    assert_eq!(cloak.get("self").await, plain);
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_source_conditions_use_the_plaintext_etag() {
    let cloak = Cloak::start().await;
    let s3 = cloak.s3();
    let plain = plaintext(5000);
    cloak.put("cond", &plain).await;
    let etag = md5_etag(&plain);
    let copy = || {
        s3.copy_object()
            .copy_source(format!("{BUCKET}/cond"))
            .bucket(BUCKET)
    };
    let past = DateTime::from(SystemTime::now() - Duration::from_secs(3600));
    let future = DateTime::from(SystemTime::now() + Duration::from_secs(3600));

    copy()
        .key("a")
        .copy_source_if_match(&etag)
        .send()
        .await
        .expect("if-match");
    let stale = copy()
        .key("b")
        .copy_source_if_match("\"0123456789abcdef0123456789abcdef\"");
    let refusals = [
        stale.send().await.unwrap_err(),
        copy()
            .key("c")
            .copy_source_if_none_match(&etag)
            .send()
            .await
            .unwrap_err(),
        copy()
            .key("d")
            .copy_source_if_modified_since(future)
            .send()
            .await
            .unwrap_err(),
        copy()
            .key("e")
            .copy_source_if_unmodified_since(past)
            .send()
            .await
            .unwrap_err(),
    ];
    for err in &refusals {
        let f = failure(err);
        assert_eq!(
            (f.status, f.code.as_str()),
            (412, "PreconditionFailed"),
            "{f:?}"
        );
    }
    let both = copy().key("f").copy_source_if_match(&etag);
    both.copy_source_if_unmodified_since(past)
        .send()
        .await
        .expect("If-Match wins");
    for key in ["b", "c", "d", "e"] {
        let err = cloak.head_object(key).send().await.unwrap_err();
        assert_eq!(failure(&err).status, 404, "{key} was not written");
    }
    assert_eq!(cloak.get("a").await, plain);
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multipart_object_copies_with_its_etag_and_parts() {
    let cloak = Cloak::start().await;
    let s3 = cloak.s3();
    let whole = plaintext(5 * MIB + 1000);
    let (one, two) = whole.split_at(5 * MIB);
    let etag = mpu::upload(&cloak, "mpu", &[one, two]).await;

    let out = s3.copy_object().copy_source(format!("{BUCKET}/mpu"));
    let out = out
        .bucket(BUCKET)
        .key("mpu-copy")
        .send()
        .await
        .expect("copy");
    assert_eq!(
        out.copy_object_result().and_then(|r| r.e_tag()),
        Some(etag.as_str())
    );
    assert_eq!(cloak.stored("mpu-copy"), cloak.stored("mpu"));
    let got = fetch(cloak.get_object("mpu-copy")).await.expect("GET");
    assert_eq!(got.etag.as_deref(), Some(etag.as_str()));
    assert!(got.body == whole, "the copy's body differs");
    let part = fetch(cloak.get_object("mpu-copy").part_number(2)).await;
    assert_eq!(part.expect("part 2").body, two);
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_sources_and_reserved_keys_are_refused() {
    let cloak = Cloak::start().await;
    let s3 = cloak.s3();
    let missing = s3.copy_object().copy_source(format!("{BUCKET}/nothing"));
    let err = missing.bucket(BUCKET).key("x").send().await.unwrap_err();
    assert_eq!(failure(&err).status, 404);

    let reserved = s3
        .copy_object()
        .copy_source(format!("{BUCKET}/.cloak/mpu/x"));
    let err = reserved.bucket(BUCKET).key("x").send().await.unwrap_err();
    let f = failure(&err);
    assert_eq!((f.status, f.code.as_str()), (403, "AccessDenied"));
    cloak.still_serves().await;
    cloak.stop().await;
}
