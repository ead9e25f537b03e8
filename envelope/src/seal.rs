//! Streaming encryption of one single-PUT object or one multipart part.
//!
//! The sealer is told the plaintext length up front (S3 always knows it: Content-Length or
//! `x-amz-decoded-content-length`), so it knows which unit is the last of the part and the
//! stored length is known before the first byte is sent upstream. Memory is one segment.

use std::sync::Arc;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use bytes::{Bytes, BytesMut};

use crate::layout::Layout;
use crate::trailer::{ObjectKind, Trailer};
use crate::unit::{seal_from, seal_in_place, Locator, LOCATOR_LEN, TAG_LEN};
use crate::{ContentKey, FormatError};

/// Encrypts a stream of known length into units.
pub struct Sealer {
    key: Arc<ContentKey>,
    layout: Layout,
    part: u32,
    salt: [u8; 8],
    declared: u64,
    remaining: u64,
    index: u32,
    emitted: bool,
    buf: BytesMut,
}

impl Sealer {
    /// A sealer for `plain_len` bytes of part `part` (0 for a single PUT), with a fresh salt.
    pub fn new(key: Arc<ContentKey>, layout: Layout, part: u32, plain_len: u64) -> Self {
        let mut salt = [0u8; 8];
        SystemRandom::new()
            .fill(&mut salt)
            .expect("the OS random source is available");
        Self::with_salt(key, layout, part, plain_len, salt)
    }

    /// A sealer with a chosen salt; only for known-answer vectors.
    #[doc(hidden)]
    pub fn with_salt(
        key: Arc<ContentKey>,
        layout: Layout,
        part: u32,
        plain_len: u64,
        salt: [u8; 8],
    ) -> Self {
        let buf = Self::fresh_buf(&layout);
        Self {
            key,
            layout,
            part,
            salt,
            declared: plain_len,
            remaining: plain_len,
            index: 0,
            emitted: false,
            buf,
        }
    }

    /// Stored length of what this sealer will emit (units only, no trailer).
    pub fn stored_len(&self) -> u64 {
        self.layout.stored_part_len(self.declared)
    }

    /// Plaintext bytes still expected.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// The salt shared by this stream's units.
    pub fn salt(&self) -> [u8; 8] {
        self.salt
    }

    /// Feeds plaintext; appends every completed unit to `out`.
    pub fn push(&mut self, mut data: &[u8], out: &mut Vec<Bytes>) -> Result<(), FormatError> {
        if data.len() as u64 > self.remaining {
            return Err(FormatError::BodyLengthMismatch {
                declared: self.declared,
            });
        }
        self.remaining -= data.len() as u64;
        let segment = self.layout.segment_size() as usize;
        while !data.is_empty() {
            if self.buf.len() == LOCATOR_LEN && data.len() >= segment {
                // A whole segment is at hand: seal it straight from the caller's bytes.
                let (whole, rest) = data.split_at(segment);
                data = rest;
                let last = self.remaining == 0 && data.is_empty();
                out.push(self.seal_whole(whole, last));
                continue;
            }
            let room = segment - (self.buf.len() - LOCATOR_LEN);
            let take = room.min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() - LOCATOR_LEN == segment {
                // A full segment is the last one only when nothing more is declared.
                let last = self.remaining == 0 && data.is_empty();
                out.push(self.seal_unit(last));
            }
        }
        Ok(())
    }

    /// Ends the stream: emits the final partial (or empty) unit, if any.
    pub fn finish(mut self, out: &mut Vec<Bytes>) -> Result<(), FormatError> {
        if self.remaining != 0 {
            return Err(FormatError::BodyLengthMismatch {
                declared: self.declared,
            });
        }
        if self.buf.len() > LOCATOR_LEN || !self.emitted {
            out.push(self.seal_unit(true));
        }
        Ok(())
    }

    /// The trailer for a single-PUT object sealed by this sealer.
    pub fn single_trailer(&self, etag_md5: [u8; 16]) -> Trailer {
        Trailer {
            kind: ObjectKind::Single,
            plaintext_len: self.declared,
            part_count: 1,
            first_part: 0,
            uniform_part_len: 0,
            etag_md5,
            unit_salt: self.salt,
        }
    }

    fn seal_whole(&mut self, plain: &[u8], last: bool) -> Bytes {
        let locator = self.locator(last);
        self.index += 1;
        self.emitted = true;
        seal_from(&self.key, &locator, plain)
    }

    fn locator(&self, last: bool) -> Locator {
        Locator {
            part: self.part,
            index: self.index,
            last_in_part: last,
            salt: self.salt,
        }
    }

    fn seal_unit(&mut self, last: bool) -> Bytes {
        let locator = Locator {
            part: self.part,
            index: self.index,
            last_in_part: last,
            salt: self.salt,
        };
        let mut unit = std::mem::replace(&mut self.buf, Self::fresh_buf(&self.layout));
        seal_in_place(&self.key, &locator, &mut unit);
        self.index += 1;
        self.emitted = true;
        unit.freeze()
    }

    fn fresh_buf(layout: &Layout) -> BytesMut {
        let mut buf =
            BytesMut::with_capacity(layout.segment_size() as usize + LOCATOR_LEN + TAG_LEN);
        buf.resize(LOCATOR_LEN, 0);
        buf
    }
}
