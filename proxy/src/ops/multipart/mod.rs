//! Multipart uploads, with no state outside the store (docs/FORMAT.md, "Multipart uploads
//! without shared state").
//!
//! - `upload_id`: the client's upload id carries the upstream id and the envelope header.
//! - `markers`: zero-byte objects under `.cloak/mpu/` recording each part's sealed MD5 and
//!   length, and the staged objects for parts that can only be last.
//! - `folder`: listing (page by page) and clearing an upload's marker folder.
//! - `current`: which attempt of a part the store still holds; `walk`: an upload's current
//!   parts in order, merging the folder with the store's part list (ListParts, Complete).
//! - `create`, `part`, `complete`, `abort`, `list_parts`: the operations.
//! - `part_copy`: UploadPartCopy, re-encrypting a plaintext range of another object.

pub mod abort;
pub mod complete;
pub mod create;
pub mod current;
pub mod folder;
pub mod list_parts;
pub mod markers;
pub mod part;
pub mod part_copy;
pub mod upload_id;
pub mod walk;

use http::StatusCode;

use crate::error::S3Error;

/// S3's smallest non-final part.
pub const MIN_PART: u64 = 5 << 20;
/// S3's largest part.
pub const MAX_PART: u64 = 5 << 30;
/// S3's highest part number.
pub const MAX_PART_NUMBER: u32 = 10_000;

pub fn no_such_upload() -> S3Error {
    S3Error::new(
        StatusCode::NOT_FOUND,
        "NoSuchUpload",
        "The specified upload does not exist, or its upload id was not issued by Cloak",
    )
}

pub fn invalid_part(message: impl Into<String>) -> S3Error {
    S3Error::bad_request("InvalidPart", message)
}
