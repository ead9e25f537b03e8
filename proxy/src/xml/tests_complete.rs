//! CompleteMultipartUpload request bodies as clients send them, the ways they can be wrong,
//! and the body sent upstream.

use proptest::prelude::*;

use super::*;
use crate::checksum::ChecksumAlgorithm;

fn parse(body: &str) -> Result<Vec<CompletedPart>, CompleteRequestError> {
    parse_complete_request(body.as_bytes())
}

fn numbers_and_etags(parts: &[CompletedPart]) -> Vec<(u32, &str)> {
    parts
        .iter()
        .map(|p| (p.part_number, p.etag.as_str()))
        .collect()
}

#[test]
fn reads_botocore_bodies_with_checksums() {
    let body = concat!(
        "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
        "<Part><ETag>\"0cc175b9c0f1b6a831c399e269772661\"</ETag>",
        "<ChecksumCRC32>Ja8wTg==</ChecksumCRC32><PartNumber>1</PartNumber></Part>",
        "<Part><ETag>\"92eb5ffee6ae2fec3ad71c777531578f\"</ETag>",
        "<ChecksumCRC32>sOO8/Q==</ChecksumCRC32><PartNumber>2</PartNumber></Part>",
        "</CompleteMultipartUpload>",
    );
    let parts = parse(body).unwrap();
    assert_eq!(
        numbers_and_etags(&parts),
        [
            (1, "0cc175b9c0f1b6a831c399e269772661"),
            (2, "92eb5ffee6ae2fec3ad71c777531578f")
        ]
    );
    let checksum = PartChecksum {
        algorithm: ChecksumAlgorithm::Crc32,
        value: "Ja8wTg==".to_owned(),
    };
    assert_eq!(parts[0].checksums, [checksum]);
}

#[test]
fn accepts_every_etag_form() {
    let forms = [
        "\"abc\"",
        "abc",
        "&quot;abc&quot;",
        "&#34;abc&#34;",
        "&#x22;abc&#x22;",
        "&amp;quot;abc&amp;quot;",
        "&amp;#34;abc&amp;#34;",
        " \"abc\" ",
    ];
    for form in forms {
        let body = format!(
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{form}</ETag></Part>\
             </CompleteMultipartUpload>"
        );
        let parts = parse(&body).unwrap_or_else(|e| panic!("{form}: {e}"));
        assert_eq!(parts[0].etag, "abc", "{form}");
    }
}

#[test]
fn reads_pretty_printed_and_prefixed_bodies() {
    let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- from a hand-written client -->
<s3:CompleteMultipartUpload xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/">
  <s3:Part>
    <s3:PartNumber> 7 </s3:PartNumber>
    <s3:ETag>"e7"</s3:ETag>
    <s3:ChecksumSHA256>47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=</s3:ChecksumSHA256>
  </s3:Part>
  <s3:Part><s3:PartNumber>10000</s3:PartNumber><s3:ETag><![CDATA["e10000"]]></s3:ETag></s3:Part>
</s3:CompleteMultipartUpload>
"#;
    let parts = parse(body).unwrap();
    assert_eq!(numbers_and_etags(&parts), [(7, "e7"), (10000, "e10000")]);
    assert_eq!(parts[0].checksums[0].algorithm, ChecksumAlgorithm::Sha256);
}

#[test]
fn refuses_parts_out_of_order() {
    let body = |numbers: [u32; 3]| {
        let parts: String = numbers
            .iter()
            .map(|n| format!("<Part><PartNumber>{n}</PartNumber><ETag>e</ETag></Part>"))
            .collect();
        format!("<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>")
    };
    assert!(parse(&body([1, 2, 5])).is_ok());
    for numbers in [[1, 3, 2], [1, 2, 2], [3, 2, 1]] {
        let error = parse(&body(numbers)).unwrap_err();
        assert!(matches!(
            error,
            CompleteRequestError::InvalidPartOrder { .. }
        ));
        assert_eq!(error.s3_code(), "InvalidPartOrder");
    }
}

#[test]
fn refuses_part_numbers_out_of_range() {
    for number in ["0", "10001", "-1", "1.5", "", "99999999999"] {
        let body = format!(
            "<CompleteMultipartUpload><Part><PartNumber>{number}</PartNumber><ETag>e</ETag>\
             </Part></CompleteMultipartUpload>"
        );
        let error = parse(&body).unwrap_err();
        assert_eq!(error.s3_code(), "InvalidArgument", "{number}");
    }
}

#[test]
fn refuses_malformed_bodies_as_malformed_xml() {
    let part = "<Part><PartNumber>1</PartNumber><ETag>e</ETag></Part>";
    let cases = [
        String::new(),
        "<CompleteMultipartUpload/>".to_owned(),
        "<CompleteMultipartUpload></CompleteMultipartUpload>".to_owned(),
        format!("<CompleteMultipartUpload>{part}"),
        format!("<CompleteMultipartUpload>{part}</CompleteMultipartUploadX>"),
        format!("<Complete>{part}</Complete>"),
        format!("<CompleteMultipartUpload>{part}</CompleteMultipartUpload><More/>"),
        "<CompleteMultipartUpload><Part><ETag>e</ETag></Part></CompleteMultipartUpload>".into(),
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part>\
         </CompleteMultipartUpload>"
            .into(),
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><PartNumber>2</PartNumber>\
         <ETag>e</ETag></Part></CompleteMultipartUpload>"
            .into(),
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e</ETag><Size>1</Size>\
         </Part></CompleteMultipartUpload>"
            .into(),
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e</ETag>\
         <ChecksumMD4>x</ChecksumMD4></Part></CompleteMultipartUpload>"
            .into(),
        format!("<CompleteMultipartUpload>stray{part}</CompleteMultipartUpload>"),
        format!("<!DOCTYPE x><CompleteMultipartUpload>{part}</CompleteMultipartUpload>"),
        format!("<CompleteMultipartUpload>{part}<Part><Part/></Part></CompleteMultipartUpload>"),
    ];
    for body in cases {
        let error = parse(&body).unwrap_err();
        assert_eq!(error.s3_code(), "MalformedXML", "{body}: {error}");
        assert_eq!(error.http_status(), 400);
    }
}

#[test]
fn ten_thousand_verbose_parts_fit_under_the_cap() {
    let mut body = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n",
    );
    for n in 1..=10_000u32 {
        body.push_str(&format!(
            "    <Part>\n        <PartNumber>{n}</PartNumber>\n        \
             <ETag>&quot;{n:032x}&quot;</ETag>\n        \
             <ChecksumSHA256>47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=</ChecksumSHA256>\n    \
             </Part>\n"
        ));
    }
    body.push_str("</CompleteMultipartUpload>\n");
    assert!(body.len() > 1024 * 1024, "1 MiB would not be enough");
    assert!(body.len() < MAX_COMPLETE_REQUEST_BYTES);
    assert_eq!(parse(&body).unwrap().len(), 10_000);
}

#[test]
fn refuses_bodies_over_the_cap() {
    let body = vec![b' '; MAX_COMPLETE_REQUEST_BYTES + 1];
    let error = parse_complete_request(&body).unwrap_err();
    assert_eq!(error.s3_code(), "MaxMessageLengthExceeded");
}

#[test]
fn writes_the_upstream_body() {
    let body = write_complete_request([(1, "\"abc\""), (2, "d&f")]);
    assert_eq!(
        body,
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
            "<Part><PartNumber>1</PartNumber><ETag>&quot;abc&quot;</ETag></Part>",
            "<Part><PartNumber>2</PartNumber><ETag>&quot;d&amp;f&quot;</ETag></Part>",
            "</CompleteMultipartUpload>",
        )
    );
}

proptest! {
    #[test]
    fn written_bodies_read_back(
        parts in proptest::collection::btree_map(1u32..=10_000, "[0-9a-zA-Z&<>'/+=-]{1,40}", 1..50),
    ) {
        let quoted: Vec<(u32, String)> =
            parts.iter().map(|(n, etag)| (*n, format!("\"{etag}\""))).collect();
        let body = write_complete_request(quoted.iter().map(|(n, e)| (*n, e.as_str())));
        let read = parse_complete_request(&body).unwrap();
        let read: Vec<(u32, String)> = read.into_iter().map(|p| (p.part_number, p.etag)).collect();
        prop_assert_eq!(read, parts.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_complete_request(&body);
    }
}
