use super::*;

fn bytes(seed: u64, offset: u64, len: usize) -> Vec<u8> {
    let mut out = vec![0; len];
    fill(seed, offset, &mut out);
    out
}

#[test]
fn any_range_matches_the_whole() {
    let whole = bytes(7, 0, 3 * BLOCK + 123);
    for (start, len) in [
        (0, 1),
        (3, 5),
        (8, 64),
        (BLOCK - 3, 10),
        (BLOCK * 2 + 1, BLOCK),
        (5, 3 * BLOCK),
    ] {
        assert_eq!(
            bytes(7, start as u64, len),
            &whole[start..start + len],
            "range {start}+{len}"
        );
    }
}

#[test]
fn objects_and_blocks_differ() {
    assert_ne!(bytes(1, 0, 64), bytes(2, 0, 64));
    // The same pattern position in two blocks of one object.
    assert_ne!(bytes(1, 0, 64), bytes(1, BLOCK as u64, 64));
    // A shift by one word inside a block.
    assert_ne!(bytes(1, 0, 64), bytes(1, 8, 64));
}

#[test]
fn verifier_accepts_the_exact_range_in_any_framing() {
    let body = bytes(9, 1000, 200_000);
    let mut v = Verifier::new(9, 1000, 200_000);
    for piece in body.chunks(77_777) {
        v.update(piece).unwrap();
    }
    v.finish(1000).unwrap();
}

#[test]
fn verifier_names_the_first_wrong_byte() {
    let mut body = bytes(9, 0, 100_000);
    body[70_001] ^= 1;
    let mut v = Verifier::new(9, 0, 100_000);
    assert_eq!(v.update(&body), Err(Mismatch::Bytes { offset: 70_001 }));
}

#[test]
fn verifier_rejects_short_long_and_shifted_bodies() {
    let body = bytes(3, 0, 1000);
    let mut v = Verifier::new(3, 0, 999);
    assert!(matches!(v.update(&body), Err(Mismatch::TooLong { .. })));

    let mut v = Verifier::new(3, 0, 1000);
    v.update(&body[..500]).unwrap();
    assert_eq!(
        v.finish(0),
        Err(Mismatch::TooShort {
            expected: 1000,
            got: 500
        })
    );

    let mut v = Verifier::new(3, 1, 999);
    assert!(v.update(&body[..999]).is_err());
}

#[test]
fn content_body_produces_the_range_with_an_exact_size() {
    use http_body_util::BodyExt as _;
    let body = ContentBody::new(5, 100, 700_000);
    assert_eq!(body.size_hint().exact(), Some(700_000));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let collected = rt.block_on(body.collect()).unwrap().to_bytes();
    assert_eq!(collected, bytes(5, 100, 700_000));
}

#[test]
fn log_uniform_stays_in_bounds_and_spreads() {
    let mut rng = XorShift::new(1);
    let values: Vec<u64> = (0..10_000)
        .map(|_| rng.log_uniform(4096, 1 << 20))
        .collect();
    assert!(values.iter().all(|v| (4096..=1 << 20).contains(v)));
    let small = values.iter().filter(|&&v| v < 65_536).count();
    // Half the log range lies below 64 KiB.
    assert!((4_500..5_500).contains(&small), "{small}");
    assert_eq!(rng.log_uniform(5, 5), 5);
}
