//! Listing documents as S3, moto and rclone write them, a rewrite callback that answers the
//! way the proxy does, and helpers that drive a [`ListingRewriter`] to the end.
//!
//! The moto and rclone documents were captured from those servers (moto 5, `rclone serve
//! s3`); the S3 ones follow the element order and escaping S3 uses (`&quot;` in ETags,
//! `KeyCount` ahead of the entries, checksums in entries).

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt as _;

use super::*;

/// moto, ListObjects v1 with `encoding-type=url`: entries first, `EncodingType` after them.
pub(super) const MOTO_V1: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
    "<IsTruncated>false</IsTruncated>",
    "<Contents><Key>dir/a%20b%26c.txt</Key><LastModified>2026-12-03T19:59:16.000Z</LastModified>",
    "<ETag>\"5d41402abc4b2a76b9719d911017c592\"</ETag><Size>5</Size>",
    "<StorageClass>STANDARD</StorageClass><Owner><DisplayName>webfile</DisplayName>",
    "<ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID></Owner></Contents>",
    "<Contents><Key>plain</Key><LastModified>2026-12-03T19:59:16.000Z</LastModified>",
    "<ETag>\"9dd4e461268c8034f5c8564e155c67a6\"</ETag><Size>1</Size>",
    "<StorageClass>STANDARD</StorageClass><Owner><DisplayName>webfile</DisplayName>",
    "<ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID></Owner></Contents>",
    "<Name>bkt</Name><MaxKeys>1000</MaxKeys><EncodingType>url</EncodingType></ListBucketResult>",
);

/// moto, ListObjectsV2 with a delimiter: `ChecksumAlgorithm` in an entry, `KeyCount` last.
pub(super) const MOTO_V2: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
    "<IsTruncated>false</IsTruncated>",
    "<Contents><Key>.cloak/mpu/big</Key><LastModified>2026-12-03T19:59:16.000Z</LastModified>",
    "<ETag>\"c4ca4238a0b923820dcc509a6f75849b\"</ETag><Size>1</Size>",
    "<StorageClass>STANDARD</StorageClass></Contents>",
    "<Contents><Key>plain</Key><LastModified>2026-12-03T19:59:16.000Z</LastModified>",
    "<ETag>\"9dd4e461268c8034f5c8564e155c67a6\"</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm>",
    "<Size>1</Size><StorageClass>STANDARD</StorageClass></Contents>",
    "<Name>bkt</Name><Prefix/><Delimiter>/</Delimiter><MaxKeys>1000</MaxKeys>",
    "<CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes><KeyCount>3</KeyCount>",
    "</ListBucketResult>",
);

/// moto, ListObjectVersions: ETag and Size ahead of Key, a delete marker between versions.
pub(super) const MOTO_VERSIONS: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
    "<ListVersionsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
    "<IsTruncated>false</IsTruncated><KeyMarker/><VersionIdMarker/>",
    "<Version><ETag>\"b6d767d2f8ed5d21a44b0e5886680cb9\"</ETag><Size>2</Size>",
    "<StorageClass>STANDARD</StorageClass><Key>k</Key>",
    "<VersionId>467f5566-a9c3-4587-ab13-f7070d60d6df</VersionId><IsLatest>true</IsLatest>",
    "<LastModified>2026-12-03T19:59:16.000Z</LastModified></Version>",
    "<DeleteMarker><Key>k</Key><VersionId>5c6d8a97-daee-494d-9dc7-48c66d2ff2b4</VersionId>",
    "<IsLatest>false</IsLatest><LastModified>2026-12-03T19:59:16.000Z</LastModified>",
    "</DeleteMarker>",
    "<Version><ETag>\"c4ca4238a0b923820dcc509a6f75849b\"</ETag><Size>1</Size>",
    "<StorageClass>STANDARD</StorageClass><Key>k</Key>",
    "<VersionId>16ddc461-d313-493d-a67f-4d0a4cb993e0</VersionId><IsLatest>false</IsLatest>",
    "<LastModified>2026-12-03T19:59:16.000Z</LastModified></Version>",
    "<Name>vers</Name><Prefix/><MaxKeys>1000</MaxKeys></ListVersionsResult>",
);

/// moto, ListParts, whose root moto calls `ListPartsResponse`.
pub(super) const MOTO_PARTS: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
    "<ListPartsResponse xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
    "<Bucket>bkt</Bucket><Key>big</Key>",
    "<UploadId>kxoV8Bah81mV4v2rlzgk38HtpkxJrCMApEQhH5qxRh8ocLG5FcdWbcHw</UploadId>",
    "<PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>2</NextPartNumberMarker>",
    "<MaxParts>1000</MaxParts><IsTruncated>false</IsTruncated>",
    "<Part><PartNumber>1</PartNumber><LastModified>2026-12-03T19:59:16.000Z</LastModified>",
    "<ETag>\"4f08eef4096726bff1125e1b1b734644\"</ETag><Size>5242880</Size></Part>",
    "<Part><PartNumber>2</PartNumber><LastModified>2026-12-03T19:59:16.000Z</LastModified>",
    "<ETag>\"336311a016184326ddbdd61edd4eeb52\"</ETag><Size>10</Size></Part>",
    "<StorageClass>STANDARD</StorageClass></ListPartsResponse>",
);

/// rclone, ListObjects v1: indented, unquoted ETags, `+` for a space.
pub(super) const RCLONE_V1: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bkt</Name>
  <IsTruncated>false</IsTruncated>
  <Prefix></Prefix>
  <MaxKeys>1000</MaxKeys>
  <Contents>
    <Key>dir/a+b%26c.txt</Key>
    <LastModified>2026-12-03T19:59:59.867Z</LastModified>
    <ETag>5d41402abc4b2a76b9719d911017c592</ETag>
    <Size>5</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <EncodingType>url</EncodingType>
  <Marker></Marker>
</ListBucketResult>"#;

/// rclone, ListParts: no namespace, ETags quoted with `&#34;`.
pub(super) const RCLONE_PARTS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListPartsResult>
  <Bucket>bkt</Bucket>
  <Key>big</Key>
  <UploadId>70fd40cb-ba1a-4835-810a-16e822e6fd19</UploadId>
  <StorageClass>STANDARD</StorageClass>
  <PartNumberMarker>0</PartNumberMarker>
  <NextPartNumberMarker>0</NextPartNumberMarker>
  <MaxParts>1000</MaxParts>
  <Part>
    <PartNumber>1</PartNumber>
    <LastModified>2026-12-03T19:59:59.899Z</LastModified>
    <ETag>&#34;4f08eef4096726bff1125e1b1b734644&#34;</ETag>
    <Size>5242880</Size>
  </Part>
  <Part>
    <PartNumber>2</PartNumber>
    <LastModified>2026-12-03T19:59:59.906Z</LastModified>
    <ETag>&#34;336311a016184326ddbdd61edd4eeb52&#34;</ETag>
    <Size>10</Size>
  </Part>
</ListPartsResult>"#;

/// S3, ListObjects v1 with a delimiter: `Marker`, `NextMarker`, owners and a common prefix.
pub(super) const S3_V1: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
    "<Name>logs</Name><Prefix></Prefix><Marker>2024/a.log</Marker>",
    "<NextMarker>2024/c.log</NextMarker><MaxKeys>2</MaxKeys><Delimiter>/</Delimiter>",
    "<IsTruncated>true</IsTruncated>",
    "<Contents><Key>2024/b.log</Key><LastModified>2024-05-01T10:00:00.000Z</LastModified>",
    "<ETag>&quot;0b4e7a0e5fe84ad35fb5f95b9ceeac79&quot;</ETag><Size>1100</Size>",
    "<Owner><ID>8a6925ce4adf5f21c32aa379004fef</ID></Owner><StorageClass>STANDARD</StorageClass>",
    "</Contents>",
    "<Contents><Key>2024/c.log</Key><LastModified>2024-05-01T10:05:00.000Z</LastModified>",
    "<ETag>&quot;a5b2e0c64a1a2b0ba4b5d4c4f4a8e3b1-2&quot;</ETag><Size>10485792</Size>",
    "<Owner><ID>8a6925ce4adf5f21c32aa379004fef</ID></Owner><StorageClass>STANDARD</StorageClass>",
    "</Contents>",
    "<CommonPrefixes><Prefix>2024/archive/</Prefix></CommonPrefixes></ListBucketResult>",
);

/// S3, ListObjectsV2 with `encoding-type=url`: `KeyCount` ahead of the entries, a continuation
/// token, checksum elements, a reserved object and a key holding an encoded slash.
pub(super) const S3_V2: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
    "<Name>photos</Name><Prefix></Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys>",
    "<EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>",
    "<Contents><Key>.cloak/mpu/x%2By</Key><LastModified>2024-05-01T10:00:00.000Z</LastModified>",
    "<ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>0</Size>",
    "<StorageClass>STANDARD</StorageClass></Contents>",
    "<Contents><Key>2024%2F05/caf%C3%A9+menu.jpg</Key>",
    "<LastModified>2024-05-01T10:00:00.000Z</LastModified>",
    "<ETag>&quot;f3a1c0de5e2a4a8db9e6d7a1d2f2a0b4&quot;</ETag>",
    "<ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm><ChecksumType>FULL_OBJECT</ChecksumType>",
    "<Size>2076</Size><StorageClass>STANDARD</StorageClass></Contents>",
    "<Contents><Key>notes%26todo.txt</Key><LastModified>2024-05-02T08:00:00.000Z</LastModified>",
    "<ETag>&quot;9e107d9d372bb6826bd81d3542a419d6&quot;</ETag><Size>1067</Size>",
    "<StorageClass>STANDARD</StorageClass></Contents>",
    "<ContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</ContinuationToken>",
    "<NextContinuationToken>1k+4aMbiCV7Zr/AiN2pGmU8gXbsPcq/fBsu+AeBlcw==</NextContinuationToken>",
    "</ListBucketResult>",
);

/// S3, ListObjectVersions: versions and delete markers interleaved.
pub(super) const S3_VERSIONS: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
    "<ListVersionsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
    "<Name>docs</Name><Prefix>r</Prefix><KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker>",
    "<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>",
    "<DeleteMarker><Key>report.pdf</Key><VersionId>Zq3lWw8sTf.rQv1</VersionId>",
    "<IsLatest>true</IsLatest><LastModified>2024-06-01T12:00:00.000Z</LastModified>",
    "<Owner><ID>8a6925ce4adf5f21c32aa379004fef</ID></Owner></DeleteMarker>",
    "<Version><Key>report.pdf</Key><VersionId>Tm9wZS5qdXN0LmFuLmlk</VersionId>",
    "<IsLatest>false</IsLatest><LastModified>2024-05-31T12:00:00.000Z</LastModified>",
    "<ETag>&quot;3858f62230ac3c915f300c664312c63f&quot;</ETag><Size>4124</Size>",
    "<Owner><ID>8a6925ce4adf5f21c32aa379004fef</ID></Owner><StorageClass>STANDARD</StorageClass>",
    "</Version>",
    "<DeleteMarker><Key>resume.doc</Key><VersionId>null</VersionId>",
    "<IsLatest>true</IsLatest><LastModified>2024-06-02T12:00:00.000Z</LastModified>",
    "<Owner><ID>8a6925ce4adf5f21c32aa379004fef</ID></Owner></DeleteMarker>",
    "<Version><Key>resume.doc</Key><VersionId>null</VersionId><IsLatest>false</IsLatest>",
    "<LastModified>2024-05-30T12:00:00.000Z</LastModified>",
    "<ETag>&quot;e4d909c290d0fb1ca068ffaddf22cbd0&quot;</ETag><Size>1052</Size>",
    "<Owner><ID>8a6925ce4adf5f21c32aa379004fef</ID></Owner><StorageClass>STANDARD</StorageClass>",
    "</Version></ListVersionsResult>",
);

/// S3, ListParts of an upload with CRC32 checksums, pretty-printed.
pub(super) const S3_PARTS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>media</Bucket>
  <Key>video &amp; audio.mp4</Key>
  <UploadId>ZXhhbXBsZSB1cGxvYWQgaWQgZm9yIHRlc3Rz</UploadId>
  <PartNumberMarker>0</PartNumberMarker>
  <NextPartNumberMarker>2</NextPartNumberMarker>
  <MaxParts>1000</MaxParts>
  <IsTruncated>false</IsTruncated>
  <Part>
    <PartNumber>1</PartNumber>
    <LastModified>2024-05-01T10:00:00.000Z</LastModified>
    <ETag>&quot;7778aef83f66abc1fa1e8477f296d394&quot;</ETag>
    <Size>5243904</Size>
    <ChecksumCRC32>Ja8wTg==</ChecksumCRC32>
  </Part>
  <Part>
    <PartNumber>2</PartNumber>
    <LastModified>2024-05-01T10:01:00.000Z</LastModified>
    <ETag>&quot;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&quot;</ETag>
    <Size>1052</Size>
    <ChecksumCRC32>sOO8/Q==</ChecksumCRC32>
  </Part>
  <StorageClass>STANDARD</StorageClass>
  <ChecksumAlgorithm>CRC32</ChecksumAlgorithm>
</ListPartsResult>"#;

/// Every listing above, with the key encoding its request asked for.
pub(super) const ALL: [(&str, KeyEncoding); 10] = [
    (MOTO_V1, KeyEncoding::Url),
    (MOTO_V2, KeyEncoding::None),
    (MOTO_VERSIONS, KeyEncoding::Url),
    (MOTO_PARTS, KeyEncoding::None),
    (RCLONE_V1, KeyEncoding::Url),
    (RCLONE_PARTS, KeyEncoding::None),
    (S3_V1, KeyEncoding::None),
    (S3_V2, KeyEncoding::Url),
    (S3_VERSIONS, KeyEncoding::None),
    (S3_PARTS, KeyEncoding::None),
];

/// Answers as the proxy does: keys under `.cloak/` are hidden, `foreign*` objects are shown
/// as stored, `broken*` fails, and everything else gets plaintext values derived from the
/// upstream's: ten times the size, and an ETag naming the key (or part).
#[derive(Default)]
pub(super) struct Table {
    pub(super) delay: Option<Duration>,
    pub(super) seen: Mutex<Vec<EntryFacts>>,
    in_flight: AtomicUsize,
    pub(super) most_in_flight: AtomicUsize,
    pub(super) started: AtomicUsize,
}

#[async_trait]
impl EntryRewriter for Table {
    async fn rewrite(&self, entry: &EntryFacts) -> Result<Verdict, RewriteError> {
        self.started.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        if let Some(delay) = self.delay {
            tokio::time::sleep(delay).await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.seen.lock().unwrap().push(entry.clone());
        answer(entry)
    }
}

impl Table {
    pub(super) fn with_delay(delay: Duration) -> Self {
        Self {
            delay: Some(delay),
            ..Self::default()
        }
    }

    pub(super) fn seen(&self) -> Vec<EntryFacts> {
        self.seen.lock().unwrap().clone()
    }
}

fn answer(entry: &EntryFacts) -> Result<Verdict, RewriteError> {
    if entry.key.starts_with(".cloak/") {
        return Ok(Verdict::Skip);
    }
    if entry.key.starts_with("foreign") {
        return Ok(Verdict::Show(EntryView::unchanged(entry)));
    }
    if entry.key.starts_with("broken") {
        return Err(RewriteError::new(
            &entry.key,
            "the key service is unavailable",
        ));
    }
    let etag = match entry.part_number {
        Some(n) => format!("\"part-{n}\""),
        None => format!("\"etag-of-{}\"", entry.key),
    };
    Ok(Verdict::Show(EntryView::plaintext(entry.size * 10, etag)))
}

/// The stream's bytes up to its end or first error, and that error.
pub(super) struct Outcome {
    pub(super) body: String,
    pub(super) error: Option<ListingError>,
}

/// Rewrites `chunks` with `table`, driving the stream to its end.
pub(super) async fn run_chunks(
    chunks: Vec<Bytes>,
    table: Arc<Table>,
    config: ListingConfig,
) -> Outcome {
    let input = futures_util::stream::iter(chunks.into_iter().map(Ok::<_, Infallible>));
    let mut stream = ListingRewriter::new(input, table, config);
    let mut body = Vec::new();
    let mut error = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(bytes) => body.extend_from_slice(&bytes),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    assert!(
        stream.next().await.is_none(),
        "the stream ends after an error"
    );
    let body = String::from_utf8_lossy(&body).into_owned();
    Outcome { body, error }
}

/// Rewrites a whole document in one chunk.
pub(super) async fn run(doc: &str, encoding: KeyEncoding) -> (Outcome, Arc<Table>) {
    let table = Arc::new(Table::default());
    let config = ListingConfig {
        key_encoding: encoding,
        ..ListingConfig::default()
    };
    let chunks = vec![Bytes::copy_from_slice(doc.as_bytes())];
    let outcome = run_chunks(chunks, Arc::clone(&table), config).await;
    (outcome, table)
}

/// Rewrites a document that must rewrite without error.
pub(super) async fn rewrite(doc: &str, encoding: KeyEncoding) -> (String, Vec<EntryFacts>) {
    let (outcome, table) = run(doc, encoding).await;
    if let Some(e) = outcome.error {
        panic!("the rewrite failed: {e}");
    }
    (outcome.body, table.seen())
}
