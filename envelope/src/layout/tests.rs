use proptest::prelude::*;

use super::*;

const S: u32 = 65536;

#[test]
fn worked_examples_from_the_format_doc() {
    let l = Layout::new(S);
    assert_eq!(l.stored_len(0), 32 + 96);
    assert_eq!(l.stored_len(1), 33 + 96);
    assert_eq!(l.stored_len(65536), 65568 + 96);
    assert_eq!(l.stored_len(65537), 65568 + 33 + 96);
    assert_eq!(l.stored_len(8 << 20), (8 << 20) + 128 * 32 + 96);
    assert_eq!(l.plaintext_len(65568 + 33 + 96), Ok(65537));

    // Bytes 100000..=200000 live in units 1..=3; fetch from unit 1's start.
    let plan = l.plan(100_000, 200_000, l.stored_len(1 << 20)).unwrap();
    assert_eq!(plan.units, 1..=3);
    assert_eq!(*plan.stored.start(), 65568);
    assert_eq!(*plan.stored.end(), 4 * 65568 - 1);
    assert_eq!(plan.skip, 100_000 - 65536);
}

#[test]
fn impossible_lengths_are_rejected() {
    let l = Layout::new(S);
    for stored in [0, 95, 96, 127, 96 + 65568 + 31] {
        assert!(l.plaintext_len(stored).is_err(), "{stored}");
    }
}

#[test]
fn ranges_follow_s3() {
    assert_eq!(
        resolve_range("bytes=4-7", 11),
        Resolved::Partial { first: 4, last: 7 }
    );
    assert_eq!(
        resolve_range("bytes=4-", 11),
        Resolved::Partial { first: 4, last: 10 }
    );
    assert_eq!(
        resolve_range("bytes=-7", 11),
        Resolved::Partial { first: 4, last: 10 }
    );
    assert_eq!(
        resolve_range("bytes=-70", 11),
        Resolved::Partial { first: 0, last: 10 }
    );
    assert_eq!(
        resolve_range("bytes=4-700", 11),
        Resolved::Partial { first: 4, last: 10 }
    );
    assert_eq!(resolve_range("bytes=11-", 11), Resolved::Unsatisfiable);
    assert_eq!(resolve_range("bytes=0-", 0), Resolved::Unsatisfiable);
    assert_eq!(resolve_range("bytes=-5", 0), Resolved::Unsatisfiable);
    assert_eq!(resolve_range("bytes=1-0", 11), Resolved::Full);
    assert_eq!(resolve_range("bytes=0-1,5-6", 11), Resolved::Full);
    assert_eq!(resolve_range("items=0-1", 11), Resolved::Full);
    assert_eq!(resolve_range("bytes=x-1", 11), Resolved::Full);
}

proptest! {
    #[test]
    fn length_arithmetic_inverts(plain in 0u64..(1 << 30), log2 in 12u32..=20) {
        let l = Layout::new(1 << log2);
        prop_assert_eq!(l.plaintext_len(l.stored_len(plain)), Ok(plain));
        prop_assert_eq!(l.unit_count(l.stored_len(plain)), Ok(l.units_for(plain)));
    }

    #[test]
    fn plans_cover_exactly_the_range(plain in 1u64..(1 << 22), a in 0u64..(1 << 22), b in 0u64..(1 << 22)) {
        let l = Layout::new(4096);
        let (first, last) = (a.min(b) % plain, a.max(b) % plain);
        let (first, last) = (first.min(last), first.max(last));
        let plan = l.plan(first, last, l.stored_len(plain)).unwrap();
        let seg = l.segment_size();
        prop_assert_eq!(*plan.units.start() * seg + plan.skip, first);
        prop_assert!(*plan.units.end() * seg <= last);
        prop_assert!((*plan.units.end() + 1) * seg > last);
        // The stored range covers whole units and never reaches into the trailer.
        prop_assert_eq!(*plan.stored.start(), l.unit_offset(*plan.units.start()));
        prop_assert!(*plan.stored.end() < l.stored_part_len(plain));
    }
}
