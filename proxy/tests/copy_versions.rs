//! Copies of older versions, against a real moto S3 (the embedded store keeps no versions):
//! CopyObject, UploadPartCopy, partNumber reads and GetObjectAttributes of `versionId`s.

// The kms crate's real-server support, reused as is; this test needs only part of it.
#[allow(dead_code)]
#[path = "../../kms/tests/support/moto.rs"]
mod moto;
#[allow(dead_code)]
#[path = "../../kms/tests/support/process.rs"]
mod process;
mod standalone;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketVersioningStatus, CompletedMultipartUpload, CompletedPart, ObjectAttributes,
    VersioningConfiguration,
};
use cloak_proxy::hooks::Hooks;
use md5::{Digest as _, Md5};

use moto::Moto;
use standalone::{client, start, Store};

const BUCKET: &str = "versions";

fn etag(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(Md5::digest(body)))
}

async fn put(s3: &aws_sdk_s3::Client, key: &str, body: &[u8]) -> String {
    let put = s3.put_object().bucket(BUCKET).key(key);
    let out = put.body(ByteStream::from(body.to_vec())).send().await;
    let out = out.expect("PUT");
    assert_eq!(out.e_tag(), Some(etag(body).as_str()));
    out.version_id().expect("a version id").to_owned()
}

async fn body(out: aws_sdk_s3::operation::get_object::GetObjectOutput) -> Vec<u8> {
    out.body
        .collect()
        .await
        .expect("body")
        .into_bytes()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_versions_copy_and_read_by_version_id() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("dir");
    let store = Store {
        endpoint: &moto.url,
        access_key: "testing",
        secret_key: "moto-accepts-any-secret",
    };
    let s3 = client(&start(dir.path(), &store, Hooks::default()).await);
    s3.create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("bucket");
    let on = VersioningConfiguration::builder()
        .status(BucketVersioningStatus::Enabled)
        .build();
    let versioning = s3.put_bucket_versioning().bucket(BUCKET);
    versioning
        .versioning_configuration(on)
        .send()
        .await
        .expect("versioning");

    let old: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let v1 = put(&s3, "doc", &old).await;
    put(&s3, "doc", b"the current version").await;
    let source = format!("{BUCKET}/doc?versionId={v1}");

    let copy = s3
        .copy_object()
        .copy_source(&source)
        .bucket(BUCKET)
        .key("restored");
    let out = copy.send().await.expect("copy of v1");
    assert_eq!(out.copy_source_version_id(), Some(v1.as_str()));
    let result_etag = out.copy_object_result().and_then(|r| r.e_tag());
    assert_eq!(result_etag, Some(etag(&old).as_str()));
    let got = s3.get_object().bucket(BUCKET).key("restored").send().await;
    assert!(body(got.expect("GET restored")).await == old);

    let upload = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("assembled")
        .send();
    let upload = upload
        .await
        .expect("create")
        .upload_id()
        .expect("id")
        .to_owned();
    let part = s3.upload_part_copy().bucket(BUCKET).key("assembled");
    let part = part.upload_id(&upload).part_number(1).copy_source(&source);
    let out = part.copy_source_range("bytes=65000-140000").send().await;
    let out = out.expect("part copy of v1");
    let part_etag = out.copy_part_result().and_then(|r| r.e_tag());
    let part_etag = part_etag.expect("a part ETag");
    assert_eq!(part_etag, etag(&old[65000..=140000]));
    let done = CompletedMultipartUpload::builder()
        .parts(
            CompletedPart::builder()
                .part_number(1)
                .e_tag(part_etag)
                .build(),
        )
        .build();
    let complete = s3
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key("assembled");
    complete
        .upload_id(&upload)
        .multipart_upload(done)
        .send()
        .await
        .expect("complete");
    let got = s3.get_object().bucket(BUCKET).key("assembled").send().await;
    assert!(body(got.expect("GET assembled")).await == old[65000..=140000]);

    let v1_read = s3
        .get_object()
        .bucket(BUCKET)
        .key("doc")
        .version_id(&v1)
        .part_number(1);
    assert!(body(v1_read.send().await.expect("partNumber of v1")).await == old);
    let attrs = s3
        .get_object_attributes()
        .bucket(BUCKET)
        .key("doc")
        .version_id(&v1);
    let attrs = attrs
        .object_attributes(ObjectAttributes::ObjectSize)
        .send()
        .await;
    assert_eq!(
        attrs.expect("attributes of v1").object_size(),
        Some(200_000)
    );
}
