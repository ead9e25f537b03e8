//! Why an XML body could not be read, written or rewritten, whose fault that is, and the S3
//! error each reason becomes.
//!
//! [`UpstreamXmlError`] and [`ListingError`] are the upstream's fault (or, for
//! [`ListingError::Rewrite`], whoever the rewrite callback blames). [`CompleteRequestError`] is
//! always the client's fault: it describes the body of its CompleteMultipartUpload request.

use std::error::Error as StdError;

/// A boxed error from a lower layer.
pub type BoxError = Box<dyn StdError + Send + Sync>;

/// The upstream sent an XML body the proxy cannot read or rewrite.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UpstreamXmlError {
    /// The body is not well-formed XML, or uses XML the proxy does not accept (a DTD).
    #[error("The upstream sent malformed XML: {reason}")]
    Malformed { reason: String },

    /// The document is not the one the operation answers with.
    #[error("The upstream answered with a <{found}> document where <{expected}> was expected")]
    UnexpectedRoot {
        found: String,
        expected: &'static str,
    },

    /// A required element is absent.
    #[error("The upstream's <{parent}> has no <{element}>")]
    MissingElement {
        parent: &'static str,
        element: &'static str,
    },

    /// An element's text is not a valid value for it.
    #[error("The upstream's <{element}> holds an invalid value {value:?}")]
    InvalidValue {
        element: &'static str,
        value: String,
    },

    /// One entry, or one piece of markup, is larger than the proxy holds in memory.
    #[error("The upstream sent an XML element of more than {limit} bytes")]
    ElementTooLarge { limit: usize },

    /// The body ended before the document did.
    #[error("The upstream's XML body ended before the document was complete")]
    Truncated,
}

/// Why a streamed listing could not be rewritten to the end.
///
/// The listing's status and headers have usually gone out before this happens, so the
/// connection is cut rather than answered with an S3 error; the variant says what to log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListingError {
    /// The upstream's document could not be read.
    #[error(transparent)]
    Xml(#[from] UpstreamXmlError),

    /// Reading the upstream body failed.
    #[error("Reading the upstream listing failed: {0}")]
    ReadFailed(#[source] BoxError),

    /// The rewrite callback failed for one entry.
    #[error(transparent)]
    Rewrite(#[from] RewriteError),
}

/// The rewrite callback could not determine what to show for one listed entry.
#[derive(Debug, thiserror::Error)]
#[error("The plaintext size and ETag of {key:?} could not be determined: {source}")]
pub struct RewriteError {
    /// The entry's key, decoded.
    pub key: String,
    /// What went wrong (an upstream lookup, the key service, a corrupt header, ...).
    #[source]
    pub source: BoxError,
}

/// A reason to refuse the body of a CompleteMultipartUpload request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompleteRequestError {
    /// The body is not well-formed XML or does not follow S3's schema.
    #[error(
        "The XML you provided was not well-formed or did not validate against our published \
         schema ({reason})"
    )]
    MalformedXml { reason: String },

    /// A part number is outside 1..=10000.
    #[error("Part number must be an integer between 1 and 10000, inclusive")]
    InvalidPartNumber { value: String },

    /// Part numbers are not strictly ascending.
    #[error(
        "The list of parts was not in ascending order. The parts list must be specified in \
         order by part number."
    )]
    InvalidPartOrder { previous: u32, next: u32 },

    /// The body is larger than any valid request.
    #[error("Your request was too big.")]
    BodyTooLarge { limit: usize },
}

impl RewriteError {
    /// Wraps the reason `key`'s facts are unavailable.
    pub fn new(key: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self {
            key: key.into(),
            source: source.into(),
        }
    }
}

impl UpstreamXmlError {
    pub(crate) fn malformed(reason: impl Into<String>) -> Self {
        Self::Malformed {
            reason: reason.into(),
        }
    }

    /// The S3 error code this failure is reported as, when it can still be reported.
    pub fn s3_code(&self) -> &'static str {
        "InternalError"
    }

    /// The HTTP status that goes with [`UpstreamXmlError::s3_code`].
    pub fn http_status(&self) -> u16 {
        500
    }
}

impl CompleteRequestError {
    pub(crate) fn malformed(reason: impl Into<String>) -> Self {
        Self::MalformedXml {
            reason: reason.into(),
        }
    }

    /// The S3 error code this failure is reported as.
    pub fn s3_code(&self) -> &'static str {
        match self {
            Self::MalformedXml { .. } => "MalformedXML",
            Self::InvalidPartNumber { .. } => "InvalidArgument",
            Self::InvalidPartOrder { .. } => "InvalidPartOrder",
            Self::BodyTooLarge { .. } => "MaxMessageLengthExceeded",
        }
    }

    /// The HTTP status that goes with [`CompleteRequestError::s3_code`]; all are 400.
    pub fn http_status(&self) -> u16 {
        400
    }
}
