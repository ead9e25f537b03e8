//! An object's parts in plaintext terms, from its sealed trailer alone.
//!
//! A single PUT is one part. A multipart object's trailer records its part count, its first
//! part number and, when every non-final part has the same length and the numbers are
//! consecutive (every mainstream client), that length: then each part's plaintext span is
//! arithmetic. For the rare object with unequal parts the trailer does not say where parts
//! end, so only the count is known here; `boundaries` finds them from unit locators.

use cloak_envelope::{ObjectKind, Trailer};

/// Where one part lies in the plaintext.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartSpan {
    /// The part number the client uploaded it as (1 for a single PUT).
    pub number: u32,
    /// Offset of its first plaintext byte.
    pub first: u64,
    /// Its plaintext length.
    pub len: u64,
}

/// The part table of one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parts {
    multipart: bool,
    count: u32,
    first_number: u32,
    /// The length of every part but the last; 0 when the object is one part or the lengths
    /// are not uniform.
    uniform: u64,
    total: u64,
}

impl Parts {
    pub fn of(trailer: &Trailer) -> Self {
        let multipart = trailer.kind == ObjectKind::Multipart;
        Self {
            multipart,
            count: trailer.part_count.max(1),
            first_number: if multipart { trailer.first_part } else { 1 },
            uniform: trailer.uniform_part_len,
            total: trailer.plaintext_len,
        }
    }

    /// Whether the object was written by a multipart upload.
    pub fn multipart(&self) -> bool {
        self.multipart
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    /// Whether every part's span can be computed.
    pub fn known(&self) -> bool {
        self.count == 1 || self.uniform > 0
    }

    /// The `ordinal`-th part (1-based, in object order), if it exists and its span is known.
    pub fn nth(&self, ordinal: u32) -> Option<PartSpan> {
        if ordinal == 0 || ordinal > self.count || !self.known() {
            return None;
        }
        let number = self.first_number + (ordinal - 1);
        if self.count == 1 {
            return Some(PartSpan {
                number,
                first: 0,
                len: self.total,
            });
        }
        let first = u64::from(ordinal - 1) * self.uniform;
        let len = if ordinal == self.count {
            self.total - first
        } else {
            self.uniform
        };
        Some(PartSpan { number, first, len })
    }

    /// The known parts whose numbers are above `marker`, at most `max` of them, and whether
    /// more follow.
    pub fn page(&self, marker: u32, max: u32) -> (Vec<PartSpan>, bool) {
        let spans: Vec<PartSpan> = (1..=self.count).filter_map(|i| self.nth(i)).collect();
        page_of(&spans, marker, max)
    }
}

/// The spans numbered above `marker`, at most `max` of them, and whether more follow.
pub fn page_of(spans: &[PartSpan], marker: u32, max: u32) -> (Vec<PartSpan>, bool) {
    let after: Vec<PartSpan> = spans
        .iter()
        .copied()
        .filter(|p| p.number > marker)
        .collect();
    let truncated = after.len() > max as usize;
    (after.into_iter().take(max as usize).collect(), truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trailer(kind: ObjectKind, count: u32, first: u32, uniform: u64, total: u64) -> Trailer {
        Trailer {
            kind,
            plaintext_len: total,
            part_count: count,
            first_part: first,
            uniform_part_len: uniform,
            etag_md5: [0; 16],
            unit_salt: [0; 8],
        }
    }

    #[test]
    fn a_single_put_is_one_part_of_the_whole_object() {
        let parts = Parts::of(&trailer(ObjectKind::Single, 1, 0, 0, 10));
        assert!(!parts.multipart());
        let whole = PartSpan {
            number: 1,
            first: 0,
            len: 10,
        };
        assert_eq!(parts.nth(1), Some(whole));
        assert_eq!(parts.nth(2), None);
        assert_eq!(parts.nth(0), None);
    }

    #[test]
    fn uniform_parts_are_arithmetic_and_the_last_takes_the_rest() {
        let mib = 1 << 20;
        let parts = Parts::of(&trailer(ObjectKind::Multipart, 3, 1, 5 * mib, 10 * mib + 7));
        let spans: Vec<_> = (1..=3).map(|i| parts.nth(i).unwrap()).collect();
        assert_eq!(spans[1].first, 5 * mib);
        assert_eq!(spans[2].len, 7);
        assert_eq!(spans[2].number, 3);
        let (page, more) = parts.page(1, 1);
        assert_eq!((page[0].number, more), (2, true));
        let (page, more) = parts.page(2, 1000);
        assert_eq!((page.len(), more), (1, false));
    }

    #[test]
    fn unequal_parts_have_a_count_but_no_spans() {
        let parts = Parts::of(&trailer(ObjectKind::Multipart, 2, 1, 0, 12 << 20));
        assert!(!parts.known());
        assert_eq!(parts.count(), 2);
        assert_eq!(parts.nth(1), None);
        // One multipart part needs no uniform length.
        let one = Parts::of(&trailer(ObjectKind::Multipart, 1, 4, 0, 99));
        assert_eq!(one.nth(1).map(|p| (p.number, p.len)), Some((4, 99)));
    }
}
