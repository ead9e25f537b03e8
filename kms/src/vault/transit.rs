//! The Transit calls Cloak makes, and the compact form of Transit ciphertexts.
//!
//! The calls are spelled out here rather than taken from `vaultrs`'s request types, because
//! those lack `associated_data` on `datakey` and parse answers into plain `String`s; here every
//! answer that carries a data key lands in a [`SecretString`] that is zeroed when dropped.
//! The request and response buffers inside the HTTP stack are not zeroed: a plaintext data key
//! passes through them once, as it passes through Vault's own memory.
//!
//! Transit ciphertexts read `vault:v<version>:<base64>`. The version goes to
//! [`WrappedKey::version`] and only the decoded bytes are kept, which saves a third of the
//! space in object metadata; the text is rebuilt exactly when the key goes back to Vault.

use std::marker::PhantomData;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rustify::endpoint::Endpoint;
use rustify::enums::{RequestMethod, RequestType, ResponseType};
use rustify::errors::ClientError as HttpError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{EncryptionContext, KeyError, SecretString};

const PREFIX: &str = "vault:v";

/// One call to Vault's HTTP API, answered with a `data` object of type `R`.
pub(super) struct Call<R> {
    path: String,
    method: RequestMethod,
    body: Option<Zeroizing<Vec<u8>>>,
    answer: PhantomData<fn() -> R>,
}

/// The two ways a wrapped key is tied to its encryption context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tie {
    /// The key was created with `derived=true`; the context selects the derived key.
    Derived,
    /// The context is authenticated as AEAD associated data.
    AssociatedData,
}

/// The request fields shared by the data-key calls.
#[derive(Serialize)]
pub(super) struct Bound<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    associated_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ciphertext: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    plaintext: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bits: Option<u16>,
}

#[derive(Deserialize)]
pub(super) struct KeyAnswer {
    pub plaintext: SecretString,
    pub ciphertext: String,
}

#[derive(Deserialize)]
pub(super) struct PlaintextAnswer {
    pub plaintext: SecretString,
}

#[derive(Deserialize)]
pub(super) struct CiphertextAnswer {
    pub ciphertext: String,
}

/// What Cloak needs to know about a Transit key.
#[derive(Deserialize)]
pub(super) struct KeyShape {
    pub derived: bool,
    #[serde(rename = "type")]
    pub key_type: String,
    /// The version `datakey` and `encrypt` use now.
    #[serde(default)]
    pub latest_version: u32,
}

impl<R: DeserializeOwned + Send + Sync> Endpoint for Call<R> {
    type Response = R;
    const REQUEST_BODY_TYPE: RequestType = RequestType::JSON;
    const RESPONSE_BODY_TYPE: ResponseType = ResponseType::JSON;

    fn path(&self) -> String {
        self.path.clone()
    }

    fn method(&self) -> RequestMethod {
        self.method.clone()
    }

    fn body(&self) -> Result<Option<Vec<u8>>, HttpError> {
        Ok(self.body.as_ref().map(|b| b.to_vec()))
    }
}

impl<R> Call<R> {
    /// `POST <path>` with a JSON body.
    pub(super) fn post(path: String, body: &impl Serialize) -> Self {
        let body = serde_json::to_vec(body).expect("request bodies are plain string maps");
        Self {
            path,
            method: RequestMethod::POST,
            body: Some(Zeroizing::new(body)),
            answer: PhantomData,
        }
    }

    /// `GET <path>`.
    pub(super) fn get(path: String) -> Self {
        Self {
            path,
            method: RequestMethod::GET,
            body: None,
            answer: PhantomData,
        }
    }
}

impl<'a> Bound<'a> {
    /// The fields that tie a call to `context`.
    pub(super) fn new(tie: Tie, context: &EncryptionContext) -> Self {
        let encoded = B64.encode(context.canonical_bytes());
        let (context, associated_data) = match tie {
            Tie::Derived => (Some(encoded), None),
            Tie::AssociatedData => (None, Some(encoded)),
        };
        Self {
            context,
            associated_data,
            ciphertext: None,
            plaintext: None,
            bits: None,
        }
    }

    /// For `datakey`: a 256-bit key.
    pub(super) fn key_bits(mut self) -> Self {
        self.bits = Some(256);
        self
    }

    /// For `decrypt` and `rewrap`.
    pub(super) fn ciphertext(mut self, text: String) -> Self {
        self.ciphertext = Some(text);
        self
    }

    /// For `encrypt`: base64 of the data key.
    pub(super) fn plaintext(mut self, b64: &'a str) -> Self {
        self.plaintext = Some(b64);
        self
    }
}

impl KeyShape {
    /// How keys of this shape bind a context, or why they cannot.
    pub(super) fn tie(&self, name: &str) -> Result<Tie, KeyError> {
        if self.derived {
            return Ok(Tie::Derived);
        }
        // Transit's AEAD key types; the others cannot authenticate associated data.
        let aead = ["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"];
        if aead.contains(&self.key_type.as_str()) {
            return Ok(Tie::AssociatedData);
        }
        Err(KeyError::Denied(format!(
            "transit key {name} ({}) can bind no encryption context: create it derived, or as \
             aes256-gcm96",
            self.key_type
        )))
    }
}

/// Refuses key names that could address anything but one Transit key: names arrive from
/// object metadata, and a `/` or `..` would move the request elsewhere in Vault's API.
pub(super) fn check_key_name(name: &str) -> Result<(), KeyError> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || name.starts_with('.') || !name.chars().all(plain) {
        return Err(KeyError::NotFound(format!(
            "{name:?} is not a Transit key name (letters, digits, '-', '_', '.')"
        )));
    }
    Ok(())
}

/// Splits `vault:v<N>:<base64>` into the version and the decoded bytes.
pub(super) fn split_ciphertext(text: &str) -> Result<(u32, Vec<u8>), KeyError> {
    let bad = || {
        KeyError::Corrupt(format!(
            "unexpected Transit ciphertext form {:.12}...",
            text
        ))
    };
    let rest = text.strip_prefix(PREFIX).ok_or_else(bad)?;
    let (version, body) = rest.split_once(':').ok_or_else(bad)?;
    let version: u32 = version.parse().map_err(|_| bad())?;
    let raw = B64.decode(body).map_err(|_| bad())?;
    // Only a canonical encoding is kept, so that joining gives back exactly what Vault sent.
    if B64.encode(&raw) != body {
        return Err(bad());
    }
    Ok((version, raw))
}

/// The inverse of [`split_ciphertext`].
pub(super) fn join_ciphertext(version: u32, raw: &[u8]) -> String {
    format!("{PREFIX}{version}:{}", B64.encode(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ciphertexts_split_and_join_exactly() {
        let text = "vault:v12:AAECAwQFBgcICQoLDA0ODxAREhM=";
        let (version, raw) = split_ciphertext(text).expect("well formed");
        assert_eq!(version, 12);
        assert_eq!(raw, (0u8..20).collect::<Vec<_>>());
        assert_eq!(join_ciphertext(version, &raw), text);
    }

    #[test]
    fn malformed_ciphertexts_are_corrupt() {
        for text in [
            "",
            "vault:v:AA==",
            "vault:vx:AA==",
            "bao:v1:AA==",
            "vault:v1:A",
            "vault:v1",
        ] {
            let out = split_ciphertext(text);
            assert!(matches!(out, Err(KeyError::Corrupt(_))), "{text}: {out:?}");
        }
    }

    #[test]
    fn key_names_cannot_leave_the_transit_mount() {
        assert!(check_key_name("cloak-objects_v2.1").is_ok());
        for name in ["", "..", "../sys/seal", "a/b", ".hidden", "a b", "a?b"] {
            assert!(check_key_name(name).is_err(), "{name}");
        }
    }

    #[test]
    fn the_tie_follows_the_key_shape() {
        let shape = |derived, ty: &str| KeyShape {
            derived,
            key_type: ty.into(),
            latest_version: 1,
        };
        assert_eq!(shape(true, "aes256-gcm96").tie("k"), Ok(Tie::Derived));
        assert_eq!(
            shape(false, "aes256-gcm96").tie("k"),
            Ok(Tie::AssociatedData)
        );
        assert!(shape(false, "rsa-4096").tie("k").is_err());
    }
}
