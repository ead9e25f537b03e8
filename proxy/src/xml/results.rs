//! The small result documents of multipart uploads and copies, and upstream `<Error>`
//! documents: read from the upstream, and written for the client with the values it must see.
//!
//! Checksums in the upstream's results describe ciphertext, so reading never keeps them;
//! a result carries a checksum only when the proxy computed one over the plaintext.

use bytes::Bytes;

use super::error::UpstreamXmlError;
use super::flat::{Flat, FlatWriter};
use crate::checksum::ChecksumAlgorithm;

/// `InitiateMultipartUploadResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitiateResult {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
}

/// `CompleteMultipartUploadResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteResult {
    pub location: Option<String>,
    pub bucket: String,
    pub key: String,
    /// The ETag, quoted (`"…-N"`).
    pub etag: String,
    /// A checksum of the plaintext, with its `ChecksumType` (`COMPOSITE` or `FULL_OBJECT`).
    pub checksum: Option<ResultChecksum>,
}

/// What a CompleteMultipartUpload answered: S3 may report a failure inside a 200 response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompleteOutcome {
    Completed(CompleteResult),
    Failed(UpstreamError),
}

/// `CopyObjectResult` or `CopyPartResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyResult {
    /// The ETag, quoted.
    pub etag: String,
    /// As S3 writes it, e.g. `2009-10-12T17:50:30.000Z`.
    pub last_modified: String,
    pub checksum: Option<ResultChecksum>,
}

/// Which copy a [`CopyResult`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyResultKind {
    /// CopyObject: `<CopyObjectResult>`.
    Object,
    /// UploadPartCopy: `<CopyPartResult>`.
    Part,
}

/// A checksum shown in a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultChecksum {
    pub algorithm: ChecksumAlgorithm,
    /// Base64, with `-N` for a composite multipart checksum.
    pub value: String,
    /// `COMPOSITE` or `FULL_OBJECT`, when the result states it.
    pub checksum_type: Option<String>,
}

/// The code and message of an upstream `<Error>` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamError {
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

impl InitiateResult {
    const ROOT: &'static str = "InitiateMultipartUploadResult";
    /// The root `rclone serve s3` (gofakes3) writes; the children are S3's.
    const ROOT_WITHOUT_RESULT: &'static str = "InitiateMultipartUpload";

    /// Reads the upstream's result.
    pub fn parse(body: &[u8]) -> Result<Self, UpstreamXmlError> {
        let flat = Flat::parse(body)?;
        if flat.expect_root(Self::ROOT_WITHOUT_RESULT).is_err() {
            flat.expect_root(Self::ROOT)?;
        }
        Ok(Self {
            bucket: flat.require(Self::ROOT, "Bucket")?,
            key: flat.require(Self::ROOT, "Key")?,
            upload_id: flat.require(Self::ROOT, "UploadId")?,
        })
    }

    /// The document for the client.
    pub fn to_xml(&self) -> Bytes {
        let mut doc = FlatWriter::new(Self::ROOT);
        doc.field("Bucket", &self.bucket)
            .field("Key", &self.key)
            .field("UploadId", &self.upload_id);
        doc.finish()
    }
}

impl CompleteResult {
    const ROOT: &'static str = "CompleteMultipartUploadResult";

    /// Reads the upstream's answer: the result, or the `<Error>` S3 may send inside a 200.
    pub fn parse(body: &[u8]) -> Result<CompleteOutcome, UpstreamXmlError> {
        let flat = Flat::parse(body)?;
        if flat.root == UpstreamError::ROOT {
            return UpstreamError::from_flat(&flat).map(CompleteOutcome::Failed);
        }
        flat.expect_root(Self::ROOT)?;
        Ok(CompleteOutcome::Completed(Self {
            location: flat.get("Location").map(str::to_owned),
            bucket: flat.require(Self::ROOT, "Bucket")?,
            key: flat.require(Self::ROOT, "Key")?,
            etag: flat.require(Self::ROOT, "ETag")?,
            checksum: None,
        }))
    }

    /// The document for the client.
    pub fn to_xml(&self) -> Bytes {
        let mut doc = FlatWriter::new(Self::ROOT);
        doc.optional("Location", self.location.as_deref())
            .field("Bucket", &self.bucket)
            .field("Key", &self.key)
            .field("ETag", &self.etag);
        write_checksum(&mut doc, self.checksum.as_ref());
        doc.finish()
    }
}

impl CopyResult {
    /// Reads the upstream's result of a copy.
    pub fn parse(body: &[u8], kind: CopyResultKind) -> Result<Self, UpstreamXmlError> {
        let root = kind.root();
        let flat = Flat::parse(body)?;
        flat.expect_root(root)?;
        Ok(Self {
            etag: flat.require(root, "ETag")?,
            last_modified: flat.require(root, "LastModified")?,
            checksum: None,
        })
    }

    /// The document for the client.
    pub fn to_xml(&self, kind: CopyResultKind) -> Bytes {
        let mut doc = FlatWriter::new(kind.root());
        doc.field("ETag", &self.etag)
            .field("LastModified", &self.last_modified);
        write_checksum(&mut doc, self.checksum.as_ref());
        doc.finish()
    }
}

impl CopyResultKind {
    fn root(self) -> &'static str {
        match self {
            Self::Object => "CopyObjectResult",
            Self::Part => "CopyPartResult",
        }
    }
}

impl UpstreamError {
    const ROOT: &'static str = "Error";

    /// Reads an upstream error body.
    pub fn parse(body: &[u8]) -> Result<Self, UpstreamXmlError> {
        Self::from_flat(&Flat::parse(body)?)
    }

    fn from_flat(flat: &Flat) -> Result<Self, UpstreamXmlError> {
        flat.expect_root(Self::ROOT)?;
        Ok(Self {
            code: flat.require(Self::ROOT, "Code")?,
            message: flat.get("Message").unwrap_or_default().to_owned(),
            request_id: flat.get("RequestId").map(str::to_owned),
        })
    }
}

fn write_checksum(doc: &mut FlatWriter, checksum: Option<&ResultChecksum>) {
    if let Some(checksum) = checksum {
        let element = format!("Checksum{}", checksum.algorithm.name());
        doc.field(&element, &checksum.value)
            .optional("ChecksumType", checksum.checksum_type.as_deref());
    }
}
