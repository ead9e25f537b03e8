//! The `x-amz-content-sha256` forms over raw HTTP, framed and signed by the tests themselves:
//! signed aws-chunked, signed chunks with a signed trailer, the unsigned-trailer form (with
//! Content-Length, and inside `Transfer-Encoding: chunked` without one), and a hex digest.
//! Every refused upload must leave nothing behind upstream.

mod common;

use std::time::SystemTime;

use aws_sigv4::http_request::SignableBody;
use bytes::Bytes;
use http::{Request, StatusCode};

use common::raw::{self, Body, Reply};
use common::signing::{self, crc32_base64, sha256_hex, ChunkChain};
use common::{md5_etag, plaintext, shared_window, stored_len, Cloak, SECRET_KEY, SEGMENT};

/// Three full 64 KiB chunks and a partial one.
const LEN: usize = 3 * SEGMENT + 1000;
const CHUNK: usize = 64 * 1024;
const SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
const SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
const UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

impl Cloak {
    /// A PUT of `key` with the given headers, not yet signed and with no body yet.
    fn put_request(&self, key: &str, headers: &[(&str, &str)]) -> Request<Body> {
        let target = format!("/bucket/{key}");
        signing::request("PUT", &self.endpoint, &target, headers, raw::full(""))
    }

    /// The object must not exist: not in the store's directory, not through the proxy.
    async fn assert_absent(&self, key: &str) {
        assert!(
            !self.stored_path(key).exists(),
            "{key} was stored by a refused upload"
        );
        let reply = self.raw("HEAD", &format!("/bucket/{key}"), &[], b"").await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "HEAD {key} after a refused upload"
        );
    }

    /// The upload stored `plain` under `key`, encrypted.
    async fn assert_stored(&self, reply: &Reply, key: &str, plain: &[u8]) {
        assert_eq!(reply.status, StatusCode::OK, "PUT {key}: {}", reply.text());
        assert_eq!(reply.header("etag"), md5_etag(plain), "PUT ETag of {key}");
        let stored = self.stored(key);
        let size = stored.len() as u64;
        assert_eq!(size, stored_len(plain.len()), "stored size of {key}");
        assert_eq!(
            shared_window(plain, &stored),
            None,
            "plaintext stored in {key}"
        );
        assert!(
            self.get(key).await == plain,
            "GET {key} gave the wrong bytes"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_chunks_are_verified_and_stored_encrypted() {
    let cloak = Cloak::start().await;
    let plain = plaintext(LEN);

    let reply = signed_upload(&cloak, "signed", &plain, None).await;
    cloak.assert_stored(&reply, "signed", &plain).await;

    // One flipped byte in the second chunk's data breaks that chunk's signature.
    let reply = signed_upload(&cloak, "tampered", &plain, Some(CHUNK + 100)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
    assert_eq!(reply.code(), "SignatureDoesNotMatch");
    cloak.assert_absent("tampered").await;
    cloak.still_serves().await;
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_chunks_with_a_signed_trailer_are_verified() {
    let cloak = Cloak::start().await;
    let plain = plaintext(2 * SEGMENT + 17);
    let crc = crc32_base64(&plain);

    let reply = signed_trailer_upload(&cloak, "good", &plain, &crc, &crc).await;
    cloak.assert_stored(&reply, "good", &plain).await;
    assert_eq!(reply.header("x-amz-checksum-crc32"), crc);

    // The trailer is signed with one value and arrives with another.
    let reply = signed_trailer_upload(&cloak, "forged", &plain, &crc, "AAAAAA==").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
    assert_eq!(reply.code(), "SignatureDoesNotMatch");
    cloak.assert_absent("forged").await;
    cloak.still_serves().await;
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_trailer_checksum_is_verified() {
    let cloak = Cloak::start().await;
    let plain = plaintext(LEN);
    let crc = crc32_base64(&plain);
    let wrong = crc32_base64(b"something else");

    let reply = unsigned_trailer_upload(&cloak, "trailer", &plain, &crc, None).await;
    cloak.assert_stored(&reply, "trailer", &plain).await;
    assert_eq!(
        reply.header("x-amz-checksum-crc32"),
        crc,
        "PUT answers the checksum"
    );

    let reply = unsigned_trailer_upload(&cloak, "bad-trailer", &plain, &wrong, None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert_eq!(reply.code(), "BadDigest");
    cloak.assert_absent("bad-trailer").await;

    // A refused upload over an existing object leaves the old version in place.
    let reply = unsigned_trailer_upload(&cloak, "trailer", b"replacement", &wrong, None).await;
    assert_eq!(reply.code(), "BadDigest", "{}", reply.text());
    assert!(
        cloak.get("trailer").await == plain,
        "a refused PUT replaced the object"
    );
    cloak.still_serves().await;
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_trailer_inside_transfer_encoding_chunked() {
    let cloak = Cloak::start().await;
    let plain = plaintext(LEN);
    let crc = crc32_base64(&plain);

    // HTTP chunks of 7,000 bytes cut across the aws-chunked framing at odd places.
    let reply = unsigned_trailer_upload(&cloak, "te", &plain, &crc, Some(7000)).await;
    cloak.assert_stored(&reply, "te", &plain).await;

    let wrong = crc32_base64(b"not the body");
    let reply = unsigned_trailer_upload(&cloak, "te-bad", &plain, &wrong, Some(7000)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert_eq!(reply.code(), "BadDigest");
    cloak.assert_absent("te-bad").await;
    cloak.still_serves().await;
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hex_payload_hash_is_verified_before_anything_is_stored() {
    let cloak = Cloak::start().await;
    let plain = plaintext(LEN);
    let other = sha256_hex(b"another body");

    let reply = hashed_upload(&cloak, "hashed", &plain, sha256_hex(&plain)).await;
    cloak.assert_stored(&reply, "hashed", &plain).await;

    let reply = hashed_upload(&cloak, "mismatch", &plain, other.clone()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert_eq!(reply.code(), "XAmzContentSHA256Mismatch");
    cloak.assert_absent("mismatch").await;

    let reply = hashed_upload(&cloak, "hashed", b"replacement", other).await;
    assert_eq!(
        reply.code(),
        "XAmzContentSHA256Mismatch",
        "{}",
        reply.text()
    );
    assert!(
        cloak.get("hashed").await == plain,
        "a refused PUT replaced the object"
    );
    cloak.still_serves().await;
    cloak.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_body_or_a_wrong_digest_header_stores_nothing() {
    let cloak = Cloak::start().await;
    let plain = plaintext(LEN);
    let crc = crc32_base64(&plain);

    // x-amz-decoded-content-length promises more than the chunks hold.
    let body = signing::unsigned_chunks(&plain, CHUNK, &[("x-amz-checksum-crc32", &crc)]);
    let (len, promised) = (body.len().to_string(), (LEN + 1).to_string());
    let headers = [
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", promised.as_str()),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
        ("content-length", len.as_str()),
    ];
    let mut request = cloak.put_request("short", &headers);
    let payload = SignableBody::Precomputed(UNSIGNED_TRAILER.into());
    signing::sign_v4(&mut request, payload, SECRET_KEY, SystemTime::now());
    *request.body_mut() = raw::full(body);
    let reply = raw::send(request).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert_eq!(reply.code(), "IncompleteBody");
    cloak.assert_absent("short").await;

    // Content-MD5 and a flexible checksum header, each naming other bytes.
    let other_md5 = "1B2M2Y8AsgTpgAmY7PhCfg==";
    let put = |key: &str| cloak.s3().put_object().bucket(common::BUCKET).key(key);
    let body = || aws_sdk_s3::primitives::ByteStream::from(plain.clone());
    let md5 = put("bad-md5")
        .content_md5(other_md5)
        .body(body())
        .send()
        .await;
    let f = common::failure(&md5.expect_err("a wrong Content-MD5 is refused"));
    assert_eq!((f.status, f.code.as_str()), (400, "BadDigest"), "{f:?}");
    cloak.assert_absent("bad-md5").await;
    let crc32 = put("bad-crc")
        .checksum_crc32("AAAAAA==")
        .body(body())
        .send()
        .await;
    let f = common::failure(&crc32.expect_err("a wrong x-amz-checksum-crc32 is refused"));
    assert_eq!((f.status, f.code.as_str()), (400, "BadDigest"), "{f:?}");
    cloak.assert_absent("bad-crc").await;
    cloak.still_serves().await;
    cloak.stop().await;
}

/// A signed aws-chunked PUT. `corrupt` flips the data byte at that offset after signing.
async fn signed_upload(cloak: &Cloak, key: &str, data: &[u8], corrupt: Option<usize>) -> Reply {
    let time = SystemTime::now();
    let chain = |seed| ChunkChain::new(SECRET_KEY, time, seed);
    // The framing's length does not depend on the signatures, and it is signed, so it is
    // taken from a framing with a placeholder seed.
    let framed_len = signing::signed_chunks(data, CHUNK, &mut chain("0".repeat(64))).len();
    let (len, decoded) = (framed_len.to_string(), data.len().to_string());
    let headers = [
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", decoded.as_str()),
        ("content-length", len.as_str()),
    ];
    let mut request = cloak.put_request(key, &headers);
    let payload = SignableBody::Precomputed(SIGNED.into());
    let seed = signing::sign_v4(&mut request, payload, SECRET_KEY, time);

    let mut body = signing::signed_chunks(data, CHUNK, &mut chain(seed));
    if let Some(at) = corrupt {
        // Any 32 bytes of the numbered lines hold a whole line number, so they occur once.
        let marker = &data[at..at + 32];
        let found = body.windows(32).position(|w| w == marker);
        body[found.expect("the data is in the framing")] ^= 0x01;
    }
    *request.body_mut() = raw::full(body);
    raw::send(request).await
}

/// Signed chunks, then a trailer whose signature covers `signed_crc` but which carries
/// `sent_crc`.
async fn signed_trailer_upload(
    cloak: &Cloak,
    key: &str,
    data: &[u8],
    signed_crc: &str,
    sent_crc: &str,
) -> Reply {
    let time = SystemTime::now();
    let frame = |seed| {
        let mut chain = ChunkChain::new(SECRET_KEY, time, seed);
        let mut body = signing::signed_chunks(data, CHUNK, &mut chain);
        // With a trailer, the final chunk's line is not followed by an empty line.
        body.truncate(body.len() - 2);
        let trailer = format!("x-amz-checksum-crc32:{signed_crc}\n");
        let signature = chain.trailer(trailer.as_bytes());
        let lines = format!(
            "x-amz-checksum-crc32:{sent_crc}\r\nx-amz-trailer-signature:{signature}\r\n\r\n"
        );
        body.extend_from_slice(lines.as_bytes());
        body
    };
    let (len, decoded) = (
        frame("0".repeat(64)).len().to_string(),
        data.len().to_string(),
    );
    let headers = [
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", decoded.as_str()),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
        ("content-length", len.as_str()),
    ];
    let mut request = cloak.put_request(key, &headers);
    let payload = SignableBody::Precomputed(SIGNED_TRAILER.into());
    let seed = signing::sign_v4(&mut request, payload, SECRET_KEY, time);
    *request.body_mut() = raw::full(frame(seed));
    raw::send(request).await
}

/// An unsigned-trailer PUT whose trailer carries `crc32`; sent with Content-Length, or in
/// HTTP chunks of `pieces` bytes with no Content-Length, as boto3 does over HTTPS.
async fn unsigned_trailer_upload(
    cloak: &Cloak,
    key: &str,
    data: &[u8],
    crc32: &str,
    pieces: Option<usize>,
) -> Reply {
    let body = signing::unsigned_chunks(data, CHUNK, &[("x-amz-checksum-crc32", crc32)]);
    let (len, decoded) = (body.len().to_string(), data.len().to_string());
    let mut headers = vec![
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", decoded.as_str()),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
        ("x-amz-sdk-checksum-algorithm", "CRC32"),
    ];
    if pieces.is_none() {
        headers.push(("content-length", len.as_str()));
    }
    let mut request = cloak.put_request(key, &headers);
    let payload = SignableBody::Precomputed(UNSIGNED_TRAILER.into());
    signing::sign_v4(&mut request, payload, SECRET_KEY, SystemTime::now());

    *request.body_mut() = match pieces {
        None => raw::full(body),
        Some(size) => raw::streamed(body.chunks(size).map(Bytes::copy_from_slice).collect()),
    };
    raw::send(request).await
}

/// A plain PUT of `data` whose `x-amz-content-sha256` declares `declared`.
async fn hashed_upload(cloak: &Cloak, key: &str, data: &[u8], declared: String) -> Reply {
    let mut request = cloak.put_request(key, &[]);
    *request.body_mut() = raw::full(data.to_vec());
    let payload = SignableBody::Precomputed(declared);
    signing::sign_v4(&mut request, payload, SECRET_KEY, SystemTime::now());
    raw::send(request).await
}
