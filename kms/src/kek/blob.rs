//! The stored form of a data key sealed under a key-encryption key, and the sealing itself.
//!
//! ```text
//! offset  size  field
//! 0       1     format, 0x01
//! 1       2     n, the length of the wrapped KEK, big-endian
//! 3       n     the KEK as wrapped by the remote provider (its WrappedKey.ciphertext)
//! 3+n     12    nonce
//! 15+n    48    the data key sealed with AES-256-GCM under the KEK (32 bytes + 16-byte tag)
//! ```
//!
//! The wrapped KEK's master key id and version are the outer [`WrappedKey`]'s, so they are not
//! repeated. With Vault's 60-byte wrapped keys a blob is 123 bytes; with AWS KMS's, about 250.
//!
//! The authenticated data is a label and the object's full encryption context, so a data key
//! opens only for the object it was sealed for, even though its KEK is shared by a dataset.
//! Nonces are random: a KEK seals at most [`super::KekConfig::max_uses`] keys, far below the
//! 2^32 seals after which random 96-bit nonces would risk a collision.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::secret::KEY_LEN;
use crate::{DataKey, EncryptionContext, KeyError, WrappedKey};

const FORMAT: u8 = 0x01;
const LABEL: &[u8] = b"cloak-kek-v1\0";
const TAG_LEN: usize = 16;
const SEALED_LEN: usize = KEY_LEN + TAG_LEN;
const HEADER_LEN: usize = 3;

/// A parsed blob, borrowing from the stored bytes.
pub(super) struct Blob<'a> {
    /// The KEK as the remote provider wrapped it.
    pub kek: WrappedKey,
    nonce: &'a [u8],
    sealed: &'a [u8],
}

impl<'a> Blob<'a> {
    /// Parses `wrapped.ciphertext`.
    pub(super) fn parse(wrapped: &'a WrappedKey) -> Result<Self, KeyError> {
        let bytes = wrapped.ciphertext.as_slice();
        let bad = |why: &str| KeyError::Corrupt(format!("KEK-sealed data key: {why}"));
        let (&format, rest) = bytes.split_first().ok_or_else(|| bad("empty"))?;
        if format != FORMAT {
            return Err(bad(&format!("unknown format byte {format:#04x}")));
        }
        let (len, rest) = rest.split_at_checked(2).ok_or_else(|| bad("truncated"))?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        if rest.len() != len + NONCE_LEN + SEALED_LEN {
            return Err(bad("wrong length"));
        }
        let (kek, rest) = rest.split_at(len);
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        Ok(Self {
            kek: WrappedKey {
                key_id: wrapped.key_id.clone(),
                version: wrapped.version,
                ciphertext: kek.to_vec(),
            },
            nonce,
            sealed,
        })
    }

    /// Opens the data key with the plaintext KEK, under the object's context.
    pub(super) fn open(
        &self,
        kek: &DataKey,
        context: &EncryptionContext,
    ) -> Result<DataKey, KeyError> {
        let nonce = Nonce::try_assume_unique_for_key(self.nonce)
            .map_err(|_| KeyError::Corrupt("KEK-sealed data key: bad nonce".into()))?;
        let mut buf = Zeroizing::new(self.sealed.to_vec());
        let plain = aead(kek)
            .open_in_place(nonce, Aad::from(aad(context)), &mut buf)
            .map_err(|_| {
                KeyError::Corrupt(
                    "KEK-sealed data key fails authentication (altered, or wrong context)".into(),
                )
            })?;
        DataKey::from_slice(plain).ok_or_else(|| KeyError::Corrupt("bad data key length".into()))
    }
}

/// Seals `key` under `kek` for `context` and lays out the blob, beside `kek_wrapped`.
pub(super) fn seal(
    kek: &DataKey,
    kek_wrapped: &WrappedKey,
    context: &EncryptionContext,
    key: &DataKey,
) -> Result<WrappedKey, KeyError> {
    let kek_len = u16::try_from(kek_wrapped.ciphertext.len()).map_err(|_| {
        KeyError::Corrupt("the remote provider's wrapped KEK exceeds 64 KiB".into())
    })?;
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| KeyError::Unavailable("random source failed".into()))?;
    let mut buf = Zeroizing::new(key.expose().to_vec());
    let tag = aead(kek)
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(context)),
            &mut buf,
        )
        .map_err(|_| KeyError::Unavailable("seal failed".into()))?;

    let mut out = Vec::with_capacity(HEADER_LEN + usize::from(kek_len) + NONCE_LEN + SEALED_LEN);
    out.push(FORMAT);
    out.extend_from_slice(&kek_len.to_be_bytes());
    out.extend_from_slice(&kek_wrapped.ciphertext);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&buf);
    out.extend_from_slice(tag.as_ref());
    Ok(WrappedKey {
        key_id: kek_wrapped.key_id.clone(),
        version: kek_wrapped.version,
        ciphertext: out,
    })
}

fn aad(context: &EncryptionContext) -> Vec<u8> {
    let mut aad = LABEL.to_vec();
    aad.extend_from_slice(&context.canonical_bytes());
    aad
}

fn aead(kek: &DataKey) -> LessSafeKey {
    let unbound = UnboundKey::new(&AES_256_GCM, kek.expose())
        .expect("a 32-byte key is valid for AES-256-GCM");
    LessSafeKey::new(unbound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek_wrapped(len: usize) -> WrappedKey {
        WrappedKey {
            key_id: "master".into(),
            version: 3,
            ciphertext: vec![0xA5; len],
        }
    }

    fn ctx(key: &str) -> EncryptionContext {
        EncryptionContext::new()
            .with("bucket", "b")
            .with("key", key)
    }

    #[test]
    fn a_sealed_key_opens_under_its_own_context_only() {
        let (kek, key) = (DataKey::generate(), DataKey::generate());
        let stored = seal(&kek, &kek_wrapped(60), &ctx("a"), &key).expect("seal");
        assert_eq!(stored.ciphertext.len(), 123);
        assert_eq!(stored.version, 3);

        let blob = Blob::parse(&stored).expect("parse");
        assert_eq!(blob.kek, kek_wrapped(60));
        assert_eq!(blob.open(&kek, &ctx("a")), Ok(key));
        assert!(matches!(
            blob.open(&kek, &ctx("b")),
            Err(KeyError::Corrupt(_))
        ));
        assert!(blob.open(&DataKey::generate(), &ctx("a")).is_err());
    }

    #[test]
    fn every_altered_byte_is_detected() {
        let (kek, key) = (DataKey::generate(), DataKey::generate());
        let stored = seal(&kek, &kek_wrapped(8), &ctx("a"), &key).expect("seal");
        for i in 0..stored.ciphertext.len() {
            let mut bad = stored.clone();
            bad.ciphertext[i] ^= 0x01;
            let opened = Blob::parse(&bad).and_then(|b| {
                // A changed KEK would fail at the remote provider; here it must at least not
                // change what the blob says the KEK is without being noticed.
                if b.kek.ciphertext != kek_wrapped(8).ciphertext {
                    return Err(KeyError::Corrupt("kek changed".into()));
                }
                b.open(&kek, &ctx("a"))
            });
            assert!(opened.is_err(), "byte {i} altered unnoticed");
        }
    }

    #[test]
    fn truncated_and_foreign_blobs_are_corrupt() {
        let stored = seal(
            &DataKey::generate(),
            &kek_wrapped(8),
            &ctx("a"),
            &DataKey::generate(),
        )
        .expect("seal");
        for len in [0, 1, 3, stored.ciphertext.len() - 1] {
            let mut cut = stored.clone();
            cut.ciphertext.truncate(len);
            assert!(
                matches!(Blob::parse(&cut), Err(KeyError::Corrupt(_))),
                "len {len}"
            );
        }
        let mut foreign = stored;
        foreign.ciphertext[0] = 0x02;
        assert!(matches!(Blob::parse(&foreign), Err(KeyError::Corrupt(_))));
    }
}
