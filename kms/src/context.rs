//! The encryption context: name/value pairs a wrapped key is bound to.
//!
//! A wrapped key only unwraps under the exact context it was wrapped with. Cloak binds the
//! object's identity (bucket and key) here rather than into every segment, so a server-side
//! copy re-binds an object by re-wrapping its data key, without touching the body.

use std::collections::BTreeMap;

/// Sorted name/value pairs. Sorting makes the canonical encoding independent of insertion order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct EncryptionContext(BTreeMap<String, String>);

impl EncryptionContext {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.0.insert(name.to_owned(), value.to_owned());
        self
    }

    pub fn insert(&mut self, name: &str, value: &str) {
        self.0.insert(name.to_owned(), value.to_owned());
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// An unambiguous byte encoding, used as authenticated data when wrapping: each name and
    /// value is prefixed by its length, so no two contexts encode alike.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(self.0.len() as u32).to_be_bytes());
        for (name, value) in &self.0 {
            for part in [name, value] {
                out.extend_from_slice(&(part.len() as u32).to_be_bytes());
                out.extend_from_slice(part.as_bytes());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_is_order_independent_and_unambiguous() {
        let a = EncryptionContext::new()
            .with("bucket", "b")
            .with("key", "k");
        let b = EncryptionContext::new()
            .with("key", "k")
            .with("bucket", "b");
        assert_eq!(a.canonical_bytes(), b.canonical_bytes());

        // "ab"+"c" and "a"+"bc" must not collide.
        let c = EncryptionContext::new().with("ab", "c");
        let d = EncryptionContext::new().with("a", "bc");
        assert_ne!(c.canonical_bytes(), d.canonical_bytes());
    }
}
