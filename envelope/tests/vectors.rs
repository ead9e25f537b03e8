//! Known-answer vectors: fixed keys, salts and plaintexts must produce these exact bytes, so
//! the format cannot drift silently. If a change here is intended, it is a new format version.

mod common;

use std::sync::Arc;

use cloak_envelope::layout::Layout;
use cloak_envelope::{ContentKey, ObjectKind, PartSummary, Sealer, Trailer, DEFAULT_SEGMENT_SIZE};
use common::{md5, pattern};

const DEK: [u8; 32] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
];
const OBJECT_SALT: [u8; 16] = *b"cloak-kat-salt-1";
const UNIT_SALT: [u8; 8] = *b"unitsalt";
const TRAILER_SALT: [u8; 8] = *b"trlrsalt";

fn key() -> Arc<ContentKey> {
    Arc::new(ContentKey::derive(&DEK, &OBJECT_SALT))
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data))
}

fn seal_part(part: u32, data: &[u8], salt: [u8; 8]) -> Vec<u8> {
    let layout = Layout::new(DEFAULT_SEGMENT_SIZE);
    let mut sealer = Sealer::with_salt(key(), layout, part, data.len() as u64, salt);
    let mut out = Vec::new();
    sealer.push(data, &mut out).unwrap();
    sealer.finish(&mut out).unwrap();
    out.concat()
}

fn single(data: &[u8]) -> Vec<u8> {
    let mut stored = seal_part(0, data, UNIT_SALT);
    let trailer = Trailer {
        kind: ObjectKind::Single,
        plaintext_len: data.len() as u64,
        part_count: 1,
        first_part: 0,
        uniform_part_len: 0,
        etag_md5: md5(data),
        unit_salt: UNIT_SALT,
    };
    stored.extend_from_slice(&trailer.seal_with_salt(&key(), TRAILER_SALT));
    stored
}

#[test]
fn key_derivation() {
    assert_eq!(
        hex::encode(key().commitment()),
        "aaa197a8a3ea4b6fc61119ca19d79c0345294f670e903feb958f164c3b0cb4dc"
    );
}

#[test]
fn single_hello_full_bytes() {
    assert_eq!(
        hex::encode(single(b"hello")),
        concat!(
            "0000000080000000756e697473616c7499832c1b0685f829a53c41dab1792877f76cf3db34",
            "ffffffffffffffff74726c7273616c74068a53fc0f015447c669c061ca435c3b17b3dc2b",
            "a567c749f22a379cd8225fe7fc7c559dc1de4258afc7c2d4e0e4b80d07941879d02480c2",
            "0ca28df1e3c02f1344b374c70e5a04ca4775699a19176ada"
        )
    );
}

#[test]
fn single_objects_by_digest() {
    let cases: [(usize, &str); 5] = [
        (
            0,
            "7f95624d1687d8f76642ce004abd6e52bc3176d7f839feb3bff08c4b2e3d9223",
        ),
        (
            1,
            "ba1b5060336dacf64b633cedd5c52e23ccdb5fc20951420a0918a5f0433c7d2c",
        ),
        (
            65536,
            "8b328e9395bd102e43b0dee4cb3e14b669ae5121bdf701c63d0c02f0006e7b49",
        ),
        (
            65537,
            "a591e6f884c1ff4147820332be1bf954d731e4f3de509225405848d40807232a",
        ),
        (
            200_000,
            "f880405ec09adb0ebf9374b0006aa993d7a269a51a1adfe9292b7c1a39c54b6f",
        ),
    ];
    let got: Vec<(usize, String)> = cases
        .iter()
        .map(|(len, _)| (*len, sha256_hex(&single(&pattern(*len, 0)))))
        .collect();
    let want: Vec<(usize, String)> = cases.iter().map(|(l, w)| (*l, w.to_string())).collect();
    assert_eq!(got, want);
}

#[test]
fn multipart_object_by_digest() {
    let data = pattern(2 * 65536 + 1000, 0);
    let (p1, p2) = data.split_at(2 * 65536);
    let mut stored = seal_part(1, p1, *b"part1slt");
    stored.extend_from_slice(&seal_part(2, p2, *b"part2slt"));
    let parts = [
        PartSummary {
            number: 1,
            plain_len: p1.len() as u64,
            md5: md5(p1),
        },
        PartSummary {
            number: 2,
            plain_len: p2.len() as u64,
            md5: md5(p2),
        },
    ];
    let trailer = Trailer::for_parts(&parts, 65536).unwrap();
    assert_eq!(trailer.etag(), "\"daa53c922994f391724c8dc071d58a43-2\"");
    stored.extend_from_slice(&trailer.seal_with_salt(&key(), TRAILER_SALT));
    assert_eq!(
        sha256_hex(&stored),
        "f183dea43f9d5ab2fccfbd668b6775b59d515ad1330b9c0b54fe4792261b2f9d"
    );
}

/// Decrypts the "hello" vector with a second AES-GCM implementation (RustCrypto) and HKDF
/// computed by hand, following docs/FORMAT.md rather than this crate's code.
#[test]
fn hello_vector_decrypts_per_the_spec() {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    use aes_gcm::{Aes256Gcm, Nonce};

    let stored = single(b"hello");
    let prk = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &OBJECT_SALT),
        &DEK,
    );
    let prk = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, prk.as_ref());
    let okm = aws_lc_rs::hmac::sign(&prk, b"cloak/v1 content key\x01");
    let cipher = Aes256Gcm::new_from_slice(okm.as_ref()).unwrap();

    let locator = &stored[..16];
    let mut nonce = locator[8..16].to_vec();
    nonce.extend_from_slice(&locator[4..8]);
    let mut aad = b"CLK\x01U".to_vec();
    aad.extend_from_slice(locator);
    let unit = &stored[16..16 + 5 + 16];
    let plain = cipher
        .decrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: unit,
                aad: &aad,
            },
        )
        .expect("the unit opens per the spec");
    assert_eq!(plain, b"hello");
}
