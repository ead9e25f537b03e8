//! Objects through Cloak with the AWS SDK: what the store ends up holding, plaintext sizes and
//! ETags on every size around the segment boundaries, ranges, and conditional reads.

mod common;

use std::fs;

use aws_sdk_s3::primitives::ByteStream;
use base64::Engine as _;
use http::StatusCode;
use md5::{Digest as _, Md5};

use common::{fetch, md5_etag, plaintext, sdk_len, shared_window, stored_len, Cloak, SEGMENT};

/// Sizes on both sides of a segment boundary, and one of about 1 MiB (17 segments).
const SIZES: [usize; 6] = [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, (1 << 20) + 3];

/// Four segments, the last one partial.
const RANGED_LEN: usize = 3 * SEGMENT + 1000;

/// An ETag no object here has.
const OTHER_ETAG: &str = "\"0123456789abcdef0123456789abcdef\"";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_holds_no_plaintext_and_exactly_the_envelope() {
    let cloak = Cloak::start().await;
    let plain = plaintext(300_000);
    cloak.put("secret.txt", &plain).await;

    let stored = cloak.stored("secret.txt");
    assert_eq!(stored.len() as u64, stored_len(plain.len()), "stored size");
    assert_eq!(
        shared_window(&plain, &stored),
        None,
        "a plaintext window is stored"
    );

    // Neither the object nor its sidecar files (metadata) may reveal the plaintext or its MD5.
    let digest = Md5::digest(&plain);
    let md5_forms = [
        hex::encode(digest).into_bytes(),
        base64::engine::general_purpose::STANDARD
            .encode(digest)
            .into_bytes(),
        digest.to_vec(),
    ];
    for path in cloak.store_files() {
        let bytes = fs::read(&path).expect("read a store file");
        let at = shared_window(&plain, &bytes);
        assert_eq!(at, None, "plaintext window in {}", path.display());
        for form in &md5_forms {
            let found = bytes.windows(form.len()).any(|w| w == form.as_slice());
            assert!(
                !found,
                "the plaintext MD5 is readable in {}",
                path.display()
            );
        }
    }
    assert_eq!(cloak.get("secret.txt").await, plain);
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_size_round_trips_with_its_plaintext_length_and_etag() {
    let cloak = Cloak::start().await;
    for size in SIZES {
        let key = format!("size-{size}");
        let body = plaintext(size);
        let etag = Some(md5_etag(&body));
        cloak.put(&key, &body).await;
        let stored = cloak.stored(&key).len() as u64;
        assert_eq!(stored, stored_len(size), "stored size of {key}");

        let head = cloak.head_object(&key).send().await.expect("HEAD");
        assert_eq!(
            head.content_length(),
            sdk_len(size),
            "HEAD Content-Length of {key}"
        );
        assert_eq!(head.e_tag(), etag.as_deref(), "HEAD ETag of {key}");

        let get = fetch(cloak.get_object(&key)).await.expect("GET");
        assert_eq!(
            get.content_length,
            sdk_len(size),
            "GET Content-Length of {key}"
        );
        assert_eq!(get.etag, etag, "GET ETag of {key}");
        assert!(get.body == body, "GET of {key} gave different bytes");
    }
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_sdk_upload_round_trips() {
    let cloak = Cloak::start().await;
    let plain = plaintext(2 * SEGMENT + 12_345);
    let path = cloak.scratch("upload.bin");
    fs::write(&path, &plain).expect("write the file to upload");

    // A body read from a file goes out as a stream, as the CLI's uploads do.
    let body = ByteStream::from_path(&path).await.expect("file body");
    let put = cloak
        .s3()
        .put_object()
        .bucket(common::BUCKET)
        .key("f")
        .body(body);
    let etag = put.send().await.expect("streamed PUT").e_tag;
    assert_eq!(etag, Some(md5_etag(&plain)));
    assert_eq!(cloak.get("f").await, plain);
    assert_eq!(cloak.stored("f").len() as u64, stored_len(plain.len()));
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_show_plaintext_sizes_and_etags() {
    let cloak = Cloak::start().await;
    let sizes = [0, 5, SEGMENT + 7];
    for size in sizes {
        cloak.put(&format!("k{size}"), &plaintext(size)).await;
    }

    let listed = cloak
        .s3()
        .list_objects_v2()
        .bucket(common::BUCKET)
        .send()
        .await;
    let listed = listed.expect("ListObjectsV2");
    let seen: Vec<(&str, Option<i64>, Option<&str>)> = listed
        .contents()
        .iter()
        .map(|o| (o.key().unwrap_or_default(), o.size(), o.e_tag()))
        .collect();
    let etags: Vec<String> = sizes.iter().map(|&n| md5_etag(&plaintext(n))).collect();
    let keys: Vec<String> = sizes.iter().map(|n| format!("k{n}")).collect();
    let want: Vec<(&str, Option<i64>, Option<&str>)> = (0..sizes.len())
        .map(|i| (keys[i].as_str(), sdk_len(sizes[i]), Some(etags[i].as_str())))
        .collect();
    assert_eq!(seen, want);
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_give_exact_bytes_with_206_and_content_range() {
    let cloak = Cloak::start().await;
    let plain = plaintext(RANGED_LEN);
    cloak.put("r", &plain).await;
    let (s, total) = (SEGMENT, RANGED_LEN);

    let cases = [
        ("bytes=0-0".to_owned(), 0, 0),
        (format!("bytes={}-{}", s - 6, s + 9), s - 6, s + 9),
        (format!("bytes={}-{}", s, 2 * s - 1), s, 2 * s - 1),
        (format!("bytes=100-{}", 3 * s + 5), 100, 3 * s + 5),
        (format!("bytes={}-", 2 * s - 1), 2 * s - 1, total - 1),
        ("bytes=-70000".to_owned(), total - 70000, total - 1),
        ("bytes=-1".to_owned(), total - 1, total - 1),
        (
            format!("bytes={}-{}", total - 10, total + 5000),
            total - 10,
            total - 1,
        ),
        ("bytes=-999999".to_owned(), 0, total - 1),
    ];
    for (range, first, last) in cases {
        let want = &plain[first..=last];
        let content_range = format!("bytes {first}-{last}/{total}");

        let get = fetch(cloak.get_object("r").range(&range)).await;
        let get = get.unwrap_or_else(|f| panic!("{range}: {f:?}"));
        assert_eq!(
            get.content_range.as_deref(),
            Some(content_range.as_str()),
            "{range}"
        );
        assert_eq!(get.content_length, sdk_len(want.len()), "{range}");
        assert!(get.body == want, "{range}: wrong bytes");

        let reply = cloak
            .raw("GET", "/bucket/r", &[("range", &range)], b"")
            .await;
        assert_eq!(reply.status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(reply.header("content-range"), content_range, "{range}");
        assert!(reply.body == want, "{range}: wrong bytes over raw HTTP");
    }
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsatisfiable_range_is_416_invalid_range() {
    let cloak = Cloak::start().await;
    cloak.put("r", &plaintext(RANGED_LEN)).await;
    cloak.put("empty", b"").await;

    let past_end = format!("bytes={RANGED_LEN}-");
    let cases = [
        ("r", past_end.as_str()),
        ("empty", "bytes=0-"),
        ("empty", "bytes=-5"),
    ];
    for (key, range) in cases {
        let f = fetch(cloak.get_object(key).range(range))
            .await
            .expect_err("a 416");
        let got = (f.status, f.code.as_str());
        assert_eq!(got, (416, "InvalidRange"), "{key} {range}: {f:?}");
    }

    let reply = cloak
        .raw("GET", "/bucket/r", &[("range", &past_end)], b"")
        .await;
    assert_eq!(reply.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(reply.code(), "InvalidRange");
    let content_range = format!("bytes */{RANGED_LEN}");
    assert_eq!(reply.header("content-range"), content_range);
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditions_that_hold_serve_the_object() {
    let cloak = Cloak::start().await;
    let plain = plaintext(SEGMENT + 100);
    cloak.put("c", &plain).await;
    let etag = md5_etag(&plain);

    let got = fetch(cloak.get_object("c").if_match(&etag)).await;
    assert!(got.expect("If-Match the ETag").body == plain);
    let got = fetch(cloak.get_object("c").if_none_match(OTHER_ETAG)).await;
    assert!(got.expect("If-None-Match another ETag").body == plain);
    // s3fs sends If-Match with every ranged read.
    let got = fetch(cloak.get_object("c").range("bytes=10-19").if_match(&etag)).await;
    assert!(got.expect("ranged If-Match").body == plain[10..20]);
    let head = cloak.head_object("c").if_match(&etag).send().await;
    assert_eq!(head.expect("HEAD If-Match").e_tag(), Some(etag.as_str()));
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditions_that_fail_are_412_or_304_by_the_plaintext_etag() {
    let cloak = Cloak::start().await;
    let plain = plaintext(SEGMENT + 100);
    cloak.put("c", &plain).await;
    let etag = md5_etag(&plain);
    // The store's own ETag describes ciphertext and must not satisfy a client's condition.
    let stored_etag = md5_etag(&cloak.stored("c"));

    for wrong in [OTHER_ETAG, stored_etag.as_str()] {
        let f = fetch(cloak.get_object("c").if_match(wrong))
            .await
            .expect_err("a 412");
        assert_eq!(
            (f.status, f.code.as_str()),
            (412, "PreconditionFailed"),
            "GET {wrong}"
        );
        let head = cloak.head_object("c").if_match(wrong).send().await;
        let f = common::failure(&head.expect_err("HEAD If-Match fails"));
        assert_eq!(f.status, 412, "HEAD {wrong}");
    }

    let f = fetch(cloak.get_object("c").if_none_match(&etag))
        .await
        .expect_err("a 304");
    assert_eq!(f.status, 304, "GET If-None-Match the ETag");
    let head = cloak.head_object("c").if_none_match(&etag).send().await;
    assert_eq!(
        common::failure(&head.expect_err("a 304")).status,
        304,
        "HEAD"
    );
    let reply = cloak
        .raw("GET", "/bucket/c", &[("if-none-match", &etag)], b"")
        .await;
    assert_eq!(reply.status, StatusCode::NOT_MODIFIED);
    assert_eq!(reply.header("etag"), etag);
    assert!(reply.body.is_empty());
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awkward_keys_round_trip() {
    let cloak = Cloak::start().await;
    let keys = [
        "dir/a b+c&d=e.txt",
        "café/ü €.bin",
        "tilde~star*(1)!'",
        "semi;colon,comma@at$",
    ];
    for key in keys {
        let body = plaintext(1000 + key.len());
        cloak.put(key, &body).await;
        assert!(
            cloak.stored_path(key).exists(),
            "{key} is not where the store keeps it"
        );
        assert_eq!(cloak.get(key).await, body, "{key}");
        let head = cloak.head_object(key).send().await;
        assert_eq!(
            head.expect("HEAD").content_length(),
            sdk_len(body.len()),
            "{key}"
        );
    }
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_object_is_no_such_key_and_an_overwrite_replaces() {
    let cloak = Cloak::start().await;
    let f = fetch(cloak.get_object("missing"))
        .await
        .expect_err("no such key");
    assert_eq!((f.status, f.code.as_str()), (404, "NoSuchKey"), "{f:?}");
    let head = cloak.head_object("missing").send().await;
    assert_eq!(
        common::failure(&head.expect_err("HEAD of nothing")).status,
        404
    );

    cloak.put("k", &plaintext(SEGMENT + 1)).await;
    let second = plaintext(10);
    cloak.put("k", &second).await;
    let got = fetch(cloak.get_object("k")).await.expect("GET");
    assert_eq!(
        (got.body, got.etag),
        (second.clone(), Some(md5_etag(&second)))
    );
    cloak.stop().await;
}
