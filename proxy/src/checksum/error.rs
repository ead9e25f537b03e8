//! Why a body's digests or checksum declarations were refused, and the S3 error of each.
//!
//! Every variant is the client's fault. The `Display` text follows S3's own messages.

use super::ChecksumAlgorithm;

/// A reason to refuse a request body or its checksum headers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChecksumError {
    /// The body does not hash to the signed `x-amz-content-sha256`.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    ContentSha256Mismatch,

    /// The body does not match `Content-MD5`.
    #[error("The Content-MD5 you specified did not match what we received.")]
    ContentMd5Mismatch,

    /// `Content-MD5` is not base64 of 16 bytes.
    #[error("The Content-MD5 you specified is not valid.")]
    InvalidContentMd5,

    /// The body does not match the declared flexible checksum.
    #[error("The {algorithm} you specified did not match the calculated checksum.")]
    ChecksumMismatch { algorithm: ChecksumAlgorithm },

    /// A checksum value is not base64 of the algorithm's digest length.
    #[error("Value for {} {} is invalid.", algorithm.header_name(), place(*trailing))]
    InvalidChecksumValue {
        algorithm: ChecksumAlgorithm,
        trailing: bool,
    },

    /// More than one checksum was declared (headers, trailers, or both).
    #[error("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")]
    MultipleChecksums,

    /// `x-amz-sdk-checksum-algorithm` names no known algorithm, or not the declared one.
    #[error("Value for x-amz-sdk-checksum-algorithm header is invalid.")]
    InvalidSdkAlgorithm,

    /// `x-amz-sdk-checksum-algorithm` was sent without any checksum to go with it.
    #[error(
        "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* \
         or x-amz-trailer headers were found."
    )]
    SdkAlgorithmWithoutChecksum,

    /// `x-amz-trailer` names something other than a checksum.
    #[error("The value specified in the x-amz-trailer header is not supported")]
    UnsupportedTrailer { name: String },

    /// A trailer arrived that `x-amz-trailer` did not announce.
    #[error("The trailer {name} was not declared in x-amz-trailer")]
    UndeclaredTrailer { name: String },

    /// A declared checksum trailer never arrived.
    #[error("The request body terminated unexpectedly")]
    TrailerMissing { algorithm: ChecksumAlgorithm },
}

impl ChecksumError {
    /// The S3 error code this failure is reported as.
    pub fn s3_code(&self) -> &'static str {
        match self {
            Self::ContentSha256Mismatch => "XAmzContentSHA256Mismatch",
            Self::ContentMd5Mismatch | Self::ChecksumMismatch { .. } => "BadDigest",
            Self::InvalidContentMd5 => "InvalidDigest",
            Self::TrailerMissing { .. } => "IncompleteBody",
            Self::InvalidChecksumValue { .. }
            | Self::MultipleChecksums
            | Self::InvalidSdkAlgorithm
            | Self::SdkAlgorithmWithoutChecksum
            | Self::UnsupportedTrailer { .. }
            | Self::UndeclaredTrailer { .. } => "InvalidRequest",
        }
    }

    /// The HTTP status that goes with [`ChecksumError::s3_code`]; all are 400.
    pub fn http_status(&self) -> u16 {
        400
    }
}

fn place(trailing: bool) -> &'static str {
    match trailing {
        true => "trailing header",
        false => "header",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_s3() {
        let mismatch = ChecksumError::ChecksumMismatch {
            algorithm: ChecksumAlgorithm::Crc64Nvme,
        };
        assert_eq!(
            mismatch.to_string(),
            "The CRC64NVME you specified did not match the calculated checksum."
        );
        let invalid = ChecksumError::InvalidChecksumValue {
            algorithm: ChecksumAlgorithm::Crc64Nvme,
            trailing: true,
        };
        assert_eq!(
            invalid.to_string(),
            "Value for x-amz-checksum-crc64nvme trailing header is invalid."
        );
    }

    #[test]
    fn codes_follow_s3() {
        assert_eq!(
            ChecksumError::ContentSha256Mismatch.s3_code(),
            "XAmzContentSHA256Mismatch"
        );
        assert_eq!(ChecksumError::ContentMd5Mismatch.s3_code(), "BadDigest");
        assert_eq!(ChecksumError::InvalidContentMd5.s3_code(), "InvalidDigest");
        assert_eq!(ChecksumError::MultipleChecksums.s3_code(), "InvalidRequest");
        let missing = ChecksumError::TrailerMissing {
            algorithm: ChecksumAlgorithm::Crc32,
        };
        assert_eq!(missing.s3_code(), "IncompleteBody");
        assert_eq!(missing.http_status(), 400);
    }
}
