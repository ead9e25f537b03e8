//! SigV4 key derivation and HMAC-SHA256 signing.
//!
//! The derived signing key is as sensitive as the secret for the day, region and service it
//! covers, so it lives in zeroizing storage and never prints.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::credentials::SecretKey;

/// The SigV4 credential scope: `<YYYYMMDD>/<region>/<service>/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scope {
    pub date: String,
    pub region: String,
    pub service: String,
}

/// `kSigning`, derived from a secret for one scope.
#[derive(Clone)]
pub(crate) struct SigningKey(Zeroizing<[u8; 32]>);

impl Scope {
    /// The scope as it appears in the string to sign.
    pub(crate) fn to_line(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

impl SigningKey {
    /// Derives `kSigning` from the secret and the scope.
    pub(crate) fn derive(secret: &SecretKey, scope: &Scope) -> Self {
        let mut seed = Zeroizing::new(Vec::with_capacity(4 + secret.expose_secret().len()));
        seed.extend_from_slice(b"AWS4");
        seed.extend_from_slice(secret.expose_secret().as_bytes());

        let date = Zeroizing::new(hmac_sha256(&seed, scope.date.as_bytes()));
        let region = Zeroizing::new(hmac_sha256(&*date, scope.region.as_bytes()));
        let service = Zeroizing::new(hmac_sha256(&*region, scope.service.as_bytes()));
        Self(Zeroizing::new(hmac_sha256(&*service, b"aws4_request")))
    }

    /// HMAC-SHA256 of `message` under this key.
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 32] {
        hmac_sha256(&*self.0, message)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(**redacted**)")
    }
}

/// Compares a computed signature with the hex one a client sent, in constant time.
pub(crate) fn signature_matches(computed: &[u8; 32], provided_hex: &[u8]) -> bool {
    let mut provided = [0u8; 32];
    if hex::decode_to_slice(provided_hex, &mut provided).is_err() {
        return false;
    }
    computed.ct_eq(&provided).into()
}

/// Decodes a 64-digit hex signature.
pub(crate) fn decode_signature(hex_text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_text, &mut out).ok()?;
    Some(out)
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example_scope() -> Scope {
        Scope {
            date: "20130524".into(),
            region: "us-east-1".into(),
            service: "s3".into(),
        }
    }

    #[test]
    fn scope_line_has_the_sigv4_layout() {
        assert_eq!(
            example_scope().to_line(),
            "20130524/us-east-1/s3/aws4_request"
        );
    }

    #[test]
    fn signature_comparison_needs_every_byte() {
        let key = SigningKey::derive(&SecretKey::new("secret"), &example_scope());
        let signature = key.sign(b"message");
        let hex_text = hex::encode(signature);
        assert!(signature_matches(&signature, hex_text.as_bytes()));
        assert!(signature_matches(
            &signature,
            hex_text.to_uppercase().as_bytes()
        ));

        let mut flipped = hex_text.clone().into_bytes();
        flipped[63] = if flipped[63] == b'0' { b'1' } else { b'0' };
        assert!(!signature_matches(&signature, &flipped));
        assert!(!signature_matches(&signature, &hex_text.as_bytes()[..62]));
        assert!(!signature_matches(&signature, b"not hex"));
    }

    #[test]
    fn key_never_prints() {
        let key = SigningKey::derive(&SecretKey::new("secret"), &example_scope());
        assert_eq!(format!("{key:?}"), "SigningKey(**redacted**)");
    }
}
