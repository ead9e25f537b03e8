//! What `x-amz-content-sha256` promises about the body, and how the body must be checked.

use super::chunk_signer::ChunkSigner;
use super::error::AuthError;

/// How the request body is covered by the signature, and so how it must be verified.
#[derive(Debug, Clone)]
pub enum Payload {
    /// The body's SHA-256 was signed; the body must hash to this before it is committed.
    Sha256([u8; 32]),
    /// The body is not covered by the signature (`UNSIGNED-PAYLOAD`, presigned URLs, SigV2).
    Unsigned,
    /// aws-chunked with chained chunk signatures, and a signed trailer when `trailer` is set.
    StreamingSigned {
        /// Whether a signed trailer follows the last chunk.
        trailer: bool,
        /// The chain, seeded with the request signature.
        seed: ChunkSigner,
    },
    /// aws-chunked without signatures, followed by a checksum trailer.
    StreamingUnsignedTrailer,
}

/// The declared payload form, before a seed signature is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PayloadKind {
    Sha256([u8; 32]),
    Unsigned,
    StreamingSigned { trailer: bool },
    StreamingUnsignedTrailer,
}

impl Payload {
    /// Whether the body is aws-chunked framed.
    pub fn is_aws_chunked(&self) -> bool {
        matches!(
            self,
            Self::StreamingSigned { .. } | Self::StreamingUnsignedTrailer
        )
    }
}

/// Reads an `x-amz-content-sha256` value.
pub(crate) fn parse_content_sha256(value: &str) -> Result<PayloadKind, AuthError> {
    match value {
        "UNSIGNED-PAYLOAD" => Ok(PayloadKind::Unsigned),
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" => Ok(PayloadKind::StreamingSigned { trailer: false }),
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" => {
            Ok(PayloadKind::StreamingSigned { trailer: true })
        }
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER" => Ok(PayloadKind::StreamingUnsignedTrailer),
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"
        | "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER" => {
            Err(AuthError::UnsupportedAlgorithm {
                algorithm: "AWS4-ECDSA-P256-SHA256",
            })
        }
        digest => parse_lower_hex_digest(digest)
            .map(PayloadKind::Sha256)
            .ok_or(AuthError::InvalidContentSha256),
    }
}

/// Only lowercase hex is a digest: that is what every SDK sends and what S3 accepts.
fn parse_lower_hex_digest(value: &str) -> Option<[u8; 32]> {
    let lower = value
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if value.len() != 64 || !lower {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(value, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn every_keyword_is_recognised() {
        assert_eq!(
            parse_content_sha256("UNSIGNED-PAYLOAD"),
            Ok(PayloadKind::Unsigned)
        );
        assert_eq!(
            parse_content_sha256("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
            Ok(PayloadKind::StreamingSigned { trailer: false })
        );
        assert_eq!(
            parse_content_sha256("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"),
            Ok(PayloadKind::StreamingSigned { trailer: true })
        );
        assert_eq!(
            parse_content_sha256("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            Ok(PayloadKind::StreamingUnsignedTrailer)
        );
    }

    #[test]
    fn sigv4a_streaming_is_not_implemented() {
        for value in [
            "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
            "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
        ] {
            let error = parse_content_sha256(value).unwrap_err();
            assert_eq!(error.http_status(), 501);
        }
    }

    #[test]
    fn digests_must_be_64_lowercase_hex() {
        let Ok(PayloadKind::Sha256(digest)) = parse_content_sha256(EMPTY) else {
            panic!("a lowercase digest is accepted");
        };
        assert_eq!(hex::encode(digest), EMPTY);
        for bad in [&EMPTY.to_uppercase(), &EMPTY[..63], "", "unsigned-payload"] {
            assert_eq!(
                parse_content_sha256(bad),
                Err(AuthError::InvalidContentSha256)
            );
        }
    }
}
