//! Deterministic object contents that cost little to produce and to check.
//!
//! An object is named by a 64-bit seed. Its bytes are one fixed 64 KiB pseudo-random pattern,
//! repeated, with every 64 KiB block XORed with a word derived from the seed and the block
//! index. That gives what a load test needs:
//! - any byte range can be produced without the bytes before it (ranged reads, parts);
//! - another object, or a block moved within an object, differs (its block word differs);
//! - a shift within a block differs (the pattern is random);
//! - producing a byte costs one XOR, so the client's checks stay small next to the proxy's work.

use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};

/// Bytes in one pattern block.
pub const BLOCK: usize = 64 * 1024;
const BLOCK_WORDS: usize = BLOCK / 8;

/// Bytes per frame of a generated request body.
const FRAME: usize = 256 * 1024;

/// A body read back did not hold the bytes that were written.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Mismatch {
    #[error("body differs from the object at byte {offset}")]
    Bytes { offset: u64 },
    #[error("body runs past the {expected} bytes expected")]
    TooLong { expected: u64 },
    #[error("body ended after {got} of {expected} bytes")]
    TooShort { expected: u64, got: u64 },
}

/// Checks a body, frame by frame, against the object it should be a range of.
pub struct Verifier {
    seed: u64,
    next: u64,
    end: u64,
    scratch: Vec<u8>,
}

/// A request body that produces an object's bytes `[start, end)` as it is sent.
pub struct ContentBody {
    seed: u64,
    next: u64,
    end: u64,
}

impl Verifier {
    /// Expects the bytes `[start, start + len)` of object `seed`.
    pub fn new(seed: u64, start: u64, len: u64) -> Self {
        Self {
            seed,
            next: start,
            end: start + len,
            scratch: vec![0; BLOCK],
        }
    }

    /// Checks the next piece of the body.
    pub fn update(&mut self, mut data: &[u8]) -> Result<(), Mismatch> {
        if data.len() as u64 > self.end - self.next {
            return Err(Mismatch::TooLong {
                expected: self.end - self.next,
            });
        }
        while !data.is_empty() {
            let n = data.len().min(self.scratch.len());
            let expected = &mut self.scratch[..n];
            fill(self.seed, self.next, expected);
            if expected != &data[..n] {
                let at = expected.iter().zip(data).position(|(a, b)| a != b);
                let offset = self.next + at.unwrap_or(0) as u64;
                return Err(Mismatch::Bytes { offset });
            }
            self.next += n as u64;
            data = &data[n..];
        }
        Ok(())
    }

    /// Confirms the body held every expected byte.
    pub fn finish(&self, start: u64) -> Result<(), Mismatch> {
        if self.next != self.end {
            return Err(Mismatch::TooShort {
                expected: self.end - start,
                got: self.next - start,
            });
        }
        Ok(())
    }
}

impl ContentBody {
    /// The bytes `[start, start + len)` of object `seed`.
    pub fn new(seed: u64, start: u64, len: u64) -> Self {
        Self {
            seed,
            next: start,
            end: start + len,
        }
    }
}

impl Body for ContentBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let left = self.end - self.next;
        if left == 0 {
            return Poll::Ready(None);
        }
        let n = left.min(FRAME as u64) as usize;
        let mut buf = BytesMut::zeroed(n);
        fill(self.seed, self.next, &mut buf);
        self.next += n as u64;
        Poll::Ready(Some(Ok(Frame::data(buf.freeze()))))
    }

    fn is_end_stream(&self) -> bool {
        self.next == self.end
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.end - self.next)
    }
}

/// Writes the bytes of object `seed` starting at `offset` into `out`.
pub fn fill(seed: u64, offset: u64, out: &mut [u8]) {
    let pattern = pattern();
    let mut pos = offset;
    let mut out = out;
    while !out.is_empty() {
        let block = pos / BLOCK as u64;
        let within = (pos % BLOCK as u64) as usize;
        let n = out.len().min(BLOCK - within);
        let (head, rest) = out.split_at_mut(n);
        fill_block(pattern, block_word(seed, block), within, head);
        pos += n as u64;
        out = rest;
    }
}

/// Fills `out` from byte `within` of one block whose pattern is XORed with `word`.
fn fill_block(pattern: &[u64; BLOCK_WORDS], word: u64, within: usize, out: &mut [u8]) {
    let mut w = within / 8;
    let skip = within % 8;
    let mut out = out;

    // A start inside a word takes the tail of that word.
    if skip != 0 {
        let bytes = (pattern[w] ^ word).to_le_bytes();
        let n = out.len().min(8 - skip);
        out[..n].copy_from_slice(&bytes[skip..skip + n]);
        out = &mut out[n..];
        w += 1;
    }

    let whole = out.len() / 8;
    let (body, tail) = out.split_at_mut(whole * 8);
    for (chunk, p) in body.chunks_exact_mut(8).zip(&pattern[w..w + whole]) {
        chunk.copy_from_slice(&(p ^ word).to_le_bytes());
    }
    if !tail.is_empty() {
        let bytes = (pattern[w + whole] ^ word).to_le_bytes();
        let n = tail.len();
        tail.copy_from_slice(&bytes[..n]);
    }
}

/// The word block `block` of object `seed` is XORed with.
fn block_word(seed: u64, block: u64) -> u64 {
    splitmix64(seed ^ block.wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// The shared 64 KiB pattern, from xorshift64* with a fixed seed.
fn pattern() -> &'static [u64; BLOCK_WORDS] {
    static PATTERN: OnceLock<Box<[u64; BLOCK_WORDS]>> = OnceLock::new();
    PATTERN.get_or_init(|| {
        let mut rng = XorShift::new(0x636C_6F61_6B21);
        let mut words = Box::new([0u64; BLOCK_WORDS]);
        for w in words.iter_mut() {
            *w = rng.next_u64();
        }
        words
    })
}

/// SplitMix64's output function: a strong mix of one word.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xorshift64*: the generator behind the pattern and the workloads' random choices.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        // Zero is xorshift's one fixed point; mixing the seed first avoids it.
        Self(splitmix64(seed) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `[lo, hi]`, log-uniform, so small and large sizes are equally common per
    /// decade.
    pub fn log_uniform(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let (l, h) = ((lo as f64).ln(), (hi as f64).ln());
        ((l + unit * (h - l)).exp() as u64).clamp(lo, hi)
    }

    /// A value in `[0, n)`; `n` must be non-zero.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

#[cfg(test)]
mod tests;
