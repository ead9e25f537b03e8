//! The source of a copy: `x-amz-copy-source` (and `x-amz-copy-source-range` for a part
//! copy), parsed, authorised and located in the store.
//!
//! The header names `[/]bucket/key[?versionId=V]`, URL-encoded (botocore quotes it with `/`
//! and `~` kept). The first literal `?` ends the key, since a `?` inside a key arrives as
//! `%3F`. Access-point and Outposts ARNs are not supported.

use http::StatusCode;
use percent_encoding::percent_decode_str;

use super::headers;
use super::Call;
use crate::error::S3Error;
use crate::hooks::Decision;
use crate::route::{encode_param, object_path, Op};

/// An object named by `x-amz-copy-source`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopySource {
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
}

impl CopySource {
    /// Reads the request's `x-amz-copy-source`.
    pub fn from_call(call: &Call) -> Result<Self, S3Error> {
        let raw = headers::get(&call.parts.headers, "x-amz-copy-source")
            .ok_or_else(|| invalid_source("x-amz-copy-source is missing"))?;
        Self::parse(raw)
    }

    pub fn parse(raw: &str) -> Result<Self, S3Error> {
        if raw.starts_with("arn:") {
            return Err(S3Error::not_implemented("Copying from an access point"));
        }
        let (path, query) = raw.split_once('?').unwrap_or((raw, ""));
        let (bucket, key) = path
            .trim_start_matches('/')
            .split_once('/')
            .ok_or_else(|| invalid_source("Copy Source must mention the source bucket and key"))?;
        let (bucket, key) = (decode(bucket)?, decode(key)?);
        if bucket.is_empty() || key.is_empty() {
            return Err(invalid_source(
                "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            ));
        }
        let version_id = query
            .split('&')
            .find_map(|p| p.strip_prefix("versionId="))
            .map(decode)
            .transpose()?;
        Ok(Self {
            bucket,
            key,
            version_id,
        })
    }

    /// The source's upstream path, with its version.
    pub fn upstream_path(&self) -> String {
        let path = object_path(&self.bucket, &self.key);
        match &self.version_id {
            Some(v) => format!("{path}?versionId={}", encode_param(v)),
            None => path,
        }
    }

    /// `/bucket/key`, for logs and error messages.
    pub fn resource(&self) -> String {
        format!("/{}/{}", self.bucket, self.key)
    }

    /// Whether the copy reads the very object it writes.
    pub fn is(&self, bucket: &str, key: &str) -> bool {
        self.bucket == bucket && self.key == key
    }

    /// Refuses sources the client may not read: Cloak's reserved keys, and whatever the
    /// policy denies to a GetObject of the source (the request itself was decided for its
    /// destination only).
    pub fn authorize(&self, call: &Call) -> Result<(), S3Error> {
        if self.key.starts_with(super::list::RESERVED_PREFIX) {
            return Err(S3Error::new(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                "Keys under .cloak/ are reserved for Cloak's own bookkeeping",
            ));
        }
        let mut ctx = call.ctx.clone();
        ctx.op = Op::GetObject;
        ctx.method = "GET".into();
        ctx.bucket = Some(self.bucket.clone());
        ctx.key = Some(self.key.clone());
        match call.app.hooks.policy.decide(&ctx) {
            Decision::Allow => Ok(()),
            Decision::Deny { reason } => Err(S3Error::new(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                format!("Reading the copy source was refused: {reason}"),
            )),
        }
    }
}

/// Parses `x-amz-copy-source-range: bytes=first-last` (both offsets required, inclusive)
/// against the source's plaintext length.
pub fn copy_range(value: &str, size: u64) -> Result<(u64, u64), S3Error> {
    let syntax = || {
        S3Error::bad_request(
            "InvalidArgument",
            "The x-amz-copy-source-range value must be of the form bytes=first-last where \
             first and last are the zero-based offsets of the first and last bytes to copy",
        )
    };
    let spec = value.trim().strip_prefix("bytes=").ok_or_else(syntax)?;
    let (a, b) = spec.split_once('-').ok_or_else(syntax)?;
    let first: u64 = a.trim().parse().map_err(|_| syntax())?;
    let last: u64 = b.trim().parse().map_err(|_| syntax())?;
    if first > last {
        return Err(syntax());
    }
    if last >= size {
        return Err(S3Error::bad_request(
            "InvalidArgument",
            format!("Range specified is not valid for source object of size: {size}"),
        ));
    }
    Ok((first, last))
}

fn decode(raw: &str) -> Result<String, S3Error> {
    percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| invalid_source("The copy source is not valid UTF-8"))
}

fn invalid_source(message: &str) -> S3Error {
    S3Error::bad_request("InvalidArgument", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form_clients_send() {
        let plain = CopySource::parse("bkt/dir/a.txt").unwrap();
        assert_eq!(
            (plain.bucket.as_str(), plain.key.as_str()),
            ("bkt", "dir/a.txt")
        );
        assert_eq!(plain.version_id, None);

        let encoded = CopySource::parse("/bkt/dir/a%20b%2Bc%3F.txt?versionId=v%2B1").unwrap();
        assert_eq!(encoded.key, "dir/a b+c?.txt");
        assert_eq!(encoded.version_id.as_deref(), Some("v+1"));
        assert_eq!(
            encoded.upstream_path(),
            "/bkt/dir/a%20b%2Bc%3F.txt?versionId=v%2B1"
        );
    }

    #[test]
    fn refuses_sources_without_a_key() {
        for bad in ["bkt", "/bkt/", "/", ""] {
            let err = CopySource::parse(bad).unwrap_err();
            assert_eq!(err.code, "InvalidArgument", "{bad:?}");
        }
        let arn = CopySource::parse("arn:aws:s3:us-east-1:1:accesspoint/ap/object/k");
        assert_eq!(arn.unwrap_err().code, "NotImplemented");
    }

    #[test]
    fn copy_ranges_need_both_offsets_inside_the_source() {
        assert_eq!(copy_range("bytes=0-9", 10).unwrap(), (0, 9));
        assert_eq!(copy_range("bytes=3-3", 10).unwrap(), (3, 3));
        for bad in [
            "bytes=-5",
            "bytes=5-",
            "bytes=5-4",
            "0-4",
            "bytes=a-b",
            "bytes=0-10",
        ] {
            let err = copy_range(bad, 10).unwrap_err();
            assert_eq!(err.code, "InvalidArgument", "{bad:?}");
        }
    }
}
