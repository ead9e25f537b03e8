//! Cloak's proxy: a drop-in S3 endpoint that encrypts on the way in and decrypts on the way out.
//!
//! Layout:
//! - `auth`: verifies the downstream client's SigV4 / SigV2 signatures.
//! - `chunked`: decodes aws-chunked request bodies and verifies chunk signatures and trailers.
//! - `checksum`: the flexible checksums (`x-amz-checksum-*`) and Content-MD5.

pub mod auth;
pub mod checksum;
pub mod chunked;
