//! One stored unit: `locator (16) | AES-256-GCM ciphertext | tag (16)`.
//!
//! The locator is cleartext but authenticated (it is the associated data, and it feeds the
//! nonce), so a reader can check where a unit belongs before trusting it:
//!
//! ```text
//! locator = part u32 BE | index field u32 BE | salt [8]
//! index field = index within the part, with bit 31 set on the last unit of the part
//! nonce   = salt | index field                    (12 bytes)
//! aad     = "CLK" | version | "U" | locator        (21 bytes)
//! ```
//!
//! Nonce uniqueness: all units and trailers of one object are sealed under one content key.
//! The salt is 64 random bits drawn afresh for every single PUT, every upload attempt of a
//! part, and every trailer; the index field is distinct within one salt. Two units share a
//! nonce only if two independent 64-bit salts collide, so a client that uploads the same part
//! twice with different bytes does not cause a nonce reuse.

use aws_lc_rs::aead::{Aad, Nonce, Tag};
use bytes::{Bytes, BytesMut};

use crate::{ContentKey, FormatError, VERSION};

pub const LOCATOR_LEN: usize = 16;
pub const TAG_LEN: usize = 16;
/// Stored bytes a unit adds to its plaintext.
pub const UNIT_OVERHEAD: u64 = (LOCATOR_LEN + TAG_LEN) as u64;

const LAST_BIT: u32 = 1 << 31;
const UNIT_KIND: u8 = b'U';

/// Where a unit belongs: its part, its index within the part, and the part's salt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Locator {
    /// 0 for a single PUT, the S3 part number (1–10000) for a multipart upload.
    pub part: u32,
    pub index: u32,
    pub last_in_part: bool,
    pub salt: [u8; 8],
}

impl Locator {
    pub fn encode(&self) -> [u8; LOCATOR_LEN] {
        let mut out = [0u8; LOCATOR_LEN];
        out[..4].copy_from_slice(&self.part.to_be_bytes());
        out[4..8].copy_from_slice(&self.index_field().to_be_bytes());
        out[8..].copy_from_slice(&self.salt);
        out
    }

    pub fn decode(raw: &[u8; LOCATOR_LEN]) -> Self {
        let field = u32::from_be_bytes(raw[4..8].try_into().expect("4 bytes"));
        Self {
            part: u32::from_be_bytes(raw[..4].try_into().expect("4 bytes")),
            index: field & !LAST_BIT,
            last_in_part: field & LAST_BIT != 0,
            salt: raw[8..].try_into().expect("8 bytes"),
        }
    }

    fn index_field(&self) -> u32 {
        self.index | if self.last_in_part { LAST_BIT } else { 0 }
    }

    pub(crate) fn nonce(&self) -> Nonce {
        let mut n = [0u8; 12];
        n[..8].copy_from_slice(&self.salt);
        n[8..].copy_from_slice(&self.index_field().to_be_bytes());
        Nonce::assume_unique_for_key(n)
    }
}

pub(crate) fn aad(kind: u8, locator: &[u8; LOCATOR_LEN]) -> [u8; 21] {
    let mut out = [0u8; 21];
    out[..3].copy_from_slice(b"CLK");
    out[3] = VERSION;
    out[4] = kind;
    out[5..].copy_from_slice(locator);
    out
}

/// Seals `buf[LOCATOR_LEN..]` in place. `buf` must start with `LOCATOR_LEN` spare bytes, which
/// receive the locator; the tag is appended.
pub fn seal_in_place(key: &ContentKey, locator: &Locator, buf: &mut BytesMut) {
    seal_kind(key, UNIT_KIND, locator, buf)
}

pub(crate) fn seal_kind(key: &ContentKey, kind: u8, locator: &Locator, buf: &mut BytesMut) {
    let raw = locator.encode();
    buf[..LOCATOR_LEN].copy_from_slice(&raw);
    let tag: Tag = key
        .aead
        .seal_in_place_separate_tag(
            locator.nonce(),
            Aad::from(aad(kind, &raw)),
            &mut buf[LOCATOR_LEN..],
        )
        .expect("a unit is far below AES-GCM's length limit");
    buf.extend_from_slice(tag.as_ref());
}

/// Seals a whole segment from `plain` straight into a new unit, reading the plaintext once
/// (no copy into an intermediate buffer).
pub fn seal_from(key: &ContentKey, locator: &Locator, plain: &[u8]) -> Bytes {
    let raw = locator.encode();
    let sealed = written_by(LOCATOR_LEN + plain.len() + TAG_LEN, |unit| {
        unit[..LOCATOR_LEN].copy_from_slice(&raw);
        let (ct, tag) = unit[LOCATOR_LEN..].split_at_mut(plain.len());
        let aad = Aad::from(aad(UNIT_KIND, &raw));
        key.aead
            .seal_out_of_place_scatter(locator.nonce(), aad, plain, ct, &[], tag)
    });
    sealed.expect("buffer lengths are exact")
}

/// Opens a unit held in an immutable buffer into a new plaintext buffer, reading the stored
/// bytes once. `g` labels errors.
pub fn open_from(key: &ContentKey, unit: &[u8], g: u64) -> Result<(Locator, Bytes), FormatError> {
    let tampered = FormatError::SegmentTampered { index: g };
    if unit.len() < LOCATOR_LEN + TAG_LEN {
        return Err(tampered);
    }
    let raw: [u8; LOCATOR_LEN] = unit[..LOCATOR_LEN].try_into().expect("16 bytes");
    let locator = Locator::decode(&raw);
    let (ct, tag) = unit[LOCATOR_LEN..].split_at(unit.len() - LOCATOR_LEN - TAG_LEN);
    let plain = written_by(ct.len(), |out| {
        let aad = Aad::from(aad(UNIT_KIND, &raw));
        key.aead
            .open_separate_gather(locator.nonce(), aad, ct, tag, out)
    });
    Ok((locator, plain.map_err(|_| tampered)?))
}

/// A new buffer of `len` bytes, every one of which `write` must store before returning `Ok`.
///
/// The AEAD writes its whole output without reading it, so zero-filling the buffer first would
/// be a wasted pass over 64 KiB per unit (about 15% of the AEAD's own time). The buffer is only
/// exposed, through `set_len`, after `write` succeeds; on failure it is dropped unread.
fn written_by<E>(len: usize, write: impl FnOnce(&mut [u8]) -> Result<(), E>) -> Result<Bytes, E> {
    let mut buf: Vec<u8> = Vec::with_capacity(len);
    // SAFETY: the pointer is valid for `len` bytes of writes (the capacity was just reserved),
    // properly aligned for u8, and unaliased. The slice is handed only to aws-lc's AEAD, which
    // stores every output byte before any read, and nothing else reads it before `set_len`.
    let out = unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr(), len) };
    write(out)?;
    // SAFETY: `write` succeeded, so all `len` bytes are initialized.
    unsafe { buf.set_len(len) };
    Ok(Bytes::from(buf))
}

/// Opens one stored unit in place and returns its locator and plaintext. `g` is the unit's
/// position, used only to label errors.
pub fn open_in_place<'a>(
    key: &ContentKey,
    unit: &'a mut [u8],
    g: u64,
) -> Result<(Locator, &'a [u8]), FormatError> {
    open_kind(key, UNIT_KIND, unit).ok_or(FormatError::SegmentTampered { index: g })
}

pub(crate) fn open_kind<'a>(
    key: &ContentKey,
    kind: u8,
    unit: &'a mut [u8],
) -> Option<(Locator, &'a [u8])> {
    if unit.len() < LOCATOR_LEN + TAG_LEN {
        return None;
    }
    let (head, body) = unit.split_at_mut(LOCATOR_LEN);
    let raw: [u8; LOCATOR_LEN] = (&*head).try_into().expect("16 bytes");
    let locator = Locator::decode(&raw);
    let plain = key
        .aead
        .open_in_place(locator.nonce(), Aad::from(aad(kind, &raw)), body)
        .ok()?;
    Some((locator, plain))
}
