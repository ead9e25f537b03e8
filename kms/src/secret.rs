//! 256-bit secrets that zero themselves on drop, never print, and compare in constant time.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Length in bytes of every data key and master key.
pub const KEY_LEN: usize = 32;

/// A per-object data key in plaintext. Lives only in memory, for as long as a request needs it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; KEY_LEN]);

/// A master key version held by the local keyring.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MasterKey([u8; KEY_LEN]);

impl DataKey {
    /// Wraps raw key bytes. The caller's copy should be zeroized by the caller.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// Takes a key from a slice, which must be exactly [`KEY_LEN`] bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; KEY_LEN] = bytes.try_into().ok()?;
        Some(Self(arr))
    }

    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        Self(random_key())
    }

    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    pub fn generate() -> Self {
        Self(random_key())
    }

    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl PartialEq for DataKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for DataKey {}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(**redacted**)")
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(**redacted**)")
    }
}

fn random_key() -> [u8; KEY_LEN] {
    use aws_lc_rs::rand::SecureRandom;
    let mut out = [0u8; KEY_LEN];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut out)
        .expect("the OS random source is available on every supported platform");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_key_bytes() {
        let key = DataKey::from_bytes([0xAB; KEY_LEN]);
        let shown = format!("{key:?} {:?}", MasterKey::from_bytes([0xAB; KEY_LEN]));
        assert!(!shown.to_lowercase().contains("ab"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn generated_keys_differ_and_compare_by_value() {
        let a = DataKey::generate();
        let b = DataKey::generate();
        assert_ne!(a, b);
        assert_eq!(a.clone(), a);
    }
}
