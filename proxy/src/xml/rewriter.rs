//! The callback a listing rewrite asks about each entry, and what it is told and answers.
//!
//! The listing itself only knows the upstream's view (ciphertext size, ciphertext ETag); what
//! the client must see lives in each object's envelope header or the proxy's part records,
//! which the callback looks up.

use async_trait::async_trait;

use super::error::RewriteError;

/// Which listing an entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// `<Contents>` of ListObjects (v1 or v2).
    Object,
    /// `<Version>` of ListObjectVersions.
    Version,
    /// `<Part>` of ListParts.
    Part,
}

/// What the upstream's listing says about one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFacts {
    /// Which listing the entry comes from.
    pub kind: EntryKind,
    /// The object key, XML-unescaped and, for a URL-encoded listing, URL-decoded. For a part,
    /// the key of the upload (the listing's `<Key>`, which is the request's key).
    pub key: String,
    /// `<VersionId>` of a version entry.
    pub version_id: Option<String>,
    /// `<IsLatest>` of a version entry.
    pub is_latest: Option<bool>,
    /// `<PartNumber>` of a part entry.
    pub part_number: Option<u32>,
    /// The upstream's `<Size>`: the stored (ciphertext) length.
    pub size: u64,
    /// The upstream's `<ETag>`, XML-unescaped but otherwise as sent: usually quoted
    /// (`"…"`), bare from some stores; see [`super::normalize_etag`].
    pub etag: String,
}

/// What to show for an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Show the entry with these values.
    Show(EntryView),
    /// Leave the entry out of the listing, e.g. the proxy's own objects under its reserved
    /// prefix. Counts that precede the entries in the document are not corrected; see
    /// [`super::ListingRewriter`].
    Skip,
}

/// The values shown for an entry the client sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryView {
    /// The `<Size>` to show: the plaintext length.
    pub size: u64,
    /// The `<ETag>` to show, quoted (`"…"`), or `None` to keep the upstream's.
    pub etag: Option<String>,
    /// Whether to remove the entry's `Checksum*` elements, which describe the stored bytes.
    pub drop_checksums: bool,
}

/// Decides, per entry, what a rewritten listing shows.
#[async_trait]
pub trait EntryRewriter: Send + Sync {
    /// Given what the upstream listed, returns what the client sees, or why that could not be
    /// determined (which ends the listing).
    async fn rewrite(&self, entry: &EntryFacts) -> Result<Verdict, RewriteError>;
}

impl EntryView {
    /// An entry stored encrypted: the plaintext size and ETag, without the upstream's
    /// checksums.
    pub fn plaintext(size: u64, etag: impl Into<String>) -> Self {
        Self {
            size,
            etag: Some(etag.into()),
            drop_checksums: true,
        }
    }

    /// An entry shown exactly as the upstream listed it, e.g. an object stored without
    /// encryption.
    pub fn unchanged(facts: &EntryFacts) -> Self {
        Self {
            size: facts.size,
            etag: None,
            drop_checksums: false,
        }
    }
}
