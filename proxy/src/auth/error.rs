//! Why a downstream request's authentication was refused, and the S3 error each reason becomes.
//!
//! Every variant is the client's fault. The `Display` text is written to be usable as the
//! `<Message>` of the S3 error document; none of it ever contains key material.

/// A reason to refuse a request's signature.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// Neither an Authorization header nor presigned query parameters were sent.
    #[error("Access Denied")]
    Anonymous,

    /// The Authorization header names a scheme this proxy does not know at all.
    #[error("Unsupported Authorization Type")]
    UnknownAuthorizationType,

    /// Both an Authorization header and presigned query parameters were sent.
    #[error("Only one auth mechanism allowed")]
    ConflictingMechanisms,

    /// A signing algorithm that exists but is not implemented here (SigV4a).
    #[error("The {algorithm} signing algorithm is not implemented")]
    UnsupportedAlgorithm { algorithm: &'static str },

    /// Signature Version 2 was used but is disabled by configuration.
    #[error("Signature Version 2 is not accepted; use AWS4-HMAC-SHA256")]
    SigV2Refused,

    /// The Authorization header could not be parsed, or its scope is unacceptable.
    #[error("The authorization header is malformed; {reason}")]
    MalformedAuthorization { reason: &'static str },

    /// The presigned query parameters could not be parsed.
    #[error("Query-string authentication is malformed; {reason}")]
    MalformedQueryAuth { reason: &'static str },

    /// The access key id is not in the credential store.
    #[error("The AWS Access Key Id you provided does not exist in our records.")]
    UnknownAccessKey,

    /// The recomputed signature differs from the one the client sent.
    #[error(
        "The request signature we calculated does not match the signature you provided. \
         Check your key and signing method."
    )]
    SignatureMismatch,

    /// A header named in SignedHeaders is not present in the request.
    #[error("The signed header {name} is not present in the request")]
    SignedHeaderAbsent { name: String },

    /// An `x-amz-*` header is present but not covered by the signature.
    #[error("There were headers present in the request which were not signed")]
    UnsignedAmzHeader { name: String },

    /// Neither `x-amz-date` nor `Date` holds a usable timestamp.
    #[error("AWS authentication requires a valid Date or x-amz-date header")]
    MissingDate,

    /// The request time is further from the server clock than the allowed skew.
    #[error("The difference between the request time and the current time is too large.")]
    ClockSkew,

    /// The presigned request's validity has ended.
    #[error("Request has expired")]
    Expired,

    /// The presigned lifetime is not positive, or longer than the configured maximum.
    #[error("X-Amz-Expires must be between 1 and {max_seconds} seconds")]
    ExpiryOutOfRange { max_seconds: u64 },

    /// Header authentication without `x-amz-content-sha256`.
    #[error("Missing required header for this request: x-amz-content-sha256")]
    MissingContentSha256,

    /// `x-amz-content-sha256` holds neither a digest nor a known keyword.
    #[error(
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING- keyword or a hex SHA-256"
    )]
    InvalidContentSha256,
}

impl AuthError {
    /// The S3 error code this failure is reported as.
    pub fn s3_code(&self) -> &'static str {
        match self {
            Self::Anonymous
            | Self::SigV2Refused
            | Self::UnsignedAmzHeader { .. }
            | Self::MissingDate
            | Self::Expired
            | Self::ExpiryOutOfRange { .. } => "AccessDenied",
            Self::UnknownAuthorizationType
            | Self::ConflictingMechanisms
            | Self::InvalidContentSha256 => "InvalidArgument",
            Self::UnsupportedAlgorithm { .. } => "NotImplemented",
            Self::MalformedAuthorization { .. } => "AuthorizationHeaderMalformed",
            Self::MalformedQueryAuth { .. } => "AuthorizationQueryParametersError",
            Self::UnknownAccessKey => "InvalidAccessKeyId",
            Self::SignatureMismatch | Self::SignedHeaderAbsent { .. } => "SignatureDoesNotMatch",
            Self::ClockSkew => "RequestTimeTooSkewed",
            Self::MissingContentSha256 => "MissingSecurityHeader",
        }
    }

    /// The HTTP status that goes with [`AuthError::s3_code`].
    pub fn http_status(&self) -> u16 {
        match self.s3_code() {
            "NotImplemented" => 501,
            "InvalidArgument"
            | "AuthorizationHeaderMalformed"
            | "AuthorizationQueryParametersError"
            | "MissingSecurityHeader" => 400,
            _ => 403,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AuthError;

    #[test]
    fn codes_and_statuses_follow_s3() {
        let cases = [
            (AuthError::SignatureMismatch, "SignatureDoesNotMatch", 403),
            (AuthError::UnknownAccessKey, "InvalidAccessKeyId", 403),
            (AuthError::Expired, "AccessDenied", 403),
            (AuthError::ClockSkew, "RequestTimeTooSkewed", 403),
            (
                AuthError::MalformedAuthorization { reason: "x" },
                "AuthorizationHeaderMalformed",
                400,
            ),
            (
                AuthError::MalformedQueryAuth { reason: "x" },
                "AuthorizationQueryParametersError",
                400,
            ),
            (
                AuthError::UnsupportedAlgorithm {
                    algorithm: "AWS4-ECDSA-P256-SHA256",
                },
                "NotImplemented",
                501,
            ),
            (
                AuthError::MissingContentSha256,
                "MissingSecurityHeader",
                400,
            ),
            (AuthError::InvalidContentSha256, "InvalidArgument", 400),
            (AuthError::Anonymous, "AccessDenied", 403),
        ];
        for (error, code, status) in cases {
            assert_eq!(error.s3_code(), code, "{error:?}");
            assert_eq!(error.http_status(), status, "{error:?}");
        }
    }

    #[test]
    fn expired_message_is_the_one_s3_prints() {
        assert_eq!(AuthError::Expired.to_string(), "Request has expired");
    }
}
