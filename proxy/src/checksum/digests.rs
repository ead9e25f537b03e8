//! [`BodyDigests`]: one pass over the plaintext through every digest the request calls for.
//!
//! MD5 is always computed, because it becomes the ETag. SHA-256 is computed when the signature
//! covered a hex payload digest, and the flexible checksum when one was declared. Nothing is
//! judged until [`BodyDigests::finish`], which the caller must pass before the upstream write is
//! allowed to commit.

use http::HeaderMap;
use md5::Md5;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

use super::error::ChecksumError;
use super::request::{content_md5, declared_checksum, decode_value, DeclaredChecksum};
use super::{ChecksumAlgorithm, Checksummer};
use crate::auth::Payload;

/// What the body must match.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expectations {
    /// The signed hex `x-amz-content-sha256`, when the payload was signed that way.
    pub content_sha256: Option<[u8; 32]>,
    /// `Content-MD5`.
    pub content_md5: Option<[u8; 16]>,
    /// The flexible checksum.
    pub checksum: DeclaredChecksum,
}

/// Incremental digests of one body.
#[derive(Debug)]
pub struct BodyDigests {
    expect: Expectations,
    md5: Md5,
    sha256: Option<Sha256>,
    checksum: Option<Checksummer>,
    length: u64,
}

/// The digests of a body that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    /// MD5 of the body: the single-part ETag.
    pub md5: [u8; 16],
    /// The declared flexible checksum and its (verified) base64 value.
    pub checksum: Option<(ChecksumAlgorithm, String)>,
    /// The body length in bytes.
    pub length: u64,
}

impl Expectations {
    /// Collects the expectations from a verified request's headers and payload form.
    pub fn from_request(headers: &HeaderMap, payload: &Payload) -> Result<Self, ChecksumError> {
        let content_sha256 = match payload {
            Payload::Sha256(digest) => Some(*digest),
            _ => None,
        };
        Ok(Self {
            content_sha256,
            content_md5: content_md5(headers)?,
            checksum: declared_checksum(headers)?,
        })
    }
}

impl BodyDigests {
    /// Starts the digests `expect` needs (MD5 always).
    pub fn new(expect: Expectations) -> Self {
        Self {
            sha256: expect.content_sha256.map(|_| Sha256::new()),
            checksum: expect.checksum.algorithm().map(Checksummer::new),
            md5: Md5::new(),
            length: 0,
            expect,
        }
    }

    /// Feeds the next piece of plaintext.
    pub fn update(&mut self, data: &[u8]) {
        self.md5.update(data);
        if let Some(sha256) = self.sha256.as_mut() {
            sha256.update(data);
        }
        if let Some(checksum) = self.checksum.as_mut() {
            checksum.update(data);
        }
        self.length += data.len() as u64;
    }

    /// Checks every expectation; `trailers` are those the aws-chunked decoder returned.
    ///
    /// The signed payload hash is checked first: it is the one the signature vouches for.
    pub fn finish(self, trailers: Option<&HeaderMap>) -> Result<Digests, ChecksumError> {
        if let (Some(expected), Some(sha256)) = (self.expect.content_sha256, self.sha256) {
            if !bool::from(sha256.finalize().as_slice().ct_eq(&expected)) {
                return Err(ChecksumError::ContentSha256Mismatch);
            }
        }

        let md5: [u8; 16] = self.md5.finalize().into();
        if let Some(expected) = self.expect.content_md5 {
            if !bool::from(md5.ct_eq(&expected)) {
                return Err(ChecksumError::ContentMd5Mismatch);
            }
        }

        let empty = HeaderMap::new();
        let trailers = trailers.unwrap_or(&empty);
        check_undeclared_trailers(&self.expect.checksum, trailers)?;
        let checksum = match self.checksum {
            Some(summer) => Some(verify_checksum(&self.expect.checksum, summer, trailers)?),
            None => None,
        };
        Ok(Digests {
            md5,
            checksum,
            length: self.length,
        })
    }
}

impl Digests {
    /// The ETag S3 gives a single-part object: the quoted lowercase hex MD5.
    pub fn etag(&self) -> String {
        format!("\"{}\"", hex::encode(self.md5))
    }
}

fn verify_checksum(
    declared: &DeclaredChecksum,
    summer: Checksummer,
    trailers: &HeaderMap,
) -> Result<(ChecksumAlgorithm, String), ChecksumError> {
    let algorithm = summer.algorithm();
    let expected = match declared {
        DeclaredChecksum::Header { value, .. } => value.clone(),
        DeclaredChecksum::Trailer { .. } => {
            let value = trailers
                .get(algorithm.header_name())
                .ok_or(ChecksumError::TrailerMissing { algorithm })?;
            decode_value(algorithm, value.as_bytes(), true)?
        }
        DeclaredChecksum::None => return Err(ChecksumError::TrailerMissing { algorithm }),
    };
    let computed = summer.finish_bytes();
    if !bool::from(computed.ct_eq(&expected)) {
        return Err(ChecksumError::ChecksumMismatch { algorithm });
    }
    Ok((algorithm, base64_of(&computed)))
}

/// Only the announced checksum trailer may arrive: anything else was not covered by the
/// header signature's `x-amz-trailer` and cannot be verified.
fn check_undeclared_trailers(
    declared: &DeclaredChecksum,
    trailers: &HeaderMap,
) -> Result<(), ChecksumError> {
    let allowed = match declared {
        DeclaredChecksum::Trailer { algorithm } => Some(algorithm.header_name()),
        _ => None,
    };
    match trailers.keys().find(|name| Some(name.as_str()) != allowed) {
        Some(name) => Err(ChecksumError::UndeclaredTrailer {
            name: name.as_str().to_owned(),
        }),
        None => Ok(()),
    }
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digests_of(
        expect: Expectations,
        body: &[u8],
        trailers: Option<&HeaderMap>,
    ) -> Result<Digests, ChecksumError> {
        let mut digests = BodyDigests::new(expect);
        for piece in body.chunks(3) {
            digests.update(piece);
        }
        digests.finish(trailers)
    }

    fn trailer(name: &str, value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        let name: http::HeaderName = name.parse().expect("valid name");
        map.insert(name, value.parse().expect("valid value"));
        map
    }

    fn crc32_trailer() -> Expectations {
        Expectations {
            checksum: DeclaredChecksum::Trailer {
                algorithm: ChecksumAlgorithm::Crc32,
            },
            ..Expectations::default()
        }
    }

    #[test]
    fn md5_is_always_the_etag() {
        let digests = digests_of(Expectations::default(), b"bar", None).expect("nothing to fail");
        assert_eq!(digests.etag(), "\"37b51d194a7513e45b56f6524f2d51f2\"");
        assert_eq!(digests.length, 3);
        assert_eq!(digests.checksum, None);
    }

    #[test]
    fn signed_sha256_is_checked() {
        let expect = |digest: [u8; 32]| Expectations {
            content_sha256: Some(digest),
            ..Expectations::default()
        };
        let good: [u8; 32] = Sha256::digest(b"hello").into();
        assert!(digests_of(expect(good), b"hello", None).is_ok());
        let error = digests_of(expect(good), b"hellO", None).unwrap_err();
        assert_eq!(error.s3_code(), "XAmzContentSHA256Mismatch");
    }

    #[test]
    fn content_md5_is_checked() {
        let expect = Expectations {
            content_md5: Some(Md5::digest(b"hello").into()),
            ..Expectations::default()
        };
        assert!(digests_of(expect.clone(), b"hello", None).is_ok());
        let error = digests_of(expect, b"world", None).unwrap_err();
        assert_eq!(error, ChecksumError::ContentMd5Mismatch);
        assert_eq!(error.s3_code(), "BadDigest");
    }

    #[test]
    fn header_checksum_is_checked() {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-checksum-crc32", "DUoRhQ==".parse().expect("valid"));
        let expect = Expectations::from_request(&headers, &Payload::Unsigned).expect("valid");
        let digests = digests_of(expect.clone(), b"hello world", None).expect("matches");
        assert_eq!(
            digests.checksum,
            Some((ChecksumAlgorithm::Crc32, "DUoRhQ==".into()))
        );
        let error = digests_of(expect, b"hello world!", None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "The CRC32 you specified did not match the calculated checksum."
        );
    }

    #[test]
    fn trailer_checksum_is_checked() {
        let good = trailer("x-amz-checksum-crc32", "DUoRhQ==");
        let digests = digests_of(crc32_trailer(), b"hello world", Some(&good)).expect("matches");
        assert_eq!(
            digests.checksum,
            Some((ChecksumAlgorithm::Crc32, "DUoRhQ==".into()))
        );

        let wrong = trailer("x-amz-checksum-crc32", "i9aeUg==");
        let error = digests_of(crc32_trailer(), b"hello world", Some(&wrong)).unwrap_err();
        assert_eq!(
            error,
            ChecksumError::ChecksumMismatch {
                algorithm: ChecksumAlgorithm::Crc32
            }
        );

        let invalid = trailer("x-amz-checksum-crc32", "@@@@");
        let error = digests_of(crc32_trailer(), b"hello world", Some(&invalid)).unwrap_err();
        assert_eq!(error.s3_code(), "InvalidRequest");
    }

    #[test]
    fn missing_declared_trailer_is_an_incomplete_body() {
        let error = digests_of(crc32_trailer(), b"hello world", None).unwrap_err();
        assert_eq!(error.s3_code(), "IncompleteBody");
    }

    #[test]
    fn undeclared_trailers_are_refused() {
        let other = trailer("x-amz-checksum-crc32c", "yZRlqg==");
        let error = digests_of(crc32_trailer(), b"hello world", Some(&other)).unwrap_err();
        assert!(
            matches!(error, ChecksumError::UndeclaredTrailer { .. }),
            "{error:?}"
        );
        let error = digests_of(Expectations::default(), b"x", Some(&other)).unwrap_err();
        assert!(
            matches!(error, ChecksumError::UndeclaredTrailer { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn expectations_follow_the_payload_form() {
        let digest: [u8; 32] = Sha256::digest(b"").into();
        let expect =
            Expectations::from_request(&HeaderMap::new(), &Payload::Sha256(digest)).expect("valid");
        assert_eq!(expect.content_sha256, Some(digest));
        let expect =
            Expectations::from_request(&HeaderMap::new(), &Payload::StreamingUnsignedTrailer)
                .expect("valid");
        assert_eq!(expect.content_sha256, None);

        let mut bad = HeaderMap::new();
        bad.insert("content-md5", "short".parse().expect("valid"));
        let error = Expectations::from_request(&bad, &Payload::Unsigned).unwrap_err();
        assert_eq!(error.s3_code(), "InvalidDigest");
    }
}
