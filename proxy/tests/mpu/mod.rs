//! Multipart helpers shared by the copy, part-copy and attribute tests: whole uploads through
//! the proxy, and the ETags S3 gives them.

#![allow(dead_code)]

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use md5::{Digest as _, Md5};

use super::common::{Cloak, BUCKET};

pub const MIB: usize = 1 << 20;

/// `"<md5 of the parts' md5s>-N"`, S3's ETag for a multipart object.
pub fn multipart_etag(parts: &[&[u8]]) -> String {
    let mut all = Md5::new();
    for part in parts {
        all.update(Md5::digest(part));
    }
    format!("\"{}-{}\"", hex::encode(all.finalize()), parts.len())
}

/// Starts a multipart upload of `key` in `bucket`; its upload id.
pub async fn create(cloak: &Cloak, bucket: &str, key: &str) -> String {
    let out = cloak
        .s3()
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateMultipartUpload {key}: {e:?}"));
    out.upload_id().expect("an upload id").to_owned()
}

/// Uploads `body` as part `number`; its ETag.
pub async fn part(cloak: &Cloak, key: &str, upload: &str, number: i32, body: &[u8]) -> String {
    let out = cloak
        .s3()
        .upload_part()
        .bucket(BUCKET)
        .key(key)
        .upload_id(upload)
        .part_number(number)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("UploadPart {key} #{number}: {e:?}"));
    out.e_tag().expect("a part ETag").to_owned()
}

/// Completes an upload of `key` in [`BUCKET`] from `(number, ETag)` pairs; its ETag.
pub async fn complete(cloak: &Cloak, key: &str, upload: &str, parts: &[(i32, String)]) -> String {
    let parts: Vec<CompletedPart> = parts
        .iter()
        .map(|(n, e)| CompletedPart::builder().part_number(*n).e_tag(e).build())
        .collect();
    let done = CompletedMultipartUpload::builder()
        .set_parts(Some(parts))
        .build();
    let out = cloak
        .s3()
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .upload_id(upload)
        .multipart_upload(done)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CompleteMultipartUpload {key}: {e:?}"));
    out.e_tag().expect("an object ETag").to_owned()
}

/// Uploads `parts` as parts 1..=N of `key` in [`BUCKET`] and checks the object's ETag.
pub async fn upload(cloak: &Cloak, key: &str, parts: &[&[u8]]) -> String {
    let id = create(cloak, BUCKET, key).await;
    let mut done = Vec::new();
    for (i, body) in parts.iter().enumerate() {
        let number = i32::try_from(i + 1).expect("few parts");
        done.push((number, part(cloak, key, &id, number, body).await));
    }
    let etag = complete(cloak, key, &id, &done).await;
    assert_eq!(etag, multipart_etag(parts), "ETag of {key}");
    etag
}
