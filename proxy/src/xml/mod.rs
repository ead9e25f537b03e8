//! The S3 XML bodies Cloak reads, writes or rewrites.
//!
//! The upstream stores ciphertext, so its sizes are ciphertext lengths and its ETags and
//! checksums describe ciphertext. Every body that mentions them must be rewritten before the
//! client sees it, and every ETag the client sends back must be translated before the upstream
//! sees it.
//!
//! Layout:
//! - `listing`: [`ListingRewriter`], which streams ListObjects (v1, v2), ListObjectVersions
//!   and ListParts results through, rewriting each entry via an [`EntryRewriter`].
//! - `rewriter`: the callback trait and what it is told ([`EntryFacts`]) and answers
//!   ([`Verdict`]).
//! - `outline`, `entry`: the streaming rewrite's pieces: the document's top-level shape, and
//!   one buffered entry.
//! - `token`, `tree`: the tokenizer that keeps every byte, and the element spans a splice
//!   needs.
//! - `complete`: the client's CompleteMultipartUpload request, and the one sent upstream.
//! - `results`: small result documents: InitiateMultipartUpload, CompleteMultipartUpload,
//!   CopyObject and UploadPartCopy, and upstream `<Error>` documents.
//! - `parts`: ListParts: the store's page read, the client's page written from markers.
//! - `uploads`: ListMultipartUploads with its upload ids replaced.
//! - `attributes`: the GetObjectAttributes answer.
//! - `flat`: reading a document whose root holds only simple elements.
//! - `text`: escaping, URL-encoded keys and ETag forms.
//! - `error`: what can go wrong, whose fault it is, and its S3 error code.

mod attributes;
mod complete;
mod entry;
mod error;
mod flat;
mod listing;
mod outline;
mod parts;
mod results;
mod rewriter;
mod text;
mod token;
mod tree;
mod uploads;

#[cfg(test)]
mod tests_complete;
#[cfg(test)]
mod tests_fixtures;
#[cfg(test)]
mod tests_flow;
#[cfg(test)]
mod tests_listing;
#[cfg(test)]
mod tests_results;

pub use attributes::{AttributeParts, ObjectAttributes};
pub use complete::{
    parse_complete_request, write_complete_request, CompletedPart, PartChecksum,
    MAX_COMPLETE_REQUEST_BYTES,
};
pub use error::{BoxError, CompleteRequestError, ListingError, RewriteError, UpstreamXmlError};
pub use listing::{ListingBody, ListingConfig, ListingRewriter};
pub use parts::{ListedPart, PartsListing, PartsPage};
pub use results::{
    CompleteOutcome, CompleteResult, CopyResult, CopyResultKind, InitiateResult, ResultChecksum,
    UpstreamError,
};
pub use rewriter::{EntryFacts, EntryKind, EntryRewriter, EntryView, Verdict};
pub use text::normalize_etag;
pub use uploads::{rewrite_upload_listing, UploadIdPlace, UploadIdRef, UploadIdVerdict};

/// S3's namespace, which every result document Cloak writes declares.
pub const S3_NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// How keys are written in a listing (the `encoding-type` request parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyEncoding {
    /// Keys are XML text (no `encoding-type`).
    #[default]
    None,
    /// Keys are URL-encoded (`encoding-type=url`), as botocore always asks for.
    Url,
}
