//! Content-key derivation and key commitment.
//!
//! From the object's data key (DEK) and its random 16-byte object salt, HKDF-SHA256 derives two
//! independent values:
//! - the *content key*, the AES-256-GCM key for every unit and the trailer;
//! - the *key commitment*, 32 bytes stored in the header.
//!
//! AES-GCM is not key-committing: a crafted ciphertext can authenticate under two keys. The
//! commitment closes that: before any unit is opened, the commitment derived from the unwrapped
//! DEK must equal the stored one (compared in constant time), so a substituted wrapped key
//! cannot make the same bytes decrypt to different plaintext.

use aws_lc_rs::aead::{LessSafeKey, UnboundKey, AES_256_GCM};
use aws_lc_rs::hkdf::{Salt, HKDF_SHA256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::FormatError;

const CONTENT_INFO: &[u8] = b"cloak/v1 content key";
const COMMIT_INFO: &[u8] = b"cloak/v1 key commitment";

/// Length of the object salt stored in the header.
pub const OBJECT_SALT_LEN: usize = 16;
/// Length of the key commitment stored in the header.
pub const COMMITMENT_LEN: usize = 32;

/// The AES-256-GCM key for one object, derived from its data key.
pub struct ContentKey {
    pub(crate) aead: LessSafeKey,
    commitment: [u8; COMMITMENT_LEN],
}

impl ContentKey {
    /// Derives the content key and commitment from raw data-key bytes.
    pub fn derive(data_key: &[u8; 32], object_salt: &[u8; OBJECT_SALT_LEN]) -> Self {
        let prk = Salt::new(HKDF_SHA256, object_salt).extract(data_key);
        let mut content = Zeroizing::new([0u8; 32]);
        let mut commitment = [0u8; COMMITMENT_LEN];
        expand(&prk, CONTENT_INFO, content.as_mut_slice());
        expand(&prk, COMMIT_INFO, &mut commitment);
        let unbound = UnboundKey::new(&AES_256_GCM, content.as_slice())
            .expect("a 32-byte key is valid for AES-256-GCM");
        Self {
            aead: LessSafeKey::new(unbound),
            commitment,
        }
    }

    /// Derives the key and checks it against a stored commitment.
    pub fn derive_committed(
        data_key: &[u8; 32],
        object_salt: &[u8; OBJECT_SALT_LEN],
        stored: &[u8; COMMITMENT_LEN],
    ) -> Result<Self, FormatError> {
        let key = Self::derive(data_key, object_salt);
        if bool::from(key.commitment.ct_eq(stored)) {
            Ok(key)
        } else {
            Err(FormatError::CommitmentMismatch)
        }
    }

    /// The commitment to store in the header.
    pub fn commitment(&self) -> &[u8; COMMITMENT_LEN] {
        &self.commitment
    }
}

impl std::fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContentKey(**redacted**)")
    }
}

fn expand(prk: &aws_lc_rs::hkdf::Prk, info: &[u8], out: &mut [u8]) {
    struct Len(usize);
    impl aws_lc_rs::hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    prk.expand(&[info], Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .expect("HKDF-SHA256 can expand 32 bytes");
}

/// Index field reserved for notes: no unit reaches it (units stay below 2^31 | 2^17) and the
/// trailer uses 0xFFFFFFFF.
const NOTE_INDEX: u32 = 0xFFFF_FFFE;
const NOTE_KIND: u8 = b'N';

impl ContentKey {
    /// Seals a short note (for example a part's MD5 in a multipart marker) under this object's
    /// key: `salt (8) | ciphertext | tag (16)`. Notes use their own kind byte and a reserved
    /// index, so their nonces never meet a unit's or the trailer's.
    pub fn seal_note(&self, aad: &[u8], data: &[u8]) -> Vec<u8> {
        use aws_lc_rs::rand::SecureRandom;
        let mut salt = [0u8; 8];
        aws_lc_rs::rand::SystemRandom::new()
            .fill(&mut salt)
            .expect("the OS random source is available");
        let mut buf = data.to_vec();
        let tag = self
            .aead
            .seal_in_place_separate_tag(note_nonce(&salt), note_aad(aad), &mut buf)
            .expect("a note is far below AES-GCM's length limit");
        let mut out = salt.to_vec();
        out.extend_from_slice(&buf);
        out.extend_from_slice(tag.as_ref());
        out
    }

    /// Opens a note sealed by [`ContentKey::seal_note`] with the same `aad`.
    pub fn open_note(&self, aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < 8 + 16 {
            return None;
        }
        let salt: [u8; 8] = sealed[..8].try_into().ok()?;
        let mut buf = sealed[8..].to_vec();
        let plain = self
            .aead
            .open_in_place(note_nonce(&salt), note_aad(aad), &mut buf)
            .ok()?;
        Some(plain.to_vec())
    }
}

fn note_nonce(salt: &[u8; 8]) -> aws_lc_rs::aead::Nonce {
    let mut n = [0u8; 12];
    n[..8].copy_from_slice(salt);
    n[8..].copy_from_slice(&NOTE_INDEX.to_be_bytes());
    aws_lc_rs::aead::Nonce::assume_unique_for_key(n)
}

fn note_aad(aad: &[u8]) -> aws_lc_rs::aead::Aad<Vec<u8>> {
    let mut v = b"CLK".to_vec();
    v.push(crate::VERSION);
    v.push(NOTE_KIND);
    v.extend_from_slice(aad);
    aws_lc_rs::aead::Aad::from(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_round_trip_and_bind_their_aad() {
        let key = ContentKey::derive(&[1; 32], &[2; 16]);
        let sealed = key.seal_note(b"part 3", b"md5 and length");
        assert_eq!(
            key.open_note(b"part 3", &sealed).as_deref(),
            Some(&b"md5 and length"[..])
        );
        assert_eq!(key.open_note(b"part 4", &sealed), None);
        let other = ContentKey::derive(&[9; 32], &[2; 16]);
        assert_eq!(other.open_note(b"part 3", &sealed), None);
    }
}
