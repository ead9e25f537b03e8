//! The per-object header, stored in the object's user metadata.
//!
//! The header holds what a reader needs before the first unit: the format version, the segment
//! size, the object salt, the key commitment and the wrapped data key. It is small (about 150
//! bytes plus the wrapped key, under 400 characters of metadata with any supported provider),
//! well inside S3's 2 KB user-metadata budget, and it is ASCII (base64url) so every store keeps
//! it byte for byte.
//!
//! Binary layout, before base64url:
//! `"CLK" | version u8 | segment size log2 u8 | reserved u8 | salt [16] | commitment [32] |
//!  provider (u8 len, bytes) | key id (u16 len, bytes) | key version u32 | wrapped (u16 len, bytes)`

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;

use crate::keys::{COMMITMENT_LEN, OBJECT_SALT_LEN};
use crate::{FormatError, VERSION};

const MAGIC: &[u8; 3] = b"CLK";

/// Which master key wrapped the data key, and the wrapped bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRef {
    /// The provider's name (`keyring`, `vault`, `awskms`).
    pub provider: String,
    pub key_id: String,
    pub key_version: u32,
    pub wrapped: Vec<u8>,
}

/// The per-object header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub version: u8,
    pub segment_size: u32,
    pub object_salt: [u8; OBJECT_SALT_LEN],
    pub commitment: [u8; COMMITMENT_LEN],
    pub key: KeyRef,
}

impl Header {
    /// Encodes the header as the metadata value.
    pub fn encode(&self) -> String {
        let mut out = Vec::with_capacity(96 + self.key.wrapped.len());
        out.extend_from_slice(MAGIC);
        out.push(self.version);
        out.push(self.segment_size.trailing_zeros() as u8);
        out.push(0);
        out.extend_from_slice(&self.object_salt);
        out.extend_from_slice(&self.commitment);
        out.push(self.key.provider.len() as u8);
        out.extend_from_slice(self.key.provider.as_bytes());
        out.extend_from_slice(&(self.key.key_id.len() as u16).to_be_bytes());
        out.extend_from_slice(self.key.key_id.as_bytes());
        out.extend_from_slice(&self.key.key_version.to_be_bytes());
        out.extend_from_slice(&(self.key.wrapped.len() as u16).to_be_bytes());
        out.extend_from_slice(&self.key.wrapped);
        B64URL.encode(out)
    }

    /// Parses a metadata value. Rejects unknown versions and segment sizes outside 4 KiB–16 MiB.
    pub fn decode(value: &str) -> Result<Self, FormatError> {
        let raw = B64URL
            .decode(value.trim())
            .map_err(|_| FormatError::MalformedHeader("not base64url"))?;
        let mut r = Reader(&raw);
        if r.take(3)? != MAGIC {
            return Err(FormatError::MalformedHeader("bad magic"));
        }
        let version = r.u8()?;
        if version != VERSION {
            return Err(FormatError::Unsupported("envelope version"));
        }
        let log2 = r.u8()?;
        if !(12..=24).contains(&log2) {
            return Err(FormatError::Unsupported("segment size"));
        }
        r.u8()?;
        let object_salt = r.array::<OBJECT_SALT_LEN>()?;
        let commitment = r.array::<COMMITMENT_LEN>()?;
        let provider_len = r.u8()? as usize;
        let provider = r.string(provider_len)?;
        let key_id_len = r.u16()? as usize;
        let key_id = r.string(key_id_len)?;
        let key_version = u32::from_be_bytes(r.array::<4>()?);
        let wrapped_len = r.u16()? as usize;
        let wrapped = r.take(wrapped_len)?.to_vec();
        if !r.0.is_empty() {
            return Err(FormatError::MalformedHeader("trailing bytes"));
        }
        let key = KeyRef {
            provider,
            key_id,
            key_version,
            wrapped,
        };
        Ok(Self {
            version,
            segment_size: 1 << log2,
            object_salt,
            commitment,
            key,
        })
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        if self.0.len() < n {
            return Err(FormatError::MalformedHeader("too short"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, FormatError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, FormatError> {
        Ok(u16::from_be_bytes(self.array::<2>()?))
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], FormatError> {
        Ok(self.take(N)?.try_into().expect("take returned N bytes"))
    }

    fn string(&mut self, n: usize) -> Result<String, FormatError> {
        String::from_utf8(self.take(n)?.to_vec())
            .map_err(|_| FormatError::MalformedHeader("non-UTF-8 name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Header {
        Header {
            version: VERSION,
            segment_size: 65536,
            object_salt: [7; 16],
            commitment: [9; 32],
            key: KeyRef {
                provider: "vault".into(),
                key_id: "datasets/genomics".into(),
                key_version: 3,
                wrapped: vec![1; 60],
            },
        }
    }

    #[test]
    fn round_trips_and_stays_small() {
        let text = sample().encode();
        assert!(text.len() < 300, "{}", text.len());
        assert!(text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(Header::decode(&text).unwrap(), sample());
    }

    #[test]
    fn rejects_truncated_and_unknown_versions() {
        let raw = B64URL.decode(sample().encode()).unwrap();
        let short = B64URL.encode(&raw[..raw.len() - 1]);
        assert!(Header::decode(&short).is_err());

        let mut bumped = raw.clone();
        bumped[3] = 99;
        assert_eq!(
            Header::decode(&B64URL.encode(bumped)),
            Err(FormatError::Unsupported("envelope version"))
        );
    }
}
