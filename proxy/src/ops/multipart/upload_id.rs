//! The upload id Cloak hands the client: `c1.<base64url(upstream upload id)>.<header>`.
//!
//! Any replica can continue an upload from the id alone: it names the upstream upload and
//! carries the envelope header (wrapped data key, object salt, key commitment). Nothing in it is
//! secret. A client that alters it only breaks its own upload: the data key must still unwrap
//! under the object's `{bucket, key}` and match its commitment.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use cloak_envelope::Header;

use super::no_such_upload;
use crate::error::S3Error;

const PREFIX: &str = "c1.";

/// A parsed client upload id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadId {
    pub upstream: String,
    pub header: Header,
}

impl UploadId {
    pub fn encode(&self) -> String {
        format!(
            "{PREFIX}{}.{}",
            B64URL.encode(&self.upstream),
            self.header.encode()
        )
    }

    pub fn decode(id: &str) -> Result<Self, S3Error> {
        let rest = id.strip_prefix(PREFIX).ok_or_else(no_such_upload)?;
        let (up, header) = rest.split_once('.').ok_or_else(no_such_upload)?;
        let upstream = B64URL
            .decode(up)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(no_such_upload)?;
        let header = Header::decode(header).map_err(|_| no_such_upload())?;
        Ok(Self { upstream, header })
    }

    /// Whether `id` is one Cloak issued (rather than a raw upstream id).
    pub fn is_cloaks(id: &str) -> bool {
        id.starts_with(PREFIX)
    }

    /// The upstream id for operations that need no key (abort, list parts): accepts both
    /// Cloak's ids and raw upstream ids as ListMultipartUploads shows them.
    pub fn upstream_of(id: &str) -> Result<String, S3Error> {
        if Self::is_cloaks(id) {
            return Ok(Self::decode(id)?.upstream);
        }
        Ok(id.to_owned())
    }
}
