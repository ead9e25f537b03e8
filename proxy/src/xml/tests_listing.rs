//! Listing rewrites of documents as S3, moto and rclone write them: exactly which bytes
//! change, what the callback is told, and how bad upstream bodies and failing callbacks end
//! the stream.

use std::io;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt as _;

use super::tests_fixtures::*;
use super::*;

fn facts(kind: EntryKind, key: &str, size: u64, etag: &str) -> EntryFacts {
    EntryFacts {
        kind,
        key: key.to_owned(),
        version_id: None,
        is_latest: None,
        part_number: None,
        size,
        etag: etag.to_owned(),
    }
}

#[tokio::test]
async fn moto_v1_keeps_url_encoded_keys_and_gives_the_callback_decoded_ones() {
    let (body, seen) = rewrite(MOTO_V1, KeyEncoding::Url).await;
    let expected = MOTO_V1
        .replace(
            "\"5d41402abc4b2a76b9719d911017c592\"</ETag><Size>5<",
            "\"etag-of-dir/a b&amp;c.txt\"</ETag><Size>50<",
        )
        .replace(
            "\"9dd4e461268c8034f5c8564e155c67a6\"</ETag><Size>1<",
            "\"etag-of-plain\"</ETag><Size>10<",
        );
    assert_eq!(body, expected);
    assert!(body.contains("<Key>dir/a%20b%26c.txt</Key>"));
    let etag = "\"5d41402abc4b2a76b9719d911017c592\"";
    assert_eq!(seen[0], facts(EntryKind::Object, "dir/a b&c.txt", 5, etag));
    assert_eq!(seen[1].key, "plain");
}

#[tokio::test]
async fn moto_v2_drops_checksums_and_hidden_entries_and_lowers_a_trailing_key_count() {
    let (body, _) = rewrite(MOTO_V2, KeyEncoding::None).await;
    let hidden_start = MOTO_V2.find("<Contents><Key>.cloak/").unwrap();
    let hidden_end = MOTO_V2[hidden_start..].find("</Contents>").unwrap() + "</Contents>".len();
    let hidden = &MOTO_V2[hidden_start..hidden_start + hidden_end];
    let expected = MOTO_V2
        .replace(hidden, "")
        .replace("<ChecksumAlgorithm>CRC32</ChecksumAlgorithm>", "")
        .replace(
            "\"9dd4e461268c8034f5c8564e155c67a6\"</ETag><Size>1<",
            "\"etag-of-plain\"</ETag><Size>10<",
        )
        .replace("<KeyCount>3</KeyCount>", "<KeyCount>2</KeyCount>");
    assert_eq!(body, expected);
}

#[tokio::test]
async fn s3_v1_copies_markers_owners_and_common_prefixes() {
    let (body, seen) = rewrite(S3_V1, KeyEncoding::None).await;
    let expected = S3_V1
        .replace(
            "&quot;0b4e7a0e5fe84ad35fb5f95b9ceeac79&quot;</ETag><Size>1100<",
            "&quot;etag-of-2024/b.log&quot;</ETag><Size>11000<",
        )
        .replace(
            "&quot;a5b2e0c64a1a2b0ba4b5d4c4f4a8e3b1-2&quot;</ETag><Size>10485792<",
            "&quot;etag-of-2024/c.log&quot;</ETag><Size>104857920<",
        );
    assert_eq!(body, expected);
    assert_eq!(seen[1].etag, "\"a5b2e0c64a1a2b0ba4b5d4c4f4a8e3b1-2\"");
}

#[tokio::test]
async fn s3_v2_leaves_a_leading_key_count_and_decodes_keys_for_the_callback_only() {
    let (body, seen) = rewrite(S3_V2, KeyEncoding::Url).await;
    let keys: Vec<&str> = seen.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(
        keys,
        [".cloak/mpu/x+y", "2024/05/café menu.jpg", "notes&todo.txt"]
    );

    assert!(!body.contains(".cloak"));
    assert!(
        body.contains("<KeyCount>3</KeyCount>"),
        "S3's count precedes the entries"
    );
    assert!(body.contains("<Key>2024%2F05/caf%C3%A9+menu.jpg</Key>"));
    assert!(body.contains("<Key>notes%26todo.txt</Key>"));
    assert!(body.contains("&quot;etag-of-2024/05/café menu.jpg&quot;</ETag><Size>20760</Size>"));
    assert!(!body.contains("Checksum"));
    assert!(body.contains("<ContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="));
    assert!(body.contains("<NextContinuationToken>1k+4aMbiCV7Zr/AiN2pGmU8gXbsPcq/fBsu+AeBlcw=="));
}

#[tokio::test]
async fn versions_keep_delete_markers_and_report_version_facts() {
    let (body, seen) = rewrite(S3_VERSIONS, KeyEncoding::None).await;
    assert_eq!(body.matches("<DeleteMarker>").count(), 2);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].kind, EntryKind::Version);
    assert_eq!(seen[0].version_id.as_deref(), Some("Tm9wZS5qdXN0LmFuLmlk"));
    assert_eq!(seen[0].is_latest, Some(false));
    assert_eq!(seen[1].version_id.as_deref(), Some("null"));
    let markers = |doc: &str| {
        let start = doc.find("<DeleteMarker>").unwrap();
        doc[start..start + 200].to_owned()
    };
    assert_eq!(markers(&body), markers(S3_VERSIONS));

    let (body, seen) = rewrite(MOTO_VERSIONS, KeyEncoding::Url).await;
    assert_eq!(seen[0].is_latest, Some(true));
    assert_eq!(seen[0].size, 2);
    assert!(body.contains("<ETag>\"etag-of-k\"</ETag><Size>20</Size>"));
    assert!(body.contains("<DeleteMarker><Key>k</Key><VersionId>5c6d8a97"));
}

#[tokio::test]
async fn s3_parts_lose_their_checksums_with_the_indentation() {
    let (body, seen) = rewrite(S3_PARTS, KeyEncoding::None).await;
    let expected = S3_PARTS
        .replace("\n    <ChecksumCRC32>Ja8wTg==</ChecksumCRC32>", "")
        .replace("\n    <ChecksumCRC32>sOO8/Q==</ChecksumCRC32>", "")
        .replace("7778aef83f66abc1fa1e8477f296d394", "part-1")
        .replace("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "part-2")
        .replace("<Size>5243904</Size>", "<Size>52439040</Size>")
        .replace("<Size>1052</Size>", "<Size>10520</Size>");
    assert_eq!(body, expected);
    assert!(
        body.contains("<ChecksumAlgorithm>CRC32</ChecksumAlgorithm>"),
        "not an entry's"
    );
    assert_eq!(seen[0].key, "video & audio.mp4");
    assert_eq!(seen[0].part_number, Some(1));
    assert_eq!(seen[1].part_number, Some(2));
}

#[tokio::test]
async fn rclone_and_moto_spellings_are_kept() {
    let (body, seen) = rewrite(RCLONE_PARTS, KeyEncoding::None).await;
    assert!(body.contains("<ETag>&#34;part-1&#34;</ETag>\n    <Size>52428800</Size>"));
    assert_eq!(seen[0].etag, "\"4f08eef4096726bff1125e1b1b734644\"");
    assert_eq!(seen[0].key, "big");

    let (body, _) = rewrite(RCLONE_V1, KeyEncoding::Url).await;
    assert!(body.contains("<Key>dir/a+b%26c.txt</Key>"));
    assert!(body.contains("<ETag>&quot;etag-of-dir/a b&amp;c.txt&quot;</ETag>"));

    let (body, seen) = rewrite(MOTO_PARTS, KeyEncoding::None).await;
    assert!(body.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ListPartsResponse"));
    assert!(body.contains("<ETag>\"part-2\"</ETag><Size>100</Size>"));
    assert_eq!(seen.len(), 2);
}

#[tokio::test]
async fn an_encoding_type_ahead_of_the_entries_decodes_keys() {
    let (_, seen) = rewrite(S3_V2, KeyEncoding::None).await;
    assert_eq!(seen[2].key, "notes&todo.txt");
    let (_, seen) = rewrite(MOTO_V1, KeyEncoding::None).await;
    assert_eq!(
        seen[0].key, "dir/a%20b%26c.txt",
        "moto declares it after the entries"
    );
}

#[tokio::test]
async fn unchanged_entries_are_copied_byte_for_byte() {
    let doc = MOTO_V2.replace("<Key>plain</Key>", "<Key>foreign</Key>");
    let (body, _) = rewrite(&doc, KeyEncoding::None).await;
    assert!(body.contains(concat!(
        "<Contents><Key>foreign</Key><LastModified>2026-12-03T19:59:16.000Z</LastModified>",
        "<ETag>\"9dd4e461268c8034f5c8564e155c67a6\"</ETag><ChecksumAlgorithm>CRC32",
    )));
}

#[tokio::test]
async fn a_failing_callback_ends_the_stream_after_the_entries_before_it() {
    let doc = S3_V1.replace("<Key>2024/c.log</Key>", "<Key>broken.log</Key>");
    let (outcome, _) = run(&doc, KeyEncoding::None).await;
    let error = outcome.error.expect("the callback's error ends the stream");
    assert!(
        matches!(&error, ListingError::Rewrite(e) if e.key == "broken.log"),
        "{error}"
    );
    assert!(outcome.body.ends_with("</Contents>"), "{}", outcome.body);
    assert!(outcome.body.contains("etag-of-2024/b.log"));
    assert!(!outcome.body.contains("broken"));
}

#[tokio::test]
async fn malformed_upstream_bodies_are_errors() {
    let cases: Vec<(String, &str)> = vec![
        (
            MOTO_V1.replace("</Owner></Contents>", "</Contents>"),
            "unclosed Owner",
        ),
        (MOTO_V1[..MOTO_V1.len() - 10].to_owned(), "truncated"),
        (format!("{MOTO_V1}<More/>"), "a second root"),
        (format!("{MOTO_V1}text"), "text after the root"),
        (format!("<!DOCTYPE x [<!ENTITY e 'v'>]>{MOTO_V1}"), "a DTD"),
        (MOTO_V1.replace("<Size>5</Size>", ""), "no Size"),
        (
            MOTO_V1.replace("<Size>5</Size>", "<Size>-5</Size>"),
            "a negative Size",
        ),
        (
            MOTO_V1.replace("<Size>5</Size>", "<Size>5</Size><Size>6</Size>"),
            "two Sizes",
        ),
        (
            MOTO_V1.replace("<Key>plain</Key>", "<Key>&bogus;</Key>"),
            "an unknown entity",
        ),
        (
            MOTO_V1.replace("dir/a%20b", "dir/%FF"),
            "a key that decodes to invalid UTF-8",
        ),
        (
            MOTO_V1.replace("<Contents><Key>plain", "<Contents/><Contents><Key>plain"),
            "empty",
        ),
        (
            MOTO_PARTS.replace("<Key>big</Key>", ""),
            "no Key for the parts",
        ),
        (
            MOTO_PARTS.replace("<PartNumber>2<", "<PartNumber>x<"),
            "a bad PartNumber",
        ),
        (String::new(), "an empty body"),
        (
            format!("<ListBucketResult>{}", "<b>".repeat(40)),
            "deep nesting",
        ),
    ];
    for (doc, what) in cases {
        let (outcome, _) = run(&doc, KeyEncoding::Url).await;
        assert!(outcome.error.is_some(), "{what} was accepted");
    }
}

#[tokio::test]
async fn other_documents_are_refused_by_name() {
    let error_doc = "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code></Error>";
    let (outcome, _) = run(error_doc, KeyEncoding::None).await;
    let error = outcome.error.expect("an error document is not a listing");
    assert!(matches!(
        error,
        ListingError::Xml(UpstreamXmlError::UnexpectedRoot { ref found, .. }) if found == "Error"
    ));
    assert_eq!(outcome.body, "<?xml version=\"1.0\"?>");
}

#[tokio::test]
async fn an_entry_over_the_limit_is_refused() {
    let table = Arc::new(Table::default());
    let config = ListingConfig {
        max_entry_bytes: 100,
        ..ListingConfig::default()
    };
    let chunks = MOTO_V1.bytes().map(|b| Bytes::from(vec![b])).collect();
    let outcome = run_chunks(chunks, table, config).await;
    assert!(matches!(
        outcome.error,
        Some(ListingError::Xml(UpstreamXmlError::ElementTooLarge {
            limit: 100
        }))
    ));
}

#[tokio::test]
async fn a_failed_upstream_read_ends_the_stream() {
    let input = futures_util::stream::iter(vec![
        Ok(Bytes::from_static(&MOTO_V1.as_bytes()[..200])),
        Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset")),
    ]);
    let mut stream = ListingRewriter::new(input, Arc::new(Table::default()), Default::default());
    let mut body = Vec::new();
    let error = loop {
        match stream.next().await {
            Some(Ok(bytes)) => body.extend_from_slice(&bytes),
            Some(Err(e)) => break e,
            None => panic!("the stream ended without the read error"),
        }
    };
    assert!(matches!(error, ListingError::ReadFailed(_)));
    assert!(MOTO_V1.as_bytes().starts_with(&body));
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn an_empty_listing_passes_through() {
    let doc = "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>\n";
    let (body, seen) = rewrite(doc, KeyEncoding::None).await;
    assert_eq!(body, doc);
    assert!(seen.is_empty());
}

#[tokio::test]
async fn the_body_form_yields_the_same_bytes() {
    use http_body_util::BodyExt;
    let input = http_body_util::Full::new(Bytes::from_static(MOTO_V1.as_bytes()));
    let config = ListingConfig {
        key_encoding: KeyEncoding::Url,
        ..ListingConfig::default()
    };
    let body = ListingRewriter::from_body(input, Arc::new(Table::default()), config).into_body();
    let collected = BodyExt::collect(body).await.map_err(|e| e.to_string());
    let collected = collected.expect("the rewrite succeeds").to_bytes();
    let (expected, _) = rewrite(MOTO_V1, KeyEncoding::Url).await;
    assert_eq!(collected, expected.as_bytes());
}
