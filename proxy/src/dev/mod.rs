//! The embedded upstream for `cloak serve --dev`: an S3 API over a local data directory, so the
//! proxy runs with no outside service and still reaches its store through the same upstream
//! HTTP client, signatures included, as it would a real one.
//!
//! Layout:
//! - `bootstrap`: the dev data directory: store root, keyring, generated secrets, config text.
//! - `store`: [`EmbeddedStore`], the loopback listener, its connections and graceful shutdown.
//! - `backend`: the S3 operations, which are s3s-fs's `FileSystem` plus the few fixes the proxy
//!   relies on (suffix ranges, conditional reads, ETags in listings); `parts` its ListParts.
//!
//! What the embedded store does not do, beyond what real S3 does: versioning (no
//! ListObjectVersions), part numbers in a multipart upload must run 1, 2, 3… without gaps, an
//! object key cannot be both an object and a "directory" prefix of another key (`a` and `a/b`),
//! and DeleteObject leaves the object's sidecar files (user metadata and stored checksums) behind,
//! so a later CompleteMultipartUpload to the same key may report the old object's
//! `x-amz-checksum-*`. None of this is meant for production data.

use std::io;
use std::path::PathBuf;

pub mod bootstrap;

mod backend;
mod parts;
mod store;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_objects;
#[cfg(test)]
mod tests_stream;

pub use store::EmbeddedStore;

/// Why the embedded store could not start. Both are faults of the local setup.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevError {
    /// The data directory could not be created or opened.
    #[error("cannot use data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The loopback port could not be bound.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        port: u16,
        #[source]
        source: io::Error,
    },
}
