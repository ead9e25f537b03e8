//! The small result documents, upstream error documents and the ListMultipartUploads
//! rewrite, on bodies as S3, moto and rclone write them.

use super::*;
use crate::checksum::ChecksumAlgorithm;

const MOTO_INITIATE: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
    "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
    "<Bucket>bkt</Bucket><Key>k2</Key>",
    "<UploadId>zsrM29uCJctIlR4MO1jyGaayZbvZztXslBbZqArlNM9487Lcwbvg</UploadId>",
    "</InitiateMultipartUploadResult>",
);

const MOTO_ERROR: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
    "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>",
    "<Key>nokey</Key><RequestId>ojN6jqYY5ztyzgpC7EstSJi9egJXS9s6pk2AQF1ZP3AaRwogaCcp</RequestId>",
    "<HostId>9Gjjt1m+cjU4OPvX9O9/8RuvnG41MRb/18Oux2o5H5MY7ISNTlXN+Dz9IG62/ILVxhAGI0qyPfg=</HostId>",
    "</Error>",
);

const RCLONE_COPY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<CopyObjectResult>
  <ETag>&#34;9dd4e461268c8034f5c8564e155c67a6&#34;</ETag>
  <LastModified>2026-12-03T19:59:59.869Z</LastModified>
</CopyObjectResult>"#;

/// S3's answer to a slow Complete: blanks sent to keep the connection open, then the result.
const S3_COMPLETE: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n          \n",
    "<CompleteMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
    "<Location>https://media.s3.amazonaws.com/video.mp4</Location><Bucket>media</Bucket>",
    "<Key>video.mp4</Key><ETag>&quot;3858f62230ac3c915f300c664312c63f-2&quot;</ETag>",
    "<ChecksumCRC32>UZRPdA==-2</ChecksumCRC32><ChecksumType>COMPOSITE</ChecksumType>",
    "</CompleteMultipartUploadResult>",
);

const MOTO_UPLOADS: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
    "<ListMultipartUploadsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
    "<Bucket>bkt</Bucket><KeyMarker/><UploadIdMarker/><MaxUploads>1000</MaxUploads>",
    "<IsTruncated>false</IsTruncated>",
    "<Upload><UploadId>kxoV8Bah81mV4v2rlzgk38HtpkxJrCMApEQhH5qxRh8ocLG5FcdWbcHw</UploadId>",
    "<Key>big</Key><Initiated>2010-11-10T20:48:33.000Z</Initiated>",
    "<StorageClass>STANDARD</StorageClass><ChecksumAlgorithm>CRC32</ChecksumAlgorithm></Upload>",
    "</ListMultipartUploadsResult>",
);

const RCLONE_UPLOADS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult>
  <Bucket>bkt</Bucket>
  <KeyMarker>a+b</KeyMarker>
  <UploadIdMarker>0f0f</UploadIdMarker>
  <NextKeyMarker>.cloak/x</NextKeyMarker>
  <NextUploadIdMarker>9e9e</NextUploadIdMarker>
  <MaxUploads>2</MaxUploads>
  <Upload>
    <Key>big</Key>
    <UploadId>70fd40cb-ba1a-4835-810a-16e822e6fd19</UploadId>
    <StorageClass>STANDARD</StorageClass>
    <Initiated>2026-12-03T19:59:58.213Z</Initiated>
  </Upload>
  <Upload>
    <Key>.cloak/x</Key>
    <UploadId>9e9e</UploadId>
  </Upload>
</ListMultipartUploadsResult>"#;

#[test]
fn initiate_results_read_and_write() {
    let result = InitiateResult::parse(MOTO_INITIATE.as_bytes()).unwrap();
    assert_eq!(result.bucket, "bkt");
    assert_eq!(result.key, "k2");
    let replaced = InitiateResult {
        upload_id: "cloak~1&2".to_owned(),
        ..result
    };
    assert_eq!(
        replaced.to_xml(),
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
            "<Bucket>bkt</Bucket><Key>k2</Key><UploadId>cloak~1&amp;2</UploadId>",
            "</InitiateMultipartUploadResult>",
        )
    );
    assert_eq!(InitiateResult::parse(&replaced.to_xml()).unwrap(), replaced);
}

#[test]
fn complete_results_drop_upstream_checksums() {
    let CompleteOutcome::Completed(result) = CompleteResult::parse(S3_COMPLETE.as_bytes()).unwrap()
    else {
        panic!("a result, not an error");
    };
    assert_eq!(result.etag, "\"3858f62230ac3c915f300c664312c63f-2\"");
    assert_eq!(result.checksum, None);
    let shown = CompleteResult {
        etag: "\"a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5-2\"".to_owned(),
        ..result
    };
    let xml = String::from_utf8(shown.to_xml().to_vec()).unwrap();
    assert!(xml.contains("<Location>https://media.s3.amazonaws.com/video.mp4</Location>"));
    assert!(xml.contains("<ETag>&quot;a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5-2&quot;</ETag>"));
    assert!(!xml.contains("Checksum"));
}

#[test]
fn complete_results_carry_a_plaintext_checksum_when_given() {
    let result = CompleteResult {
        location: None,
        bucket: "b".to_owned(),
        key: "k".to_owned(),
        etag: "\"e-2\"".to_owned(),
        checksum: Some(ResultChecksum {
            algorithm: ChecksumAlgorithm::Crc32c,
            value: "yZRlqg==-2".to_owned(),
            checksum_type: Some("COMPOSITE".to_owned()),
        }),
    };
    let xml = String::from_utf8(result.to_xml().to_vec()).unwrap();
    assert!(xml.ends_with(
        "<ETag>&quot;e-2&quot;</ETag><ChecksumCRC32C>yZRlqg==-2</ChecksumCRC32C>\
         <ChecksumType>COMPOSITE</ChecksumType></CompleteMultipartUploadResult>"
    ));
}

#[test]
fn an_error_inside_a_complete_is_reported_as_such() {
    let body = format!(
        "{}{}",
        " ".repeat(40),
        MOTO_ERROR.replace("NoSuchKey", "InternalError")
    );
    let outcome = CompleteResult::parse(body.as_bytes()).unwrap();
    let CompleteOutcome::Failed(error) = outcome else {
        panic!("an error, not a result");
    };
    assert_eq!(error.code, "InternalError");
}

#[test]
fn copy_results_read_and_write() {
    let result = CopyResult::parse(RCLONE_COPY.as_bytes(), CopyResultKind::Object).unwrap();
    assert_eq!(result.etag, "\"9dd4e461268c8034f5c8564e155c67a6\"");
    assert_eq!(result.last_modified, "2026-12-03T19:59:59.869Z");
    assert!(CopyResult::parse(RCLONE_COPY.as_bytes(), CopyResultKind::Part).is_err());

    let shown = CopyResult {
        etag: "\"0cc175b9c0f1b6a831c399e269772661\"".to_owned(),
        ..result
    };
    assert_eq!(
        shown.to_xml(CopyResultKind::Part),
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<CopyPartResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
            "<ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag>",
            "<LastModified>2026-12-03T19:59:59.869Z</LastModified></CopyPartResult>",
        )
    );
}

#[test]
fn upstream_error_documents_are_read() {
    let error = UpstreamError::parse(MOTO_ERROR.as_bytes()).unwrap();
    assert_eq!(error.code, "NoSuchKey");
    assert_eq!(error.message, "The specified key does not exist.");
    assert_eq!(
        error.request_id.as_deref(),
        Some("ojN6jqYY5ztyzgpC7EstSJi9egJXS9s6pk2AQF1ZP3AaRwogaCcp")
    );
    let minimal = UpstreamError::parse(b"<Error><Code>SlowDown</Code></Error>").unwrap();
    assert_eq!(
        (minimal.code.as_str(), minimal.message.as_str()),
        ("SlowDown", "")
    );
}

#[test]
fn bad_result_bodies_are_errors() {
    let missing = InitiateResult::parse(MOTO_INITIATE.replace("<Key>k2</Key>", "").as_bytes());
    assert!(matches!(
        missing,
        Err(UpstreamXmlError::MissingElement { element: "Key", .. })
    ));
    let wrong = InitiateResult::parse(MOTO_ERROR.as_bytes());
    assert!(matches!(
        wrong,
        Err(UpstreamXmlError::UnexpectedRoot { .. })
    ));
    let bodies = [
        "",
        "<Error><Code>X</Code>",
        "<Error><Code>X</Error>",
        "<!DOCTYPE e><Error><Code>X</Code></Error>",
        "<Error><Code>&nope;</Code></Error>",
        "no xml at all",
    ];
    for body in bodies {
        assert!(UpstreamError::parse(body.as_bytes()).is_err(), "{body}");
    }
}

#[test]
fn upload_ids_are_replaced_in_uploads_and_markers() {
    let mut seen = Vec::new();
    let rewritten = rewrite_upload_listing(RCLONE_UPLOADS.as_bytes(), KeyEncoding::Url, |id| {
        seen.push((id.place, id.key.to_owned(), id.upload_id.to_owned()));
        match id.key.starts_with(".cloak/") {
            true => UploadIdVerdict::Skip,
            false => UploadIdVerdict::Replace(format!("c<{}>", id.upload_id)),
        }
    })
    .unwrap();
    let expected = RCLONE_UPLOADS
        .replace("<UploadIdMarker>0f0f<", "<UploadIdMarker>c&lt;0f0f&gt;<")
        .replace(
            "70fd40cb-ba1a-4835-810a-16e822e6fd19",
            "c&lt;70fd40cb-ba1a-4835-810a-16e822e6fd19&gt;",
        )
        .replace(
            "\n  <Upload>\n    <Key>.cloak/x</Key>\n    <UploadId>9e9e</UploadId>\n  </Upload>",
            "",
        );
    assert_eq!(rewritten, expected.as_bytes());
    assert_eq!(
        seen,
        [
            (UploadIdPlace::Marker, "a b".to_owned(), "0f0f".to_owned()),
            (
                UploadIdPlace::NextMarker,
                ".cloak/x".to_owned(),
                "9e9e".to_owned()
            ),
            (
                UploadIdPlace::Upload,
                "big".to_owned(),
                "70fd40cb-ba1a-4835-810a-16e822e6fd19".into()
            ),
            (
                UploadIdPlace::Upload,
                ".cloak/x".to_owned(),
                "9e9e".to_owned()
            ),
        ]
    );
}

#[test]
fn kept_upload_ids_leave_the_listing_as_sent() {
    let mut calls = 0;
    let rewritten = rewrite_upload_listing(MOTO_UPLOADS.as_bytes(), KeyEncoding::None, |_| {
        calls += 1;
        UploadIdVerdict::Keep
    })
    .unwrap();
    assert_eq!(rewritten, MOTO_UPLOADS.as_bytes());
    assert_eq!(calls, 1, "empty markers are not offered");
}

#[test]
fn bad_upload_listings_are_errors() {
    let keep = |_: &UploadIdRef<'_>| UploadIdVerdict::Keep;
    let bodies = [
        MOTO_UPLOADS.replace("<Key>big</Key>", ""),
        MOTO_UPLOADS.replace("</Upload>", ""),
        MOTO_UPLOADS[..MOTO_UPLOADS.len() - 3].to_owned(),
        MOTO_ERROR.to_owned(),
    ];
    for body in bodies {
        assert!(rewrite_upload_listing(body.as_bytes(), KeyEncoding::None, keep).is_err());
    }
}

#[test]
fn initiate_result_from_rclone_has_another_root() {
    let rclone = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUpload>\
        <Bucket>b</Bucket><Key>k</Key><UploadId>abc</UploadId></InitiateMultipartUpload>";

    let result = InitiateResult::parse(rclone.as_bytes()).unwrap();

    assert_eq!(result.upload_id, "abc");
    assert!(InitiateResult::parse(b"<Other><UploadId>x</UploadId></Other>").is_err());
}
