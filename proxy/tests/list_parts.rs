//! ListParts in plaintext terms, against the embedded store and a real moto S3: every part the
//! client uploaded (sent upstream or staged) once, with UploadPart's ETag and plaintext size,
//! paged by max-parts and part-number-marker, the latest attempt of a part uploaded again, and
//! NoSuchUpload once the upload has ended.

mod common;
// The kms crate's real-server support, reused as is; this test needs only part of it.
#[allow(dead_code)]
#[path = "../../kms/tests/support/moto.rs"]
mod moto;
#[allow(dead_code)]
#[path = "../../kms/tests/support/process.rs"]
mod process;
mod standalone;

use aws_sdk_s3::operation::list_parts::ListPartsOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use cloak_proxy::hooks::Hooks;

use common::{failure, md5_etag, plaintext, Cloak, BUCKET};

const MIB: usize = 1 << 20;

/// One upload of the test, through Cloak.
struct Upload<'a> {
    s3: &'a Client,
    bucket: &'a str,
    key: &'a str,
    id: String,
}

impl<'a> Upload<'a> {
    async fn create(s3: &'a Client, bucket: &'a str, key: &'a str) -> Self {
        let out = s3.create_multipart_upload().bucket(bucket).key(key).send();
        let out = out.await.expect("CreateMultipartUpload");
        let id = out.upload_id().expect("an upload id").to_owned();
        Self {
            s3,
            bucket,
            key,
            id,
        }
    }

    /// Uploads `body` as part `number`, checking UploadPart's ETag is its MD5.
    async fn part(&self, number: i32, body: &[u8]) -> String {
        let up = self.s3.upload_part().bucket(self.bucket).key(self.key);
        let up = up.upload_id(&self.id).part_number(number);
        let out = up.body(ByteStream::from(body.to_vec())).send().await;
        let etag = out
            .expect("UploadPart")
            .e_tag()
            .expect("an ETag")
            .to_owned();
        assert_eq!(etag, md5_etag(body), "part {number}");
        etag
    }

    async fn list(&self, max: Option<i32>, marker: Option<&str>) -> ListPartsOutput {
        let list = self.s3.list_parts().bucket(self.bucket).key(self.key);
        let list = list.upload_id(&self.id).set_max_parts(max);
        let out = list
            .set_part_number_marker(marker.map(str::to_owned))
            .send();
        let out = out.await.expect("ListParts");
        assert_eq!(
            out.upload_id(),
            Some(self.id.as_str()),
            "the client's upload id"
        );
        out
    }

    /// Every part, one page of `max` at a time: `(number, ETag, size)`.
    async fn walk(&self, max: i32) -> Vec<(i32, String, i64)> {
        let mut shown = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self.list(Some(max), marker.as_deref()).await;
            assert!(page.parts().len() <= max as usize, "{page:?}");
            shown.extend(page.parts().iter().map(|p| {
                let etag = p.e_tag().expect("an ETag").to_owned();
                let size = p.size().expect("a size");
                assert!(p.last_modified().is_some(), "{p:?}");
                (p.part_number().expect("a number"), etag, size)
            }));
            if page.is_truncated() != Some(true) {
                return shown;
            }
            marker = page.next_part_number_marker().map(str::to_owned);
            assert!(marker.is_some(), "a truncated page says where to go on");
        }
    }

    async fn complete(&self, parts: &[(i32, String)]) {
        let done = self.try_complete(parts).await;
        done.unwrap_or_else(|f| panic!("CompleteMultipartUpload: {f:?}"));
    }

    async fn try_complete(&self, parts: &[(i32, String)]) -> Result<(), common::Failure> {
        let parts: Vec<CompletedPart> = parts
            .iter()
            .map(|(n, e)| CompletedPart::builder().part_number(*n).e_tag(e).build())
            .collect();
        let done = CompletedMultipartUpload::builder().set_parts(Some(parts));
        let complete = self.s3.complete_multipart_upload().bucket(self.bucket);
        let complete = complete.key(self.key).upload_id(&self.id);
        let out = complete.multipart_upload(done.build()).send().await;
        out.map(drop).map_err(|e| failure(&e))
    }

    async fn abort(&self) {
        let abort = self
            .s3
            .abort_multipart_upload()
            .bucket(self.bucket)
            .key(self.key);
        abort.upload_id(&self.id).send().await.expect("Abort");
    }

    async fn assert_gone(&self) {
        let list = self.s3.list_parts().bucket(self.bucket).key(self.key);
        let err = list
            .upload_id(&self.id)
            .send()
            .await
            .expect_err("no upload");
        let f = failure(&err);
        assert_eq!((f.status, f.code.as_str()), (404, "NoSuchUpload"), "{f:?}");
    }
}

fn row(number: i32, body: &[u8]) -> (i32, String, i64) {
    (number, md5_etag(body), body.len() as i64)
}

/// Two 5 MiB parts and a small staged last part: all three, with any page size.
async fn lists_direct_and_staged_parts(s3: &Client, bucket: &str) {
    let (one, two, last) = (
        plaintext(5 * MIB),
        plaintext(5 * MIB + 65536),
        plaintext(7000),
    );
    let upload = Upload::create(s3, bucket, "three").await;
    let e1 = upload.part(1, &one).await;
    let e2 = upload.part(2, &two).await;
    let e3 = upload.part(3, &last).await;

    let expected = vec![row(1, &one), row(2, &two), row(3, &last)];
    assert_eq!(upload.walk(1000).await, expected);
    assert_eq!(upload.walk(1).await, expected);
    assert_eq!(upload.walk(2).await, expected);
    let first = upload.list(Some(1), None).await;
    assert_eq!(first.next_part_number_marker(), Some("1"));
    assert_eq!(first.max_parts(), Some(1));
    let rest = upload.list(None, Some("1")).await;
    let numbers: Vec<_> = rest
        .parts()
        .iter()
        .filter_map(|p| p.part_number())
        .collect();
    assert_eq!((numbers, rest.is_truncated()), (vec![2, 3], Some(false)));
    let past = upload.list(None, Some("3")).await;
    assert!(past.parts().is_empty(), "{past:?}");

    upload.complete(&[(1, e1), (2, e2), (3, e3)]).await;
    upload.assert_gone().await;
}

/// A part uploaded again is listed once, as its latest attempt, whether each attempt was sent
/// upstream or staged; Complete takes the listed ETags.
async fn lists_the_latest_attempt(s3: &Client, bucket: &str) {
    let upload = Upload::create(s3, bucket, "again").await;
    let (old1, new1) = (plaintext(5 * MIB), vec![7u8; 5 * MIB]);
    upload.part(1, &old1).await;
    upload.part(1, &new1).await;
    // A retry with the same bytes: same ETag, fresh ciphertext, and only one is current.
    upload.part(1, &new1).await;
    // Staged, then sent upstream: the staged object stays behind.
    let (old2, new2) = (plaintext(1000), vec![9u8; 5 * MIB]);
    upload.part(2, &old2).await;
    upload.part(2, &new2).await;
    // Sent upstream, then staged: the upstream part stays behind.
    let (old3, new3) = (vec![3u8; 5 * MIB], plaintext(3000));
    upload.part(3, &old3).await;
    upload.part(3, &new3).await;

    let shown = upload.walk(1).await;
    assert_eq!(shown, vec![row(1, &new1), row(2, &new2), row(3, &new3)]);
    let parts: Vec<(i32, String)> = shown.into_iter().map(|(n, e, _)| (n, e)).collect();
    let mut stale = parts.clone();
    stale[2].1 = md5_etag(&old3);
    let f = upload
        .try_complete(&stale)
        .await
        .expect_err("a replaced part's ETag");
    assert_eq!((f.status, f.code.as_str()), (400, "InvalidPart"), "{f:?}");
    upload.complete(&parts).await;
    let got = s3.get_object().bucket(bucket).key("again").send().await;
    let body = got.expect("GET").body.collect().await.expect("body");
    assert_eq!(body.into_bytes(), [new1, new2, new3].concat());
}

/// An aborted upload has no parts to list.
async fn aborted_uploads_are_gone(s3: &Client, bucket: &str) {
    let upload = Upload::create(s3, bucket, "aborted").await;
    upload.part(1, b"small").await;
    assert_eq!(upload.walk(10).await, vec![row(1, b"small")]);
    upload.abort().await;
    upload.assert_gone().await;
}

/// The store's upload id (as ListMultipartUploads shows it) lists the store's parts, with
/// plaintext sizes and no staged part. (The embedded store has no ListMultipartUploads, so
/// the id is read from Cloak's; moto's `<ListPartsResponse>` root, relayed as is, is more
/// than the SDK accepts.)
async fn raw_ids_list_the_stores_parts(s3: &Client, bucket: &str) {
    use base64::Engine as _;
    let upload = Upload::create(s3, bucket, "raw").await;
    let whole = plaintext(5 * MIB);
    upload.part(1, &whole).await;
    upload.part(2, b"small").await;
    let encoded = upload
        .id
        .split('.')
        .nth(1)
        .expect("c1.<upstream id>.<header>");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded);
    let raw = String::from_utf8(raw.expect("base64url")).expect("UTF-8");

    let list = s3.list_parts().bucket(bucket).key("raw").upload_id(&raw);
    let listed = list.send().await.expect("ListParts with the store's id");
    let sizes: Vec<_> = listed
        .parts()
        .iter()
        .map(|p| (p.part_number(), p.size()))
        .collect();
    assert_eq!(sizes, vec![(Some(1), Some(whole.len() as i64))]);
    upload.abort().await;
}

/// 1,100 parts (staged, being small) are 2,200 names in the marker folder, three listings of
/// it: pages of 1,000 parts and of 400 both walk them all, in order. (Slow on the embedded
/// store, which reads an ETag per listed name, so the pages are few.)
async fn pages_cross_marker_listings(s3: &Client, bucket: &str) {
    use futures_util::{stream, StreamExt as _};
    let upload = Upload::create(s3, bucket, "many").await;
    let bodies: Vec<Vec<u8>> = (1..=1100u32).map(|n| n.to_be_bytes().to_vec()).collect();
    let uploads = bodies.iter().enumerate().map(|(i, body)| {
        let upload = &upload;
        async move { upload.part(i as i32 + 1, body).await }
    });
    stream::iter(uploads).buffer_unordered(8).count().await;

    let expected: Vec<_> = (1..).zip(&bodies).map(|(n, b)| row(n, b)).collect();
    let first = upload.list(None, None).await;
    assert_eq!(
        (first.parts().len(), first.is_truncated()),
        (1000, Some(true))
    );
    assert_eq!(first.next_part_number_marker(), Some("1000"));
    assert_eq!(upload.walk(1000).await, expected);
    assert_eq!(upload.walk(400).await, expected);
    upload.abort().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_parts() {
    let cloak = Cloak::start().await;
    pages_cross_marker_listings(&cloak.s3(), BUCKET).await;
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_store() {
    let cloak = Cloak::start().await;
    let s3 = cloak.s3();
    lists_direct_and_staged_parts(&s3, BUCKET).await;
    lists_the_latest_attempt(&s3, BUCKET).await;
    aborted_uploads_are_gone(&s3, BUCKET).await;
    raw_ids_list_the_stores_parts(&s3, BUCKET).await;
    cloak.stop().await;
}

/// A Cloak in front of `store`, with bucket `parts` made through it; a client for it, and its
/// directory (kept for the test's length).
async fn cloak_in_front_of(store: &standalone::Store<'_>) -> (Client, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let endpoint = standalone::start(dir.path(), store, Hooks::default()).await;
    let s3 = standalone::client(&endpoint);
    let created = s3.create_bucket().bucket("parts").send().await;
    created.expect("bucket");
    (s3, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_store() {
    let moto = moto::Moto::start();
    let store = standalone::Store {
        endpoint: &moto.url,
        access_key: "testing",
        secret_key: "moto-accepts-any-secret",
    };
    let (s3, _dir) = cloak_in_front_of(&store).await;
    lists_direct_and_staged_parts(&s3, "parts").await;
    lists_the_latest_attempt(&s3, "parts").await;
    aborted_uploads_are_gone(&s3, "parts").await;
}

/// `rclone serve s3` over a fresh directory, with its key pair in its environment.
fn start_rclone(access_key: &str, secret_key: &str) -> (process::Process, String) {
    let bin = process::find_binary("CLOAK_RCLONE_BIN", "rclone");
    let home = tempfile::tempdir().expect("dir");
    let data = home.path().join("data");
    std::fs::create_dir(&data).expect("data dir");
    let config = home.path().join("rclone.conf");
    std::fs::write(&config, "").expect("config");
    let port = process::free_port_pair();
    let mut command = std::process::Command::new(bin);
    command.args(["serve", "s3", "--addr", &format!("127.0.0.1:{port}")]);
    command.arg("--config").arg(&config).arg(&data);
    // rclone reads a list flag's variable as CSV, hence the quotes around the pair.
    command.env("RCLONE_AUTH_KEY", format!("\"{access_key},{secret_key}\""));
    let mut server = process::Process::start(command, home);
    server.wait_until(std::time::Duration::from_secs(30), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    (server, format!("http://127.0.0.1:{port}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rclone_store() {
    let (_rclone, url) = start_rclone("cloak-rclone", "rclone-secret-0123456789");
    let store = standalone::Store {
        endpoint: &url,
        access_key: "cloak-rclone",
        secret_key: "rclone-secret-0123456789",
    };
    let (s3, _dir) = cloak_in_front_of(&store).await;
    lists_direct_and_staged_parts(&s3, "parts").await;
    // rclone refuses an upstream part sent again with other bytes (501 NotImplemented), so
    // the latest-attempt walk is not for it.
    aborted_uploads_are_gone(&s3, "parts").await;
}
