//! Cloak's proxy: a drop-in S3 endpoint that encrypts on the way in and decrypts on the way out.
//!
//! Vocabulary (see docs/ARCHITECTURE.md): the *downstream* is the S3 client, the *upstream* is
//! the backing store. Objects are stored in the envelope format of `cloak-envelope`.
//!
//! Layout:
//! - `config`: the TOML configuration, parsed and validated at start.
//! - `server`: accepts connections (HTTP/1.1, HTTP/2, TLS) and shuts down gracefully.
//! - `service`: one request end to end: id, span, auth, policy, operation, errors, audit.
//! - `route`: which bucket, key and S3 operation a request is for.
//! - `auth`: verifies the downstream client's SigV4 / SigV2 signatures.
//! - `chunked`: decodes aws-chunked request bodies and verifies chunk signatures and trailers.
//! - `checksum`: the flexible checksums (`x-amz-checksum-*`) and Content-MD5.
//! - `ops`: the S3 operations (put, read, copy, attributes, list, multipart, forward) and
//!   the streaming bodies that seal and open units.
//! - `xml`: the S3 XML documents Cloak reads, writes or rewrites as they stream.
//! - `body`, `audit_body`: the boxed body type, and the wrappers that count the bytes each
//!   way and write the audit record when a response body ends.
//! - `conditional`: If-Match and friends, against plaintext ETags.
//! - `keys`: the named key providers and their cache and KEK layers, the rules that choose
//!   a provider and master key per bucket and prefix, fresh data keys, opening stored ones.
//! - `upstream`: re-signs requests with the proxy's credentials and sends them to the store.
//! - `hooks`: the seams for policy, content inspection and audit.
//! - `error`: `S3Error` and the one place it becomes S3's XML error document.
//! - `state`: the shared `App` built from the configuration.
//! - `dev`: the embedded store behind `cloak serve --dev`.

pub mod audit_body;
pub mod auth;
pub mod body;
pub mod checksum;
pub mod chunked;
pub mod conditional;
pub mod config;
pub mod dev;
pub mod error;
pub mod hooks;
pub mod keys;
pub mod ops;
pub mod route;
pub mod server;
pub mod service;
pub mod state;
pub mod upstream;
pub mod xml;
