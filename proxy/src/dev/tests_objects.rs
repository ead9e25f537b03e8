//! The S3 operations the proxy relies on, each checked against what S3 itself answers.

use http::StatusCode;
use md5::{Digest as _, Md5};

use super::tests::{md5_etag, xml_values, Call, Harness};

/// 200 bytes, each its own index, so any range is easy to check.
fn sample() -> Vec<u8> {
    (0..200u8).collect()
}

#[tokio::test]
async fn put_head_get_keep_user_metadata_and_etag() {
    let h = Harness::with_bucket().await;
    let meta = [
        ("x-amz-meta-cloak", "v1.header-bytes"),
        ("content-type", "application/x-test"),
    ];
    let put = h
        .send(Call::new("PUT", "/bkt/dir/k").headers(&meta).body(sample()))
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    assert_eq!(put.header("etag"), md5_etag(&sample()));

    let head = h.send(Call::new("HEAD", "/bkt/dir/k")).await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("x-amz-meta-cloak"), "v1.header-bytes");
    assert_eq!(head.header("content-type"), "application/x-test");
    assert_eq!(head.header("content-length"), "200");
    assert_eq!(head.header("etag"), md5_etag(&sample()));

    let get = h.send(Call::new("GET", "/bkt/dir/k")).await;
    assert_eq!(get.status, StatusCode::OK);
    assert_eq!(get.body, sample());
    assert_eq!(get.header("x-amz-meta-cloak"), "v1.header-bytes");
    h.store.shutdown().await;
}

#[tokio::test]
async fn ranged_gets_answer_206_with_content_range() {
    let h = Harness::with_bucket().await;
    h.send(Call::new("PUT", "/bkt/k").body(sample())).await;

    let cases: [(&str, std::ops::Range<usize>); 5] = [
        ("bytes=0-9", 0..10),
        ("bytes=10-", 10..200),
        ("bytes=-96", 104..200),
        ("bytes=190-500", 190..200),
        ("bytes=-500", 0..200),
    ];
    for (range, want) in cases {
        let headers = [("range", range)];
        let get = h.send(Call::new("GET", "/bkt/k").headers(&headers)).await;
        assert_eq!(
            get.status,
            StatusCode::PARTIAL_CONTENT,
            "{range}: {}",
            get.text()
        );
        assert_eq!(get.body, sample()[want.clone()], "{range}");
        let content_range = format!("bytes {}-{}/200", want.start, want.end - 1);
        assert_eq!(get.header("content-range"), content_range, "{range}");
        assert_eq!(
            get.header("content-length"),
            want.len().to_string(),
            "{range}"
        );
    }

    let headers = [("range", "bytes=200-")];
    let past_end = h.send(Call::new("GET", "/bkt/k").headers(&headers)).await;
    assert_eq!(past_end.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(xml_values(past_end.text(), "Code"), ["InvalidRange"]);
    h.store.shutdown().await;
}

#[tokio::test]
async fn suffix_range_on_an_empty_object_is_invalid_range() {
    let h = Harness::with_bucket().await;
    h.send(Call::new("PUT", "/bkt/empty")).await;

    let headers = [("range", "bytes=-96")];
    let get = h
        .send(Call::new("GET", "/bkt/empty").headers(&headers))
        .await;
    assert_eq!(
        get.status,
        StatusCode::RANGE_NOT_SATISFIABLE,
        "{}",
        get.text()
    );
    let whole = h.send(Call::new("GET", "/bkt/empty")).await;
    assert_eq!((whole.status, whole.body.len()), (StatusCode::OK, 0));
    h.store.shutdown().await;
}

#[tokio::test]
async fn conditional_reads_follow_etag_and_dates() {
    let h = Harness::with_bucket().await;
    h.send(Call::new("PUT", "/bkt/k").body(sample())).await;
    let etag = md5_etag(&sample());
    let other = "\"00000000000000000000000000000000\"";
    let future = "Fri, 01 Jan 2100 00:00:00 GMT";
    let past = "Mon, 01 Jan 2001 00:00:00 GMT";

    let cases = [
        ("GET", "if-match", etag.as_str(), StatusCode::OK),
        ("GET", "if-match", other, StatusCode::PRECONDITION_FAILED),
        ("HEAD", "if-match", other, StatusCode::PRECONDITION_FAILED),
        (
            "GET",
            "if-none-match",
            etag.as_str(),
            StatusCode::NOT_MODIFIED,
        ),
        ("HEAD", "if-none-match", other, StatusCode::OK),
        (
            "GET",
            "if-unmodified-since",
            past,
            StatusCode::PRECONDITION_FAILED,
        ),
        ("GET", "if-modified-since", future, StatusCode::NOT_MODIFIED),
        ("GET", "if-modified-since", past, StatusCode::OK),
    ];
    for (method, name, value, want) in cases {
        let headers = [(name, value)];
        let reply = h.send(Call::new(method, "/bkt/k").headers(&headers)).await;
        assert_eq!(reply.status, want, "{method} {name}: {value}");
    }

    // A range combined with If-Match is how the proxy reads a trailer without racing a writer.
    let headers = [("range", "bytes=-96"), ("if-match", etag.as_str())];
    let reply = h.send(Call::new("GET", "/bkt/k").headers(&headers)).await;
    assert_eq!(reply.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(reply.body, sample()[104..]);
    h.store.shutdown().await;
}

#[tokio::test]
async fn list_v2_gives_keys_sizes_and_etags() {
    let h = Harness::with_bucket().await;
    for (key, body) in [("/bkt/a/1", "one"), ("/bkt/a/2", "two!"), ("/bkt/z", "zz")] {
        h.send(Call::new("PUT", key).body(body)).await;
    }

    let all = h.send(Call::new("GET", "/bkt?list-type=2")).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text());
    assert_eq!(xml_values(all.text(), "Key"), ["a/1", "a/2", "z"]);
    assert_eq!(xml_values(all.text(), "Size"), ["3", "4", "2"]);
    let etags: Vec<String> = ["one", "two!", "zz"]
        .iter()
        .map(|b| md5_etag(b.as_bytes()))
        .collect();
    assert_eq!(xml_values(all.text(), "ETag"), etags);

    let grouped = h
        .send(Call::new("GET", "/bkt?list-type=2&delimiter=%2F"))
        .await;
    assert_eq!(xml_values(grouped.text(), "Key"), ["z"]);
    assert_eq!(xml_values(grouped.text(), "Prefix"), ["a/"]);

    let page = h
        .send(Call::new("GET", "/bkt?list-type=2&max-keys=2&prefix=a%2F"))
        .await;
    assert_eq!(xml_values(page.text(), "Key"), ["a/1", "a/2"]);
    assert_eq!(xml_values(page.text(), "IsTruncated"), ["false"]);
    h.store.shutdown().await;
}

#[tokio::test]
async fn copy_with_replace_swaps_metadata_and_keeps_bytes() {
    let h = Harness::with_bucket().await;
    let old = [("x-amz-meta-cloak", "old"), ("x-amz-meta-extra", "gone")];
    h.send(Call::new("PUT", "/bkt/src").headers(&old).body(sample()))
        .await;

    let copy = [
        ("x-amz-copy-source", "/bkt/src"),
        ("x-amz-metadata-directive", "REPLACE"),
        ("x-amz-meta-cloak", "new"),
    ];
    let reply = h.send(Call::new("PUT", "/bkt/dst").headers(&copy)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(xml_values(reply.text(), "ETag"), [md5_etag(&sample())]);

    let head = h.send(Call::new("HEAD", "/bkt/dst")).await;
    assert_eq!(head.header("x-amz-meta-cloak"), "new");
    assert!(head.headers.get("x-amz-meta-extra").is_none());
    let src = h.send(Call::new("HEAD", "/bkt/src")).await;
    assert_eq!(src.header("x-amz-meta-cloak"), "old");
    let get = h.send(Call::new("GET", "/bkt/dst")).await;
    assert_eq!(get.body, sample());
    h.store.shutdown().await;
}

#[tokio::test]
async fn delete_removes_the_object() {
    let h = Harness::with_bucket().await;
    h.send(Call::new("PUT", "/bkt/k").body("x")).await;

    let deleted = h.send(Call::new("DELETE", "/bkt/k")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let head = h.send(Call::new("HEAD", "/bkt/k")).await;
    assert_eq!(head.status, StatusCode::NOT_FOUND);
    let get = h.send(Call::new("GET", "/bkt/k")).await;
    assert_eq!(xml_values(get.text(), "Code"), ["NoSuchKey"]);
    let again = h.send(Call::new("DELETE", "/bkt/k")).await;
    assert_eq!(
        again.status,
        StatusCode::NO_CONTENT,
        "deleting nothing succeeds"
    );
    h.store.shutdown().await;
}

#[tokio::test]
async fn multipart_upload_joins_parts_and_keeps_metadata() {
    let h = Harness::with_bucket().await;
    let part1 = vec![7u8; 5 * 1024 * 1024];
    let part2 = b"the last part may be small".to_vec();

    let meta = [("x-amz-meta-cloak", "mp")];
    let created = h
        .send(Call::new("POST", "/bkt/mp?uploads").headers(&meta))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let upload_id = xml_values(created.text(), "UploadId")[0].to_owned();

    let mut etags = Vec::new();
    for (number, part) in [(1, &part1), (2, &part2)] {
        let target = format!("/bkt/mp?partNumber={number}&uploadId={upload_id}");
        let reply = h.send(Call::new("PUT", &target).body(part.clone())).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert_eq!(reply.header("etag"), md5_etag(part));
        etags.push(reply.header("etag").to_owned());
    }

    let complete = complete_xml(&etags);
    let target = format!("/bkt/mp?uploadId={upload_id}");
    let done = h.send(Call::new("POST", &target).body(complete)).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    let want = multipart_etag(&[&part1, &part2]);
    assert_eq!(xml_values(done.text(), "ETag"), [want.as_str()]);

    let get = h.send(Call::new("GET", "/bkt/mp")).await;
    assert_eq!(get.body.len(), part1.len() + part2.len());
    assert!(get.body.ends_with(&part2));
    assert_eq!(get.header("etag"), want);
    assert_eq!(get.header("x-amz-meta-cloak"), "mp");
    h.store.shutdown().await;
}

#[tokio::test]
async fn multipart_refuses_a_small_part_before_the_last() {
    let h = Harness::with_bucket().await;
    let created = h.send(Call::new("POST", "/bkt/mp?uploads")).await;
    let upload_id = xml_values(created.text(), "UploadId")[0].to_owned();

    let mut etags = Vec::new();
    for number in 1..=2 {
        let target = format!("/bkt/mp?partNumber={number}&uploadId={upload_id}");
        let reply = h.send(Call::new("PUT", &target).body("tiny")).await;
        etags.push(reply.header("etag").to_owned());
    }
    let target = format!("/bkt/mp?uploadId={upload_id}");
    let done = h
        .send(Call::new("POST", &target).body(complete_xml(&etags)))
        .await;
    assert_eq!(done.status, StatusCode::BAD_REQUEST);
    assert_eq!(xml_values(done.text(), "Code"), ["EntityTooSmall"]);
    let head = h.send(Call::new("HEAD", "/bkt/mp")).await;
    assert_eq!(head.status, StatusCode::NOT_FOUND, "no object appears");
    h.store.shutdown().await;
}

fn complete_xml(etags: &[String]) -> String {
    let parts: String = etags
        .iter()
        .enumerate()
        .map(|(i, etag)| {
            let number = i + 1;
            format!("<Part><PartNumber>{number}</PartNumber><ETag>{etag}</ETag></Part>")
        })
        .collect();
    format!("<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>")
}

/// S3's multipart ETag: the MD5 of the parts' binary MD5s, then `-` and the part count.
fn multipart_etag(parts: &[&[u8]]) -> String {
    let mut outer = Md5::new();
    for part in parts {
        outer.update(Md5::digest(part));
    }
    format!("\"{}-{}\"", hex::encode(outer.finalize()), parts.len())
}
