//! The flexible checksums (`x-amz-checksum-*`) and Content-MD5, computed over the plaintext.
//!
//! Layout:
//! - this file: [`ChecksumAlgorithm`] and the incremental [`Checksummer`].
//! - `request`: what the request headers declare (value header, trailer, SDK algorithm,
//!   Content-MD5) and the rules S3 applies to those declarations.
//! - `digests`: [`BodyDigests`], which feeds the body once through every digest the request
//!   calls for and checks them all at the end.
//! - `error`: [`ChecksumError`] and its S3 codes.
//!
//! Values are base64 of the big-endian digest bytes, as S3 prints them.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

mod digests;
mod error;
mod request;

pub use digests::{BodyDigests, Digests, Expectations};
pub use error::ChecksumError;
pub use request::{content_md5, declared_checksum, DeclaredChecksum};

/// An S3 flexible checksum algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumAlgorithm {
    /// CRC-32 (ISO-HDLC, as zlib computes it).
    Crc32,
    /// CRC-32C (Castagnoli).
    Crc32c,
    /// CRC-64/NVME.
    Crc64Nvme,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

/// An in-progress checksum over a body.
pub struct Checksummer {
    state: State,
}

enum State {
    Crc32(crc32fast::Hasher),
    Crc32c(u32),
    Crc64Nvme(crc64fast_nvme::Digest),
    Sha1(Sha1),
    Sha256(Sha256),
}

impl ChecksumAlgorithm {
    /// Every algorithm, in the order botocore prefers them when validating responses.
    pub const ALL: [Self; 5] = [
        Self::Crc64Nvme,
        Self::Crc32c,
        Self::Crc32,
        Self::Sha1,
        Self::Sha256,
    ];

    /// The name used in `x-amz-sdk-checksum-algorithm` and error messages (`CRC32`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Crc64Nvme => "CRC64NVME",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
        }
    }

    /// The header (or trailer) carrying the value, e.g. `x-amz-checksum-crc32`.
    pub fn header_name(self) -> &'static str {
        match self {
            Self::Crc32 => "x-amz-checksum-crc32",
            Self::Crc32c => "x-amz-checksum-crc32c",
            Self::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Self::Sha1 => "x-amz-checksum-sha1",
            Self::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// Parses an algorithm name, in any case.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Parses a value header name, in any case.
    pub fn from_header_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.header_name().eq_ignore_ascii_case(name.trim()))
    }

    /// The digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Crc32 | Self::Crc32c => 4,
            Self::Crc64Nvme => 8,
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        }
    }
}

impl fmt::Display for ChecksumAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Checksummer {
    /// Starts a checksum.
    pub fn new(algorithm: ChecksumAlgorithm) -> Self {
        let state = match algorithm {
            ChecksumAlgorithm::Crc32 => State::Crc32(crc32fast::Hasher::new()),
            ChecksumAlgorithm::Crc32c => State::Crc32c(0),
            ChecksumAlgorithm::Crc64Nvme => State::Crc64Nvme(crc64fast_nvme::Digest::new()),
            ChecksumAlgorithm::Sha1 => State::Sha1(Sha1::new()),
            ChecksumAlgorithm::Sha256 => State::Sha256(Sha256::new()),
        };
        Self { state }
    }

    /// The algorithm being computed.
    pub fn algorithm(&self) -> ChecksumAlgorithm {
        match self.state {
            State::Crc32(_) => ChecksumAlgorithm::Crc32,
            State::Crc32c(_) => ChecksumAlgorithm::Crc32c,
            State::Crc64Nvme(_) => ChecksumAlgorithm::Crc64Nvme,
            State::Sha1(_) => ChecksumAlgorithm::Sha1,
            State::Sha256(_) => ChecksumAlgorithm::Sha256,
        }
    }

    /// Feeds more of the body.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.state {
            State::Crc32(h) => h.update(data),
            State::Crc32c(crc) => *crc = crc32c::crc32c_append(*crc, data),
            State::Crc64Nvme(h) => h.write(data),
            State::Sha1(h) => h.update(data),
            State::Sha256(h) => h.update(data),
        }
    }

    /// The big-endian digest bytes.
    pub fn finish_bytes(self) -> Vec<u8> {
        match self.state {
            State::Crc32(h) => h.finalize().to_be_bytes().to_vec(),
            State::Crc32c(crc) => crc.to_be_bytes().to_vec(),
            State::Crc64Nvme(h) => h.sum64().to_be_bytes().to_vec(),
            State::Sha1(h) => h.finalize().to_vec(),
            State::Sha256(h) => h.finalize().to_vec(),
        }
    }

    /// The value as S3 prints it: base64 of the digest bytes.
    pub fn finish(self) -> String {
        STANDARD.encode(self.finish_bytes())
    }
}

impl fmt::Debug for Checksummer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checksummer")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checksum(algorithm: ChecksumAlgorithm, data: &[u8]) -> String {
        let mut summer = Checksummer::new(algorithm);
        summer.update(data);
        summer.finish()
    }

    #[test]
    fn crc_check_values() {
        let check = |algorithm, data: &[u8]| {
            let mut summer = Checksummer::new(algorithm);
            summer.update(data);
            hex::encode(summer.finish_bytes())
        };
        assert_eq!(check(ChecksumAlgorithm::Crc32, b"123456789"), "cbf43926");
        assert_eq!(check(ChecksumAlgorithm::Crc32c, b"123456789"), "e3069283");
        assert_eq!(
            check(ChecksumAlgorithm::Crc64Nvme, b"123456789"),
            "ae8b14860a799888"
        );
    }

    #[test]
    fn values_clients_send() {
        // smithy-rs test vector, and the body boto3 sends in its HTTPS trailer example.
        assert_eq!(
            checksum(ChecksumAlgorithm::Crc32, b"Hello world"),
            "i9aeUg=="
        );
        assert_eq!(
            checksum(ChecksumAlgorithm::Crc32, b"hello world"),
            "DUoRhQ=="
        );
        // The trailer of AWS's signed-trailer example, over 66,560 bytes of `a`.
        assert_eq!(
            checksum(ChecksumAlgorithm::Crc32c, &[b'a'; 66_560]),
            "sOO8/Q=="
        );
        assert_eq!(
            checksum(ChecksumAlgorithm::Sha1, b""),
            "2jmj7l5rSw0yVb/vlWAYkK/YBwk="
        );
        assert_eq!(
            checksum(ChecksumAlgorithm::Sha256, b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn incremental_equals_one_shot() {
        let data: Vec<u8> = (0..10_000u32).map(|n| (n * 7 % 251) as u8).collect();
        for algorithm in ChecksumAlgorithm::ALL {
            let mut split = Checksummer::new(algorithm);
            for piece in data.chunks(333) {
                split.update(piece);
            }
            assert_eq!(split.finish(), checksum(algorithm, &data), "{algorithm}");
        }
    }

    #[test]
    fn names_round_trip() {
        for algorithm in ChecksumAlgorithm::ALL {
            assert_eq!(
                ChecksumAlgorithm::from_name(algorithm.name()),
                Some(algorithm)
            );
            let lower = algorithm.name().to_ascii_lowercase();
            assert_eq!(ChecksumAlgorithm::from_name(&lower), Some(algorithm));
            let header = algorithm.header_name().to_ascii_uppercase();
            assert_eq!(
                ChecksumAlgorithm::from_header_name(&header),
                Some(algorithm)
            );
            let value = checksum(algorithm, b"x");
            let decoded = STANDARD.decode(value).expect("base64");
            assert_eq!(decoded.len(), algorithm.digest_len());
        }
        assert_eq!(ChecksumAlgorithm::from_name("MD5"), None);
        assert_eq!(
            ChecksumAlgorithm::from_header_name("x-amz-checksum-type"),
            None
        );
    }
}
