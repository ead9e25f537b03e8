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
