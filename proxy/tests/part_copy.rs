//! UploadPartCopy through Cloak: plaintext ranges of a source, re-encrypted as parts of the
//! destination's upload, with the part ETags the client then completes with.

mod common;
mod mpu;

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt as _;

use common::{failure, fetch, md5_etag, plaintext, shared_window, Cloak, BUCKET, SEGMENT};
use mpu::{multipart_etag, MIB};

/// Copies `range` (or the whole source) of `source` as part `number`; the part's ETag.
async fn copy_part(
    cloak: &Cloak,
    key: &str,
    upload: &str,
    number: i32,
    source: &str,
    range: Option<String>,
) -> Result<String, common::Failure> {
    let copy = cloak.s3().upload_part_copy().bucket(BUCKET).key(key);
    let copy = copy.upload_id(upload).part_number(number);
    let copy = copy.copy_source(format!("{BUCKET}/{source}"));
    let out = copy.set_copy_source_range(range).send().await;
    let out = out.map_err(|e| failure(&e))?;
    let result = out.copy_part_result().expect("a CopyPartResult");
    assert!(result.last_modified().is_some());
    Ok(result.e_tag().expect("a part ETag").to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_across_segment_boundaries_become_parts_of_another_object() {
    let cloak = Cloak::start().await;
    let source = plaintext(6 * MIB + 300_000);
    cloak.put("source", &source).await;

    // Part 1: 5 MiB starting inside a segment; part 2: a short run across two boundaries.
    let first = 70_000;
    let one = &source[first..first + 5 * MIB];
    let two = &source[SEGMENT - 5..3 * SEGMENT + 7];
    let upload = mpu::create(&cloak, BUCKET, "assembled").await;
    let range = |a: usize, len: usize| Some(format!("bytes={a}-{}", a + len - 1));
    let e1 = copy_part(
        &cloak,
        "assembled",
        &upload,
        1,
        "source",
        range(first, one.len()),
    );
    let e1 = e1.await.expect("part 1");
    let e2 = range(SEGMENT - 5, two.len());
    let e2 = copy_part(&cloak, "assembled", &upload, 2, "source", e2).await;
    let e2 = e2.expect("part 2");
    assert_eq!(
        (e1.as_str(), e2.as_str()),
        (md5_etag(one).as_str(), md5_etag(two).as_str())
    );

    let parts = [(1, e1), (2, e2)];
    let etag = mpu::complete(&cloak, "assembled", &upload, &parts).await;
    assert_eq!(etag, multipart_etag(&[one, two]));
    let got = fetch(cloak.get_object("assembled")).await.expect("GET");
    let expected = [one, two].concat();
    assert!(got.body == expected, "the assembled object differs");
    let stored = cloak.stored("assembled");
    assert_eq!(
        shared_window(&expected[..4096], &stored),
        None,
        "plaintext stored"
    );
    // Re-encrypted under the upload's own key: no unit of the source reappears.
    let unit = &cloak.stored("source")[SEGMENT + 32..SEGMENT + 64];
    assert!(!stored.windows(unit.len()).any(|w| w == unit));
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_sources_and_uploaded_parts_mix_in_one_upload() {
    let cloak = Cloak::start().await;
    let small = plaintext(1234);
    cloak.put("small", &small).await;
    let big = plaintext(5 * MIB);
    let upload = mpu::create(&cloak, BUCKET, "mixed").await;
    let e1 = mpu::part(&cloak, "mixed", &upload, 1, &big).await;
    let e2 = copy_part(&cloak, "mixed", &upload, 2, "small", None).await;
    let e2 = e2.expect("whole-source part");
    assert_eq!(e2, md5_etag(&small));

    let etag = mpu::complete(&cloak, "mixed", &upload, &[(1, e1), (2, e2)]).await;
    assert_eq!(etag, multipart_etag(&[&big, &small]));
    let got = fetch(cloak.get_object("mixed")).await.expect("GET").body;
    assert!(got == [big.as_slice(), small.as_slice()].concat());
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_ranges_and_failed_conditions_store_no_part() {
    let cloak = Cloak::start().await;
    let source = plaintext(1000);
    cloak.put("source", &source).await;
    let upload = mpu::create(&cloak, BUCKET, "dst").await;
    for bad in ["bytes=0-1000", "bytes=10-", "bytes=-10", "bytes=9-3"] {
        let err = copy_part(&cloak, "dst", &upload, 1, "source", Some(bad.into())).await;
        let f = err.unwrap_err();
        assert_eq!(
            (f.status, f.code.as_str()),
            (400, "InvalidArgument"),
            "{bad}"
        );
    }

    let copy = cloak.s3().upload_part_copy().bucket(BUCKET).key("dst");
    let copy = copy.upload_id(&upload).part_number(1);
    let copy = copy.copy_source(format!("{BUCKET}/source"));
    let stale = copy.copy_source_if_match("\"0123456789abcdef0123456789abcdef\"");
    let f = failure(&stale.send().await.unwrap_err());
    assert_eq!((f.status, f.code.as_str()), (412, "PreconditionFailed"));

    let parts = cloak
        .s3()
        .list_parts()
        .bucket(BUCKET)
        .key("dst")
        .upload_id(&upload);
    let parts = parts.send().await.expect("ListParts");
    assert!(parts.parts().is_empty(), "a part was stored");
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_source_unit_fails_the_part_copy() {
    let cloak = Cloak::start().await;
    let source = plaintext(3 * SEGMENT);
    cloak.put("source", &source).await;
    // A ciphertext byte of unit 1.
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(cloak.stored_path("source"));
    let file = file.expect("open the stored object");
    let at = (SEGMENT + 32 + 100) as u64;
    let mut byte = [0u8];
    file.read_exact_at(&mut byte, at).expect("read a byte");
    file.write_all_at(&[byte[0] ^ 1], at).expect("flip a bit");

    let upload = mpu::create(&cloak, BUCKET, "dst").await;
    let range = Some(format!("bytes=0-{}", 2 * SEGMENT));
    let f = copy_part(&cloak, "dst", &upload, 1, "source", range).await;
    let f = f.unwrap_err();
    assert_eq!((f.status, f.code.as_str()), (500, "InternalError"), "{f:?}");
    assert!(f.message.contains("integrity check"), "{f:?}");

    // The unit before the tampered one still copies.
    let range = Some(format!("bytes=0-{}", SEGMENT - 1));
    let e = copy_part(&cloak, "dst", &upload, 1, "source", range).await;
    assert_eq!(e.expect("an untouched range"), md5_etag(&source[..SEGMENT]));
    cloak.still_serves().await;
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_is_appended_to_by_copying_itself_into_a_new_upload() {
    // What s3fs does to append: the old object becomes part 1 of an upload of its own key.
    let cloak = Cloak::start().await;
    let old = plaintext(5 * MIB);
    cloak.put("log", &old).await;
    let upload = mpu::create(&cloak, BUCKET, "log").await;
    let e1 = copy_part(&cloak, "log", &upload, 1, "log", None).await;
    let e1 = e1.expect("the object as part 1");
    let more = b"appended line\n";
    let e2 = mpu::part(&cloak, "log", &upload, 2, more).await;
    let etag = mpu::complete(&cloak, "log", &upload, &[(1, e1), (2, e2)]).await;
    assert_eq!(etag, multipart_etag(&[&old, more]));
    let got = fetch(cloak.get_object("log")).await.expect("GET").body;
    assert!(got == [old.as_slice(), more].concat());
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_sources_are_refused_unless_passed_through_and_then_encrypted() {
    let passthrough = |ring: &std::path::Path| {
        format!(
            "[keys]\nkeyring_path = \"{}\"\n\n[objects]\nforeign = \"passthrough\"\n",
            ring.display()
        )
    };
    let cloak = Cloak::start_with_keys(passthrough).await;
    // Written straight into the store: not Cloak's.
    let old = plaintext(200_000);
    let put = cloak.store_s3().put_object().bucket(BUCKET).key("legacy");
    let put = put.body(aws_sdk_s3::primitives::ByteStream::from(old.clone()));
    put.send().await.expect("PUT at the store");

    let upload = mpu::create(&cloak, BUCKET, "encrypted").await;
    let range = Some("bytes=1000-150999".to_owned());
    let e1 = copy_part(&cloak, "encrypted", &upload, 1, "legacy", range).await;
    let e1 = e1.expect("a part from a foreign source");
    assert_eq!(e1, md5_etag(&old[1000..151_000]));
    mpu::complete(&cloak, "encrypted", &upload, &[(1, e1)]).await;
    let got = fetch(cloak.get_object("encrypted"))
        .await
        .expect("GET")
        .body;
    assert!(got == old[1000..151_000]);
    assert_eq!(shared_window(&got, &cloak.stored("encrypted")), None);
    cloak.stop().await;

    let strict = Cloak::start().await;
    let put = strict.store_s3().put_object().bucket(BUCKET).key("legacy");
    let put = put.body(aws_sdk_s3::primitives::ByteStream::from(old.clone()));
    put.send().await.expect("PUT at the store");
    let upload = mpu::create(&strict, BUCKET, "encrypted").await;
    let f = copy_part(&strict, "encrypted", &upload, 1, "legacy", None).await;
    let f = f.unwrap_err();
    assert_eq!((f.status, f.code.as_str()), (403, "InvalidObjectState"));
    strict.stop().await;
}
