//! What the store holds is not trusted: damaged, truncated, reordered or foreign objects are
//! refused, never served as if they were sound, and the proxy keeps serving afterwards.

mod common;

use std::fs;

use aws_sdk_s3::primitives::ByteStream;

use common::{failure, plaintext, Cloak, BUCKET, SEGMENT};

/// Five units, the last one partial.
const LEN: usize = 4 * SEGMENT + 500;
/// Stored bytes per full unit: the segment plus its 32 bytes of nonce and tag.
const UNIT: usize = SEGMENT + 32;
/// The sealed trailer at the end of every object.
const TRAILER: usize = 96;

/// How a GET went: the bytes received, and whether it ended in an error (an error answer, or
/// a body cut short).
struct Read {
    bytes: Vec<u8>,
    failed: bool,
}

impl Cloak {
    /// GETs `key` (or a range of it), keeping whatever arrived before any failure.
    async fn read(&self, key: &str, range: Option<&str>) -> Read {
        let get = self.get_object(key).set_range(range.map(Into::into));
        let mut read = Read {
            bytes: Vec::new(),
            failed: true,
        };
        let Ok(out) = get.send().await else {
            return read;
        };
        let mut body = out.body;
        while let Some(data) = body.next().await {
            match data {
                Ok(data) => read.bytes.extend_from_slice(&data),
                Err(_) => return read,
            }
        }
        read.failed = false;
        read
    }

    /// A whole GET must fail, having released no byte past `limit` and no wrong byte.
    async fn assert_refused(&self, key: &str, plain: &[u8], limit: usize, what: &str) {
        let read = self.read(key, None).await;
        let n = read.bytes.len();
        assert!(read.failed, "{what}: the GET succeeded with {n} bytes");
        assert!(
            n <= limit,
            "{what}: {n} bytes released, past the damage at {limit}"
        );
        assert!(
            read.bytes == plain[..n],
            "{what}: the bytes released are not the plaintext"
        );
    }

    async fn assert_range(&self, key: &str, plain: &[u8], first: usize, last: usize) {
        let range = format!("bytes={first}-{last}");
        let read = self.read(key, Some(&range)).await;
        assert!(!read.failed, "{range} fails");
        assert!(
            read.bytes == plain[first..=last],
            "{range} gave the wrong bytes"
        );
    }

    /// HEAD must fail too, since it would report the size of an object that cannot be read.
    async fn assert_head_refused(&self, key: &str, what: &str) {
        let head = self.head_object(key).send().await;
        assert!(head.is_err(), "{what}: HEAD succeeded: {head:?}");
    }

    fn rewrite(&self, key: &str, change: impl FnOnce(&mut Vec<u8>)) {
        let path = self.stored_path(key);
        let mut stored = fs::read(&path).expect("read the stored object");
        change(&mut stored);
        fs::write(&path, stored).expect("rewrite the stored object");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flipped_byte_fails_its_segment_but_not_ranges_elsewhere() {
    let cloak = Cloak::start().await;
    let plain = plaintext(LEN);
    cloak.put("t", &plain).await;
    cloak.rewrite("t", |s| s[2 * UNIT + 100] ^= 0x01);

    cloak
        .assert_refused("t", &plain, 2 * SEGMENT, "flipped byte in segment 2")
        .await;
    let inside = format!("bytes={}-{}", 2 * SEGMENT + 5, 2 * SEGMENT + 10);
    let read = cloak.read("t", Some(&inside)).await;
    assert!(
        read.failed && read.bytes.is_empty(),
        "a range inside the damaged segment"
    );

    cloak.assert_range("t", &plain, 0, 2 * SEGMENT - 1).await;
    cloak
        .assert_range("t", &plain, SEGMENT - 3, SEGMENT + 3)
        .await;
    cloak.assert_range("t", &plain, 3 * SEGMENT, LEN - 1).await;
    cloak.still_serves().await;
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_trailer_fails_get_and_head() {
    let cloak = Cloak::start().await;
    let plain = plaintext(LEN);
    cloak.put("t", &plain).await;
    cloak.rewrite("t", |s| {
        let at = s.len() - TRAILER / 2;
        s[at] ^= 0x80;
    });

    cloak
        .assert_refused("t", &plain, 0, "damaged trailer")
        .await;
    cloak.assert_head_refused("t", "damaged trailer").await;
    cloak.still_serves().await;
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapped_segments_are_refused() {
    let cloak = Cloak::start().await;
    let plain = plaintext(LEN);
    cloak.put("t", &plain).await;
    cloak.rewrite("t", |s| {
        let (front, back) = s.split_at_mut(2 * UNIT);
        front[UNIT..].swap_with_slice(&mut back[..UNIT]);
    });

    cloak
        .assert_refused("t", &plain, SEGMENT, "segments 1 and 2 swapped")
        .await;
    cloak.assert_range("t", &plain, 0, SEGMENT - 1).await;
    cloak.still_serves().await;
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_objects_are_refused() {
    let cloak = Cloak::start().await;
    let plain = plaintext(LEN);
    for key in ["cut-tail", "cut-last-unit", "emptied"] {
        cloak.put(key, &plain).await;
    }

    cloak.rewrite("cut-tail", |s| s.truncate(s.len() - 10));
    // The subtle one: a whole unit gone with the trailer kept, so that only the trailer's own
    // record of the length can tell.
    cloak.rewrite("cut-last-unit", |s| {
        let trailer = s.split_off(s.len() - TRAILER);
        s.truncate(4 * UNIT);
        s.extend_from_slice(&trailer);
    });
    cloak.rewrite("emptied", Vec::clear);

    cloak
        .assert_refused("cut-tail", &plain, LEN, "10 bytes cut")
        .await;
    cloak
        .assert_refused("cut-last-unit", &plain, 4 * SEGMENT, "last unit cut")
        .await;
    cloak
        .assert_refused("emptied", &plain, 0, "truncated to nothing")
        .await;
    cloak.assert_head_refused("cut-tail", "10 bytes cut").await;
    cloak
        .assert_head_refused("cut-last-unit", "last unit cut")
        .await;
    cloak.still_serves().await;
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_objects_are_refused_with_a_clear_error() {
    let cloak = Cloak::start().await;
    let secret = b"plaintext that never went through Cloak".to_vec();

    // One object placed in the store's directory, one PUT to the store directly, and one
    // whose envelope metadata is forged.
    fs::write(cloak.stored_path("placed"), &secret).expect("place a file");
    let store = cloak.store_s3();
    let body = || ByteStream::from(secret.clone());
    let direct = store.put_object().bucket(BUCKET).key("direct").body(body());
    direct.send().await.expect("PUT to the store directly");
    let forged = store.put_object().bucket(BUCKET).key("forged").body(body());
    let forged = forged.metadata("cloak", "v1.forged").send().await;
    forged.expect("PUT with forged metadata to the store directly");

    for key in ["placed", "direct"] {
        let got = common::fetch(cloak.get_object(key)).await;
        let f = got.expect_err("GET of a foreign object is refused");
        assert_eq!(f.status, 403, "{key}: {f:?}");
        assert!(
            f.message.contains("Cloak"),
            "{key}: the message does not say why: {f:?}"
        );
        assert!(
            !f.body.contains("never went through"),
            "{key}: the body leaks the object"
        );
        let head = cloak.head_object(key).send().await;
        let status = failure(&head.expect_err("HEAD is refused")).status;
        assert_eq!(status, 403, "HEAD {key}");
    }
    let read = cloak.read("forged", None).await;
    assert!(
        read.failed && read.bytes.is_empty(),
        "forged envelope metadata was served"
    );
    cloak.still_serves().await;
    cloak.stop().await;
}
