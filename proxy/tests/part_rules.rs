//! S3's part rules through Cloak, each refused with an explanation: parts too small to be
//! anything but last, parts that are not whole segments, unknown ETags, order, numbering.

mod common;
mod mpu;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

use common::{failure, plaintext, Cloak, Failure, BUCKET};
use mpu::MIB;

/// Completes `key`'s upload with `parts`, expecting a refusal.
async fn refused(cloak: &Cloak, key: &str, upload: &str, parts: &[(i32, &str)]) -> Failure {
    let parts: Vec<CompletedPart> = parts
        .iter()
        .map(|(n, e)| CompletedPart::builder().part_number(*n).e_tag(*e).build())
        .collect();
    let done = CompletedMultipartUpload::builder()
        .set_parts(Some(parts))
        .build();
    let complete = cloak
        .s3()
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key(key);
    let complete = complete.upload_id(upload).multipart_upload(done);
    failure(&complete.send().await.unwrap_err())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_final_parts_must_be_5_mib_and_whole_segments() {
    let cloak = Cloak::start().await;
    let small = plaintext(MIB);
    let ragged = plaintext(5 * MIB + 1);
    let upload = mpu::create(&cloak, BUCKET, "k").await;
    let e_small = mpu::part(&cloak, "k", &upload, 1, &small).await;
    let e_ragged = mpu::part(&cloak, "k", &upload, 2, &ragged).await;
    let e_last = mpu::part(&cloak, "k", &upload, 3, b"tail").await;

    let f = refused(&cloak, "k", &upload, &[(1, &e_small), (3, &e_last)]).await;
    assert_eq!((f.status, f.code.as_str()), (400, "EntityTooSmall"));
    assert!(f.message.contains("5 MiB"), "{f:?}");
    let f = refused(&cloak, "k", &upload, &[(2, &e_ragged), (3, &e_last)]).await;
    assert_eq!((f.status, f.code.as_str()), (400, "InvalidPart"));
    assert!(f.message.contains("multiple of 65536"), "{f:?}");

    // Both can still be the last part. (s3s-fs completes part numbers 1..N only, so the
    // ragged part is uploaded again as part 2 after a proper part 1.)
    let whole = plaintext(5 * MIB);
    let upload = mpu::create(&cloak, BUCKET, "ok").await;
    let e1 = mpu::part(&cloak, "ok", &upload, 1, &whole).await;
    let e2 = mpu::part(&cloak, "ok", &upload, 2, &ragged).await;
    let etag = mpu::complete(&cloak, "ok", &upload, &[(1, e1), (2, e2)]).await;
    assert_eq!(etag, mpu::multipart_etag(&[&whole, &ragged]));
    let upload = mpu::create(&cloak, BUCKET, "small").await;
    let e1 = mpu::part(&cloak, "small", &upload, 1, &small).await;
    let etag = mpu::complete(&cloak, "small", &upload, &[(1, e1)]).await;
    assert_eq!(etag, mpu::multipart_etag(&[&small]));
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_etags_order_and_numbers_are_refused() {
    let cloak = Cloak::start().await;
    let upload = mpu::create(&cloak, BUCKET, "k").await;
    let e1 = mpu::part(&cloak, "k", &upload, 1, b"one").await;
    let other = "\"0123456789abcdef0123456789abcdef\"";
    let f = refused(&cloak, "k", &upload, &[(1, other)]).await;
    assert_eq!((f.status, f.code.as_str()), (400, "InvalidPart"));
    let f = refused(&cloak, "k", &upload, &[(2, &e1), (1, &e1)]).await;
    assert_eq!((f.status, f.code.as_str()), (400, "InvalidPartOrder"));

    for number in [0, 10_001] {
        let part = cloak
            .s3()
            .upload_part()
            .bucket(BUCKET)
            .key("k")
            .upload_id(&upload);
        let part = part.part_number(number).body(ByteStream::from_static(b"x"));
        let f = failure(&part.send().await.unwrap_err());
        assert_eq!(
            (f.status, f.code.as_str()),
            (400, "InvalidArgument"),
            "{number}"
        );
    }
    cloak.stop().await;
}
