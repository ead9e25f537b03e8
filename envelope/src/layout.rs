//! Offset and length arithmetic between plaintext and stored bytes.
//!
//! With segment size `S`, every stored unit is `S + 32` bytes except the last unit of a part,
//! which holds the remainder (`r + 32`, `0 < r <= S`, or exactly 32 bytes for an empty part).
//! The object ends with a `TRAILER_LEN`-byte trailer. When every non-final part is a multiple
//! of `S` (always true for single PUTs), all units but the very last are full, so:
//!
//! ```text
//! stored  = P + 32 * max(1, ceil(P / S)) + TRAILER_LEN     (single object)
//! D       = stored - TRAILER_LEN
//! units   = ceil(D / (S + 32))
//! P       = D - 32 * units
//! unit g starts at g * (S + 32); its plaintext at g * S
//! ```

use std::ops::RangeInclusive;

use crate::trailer::TRAILER_LEN;
use crate::unit::UNIT_OVERHEAD;
use crate::FormatError;

/// The arithmetic for one segment size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    segment: u64,
}

/// What to fetch from the store to serve a plaintext range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangePlan {
    /// Units to fetch, inclusive.
    pub units: RangeInclusive<u64>,
    /// Stored byte range to request, inclusive.
    pub stored: RangeInclusive<u64>,
    /// Plaintext bytes to drop from the start of the first unit.
    pub skip: u64,
    /// Plaintext bytes to release in total.
    pub len: u64,
}

/// A resolved HTTP byte range over the plaintext.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// Serve the whole object (no range, or a range S3 ignores).
    Full,
    /// Serve `first..=last`.
    Partial { first: u64, last: u64 },
    /// Answer 416.
    Unsatisfiable,
}

impl Layout {
    pub fn new(segment_size: u32) -> Self {
        Self {
            segment: segment_size as u64,
        }
    }

    pub fn segment_size(&self) -> u64 {
        self.segment
    }

    /// Stored size of one full unit.
    pub fn unit_len(&self) -> u64 {
        self.segment + UNIT_OVERHEAD
    }

    /// Units a single stream of `plain` bytes occupies (an empty stream still has one unit).
    pub fn units_for(&self, plain: u64) -> u64 {
        plain.div_ceil(self.segment).max(1)
    }

    /// Stored bytes for a part or single stream of `plain` bytes, without the trailer.
    pub fn stored_part_len(&self, plain: u64) -> u64 {
        plain + UNIT_OVERHEAD * self.units_for(plain)
    }

    /// Stored size of a single-PUT object with `plain` bytes of plaintext.
    pub fn stored_len(&self, plain: u64) -> u64 {
        self.stored_part_len(plain) + TRAILER_LEN
    }

    /// Number of units in a stored object of `stored` bytes.
    pub fn unit_count(&self, stored: u64) -> Result<u64, FormatError> {
        let data = self.data_len(stored)?;
        Ok(data.div_ceil(self.unit_len()))
    }

    /// Plaintext length of a stored object, by arithmetic alone.
    pub fn plaintext_len(&self, stored: u64) -> Result<u64, FormatError> {
        let data = self.data_len(stored)?;
        let units = data.div_ceil(self.unit_len());
        Ok(data - UNIT_OVERHEAD * units)
    }

    /// Stored bytes before the trailer, checked to be a possible unit sequence.
    fn data_len(&self, stored: u64) -> Result<u64, FormatError> {
        let data = stored
            .checked_sub(TRAILER_LEN)
            .filter(|d| *d >= UNIT_OVERHEAD)
            .ok_or(FormatError::ImpossibleLength(stored))?;
        let last = data - (data.div_ceil(self.unit_len()) - 1) * self.unit_len();
        if last < UNIT_OVERHEAD {
            return Err(FormatError::ImpossibleLength(stored));
        }
        Ok(data)
    }

    /// Stored offset of unit `g`.
    pub fn unit_offset(&self, g: u64) -> u64 {
        g * self.unit_len()
    }

    /// Plans the fetch for plaintext bytes `first..=last` of an object of `stored` bytes.
    pub fn plan(&self, first: u64, last: u64, stored: u64) -> Result<RangePlan, FormatError> {
        let data = self.data_len(stored)?;
        let first_unit = first / self.segment;
        let last_unit = last / self.segment;
        let end = (self.unit_offset(last_unit + 1)).min(data) - 1;
        Ok(RangePlan {
            units: first_unit..=last_unit,
            stored: self.unit_offset(first_unit)..=end,
            skip: first % self.segment,
            len: last - first + 1,
        })
    }

    /// Plans a read of every unit, trailer excluded.
    pub fn plan_all(&self, stored: u64) -> Result<RangePlan, FormatError> {
        let data = self.data_len(stored)?;
        let units = data.div_ceil(self.unit_len());
        Ok(RangePlan {
            units: 0..=units - 1,
            stored: 0..=data - 1,
            skip: 0,
            len: data - UNIT_OVERHEAD * units,
        })
    }
}

/// Resolves an HTTP `Range` header value against a plaintext length, as S3 does: one
/// `bytes=a-b`, `bytes=a-` or `bytes=-n` range; syntactically invalid or multiple ranges are
/// ignored (whole object); a start at or past the end is unsatisfiable.
pub fn resolve_range(header: &str, total: u64) -> Resolved {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Resolved::Full;
    };
    if spec.contains(',') {
        return Resolved::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Resolved::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(first), Ok(last)) if a.is_empty() || first <= last => clamp(first, last, total),
        (Ok(_), Ok(_)) => Resolved::Full,
        (Ok(first), Err(_)) if b.is_empty() => clamp(first, u64::MAX, total),
        (Err(_), Ok(n)) if a.is_empty() => suffix(n, total),
        _ => Resolved::Full,
    }
}

fn clamp(first: u64, last: u64, total: u64) -> Resolved {
    if first >= total {
        return Resolved::Unsatisfiable;
    }
    Resolved::Partial {
        first,
        last: last.min(total - 1),
    }
}

fn suffix(n: u64, total: u64) -> Resolved {
    if n == 0 || total == 0 {
        return Resolved::Unsatisfiable;
    }
    Resolved::Partial {
        first: total.saturating_sub(n),
        last: total - 1,
    }
}

#[cfg(test)]
mod tests;
