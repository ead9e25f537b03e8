//! The signature chain of a `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]` body.
//!
//! Each chunk is signed over the previous signature (the request's own signature, the seed, for
//! the first chunk) and the SHA-256 of its data, so chunks cannot be dropped, reordered or
//! replayed from another request. Every chunk reuses the request's timestamp and scope, which is
//! why a long upload is not subject to the clock-skew check after its start.

use std::fmt;

use sha2::{Digest, Sha256};

use super::signing_key::{signature_matches, SigningKey};

/// SHA-256 of the empty string, which every chunk string to sign carries.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Verifies chunk and trailer signatures of one aws-chunked request body.
#[derive(Clone)]
pub struct ChunkSigner {
    key: SigningKey,
    timestamp: String,
    scope: String,
    previous: [u8; 32],
}

impl ChunkSigner {
    pub(crate) fn new(key: SigningKey, timestamp: String, scope: String, seed: [u8; 32]) -> Self {
        Self {
            key,
            timestamp,
            scope,
            previous: seed,
        }
    }

    /// A signer for tests elsewhere in the crate, seeded with a hex signature.
    #[cfg(test)]
    pub(crate) fn for_tests(secret: &str, timestamp: &str, region: &str, seed_hex: &str) -> Self {
        let scope = super::signing_key::Scope {
            date: timestamp[..8].to_owned(),
            region: region.to_owned(),
            service: "s3".to_owned(),
        };
        let key = SigningKey::derive(&super::credentials::SecretKey::new(secret), &scope);
        let seed = super::signing_key::decode_signature(seed_hex).expect("a 64-digit hex seed");
        Self::new(key, timestamp.to_owned(), scope.to_line(), seed)
    }

    /// Checks the signature of the next chunk, given the SHA-256 of its data.
    ///
    /// The chain only advances when the signature matches; after a mismatch the body must be
    /// abandoned.
    pub fn verify_chunk(&mut self, data_sha256: &[u8; 32], provided_hex: &[u8]) -> bool {
        let expected = self.chunk_signature(data_sha256);
        self.advance_if(expected, provided_hex)
    }

    /// Checks the `x-amz-trailer-signature` over the canonical trailers
    /// (`name:value\n` for each trailer, names lowercase and sorted).
    pub fn verify_trailer(&mut self, canonical_trailers: &[u8], provided_hex: &[u8]) -> bool {
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}",
            self.timestamp,
            self.scope,
            hex::encode(self.previous),
            hex::encode(Sha256::digest(canonical_trailers)),
        );
        let expected = self.key.sign(string_to_sign.as_bytes());
        self.advance_if(expected, provided_hex)
    }

    /// The signature the next chunk must carry.
    pub fn chunk_signature(&self, data_sha256: &[u8; 32]) -> [u8; 32] {
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{}\n{}",
            self.timestamp,
            self.scope,
            hex::encode(self.previous),
            EMPTY_SHA256,
            hex::encode(data_sha256),
        );
        self.key.sign(string_to_sign.as_bytes())
    }

    fn advance_if(&mut self, expected: [u8; 32], provided_hex: &[u8]) -> bool {
        let matches = signature_matches(&expected, provided_hex);
        if matches {
            self.previous = expected;
        }
        matches
    }
}

impl fmt::Debug for ChunkSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkSigner")
            .field("timestamp", &self.timestamp)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::credentials::SecretKey;
    use crate::auth::signing_key::{decode_signature, Scope};

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    /// AWS's published multi-chunk example (sigv4-streaming): 64 KiB and 1 KiB of `a`.
    const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
    const CHUNK_1: &str = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
    const CHUNK_2: &str = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
    const FINAL: &str = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";

    /// AWS's published signed-trailer example (sigv4-streaming-trailers).
    const TRAILER_SEED: &str = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
    const TRAILER_CHUNKS: [&str; 3] = [
        "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
        "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
        "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
    ];
    const TRAILER_SIGNATURE: &str =
        "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435";

    fn signer(seed: &str) -> ChunkSigner {
        let scope = Scope {
            date: "20130524".into(),
            region: "us-east-1".into(),
            service: "s3".into(),
        };
        let key = SigningKey::derive(&SecretKey::new(SECRET), &scope);
        let seed = decode_signature(seed).expect("hex seed");
        ChunkSigner::new(key, "20130524T000000Z".into(), scope.to_line(), seed)
    }

    fn sha(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    #[test]
    fn aws_chunked_example_chain_verifies() {
        let mut chain = signer(SEED);
        assert!(chain.verify_chunk(&sha(&[b'a'; 65_536]), CHUNK_1.as_bytes()));
        assert!(chain.verify_chunk(&sha(&[b'a'; 1024]), CHUNK_2.as_bytes()));
        assert!(chain.verify_chunk(&sha(b""), FINAL.as_bytes()));
    }

    #[test]
    fn chain_rejects_reordered_chunks() {
        let mut chain = signer(SEED);
        assert!(!chain.verify_chunk(&sha(&[b'a'; 1024]), CHUNK_2.as_bytes()));
        assert!(!chain.verify_chunk(&sha(&[b'a'; 1024]), CHUNK_1.as_bytes()));
    }

    #[test]
    fn aws_trailer_example_verifies() {
        let mut chain = signer(TRAILER_SEED);
        assert!(chain.verify_chunk(&sha(&[b'a'; 65_536]), TRAILER_CHUNKS[0].as_bytes()));
        assert!(chain.verify_chunk(&sha(&[b'a'; 1024]), TRAILER_CHUNKS[1].as_bytes()));
        assert!(chain.verify_chunk(&sha(b""), TRAILER_CHUNKS[2].as_bytes()));
        let trailers = b"x-amz-checksum-crc32c:sOO8/Q==\n";
        assert!(!chain.clone().verify_trailer(
            b"x-amz-checksum-crc32c:sOO8/Q=\n",
            TRAILER_SIGNATURE.as_bytes()
        ));
        assert!(chain.verify_trailer(trailers, TRAILER_SIGNATURE.as_bytes()));
    }

    #[test]
    fn debug_omits_the_key() {
        let text = format!("{:?}", signer(SEED));
        assert!(text.contains("20130524/us-east-1/s3/aws4_request"));
        assert!(!text.contains("key"));
    }
}
