//! GetObjectAttributes and `partNumber` reads through Cloak: plaintext sizes, ETags and part
//! tables, from the trailer.

mod common;
mod mpu;

use aws_sdk_s3::types::{ObjectAttributes as Attr, StorageClass};

use common::{failure, fetch, md5_etag, plaintext, sdk_len, Cloak, BUCKET};
use mpu::MIB;

/// Three uniform parts, the last one short: 5 MiB, 5 MiB, 7 bytes.
async fn three_parts(cloak: &Cloak, key: &str) -> (Vec<u8>, String) {
    let whole = plaintext(10 * MIB + 7);
    let parts = [
        &whole[..5 * MIB],
        &whole[5 * MIB..10 * MIB],
        &whole[10 * MIB..],
    ];
    let etag = mpu::upload(cloak, key, &parts).await;
    (whole, etag)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_put_has_plaintext_attributes_and_no_parts() {
    let cloak = Cloak::start().await;
    let plain = plaintext(100_003);
    cloak.put("single", &plain).await;
    let attrs = cloak
        .s3()
        .get_object_attributes()
        .bucket(BUCKET)
        .key("single");
    let attrs = attrs
        .object_attributes(Attr::Etag)
        .object_attributes(Attr::ObjectSize);
    let attrs = attrs
        .object_attributes(Attr::StorageClass)
        .object_attributes(Attr::ObjectParts);
    let out = attrs.send().await.expect("GetObjectAttributes");
    assert_eq!(out.e_tag(), Some(md5_etag(&plain).trim_matches('"')));
    assert_eq!(out.object_size(), sdk_len(plain.len()));
    assert_eq!(out.storage_class(), Some(&StorageClass::Standard));
    assert!(out.object_parts().is_none());
    assert!(out.checksum().is_none());
    assert!(out.last_modified().is_some());

    let only_size = cloak
        .s3()
        .get_object_attributes()
        .bucket(BUCKET)
        .key("single");
    let out = only_size.object_attributes(Attr::ObjectSize).send().await;
    let out = out.expect("ObjectSize only");
    assert_eq!(
        (out.e_tag(), out.object_size()),
        (None, sdk_len(plain.len()))
    );

    let missing = cloak
        .s3()
        .get_object_attributes()
        .bucket(BUCKET)
        .key("nothing");
    let err = missing
        .object_attributes(Attr::Etag)
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(&err).status, 404);
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_attributes_page_through_plaintext_part_sizes() {
    let cloak = Cloak::start().await;
    let (whole, etag) = three_parts(&cloak, "three").await;
    let ask = || {
        let a = cloak
            .s3()
            .get_object_attributes()
            .bucket(BUCKET)
            .key("three");
        a.object_attributes(Attr::ObjectParts)
            .object_attributes(Attr::Etag)
    };
    let out = ask()
        .object_attributes(Attr::ObjectSize)
        .send()
        .await
        .expect("attributes");
    assert_eq!(out.e_tag(), Some(etag.trim_matches('"')));
    assert_eq!(out.object_size(), sdk_len(whole.len()));
    let parts = out.object_parts().expect("ObjectParts");
    assert_eq!(parts.total_parts_count(), Some(3));
    assert_eq!(parts.is_truncated(), Some(false));
    let sizes: Vec<_> = parts
        .parts()
        .iter()
        .map(|p| (p.part_number(), p.size()))
        .collect();
    let mib5 = sdk_len(5 * MIB);
    assert_eq!(
        sizes,
        [(Some(1), mib5), (Some(2), mib5), (Some(3), Some(7))]
    );

    let first = ask().max_parts(2).send().await.expect("first page");
    let page = first.object_parts().expect("ObjectParts");
    assert_eq!(
        (page.is_truncated(), page.max_parts()),
        (Some(true), Some(2))
    );
    assert_eq!(page.next_part_number_marker(), Some("2"));
    let rest = ask()
        .part_number_marker("2")
        .send()
        .await
        .expect("second page");
    let page = rest.object_parts().expect("ObjectParts");
    let numbers: Vec<_> = page.parts().iter().map(|p| p.part_number()).collect();
    assert_eq!((numbers, page.is_truncated()), (vec![Some(3)], Some(false)));
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part_number_reads_answer_one_plaintext_part() {
    let cloak = Cloak::start().await;
    let (whole, etag) = three_parts(&cloak, "three").await;
    let total = whole.len();

    let two = fetch(cloak.get_object("three").part_number(2))
        .await
        .expect("part 2");
    assert!(two.body == whole[5 * MIB..10 * MIB], "part 2 differs");
    assert_eq!(
        two.etag.as_deref(),
        Some(etag.as_str()),
        "the whole object's ETag"
    );
    let range = format!("bytes {}-{}/{total}", 5 * MIB, 10 * MIB - 1);
    assert_eq!(two.content_range, Some(range));
    let three = cloak
        .get_object("three")
        .part_number(3)
        .send()
        .await
        .expect("part 3");
    assert_eq!(three.parts_count(), Some(3));
    let body = three.body.collect().await.expect("body").into_bytes();
    assert_eq!(body.as_ref(), &whole[10 * MIB..]);

    let head = cloak
        .head_object("three")
        .part_number(1)
        .send()
        .await
        .expect("HEAD");
    assert_eq!(head.content_length(), sdk_len(5 * MIB));
    assert_eq!(head.parts_count(), Some(3));
    let range = format!("bytes 0-{}/{total}", 5 * MIB - 1);
    assert_eq!(head.content_range(), Some(range.as_str()));

    let beyond = fetch(cloak.get_object("three").part_number(4))
        .await
        .unwrap_err();
    assert_eq!((beyond.status, beyond.code.as_str()), (400, "InvalidPart"));
    let both = cloak.get_object("three").part_number(1).range("bytes=0-9");
    let both = fetch(both).await.unwrap_err();
    assert_eq!((both.status, both.code.as_str()), (400, "InvalidRequest"));
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part_one_of_a_single_put_is_the_whole_object() {
    let cloak = Cloak::start().await;
    let plain = plaintext(70_000);
    cloak.put("single", &plain).await;
    let one = cloak
        .get_object("single")
        .part_number(1)
        .send()
        .await
        .expect("part 1");
    assert_eq!(one.parts_count(), None);
    assert_eq!(one.content_range(), Some("bytes 0-69999/70000"));
    let body = one.body.collect().await.expect("body").into_bytes();
    assert_eq!(body.as_ref(), plain.as_slice());

    let two = fetch(cloak.get_object("single").part_number(2))
        .await
        .unwrap_err();
    assert_eq!((two.status, two.code.as_str()), (400, "InvalidPart"));
    let reply = cloak
        .raw("GET", "/bucket/single?partNumber=0", &[], b"")
        .await;
    assert_eq!(reply.status, 400);
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unequal_parts_are_found_from_their_units() {
    let cloak = Cloak::start().await;
    // Parts of 5 MiB, 7 MiB and 100 bytes: the trailer records no uniform part length.
    let whole = plaintext(12 * MIB + 100);
    let parts = [
        &whole[..5 * MIB],
        &whole[5 * MIB..12 * MIB],
        &whole[12 * MIB..],
    ];
    let etag = mpu::upload(&cloak, "unequal", &parts).await;
    let attrs = cloak
        .s3()
        .get_object_attributes()
        .bucket(BUCKET)
        .key("unequal");
    let attrs = attrs
        .object_attributes(Attr::ObjectParts)
        .object_attributes(Attr::Etag);
    let out = attrs.send().await.expect("attributes");
    assert_eq!(out.e_tag(), Some(etag.trim_matches('"')));
    let listed = out.object_parts().expect("ObjectParts");
    assert_eq!(listed.total_parts_count(), Some(3));
    let sizes: Vec<_> = listed
        .parts()
        .iter()
        .map(|p| (p.part_number(), p.size()))
        .collect();
    let expected = [(1, 5 * MIB), (2, 7 * MIB), (3, 100)].map(|(n, len)| (Some(n), sdk_len(len)));
    assert_eq!(sizes, expected);

    for (number, part) in (1..).zip(parts) {
        let got = fetch(cloak.get_object("unequal").part_number(number)).await;
        assert!(got.expect("a part").body == part, "part {number} differs");
    }
    assert!(fetch(cloak.get_object("unequal")).await.expect("GET").body == whole);
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_unit_at_a_part_boundary_is_not_believed() {
    use std::os::unix::fs::FileExt as _;
    let cloak = Cloak::start().await;
    let whole = plaintext(12 * MIB);
    mpu::upload(&cloak, "unequal", &[&whole[..5 * MIB], &whole[5 * MIB..]]).await;
    // Unit 79 is part 1's last: the boundary search must open it.
    let mut options = std::fs::OpenOptions::new();
    let file = options
        .read(true)
        .write(true)
        .open(cloak.stored_path("unequal"));
    let file = file.expect("open the stored object");
    let at = 79 * (common::SEGMENT as u64 + 32) + 40;
    let mut byte = [0u8];
    file.read_exact_at(&mut byte, at).expect("read a byte");
    file.write_all_at(&[byte[0] ^ 1], at).expect("flip a bit");

    let attrs = cloak
        .s3()
        .get_object_attributes()
        .bucket(BUCKET)
        .key("unequal");
    let err = attrs
        .object_attributes(Attr::ObjectParts)
        .send()
        .await
        .unwrap_err();
    let f = failure(&err);
    assert_eq!((f.status, f.code.as_str()), (500, "InternalError"), "{f:?}");
    let size = cloak
        .s3()
        .get_object_attributes()
        .bucket(BUCKET)
        .key("unequal");
    let size = size.object_attributes(Attr::ObjectSize).send().await;
    assert_eq!(
        size.expect("ObjectSize needs no unit").object_size(),
        sdk_len(12 * MIB)
    );
    cloak.stop().await;
}
