//! Streaming decryption of a run of units, with position checks.
//!
//! The opener is fed stored bytes for units `first..=last` (as planned by [`Layout::plan`]).
//! It buffers one unit at a time, authenticates it, checks that its locator is the one that
//! belongs at that position, and only then releases its plaintext. So no plaintext byte ever
//! leaves before its unit's tag has verified, and a unit that authenticates but sits in the
//! wrong place (reordered, duplicated, spliced from another part) is refused.

use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};

use crate::layout::{Layout, RangePlan};
use crate::trailer::{ObjectKind, Trailer};
use crate::unit::{open_from, open_in_place, Locator, LOCATOR_LEN, UNIT_OVERHEAD};
use crate::{ContentKey, FormatError};

/// What a reader knows about the object's units, from its trailer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expect {
    pub shape: Shape,
    /// Units in the object.
    pub units: u64,
    /// Plaintext bytes in the object.
    pub plain_len: u64,
}

/// Where each unit belongs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A single PUT: unit `g` is part 0, index `g`, with the object's one salt.
    Single { salt: [u8; 8] },
    /// Multipart with equal, consecutively numbered parts: position gives part and index.
    Uniform {
        first_part: u32,
        units_per_part: u64,
        parts: u32,
    },
    /// Multipart with unequal parts: units are checked against their neighbours.
    Chained { first_part: u32, parts: u32 },
}

/// Decrypts a planned run of units.
pub struct Opener {
    key: Arc<ContentKey>,
    layout: Layout,
    expect: Expect,
    first: u64,
    next: u64,
    last: u64,
    skip: u64,
    remaining: u64,
    prev: Option<Locator>,
    parts_seen: u32,
    buf: BytesMut,
}

impl Expect {
    /// Derives the expectations from an authenticated trailer and the stored length, checking
    /// that the trailer agrees with the length (detects truncation and extension).
    pub fn from_trailer(
        trailer: &Trailer,
        layout: &Layout,
        stored: u64,
    ) -> Result<Self, FormatError> {
        let plain_len = layout.plaintext_len(stored)?;
        if plain_len != trailer.plaintext_len {
            return Err(FormatError::Truncated(
                "stored length disagrees with the trailer",
            ));
        }
        let units = layout.unit_count(stored)?;
        let shape = Self::shape(trailer, layout, units)?;
        Ok(Self {
            shape,
            units,
            plain_len,
        })
    }

    fn shape(trailer: &Trailer, layout: &Layout, units: u64) -> Result<Shape, FormatError> {
        let (first_part, parts) = (trailer.first_part, trailer.part_count);
        if trailer.kind == ObjectKind::Single {
            return Ok(Shape::Single {
                salt: trailer.unit_salt,
            });
        }
        if parts == 0 || first_part == 0 {
            return Err(FormatError::Truncated("multipart trailer lists no parts"));
        }
        if parts == 1 {
            return Ok(Shape::Uniform {
                first_part,
                units_per_part: units,
                parts,
            });
        }
        let (seg, part_len) = (layout.segment_size(), trailer.uniform_part_len);
        if part_len > 0 && part_len % seg == 0 {
            return Ok(Shape::Uniform {
                first_part,
                units_per_part: part_len / seg,
                parts,
            });
        }
        Ok(Shape::Chained { first_part, parts })
    }
}

impl Opener {
    pub fn new(key: Arc<ContentKey>, layout: Layout, expect: Expect, plan: &RangePlan) -> Self {
        Self {
            key,
            layout,
            expect,
            first: *plan.units.start(),
            next: *plan.units.start(),
            last: *plan.units.end(),
            skip: plan.skip,
            remaining: plan.len,
            prev: None,
            parts_seen: 0,
            buf: BytesMut::new(),
        }
    }

    /// Feeds stored bytes; appends released plaintext to `out`.
    pub fn push(&mut self, mut data: Bytes, out: &mut Vec<Bytes>) -> Result<(), FormatError> {
        while !data.is_empty() {
            if self.next > self.last {
                return Err(FormatError::Truncated("more stored bytes than planned"));
            }
            let unit_len = self.unit_len(self.next) as usize;
            if self.buf.is_empty() && data.len() >= unit_len {
                // The whole unit is at hand: open it straight from the stored bytes.
                let unit = data.split_to(unit_len);
                let g = self.next;
                let (locator, plain) = open_from(&self.key, &unit, g)?;
                if let Some(plain) = self.release(g, locator, plain)? {
                    out.push(plain);
                }
                continue;
            }
            let want = unit_len - self.buf.len();
            let take = want.min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data.advance(take);
            if self.buf.len() as u64 == self.unit_len(self.next) {
                let fresh = BytesMut::with_capacity(self.layout.unit_len() as usize);
                let unit = std::mem::replace(&mut self.buf, fresh);
                if let Some(plain) = self.open_unit(unit)? {
                    out.push(plain);
                }
            }
        }
        Ok(())
    }

    /// Checks that every planned unit arrived and, for a read of the whole object, that every
    /// part did.
    pub fn finish(self) -> Result<(), FormatError> {
        if self.next <= self.last || !self.buf.is_empty() {
            return Err(FormatError::Truncated(
                "stored bytes ended inside the planned range",
            ));
        }
        let whole = self.first == 0 && self.last + 1 == self.expect.units;
        let parts = match self.expect.shape {
            Shape::Single { .. } => 1,
            Shape::Uniform { parts, .. } | Shape::Chained { parts, .. } => parts,
        };
        if whole && self.parts_seen != parts {
            return Err(FormatError::Truncated(
                "the object's part count differs from its trailer",
            ));
        }
        Ok(())
    }

    fn unit_len(&self, g: u64) -> u64 {
        if g + 1 < self.expect.units {
            return self.layout.unit_len();
        }
        // The last unit holds whatever remains of the plaintext.
        let before = (self.expect.units - 1) * self.layout.segment_size();
        self.expect.plain_len - before + UNIT_OVERHEAD
    }

    fn open_unit(&mut self, mut unit: BytesMut) -> Result<Option<Bytes>, FormatError> {
        let g = self.next;
        let (locator, plain_len) = {
            let (locator, plain) = open_in_place(&self.key, &mut unit, g)?;
            (locator, plain.len())
        };
        let plain = unit.freeze().slice(LOCATOR_LEN..LOCATOR_LEN + plain_len);
        self.release(g, locator, plain)
    }

    /// Checks an authenticated unit's position, then trims its plaintext to the planned range.
    fn release(
        &mut self,
        g: u64,
        locator: Locator,
        mut plain: Bytes,
    ) -> Result<Option<Bytes>, FormatError> {
        self.check_position(g, &locator)?;
        self.note_part(&locator);
        self.prev = Some(locator);
        self.next += 1;

        let skip = self.skip.min(plain.len() as u64) as usize;
        plain.advance(skip);
        self.skip -= skip as u64;
        plain.truncate(self.remaining.min(plain.len() as u64) as usize);
        self.remaining -= plain.len() as u64;
        Ok((!plain.is_empty()).then_some(plain))
    }

    fn note_part(&mut self, locator: &Locator) {
        if self.prev.is_none_or(|p| p.part != locator.part) {
            self.parts_seen += 1;
        }
    }

    fn check_position(&self, g: u64, loc: &Locator) -> Result<(), FormatError> {
        let misplaced = |reason| Err(FormatError::SegmentMisplaced { index: g, reason });
        let final_unit = g + 1 == self.expect.units;
        match &self.expect.shape {
            Shape::Single { salt } => {
                if loc.part != 0 || loc.index as u64 != g || loc.salt != *salt {
                    return misplaced("not this object's unit at this index");
                }
                if loc.last_in_part != final_unit {
                    return misplaced("end-of-object flag in the wrong place");
                }
            }
            Shape::Uniform {
                first_part,
                units_per_part,
                parts,
            } => {
                let part = *first_part as u64 + g / units_per_part;
                let index = g % units_per_part;
                if loc.part as u64 != part || loc.index as u64 != index {
                    return misplaced("part or index differs from the position");
                }
                let last = index + 1 == *units_per_part || final_unit;
                if loc.last_in_part != last {
                    return misplaced("end-of-part flag in the wrong place");
                }
                if final_unit && part != *first_part as u64 + *parts as u64 - 1 {
                    return misplaced("final unit is not in the final part");
                }
            }
            Shape::Chained { first_part, .. } => {
                if g == 0 && (loc.part != *first_part || loc.index != 0) {
                    return misplaced("object does not start with its first part");
                }
                if final_unit && !loc.last_in_part {
                    return misplaced("final unit lacks the end-of-part flag");
                }
            }
        }
        self.check_chain(loc)
            .map_err(|reason| FormatError::SegmentMisplaced { index: g, reason })
    }

    /// Consecutive units must continue one part, or start the next one after a flagged end.
    fn check_chain(&self, loc: &Locator) -> Result<(), &'static str> {
        let Some(prev) = self.prev else { return Ok(()) };
        if prev.part == loc.part {
            if prev.last_in_part || loc.index != prev.index + 1 || loc.salt != prev.salt {
                return Err("does not continue its part");
            }
        } else if !prev.last_in_part || loc.part <= prev.part || loc.index != 0 {
            return Err("part boundary out of order");
        }
        Ok(())
    }
}
