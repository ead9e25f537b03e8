//! Part boundaries of a multipart object whose parts differ in size, found from the
//! authenticated locators of a few of its units.
//!
//! Such an object's trailer gives the part count but not where parts end (see `parts`). Every
//! unit's locator names its part and its index in that part, and is authenticated with the
//! unit. Part numbers only grow along the object, so the last unit of each part is found by a
//! binary search over unit positions: about `log2(units)` whole units read per boundary, each
//! opened under the object's content key before its locator is believed. The search stops at
//! [`MAX_UNITS_READ`] units, for a metadata request must stay cheap; beyond that the caller
//! answers without part sizes.
//!
//! What this cannot check is the same as for any ranged read of such an object
//! (docs/FORMAT.md, "What is not detected"): a store that moved whole runs of authentic units
//! could shift a reported boundary; a read of the whole object detects that.

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};
use cloak_envelope::unit::open_from;
use cloak_envelope::Locator;
use http_body_util::BodyExt;

use super::parts::{PartSpan, Parts};
use super::probe::Sealed;
use super::read::{fetch, ReadFrom};
use crate::error::S3Error;

/// The most units one request reads to find boundaries (about 13 MiB of stored bytes).
pub const MAX_UNITS_READ: usize = 200;

/// The first `upto` parts of the object, in object order; `None` if finding them would read
/// more than [`MAX_UNITS_READ`] units.
pub async fn first_parts(
    from: &ReadFrom<'_>,
    sealed: &Sealed,
    pin: Option<&str>,
    upto: u32,
) -> Result<Option<Vec<PartSpan>>, S3Error> {
    let parts = Parts::of(&sealed.trailer);
    let upto = upto.min(parts.count());
    if parts.known() {
        return Ok(Some((1..=upto).filter_map(|i| parts.nth(i)).collect()));
    }
    let mut search = Search {
        from,
        sealed,
        pin,
        seen: HashMap::new(),
    };
    let mut spans: Vec<PartSpan> = Vec::new();
    let mut start = 0;
    while spans.len() < upto as usize {
        if start >= sealed.expect.units {
            return Err(cut_short());
        }
        let Some(span) = search.part_at(start).await? else {
            return Ok(None);
        };
        if spans.last().is_some_and(|p| p.number >= span.number) {
            return Err(misplaced(start));
        }
        start = (span.first + span.len).div_ceil(sealed.layout.segment_size());
        spans.push(span);
    }
    let ends = spans.last().map(|p| p.first + p.len);
    if upto == parts.count() && ends != Some(sealed.expect.plain_len) {
        return Err(cut_short());
    }
    Ok(Some(spans))
}

struct Search<'a> {
    from: &'a ReadFrom<'a>,
    sealed: &'a Sealed,
    pin: Option<&'a str>,
    seen: HashMap<u64, Locator>,
}

impl Search<'_> {
    /// The part that starts at unit `start`; `None` once the read budget is spent.
    async fn part_at(&mut self, start: u64) -> Result<Option<PartSpan>, S3Error> {
        let units = self.sealed.expect.units;
        let Some(first) = self.locator(start).await? else {
            return Ok(None);
        };
        if first.index != 0 {
            return Err(misplaced(start));
        }
        // Invariant: unit `lo` is in the part, unit `hi` (if below `units`) is not.
        let (mut lo, mut hi) = (start, units);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            let Some(loc) = self.locator(mid).await? else {
                return Ok(None);
            };
            if loc.part != first.part {
                hi = mid;
            } else if u64::from(loc.index) == mid - start {
                lo = mid;
            } else {
                return Err(misplaced(mid));
            }
        }
        let Some(end) = self.locator(lo).await? else {
            return Ok(None);
        };
        if !end.last_in_part {
            return Err(misplaced(lo));
        }
        Ok(Some(self.span(first.part, start, lo)))
    }

    /// Units `start..=end` in plaintext terms: every unit is full but the object's last.
    fn span(&self, number: u32, start: u64, end: u64) -> PartSpan {
        let segment = self.sealed.layout.segment_size();
        let first = start * segment;
        let stop = ((end + 1) * segment).min(self.sealed.expect.plain_len);
        PartSpan {
            number,
            first,
            len: stop - first,
        }
    }

    /// The authenticated locator of unit `g`; `None` once the budget is spent.
    async fn locator(&mut self, g: u64) -> Result<Option<Locator>, S3Error> {
        if let Some(found) = self.seen.get(&g) {
            return Ok(Some(*found));
        }
        if self.seen.len() >= MAX_UNITS_READ {
            return Ok(None);
        }
        let unit = self.unit(g).await?;
        let (locator, _) = open_from(&self.sealed.key, &unit, g)?;
        self.seen.insert(g, locator);
        Ok(Some(locator))
    }

    async fn unit(&self, g: u64) -> Result<Bytes, S3Error> {
        let layout = self.sealed.layout;
        let data_end = self.sealed.stored_len - cloak_envelope::trailer::TRAILER_LEN;
        let first = layout.unit_offset(g);
        let last = layout.unit_offset(g + 1).min(data_end) - 1;
        if let Some(held) = self.sealed.held(first, last) {
            return Ok(held);
        }
        let pin = self.pin.map(str::to_owned);
        let mut body = fetch(self.from, first, last, pin).await?;
        let mut buf = BytesMut::with_capacity((last - first + 1) as usize);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| S3Error::upstream("The store's answer was cut short"))?;
            if let Ok(data) = frame.into_data() {
                if buf.len() + data.len() > (last - first + 1) as usize {
                    return Err(S3Error::upstream("The store ignored a Range request"));
                }
                buf.extend_from_slice(&data);
            }
        }
        Ok(buf.freeze())
    }
}

fn cut_short() -> S3Error {
    cloak_envelope::FormatError::Truncated("the object's part count differs from its trailer")
        .into()
}

fn misplaced(g: u64) -> S3Error {
    cloak_envelope::FormatError::SegmentMisplaced {
        index: g,
        reason: "part or index differs from the part boundaries",
    }
    .into()
}
