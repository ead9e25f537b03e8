//! Helpers shared by the envelope's integration tests: write objects the way the proxy does,
//! and read plaintext ranges back through the public API.

#![allow(dead_code)]

use std::sync::Arc;

use bytes::Bytes;
use cloak_envelope::layout::Layout;
use cloak_envelope::trailer::TRAILER_LEN;
use cloak_envelope::{ContentKey, Expect, FormatError, Opener, PartSummary, Sealer, Trailer};
use md5::{Digest, Md5};

pub const DEK: [u8; 32] = [0x42; 32];
pub const SALT: [u8; 16] = [0x24; 16];

pub fn key() -> Arc<ContentKey> {
    Arc::new(ContentKey::derive(&DEK, &SALT))
}

pub fn md5(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

/// Seals `data` as a single PUT, feeding it in `chunk`-byte pieces.
pub fn seal_single(key: &Arc<ContentKey>, layout: Layout, data: &[u8], chunk: usize) -> Vec<u8> {
    let mut sealer = Sealer::new(key.clone(), layout, 0, data.len() as u64);
    let mut out = Vec::new();
    for piece in data.chunks(chunk.max(1)) {
        sealer.push(piece, &mut out).unwrap();
    }
    let trailer = sealer.single_trailer(md5(data));
    let expected = sealer.stored_len();
    sealer.finish(&mut out).unwrap();
    let mut stored: Vec<u8> = out.concat();
    assert_eq!(stored.len() as u64, expected);
    stored.extend_from_slice(&trailer.seal(key));
    stored
}

/// Seals `data` as a multipart upload cut at `sizes` (part numbers from 1), encrypting the
/// parts in `order` (a permutation of part indices), each with its own sealer.
pub fn seal_multipart(
    key: &Arc<ContentKey>,
    layout: Layout,
    data: &[u8],
    sizes: &[usize],
    order: &[usize],
) -> Vec<u8> {
    let mut offsets = vec![0usize];
    for s in sizes {
        offsets.push(offsets.last().unwrap() + s);
    }
    let mut sealed: Vec<Option<Vec<u8>>> = vec![None; sizes.len()];
    for &i in order {
        let part = &data[offsets[i]..offsets[i + 1]];
        let mut sealer = Sealer::new(key.clone(), layout, i as u32 + 1, part.len() as u64);
        let mut out = Vec::new();
        sealer.push(part, &mut out).unwrap();
        sealer.finish(&mut out).unwrap();
        sealed[i] = Some(out.concat());
    }
    let summaries: Vec<PartSummary> = (0..sizes.len())
        .map(|i| PartSummary {
            number: i as u32 + 1,
            plain_len: sizes[i] as u64,
            md5: md5(&data[offsets[i]..offsets[i + 1]]),
        })
        .collect();
    let trailer = Trailer::for_parts(&summaries, layout.segment_size()).unwrap();
    let mut stored: Vec<u8> = sealed.into_iter().flatten().flatten().collect();
    stored.extend_from_slice(&trailer.seal(key));
    stored
}

/// Reads plaintext `first..=last` (or everything) back, feeding stored bytes in `chunk`-byte
/// pieces, as the proxy does with an upstream response.
pub fn read(
    key: &Arc<ContentKey>,
    layout: Layout,
    stored: &[u8],
    range: Option<(u64, u64)>,
    chunk: usize,
) -> Result<Vec<u8>, FormatError> {
    let total = stored.len() as u64;
    if total < TRAILER_LEN {
        return Err(FormatError::ImpossibleLength(total));
    }
    let trailer = Trailer::open(key, &stored[(total - TRAILER_LEN) as usize..])?;
    let expect = Expect::from_trailer(&trailer, &layout, total)?;
    let plan = match range {
        Some((a, b)) => layout.plan(a, b, total)?,
        None => layout.plan_all(total)?,
    };
    let body = &stored[*plan.stored.start() as usize..=*plan.stored.end() as usize];
    let mut opener = Opener::new(key.clone(), layout, expect, &plan);
    let mut out = Vec::new();
    for piece in body.chunks(chunk.max(1)) {
        opener.push(Bytes::copy_from_slice(piece), &mut out)?;
    }
    opener.finish()?;
    Ok(out.concat())
}

pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}
