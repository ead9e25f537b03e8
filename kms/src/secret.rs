//! Secrets that zero themselves on drop, never print, and compare in constant time: 256-bit
//! keys, and the strings (key-service tokens, AppRole secret ids, access keys) that unlock them.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Deserializer};

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

/// A secret string, such as a Vault token. Only [`SecretString::expose`] shows it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretString(String);

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

impl SecretString {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// Reads a secret from a file (a mounted Kubernetes secret, say), dropping surrounding
    /// whitespace such as the trailing newline most editors add.
    pub fn from_file(path: &Path) -> std::io::Result<Self> {
        let raw = SecretString(std::fs::read_to_string(path)?);
        Ok(Self(raw.0.trim().to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl PartialEq for SecretString {
    fn eq(&self, other: &Self) -> bool {
        // Lengths may differ in variable time; the contents never do.
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for SecretString {}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(**redacted**)")
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
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
    fn secret_strings_never_print_and_trim_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("token");
        std::fs::write(&path, "s.abcdef\n").expect("write token");
        let token = SecretString::from_file(&path).expect("read token");
        assert_eq!(token.expose(), "s.abcdef");
        assert_eq!(token, SecretString::from("s.abcdef"));
        assert_ne!(token, SecretString::from("s.abcdeg"));
        assert!(!format!("{token:?}").contains("abcdef"));
    }

    #[test]
    fn generated_keys_differ_and_compare_by_value() {
        let a = DataKey::generate();
        let b = DataKey::generate();
        assert_ne!(a, b);
        assert_eq!(a.clone(), a);
    }
}
