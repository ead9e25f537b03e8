//! Property tests: every length and every range form round-trips, single and multipart.

mod common;

use cloak_envelope::layout::{resolve_range, Layout, Resolved};
use common::*;
use proptest::prelude::*;

const S: usize = 4096;

fn layout() -> Layout {
    Layout::new(S as u32)
}

/// Applies an HTTP range to a plaintext the way S3 would, for comparison.
fn expected(data: &[u8], header: &str) -> Option<Vec<u8>> {
    match resolve_range(header, data.len() as u64) {
        Resolved::Full => Some(data.to_vec()),
        Resolved::Partial { first, last } => Some(data[first as usize..=last as usize].to_vec()),
        Resolved::Unsatisfiable => None,
    }
}

fn through_envelope(stored: &[u8], data_len: usize, header: &str, chunk: usize) -> Option<Vec<u8>> {
    let key = key();
    match resolve_range(header, data_len as u64) {
        Resolved::Full => Some(read(&key, layout(), stored, None, chunk).unwrap()),
        Resolved::Partial { first, last } => {
            Some(read(&key, layout(), stored, Some((first, last)), chunk).unwrap())
        }
        Resolved::Unsatisfiable => None,
    }
}

fn range_header() -> impl Strategy<Value = (u8, u64, u64)> {
    (0u8..3, 0u64..(4 * S as u64 + 10), 0u64..(4 * S as u64 + 10))
}

fn render(form: u8, a: u64, b: u64) -> String {
    match form {
        0 => format!("bytes={}-{}", a.min(b), a.max(b)),
        1 => format!("bytes={a}-"),
        _ => format!("bytes=-{}", b.max(1)),
    }
}

#[test]
fn every_length_up_to_several_segments_plus_one() {
    let key = key();
    for len in 0..=(3 * S + 1) {
        if len > 2 * S + 2 && len % 97 != 0 && len != 3 * S && len != 3 * S + 1 {
            continue;
        }
        let data = pattern(len, 7);
        let stored = seal_single(&key, layout(), &data, 1000);
        assert_eq!(stored.len() as u64, layout().stored_len(len as u64));
        assert_eq!(
            read(&key, layout(), &stored, None, 777).unwrap(),
            data,
            "len {len}"
        );
    }
}

#[test]
fn default_segment_size_round_trips() {
    let key = key();
    let layout = Layout::new(65536);
    for len in [0, 1, 65535, 65536, 65537, 3 * 65536 + 1] {
        let data = pattern(len, 1);
        let stored = seal_single(&key, layout, &data, 10_000);
        assert_eq!(read(&key, layout, &stored, None, 65_000).unwrap(), data);
        if len > 2 {
            let got = read(&key, layout, &stored, Some((1, len as u64 - 2)), 4096).unwrap();
            assert_eq!(got, &data[1..len - 1]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn single_objects_serve_every_range(
        len in 0usize..(4 * S + 2),
        (form, a, b) in range_header(),
        push in 1usize..(2 * S),
        pull in 1usize..(2 * S),
    ) {
        let data = pattern(len, 3);
        let stored = seal_single(&key(), layout(), &data, push);
        let header = render(form, a, b);
        prop_assert_eq!(through_envelope(&stored, len, &header, pull), expected(&data, &header));
    }

    #[test]
    fn multipart_objects_serve_every_range(
        segs in proptest::collection::vec(1usize..4, 1..5),
        tail in 0usize..(2 * S),
        order_seed in any::<u64>(),
        (form, a, b) in range_header(),
        pull in 1usize..(2 * S),
    ) {
        // Non-final parts are whole segments (varying sizes); the last part is anything.
        let mut sizes: Vec<usize> = segs.iter().map(|n| n * S).collect();
        sizes.push(tail);
        let len: usize = sizes.iter().sum();
        let data = pattern(len, 9);
        let mut order: Vec<usize> = (0..sizes.len()).collect();
        shuffle(&mut order, order_seed);

        let stored = seal_multipart(&key(), layout(), &data, &sizes, &order);
        prop_assert_eq!(stored.len() as u64 - layout().stored_len(0) + 32, stored_units(&sizes));
        prop_assert_eq!(layout().plaintext_len(stored.len() as u64).unwrap(), len as u64);
        let header = render(form, a, b);
        prop_assert_eq!(through_envelope(&stored, len, &header, pull), expected(&data, &header));
    }
}

fn stored_units(sizes: &[usize]) -> u64 {
    sizes
        .iter()
        .map(|s| layout().stored_part_len(*s as u64))
        .sum()
}

fn shuffle(v: &mut [usize], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        v.swap(i, (seed >> 33) as usize % (i + 1));
    }
}
