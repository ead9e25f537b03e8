use http::{Method, Request};

use super::*;

fn parts(method: Method, uri: &str, host: &str) -> Parts {
    let (parts, _) = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", host)
        .body(())
        .unwrap()
        .into_parts();
    parts
}

fn op(method: Method, uri: &str) -> Op {
    let p = parts(method.clone(), uri, "localhost");
    operation(&method, &target(&p, None).unwrap(), false)
}

#[test]
fn path_style_keeps_the_encoded_key_for_upstream() {
    let p = parts(
        Method::GET,
        "/bkt/dir/a%20b%2Bc.txt?versionId=x",
        "localhost:9090",
    );
    let t = target(&p, None).unwrap();
    assert_eq!(t.bucket.as_deref(), Some("bkt"));
    assert_eq!(t.key.as_deref(), Some("dir/a b+c.txt"));
    assert_eq!(
        t.upstream_path_and_query(),
        "/bkt/dir/a%20b%2Bc.txt?versionId=x"
    );
}

#[test]
fn virtual_host_and_absolute_form() {
    let p = parts(Method::GET, "/k/1", "data.s3.example.test:9090");
    let t = target(&p, Some("s3.example.test")).unwrap();
    assert_eq!(
        (t.bucket.as_deref(), t.key.as_deref()),
        (Some("data"), Some("k/1"))
    );
    assert_eq!(t.upstream_path, "/data/k/1");

    let p = parts(
        Method::GET,
        "http://s3.us-east-1.cloak.test/bkt/?delimiter=/",
        "s3.us-east-1.cloak.test",
    );
    let t = target(&p, None).unwrap();
    assert_eq!(t.bucket.as_deref(), Some("bkt"));
    assert_eq!(t.key, None);
    assert_eq!(t.param("delimiter"), Some("/"));
}

#[test]
fn operations() {
    assert_eq!(op(Method::GET, "/"), Op::ListBuckets);
    assert_eq!(op(Method::GET, "/b"), Op::ListObjects);
    assert_eq!(
        op(Method::GET, "/b?list-type=2&prefix=x"),
        Op::ListObjectsV2
    );
    assert_eq!(op(Method::GET, "/b?versions"), Op::ListObjectVersions);
    assert_eq!(op(Method::GET, "/b?policy"), Op::Forward);
    assert_eq!(op(Method::PUT, "/b"), Op::Forward);
    assert_eq!(op(Method::PUT, "/b/k"), Op::PutObject);
    assert_eq!(
        op(Method::PUT, "/b/k?partNumber=1&uploadId=u"),
        Op::UploadPart
    );
    assert_eq!(op(Method::PUT, "/b/k?tagging"), Op::Forward);
    assert_eq!(op(Method::GET, "/b/k"), Op::GetObject);
    assert_eq!(op(Method::GET, "/b/k?uploadId=u"), Op::ListParts);
    assert_eq!(op(Method::POST, "/b/k?uploads"), Op::CreateMultipartUpload);
    assert_eq!(
        op(Method::POST, "/b/k?uploadId=u"),
        Op::CompleteMultipartUpload
    );
    assert_eq!(
        op(Method::POST, "/b/k?select&select-type=2"),
        Op::Refused("SelectObjectContent")
    );
    assert_eq!(op(Method::DELETE, "/b/k"), Op::Forward);
    assert_eq!(op(Method::HEAD, "/b/k"), Op::HeadObject);
}
