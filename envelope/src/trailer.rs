//! The sealed trailer that ends every object.
//!
//! The trailer is the last `TRAILER_LEN` bytes of the stored object, sealed under the content
//! key like a unit but with its own kind byte (`"T"`) in the associated data and the reserved
//! part and index `0xFFFFFFFF`, so it can never be mistaken for a unit or the reverse. It holds
//! what only the end of an upload knows: the plaintext length, the plaintext ETag and, for a
//! multipart object, the part count and part size. Readers use it to detect truncation and
//! extension, to check each unit's position, and to answer HEAD without reading the body.
//!
//! Body (64 bytes): `kind u8 | 3 reserved | part count u32 | first part u32 | 4 reserved |
//! plaintext length u64 | uniform part length u64 | ETag MD5 [16] | unit salt [8] | 8 reserved`

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use bytes::BytesMut;

use crate::unit::{open_kind, seal_kind, Locator, LOCATOR_LEN, TAG_LEN};
use crate::{ContentKey, FormatError};

const BODY_LEN: usize = 64;
/// Stored size of the trailer.
pub const TRAILER_LEN: u64 = (LOCATOR_LEN + BODY_LEN + TAG_LEN) as u64;
const TRAILER_KIND: u8 = b'T';

/// How the object was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    /// One PUT: all units are part 0 and share one salt.
    Single,
    /// A multipart upload: units carry their part numbers.
    Multipart,
}

/// The trailer's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trailer {
    pub kind: ObjectKind,
    pub plaintext_len: u64,
    /// 1 for a single PUT.
    pub part_count: u32,
    /// The lowest part number (0 for a single PUT).
    pub first_part: u32,
    /// For multipart: the plaintext length of every non-final part when they are all equal and
    /// numbered consecutively; 0 otherwise. Lets a reader compute each unit's part and index.
    pub uniform_part_len: u64,
    /// MD5 of the plaintext (single) or MD5 of the concatenated part MD5s (multipart).
    pub etag_md5: [u8; 16],
    /// The salt shared by every unit of a single PUT (zero for multipart).
    pub unit_salt: [u8; 8],
}

impl Trailer {
    /// The ETag S3 would report for this plaintext, quoted.
    pub fn etag(&self) -> String {
        let hex: String = self.etag_md5.iter().map(|b| format!("{b:02x}")).collect();
        match self.kind {
            ObjectKind::Single => format!("\"{hex}\""),
            ObjectKind::Multipart => format!("\"{hex}-{}\"", self.part_count),
        }
    }

    /// Seals the trailer under a fresh random salt.
    pub fn seal(&self, key: &ContentKey) -> Vec<u8> {
        let mut salt = [0u8; 8];
        SystemRandom::new()
            .fill(&mut salt)
            .expect("the OS random source is available");
        self.seal_with_salt(key, salt)
    }

    /// Seals with a given salt; only for known-answer vectors.
    #[doc(hidden)]
    pub fn seal_with_salt(&self, key: &ContentKey, salt: [u8; 8]) -> Vec<u8> {
        let locator = Locator {
            part: u32::MAX,
            index: u32::MAX >> 1,
            last_in_part: true,
            salt,
        };
        let mut buf = BytesMut::zeroed(LOCATOR_LEN);
        buf.extend_from_slice(&self.body());
        seal_kind(key, TRAILER_KIND, &locator, &mut buf);
        buf.to_vec()
    }

    /// Opens a stored trailer.
    pub fn open(key: &ContentKey, stored: &[u8]) -> Result<Self, FormatError> {
        if stored.len() as u64 != TRAILER_LEN {
            return Err(FormatError::Truncated("trailer has the wrong length"));
        }
        let mut buf = stored.to_vec();
        let (locator, body) =
            open_kind(key, TRAILER_KIND, &mut buf).ok_or(FormatError::TrailerTampered)?;
        if locator.part != u32::MAX || locator.index != u32::MAX >> 1 || !locator.last_in_part {
            return Err(FormatError::TrailerTampered);
        }
        Self::parse(body)
    }

    fn body(&self) -> [u8; BODY_LEN] {
        let mut b = [0u8; BODY_LEN];
        b[0] = match self.kind {
            ObjectKind::Single => 1,
            ObjectKind::Multipart => 2,
        };
        b[4..8].copy_from_slice(&self.part_count.to_be_bytes());
        b[8..12].copy_from_slice(&self.first_part.to_be_bytes());
        b[16..24].copy_from_slice(&self.plaintext_len.to_be_bytes());
        b[24..32].copy_from_slice(&self.uniform_part_len.to_be_bytes());
        b[32..48].copy_from_slice(&self.etag_md5);
        b[48..56].copy_from_slice(&self.unit_salt);
        b
    }

    fn parse(b: &[u8]) -> Result<Self, FormatError> {
        let kind = match b[0] {
            1 => ObjectKind::Single,
            2 => ObjectKind::Multipart,
            _ => return Err(FormatError::Unsupported("trailer kind")),
        };
        let u32_at = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        let u64_at = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        Ok(Self {
            kind,
            part_count: u32_at(4),
            first_part: u32_at(8),
            plaintext_len: u64_at(16),
            uniform_part_len: u64_at(24),
            etag_md5: b[32..48].try_into().expect("16 bytes"),
            unit_salt: b[48..56].try_into().expect("8 bytes"),
        })
    }
}

/// What the proxy knows about one completed part when it writes a multipart trailer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartSummary {
    pub number: u32,
    pub plain_len: u64,
    pub md5: [u8; 16],
}

impl Trailer {
    /// The trailer for a multipart object made of `parts`, in ascending part order.
    ///
    /// Every part but the last must be a whole number of segments: that is what keeps the
    /// offset arithmetic exact. Mainstream clients' part sizes (5, 8, 16, 50, 64 MiB) all are.
    pub fn for_parts(parts: &[PartSummary], segment_size: u64) -> Result<Self, FormatError> {
        use md5::{Digest, Md5};
        let (first, last) = match (parts.first(), parts.last()) {
            (Some(f), Some(l)) => (f, l),
            _ => return Err(FormatError::Unsupported("a multipart object needs a part")),
        };
        let body = &parts[..parts.len() - 1];
        if body
            .iter()
            .any(|p| p.plain_len == 0 || p.plain_len % segment_size != 0)
        {
            return Err(FormatError::Unsupported(
                "non-final part is not a multiple of the segment size",
            ));
        }
        if parts.windows(2).any(|w| w[0].number >= w[1].number) {
            return Err(FormatError::Unsupported("parts are not in ascending order"));
        }
        let consecutive = last.number - first.number + 1 == parts.len() as u32;
        let uniform = body.windows(2).all(|w| w[0].plain_len == w[1].plain_len)
            && body.first().is_none_or(|p| last.plain_len <= p.plain_len);
        let uniform_part_len = match body.first() {
            Some(p) if consecutive && uniform => p.plain_len,
            _ => 0,
        };
        let mut md5 = Md5::new();
        parts.iter().for_each(|p| md5.update(p.md5));
        Ok(Self {
            kind: ObjectKind::Multipart,
            plaintext_len: parts.iter().map(|p| p.plain_len).sum(),
            part_count: parts.len() as u32,
            first_part: first.number,
            uniform_part_len,
            etag_md5: md5.finalize().into(),
            unit_salt: [0; 8],
        })
    }
}
