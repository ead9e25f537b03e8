//! Downstream credentials: who may sign requests, and the secret each signs with.
//!
//! A [`SecretKey`] never prints, is zeroed when dropped, and compares in constant time.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// A downstream client's secret access key.
pub struct SecretKey(Zeroizing<String>);

/// The identity behind an access key id, as the rest of the proxy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The access key id the request was signed with.
    pub access_key_id: String,
    /// A human name for logs and policy (not secret).
    pub name: String,
}

/// Looks up the secret for an access key id.
pub trait CredentialStore: Send + Sync {
    /// The principal and secret for `access_key_id`, or `None` when it is unknown.
    fn lookup(&self, access_key_id: &str) -> Option<(Principal, Arc<SecretKey>)>;
}

/// A fixed, in-memory credential store.
#[derive(Default)]
pub struct StaticCredentials {
    entries: HashMap<String, (Principal, Arc<SecretKey>)>,
}

impl SecretKey {
    /// Wraps a secret; the caller's copy should be dropped promptly.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(Zeroizing::new(secret.into()))
    }

    /// The secret itself, for computing signatures. Never log the result.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(**redacted**)")
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for SecretKey {}

impl StaticCredentials {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the credential for `access_key_id`.
    pub fn insert(&mut self, access_key_id: &str, name: &str, secret: SecretKey) {
        let principal = Principal {
            access_key_id: access_key_id.to_owned(),
            name: name.to_owned(),
        };
        self.entries
            .insert(access_key_id.to_owned(), (principal, Arc::new(secret)));
    }
}

impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.entries.keys()).finish()
    }
}

impl CredentialStore for StaticCredentials {
    fn lookup(&self, access_key_id: &str) -> Option<(Principal, Arc<SecretKey>)> {
        self.entries.get(access_key_id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let secret = SecretKey::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        assert_eq!(format!("{secret:?}"), "SecretKey(**redacted**)");

        let mut store = StaticCredentials::new();
        store.insert("AKID", "alice", secret);
        assert!(!format!("{store:?}").contains("wJalr"));
    }

    #[test]
    fn secrets_compare_by_value() {
        assert_eq!(SecretKey::new("abc"), SecretKey::new("abc"));
        assert_ne!(SecretKey::new("abc"), SecretKey::new("abd"));
        assert_ne!(SecretKey::new("abc"), SecretKey::new("abcd"));
    }

    #[test]
    fn lookup_finds_only_known_keys() {
        let mut store = StaticCredentials::new();
        store.insert("AKID", "alice", SecretKey::new("s"));
        let (principal, secret) = store.lookup("AKID").expect("inserted above");
        assert_eq!(principal.name, "alice");
        assert_eq!(secret.expose_secret(), "s");
        assert!(store.lookup("akid").is_none());
    }
}
