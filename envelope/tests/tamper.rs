//! One test per row of the threat-model table in docs/FORMAT.md.

mod common;

use std::sync::Arc;

use cloak_envelope::layout::Layout;
use cloak_envelope::trailer::TRAILER_LEN;
use cloak_envelope::{ContentKey, FormatError};
use common::*;

const S: usize = 4096;
const U: usize = S + 32;

fn layout() -> Layout {
    Layout::new(S as u32)
}

fn single(len: usize) -> (Vec<u8>, Vec<u8>) {
    let data = pattern(len, 5);
    let stored = seal_single(&key(), layout(), &data, 999);
    (data, stored)
}

fn full(stored: &[u8]) -> Result<Vec<u8>, FormatError> {
    read(&key(), layout(), stored, None, 1500)
}

fn ranged(stored: &[u8], a: u64, b: u64) -> Result<Vec<u8>, FormatError> {
    read(&key(), layout(), stored, Some((a, b)), 1500)
}

fn is_tampered(r: Result<Vec<u8>, FormatError>) -> bool {
    matches!(r, Err(FormatError::SegmentTampered { .. }))
}

fn is_misplaced(r: Result<Vec<u8>, FormatError>) -> bool {
    matches!(r, Err(FormatError::SegmentMisplaced { .. }))
}

fn unit(stored: &[u8], g: usize) -> Vec<u8> {
    stored[g * U..(g + 1) * U].to_vec()
}

fn trailer_of(stored: &[u8]) -> Vec<u8> {
    stored[stored.len() - TRAILER_LEN as usize..].to_vec()
}

fn units_of(stored: &[u8]) -> &[u8] {
    &stored[..stored.len() - TRAILER_LEN as usize]
}

#[test]
fn flipped_ciphertext_byte() {
    let (_, mut stored) = single(3 * S);
    stored[U + 100] ^= 0x01;
    assert!(is_tampered(full(&stored)));
    assert!(is_tampered(ranged(&stored, S as u64, S as u64 + 10)));
    // A range that does not touch the damaged unit is still served.
    assert!(ranged(&stored, 0, 10).is_ok());
}

#[test]
fn flipped_locator_byte() {
    for offset in [0, 5, 7, 12] {
        let (_, mut stored) = single(3 * S);
        stored[U + offset] ^= 0x80;
        assert!(is_tampered(full(&stored)), "offset {offset}");
    }
}

#[test]
fn flipped_tag_byte() {
    let (_, mut stored) = single(3 * S);
    stored[2 * U - 1] ^= 0x01;
    assert!(is_tampered(ranged(&stored, S as u64, S as u64)));
}

#[test]
fn reordered_units() {
    let (_, stored) = single(3 * S);
    let mut swapped = stored.clone();
    swapped[..U].copy_from_slice(&unit(&stored, 1));
    swapped[U..2 * U].copy_from_slice(&unit(&stored, 0));
    assert!(is_misplaced(full(&swapped)));
    assert!(is_misplaced(ranged(&swapped, 10, 20)));
}

#[test]
fn duplicated_unit() {
    let (_, stored) = single(3 * S);
    let mut dup = stored.clone();
    dup[U..2 * U].copy_from_slice(&unit(&stored, 0));
    assert!(is_misplaced(ranged(&dup, S as u64 + 1, S as u64 + 2)));
}

#[test]
fn dropped_unit_in_the_middle() {
    let (_, stored) = single(3 * S + 10);
    let mut cut = stored[..U].to_vec();
    cut.extend_from_slice(&stored[2 * U..]);
    assert!(matches!(full(&cut), Err(FormatError::Truncated(_))));
}

#[test]
fn truncated_at_a_unit_boundary_keeping_the_trailer() {
    let (_, stored) = single(3 * S);
    for keep in [1, 2] {
        let mut cut = stored[..keep * U].to_vec();
        cut.extend_from_slice(&trailer_of(&stored));
        assert!(
            matches!(full(&cut), Err(FormatError::Truncated(_))),
            "keep {keep}"
        );
        assert!(matches!(ranged(&cut, 0, 1), Err(FormatError::Truncated(_))));
    }
}

#[test]
fn truncated_trailer_and_units() {
    let (_, stored) = single(3 * S);
    // Losing the trailer (and the final unit): what remains ends in a unit, not a trailer.
    let cut = &stored[..2 * U];
    assert!(full(cut).is_err());
    let cut = &stored[..stored.len() - 1];
    assert!(full(cut).is_err());
}

#[test]
fn extended_by_an_appended_unit() {
    let (_, stored) = single(2 * S);
    let mut longer = units_of(&stored).to_vec();
    longer.extend_from_slice(&unit(&stored, 0));
    longer.extend_from_slice(&trailer_of(&stored));
    assert!(matches!(full(&longer), Err(FormatError::Truncated(_))));
}

#[test]
fn unit_spliced_from_another_object() {
    let (_, ours) = single(3 * S);
    let other_key = Arc::new(ContentKey::derive(&[9; 32], &SALT));
    let theirs = seal_single(&other_key, layout(), &pattern(3 * S, 1), 999);
    let mut spliced = ours.clone();
    spliced[U..2 * U].copy_from_slice(&unit(&theirs, 1));
    assert!(is_tampered(full(&spliced)));
}

#[test]
fn unit_spliced_from_an_earlier_upload_of_the_same_key_and_data_key() {
    // Even under the same content key (a server-side copy shares it), another upload's units
    // carry another salt and are refused.
    let (_, ours) = single(3 * S);
    let (_, again) = single(3 * S);
    let mut spliced = ours.clone();
    spliced[U..2 * U].copy_from_slice(&unit(&again, 1));
    assert!(is_misplaced(ranged(&spliced, S as u64, S as u64)));
}

#[test]
fn trailer_altered_or_swapped() {
    let (_, stored) = single(2 * S);
    let mut flipped = stored.clone();
    let n = flipped.len();
    flipped[n - 40] ^= 1;
    assert!(matches!(full(&flipped), Err(FormatError::TrailerTampered)));

    let other_key = Arc::new(ContentKey::derive(&[9; 32], &SALT));
    let theirs = seal_single(&other_key, layout(), &pattern(2 * S, 1), 999);
    let mut swapped = units_of(&stored).to_vec();
    swapped.extend_from_slice(&trailer_of(&theirs));
    assert!(matches!(full(&swapped), Err(FormatError::TrailerTampered)));
}

#[test]
fn trailer_replayed_from_another_upload_of_same_length() {
    // Same content key (a copy), same length, other upload: the trailer's salt differs.
    let (_, ours) = single(2 * S);
    let (_, again) = single(2 * S);
    let mut mixed = units_of(&ours).to_vec();
    mixed.extend_from_slice(&trailer_of(&again));
    assert!(is_misplaced(full(&mixed)));
}

#[test]
fn substituted_data_key_fails_the_commitment() {
    let honest = ContentKey::derive(&DEK, &SALT);
    let stored_commitment = *honest.commitment();
    let other = ContentKey::derive_committed(&[1; 32], &SALT, &stored_commitment);
    assert_eq!(other.err(), Some(FormatError::CommitmentMismatch));
    let altered_salt = ContentKey::derive_committed(&DEK, &[0; 16], &stored_commitment);
    assert_eq!(altered_salt.err(), Some(FormatError::CommitmentMismatch));
    assert!(ContentKey::derive_committed(&DEK, &SALT, &stored_commitment).is_ok());
}

mod multipart {
    use super::*;

    fn upload(sizes: &[usize]) -> (Vec<u8>, Vec<u8>) {
        let len = sizes.iter().sum();
        let data = pattern(len, 11);
        let order: Vec<usize> = (0..sizes.len()).rev().collect();
        (
            data.clone(),
            seal_multipart(&key(), layout(), &data, sizes, &order),
        )
    }

    #[test]
    fn swapped_equal_parts_are_misplaced_even_in_a_ranged_read() {
        let (_, stored) = upload(&[2 * S, 2 * S, 2 * S, 100]);
        let mut swapped = stored.clone();
        swapped[2 * U..4 * U].copy_from_slice(&stored[4 * U..6 * U]);
        swapped[4 * U..6 * U].copy_from_slice(&stored[2 * U..4 * U]);
        assert!(is_misplaced(ranged(
            &swapped,
            2 * S as u64 + 5,
            2 * S as u64 + 6
        )));
        assert!(is_misplaced(full(&swapped)));
    }

    #[test]
    fn swapped_unequal_parts_fail_a_full_read() {
        let (_, stored) = upload(&[S, 2 * S, 3]);
        // Move part 2 before part 1: sizes differ, so the whole layout shifts.
        let mut swapped = stored[U..3 * U].to_vec();
        swapped.extend_from_slice(&stored[..U]);
        swapped.extend_from_slice(&stored[3 * U..]);
        assert!(is_misplaced(full(&swapped)));
    }

    #[test]
    fn losing_the_final_part_is_detected() {
        let (_, stored) = upload(&[S, S, S]);
        let mut cut = stored[..2 * U].to_vec();
        cut.extend_from_slice(&trailer_of(&stored));
        assert!(matches!(full(&cut), Err(FormatError::Truncated(_))));
    }

    #[test]
    fn a_part_from_a_retried_upload_is_refused_beside_its_neighbours() {
        let data = pattern(3 * S, 11);
        let sizes = [2 * S, S];
        let first = seal_multipart(&key(), layout(), &data, &sizes, &[0, 1]);
        let retry = seal_multipart(&key(), layout(), &data, &sizes, &[1, 0]);
        let mut mixed = first.clone();
        mixed[U..2 * U].copy_from_slice(&unit(&retry, 1));
        assert!(is_misplaced(ranged(&mixed, 0, 2 * S as u64 - 1)));
        assert!(is_misplaced(full(&mixed)));
    }
}
