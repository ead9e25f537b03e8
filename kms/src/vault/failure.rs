//! Turns Vault's answers into [`KeyError`]s.
//!
//! Transit reports most of its own failures as `400 Bad Request` with a message, so the status
//! alone is not enough: a missing key (`encryption key not found`) and a version below the
//! key's minimum (`... disallowed by policy`) are facts about the key, while a failed
//! authentication tag is a fact about the ciphertext. Messages are taken from Vault's error
//! list, which never echoes request bodies, so they are safe to carry into logs.

use rustify::errors::ClientError as HttpError;
use vaultrs::error::ClientError;

use crate::KeyError;

/// Classifies a failed Vault call. `what` names the call, for the message.
pub(super) fn classify(what: &str, err: ClientError) -> KeyError {
    match err {
        ClientError::APIError { code, errors } => by_status(what, code, &errors.join("; ")),
        ClientError::RestClientError { source } => from_transport(what, source),
        ClientError::ResponseEmptyError | ClientError::ResponseDataEmptyError => {
            KeyError::Unavailable(format!("{what}: Vault answered without data"))
        }
        // Anything else is a local fault in building the request, which retrying cannot fix.
        other => KeyError::Denied(format!("{what}: request could not be made: {other}")),
    }
}

/// Classifies by HTTP status, refining Transit's `400`s by their message.
pub(super) fn by_status(what: &str, code: u16, message: &str) -> KeyError {
    let text = format!("{what}: Vault answered {code}: {message}");
    match code {
        403 => KeyError::Denied(text),
        404 => KeyError::NotFound(text),
        400 if names_missing_key(message) => KeyError::NotFound(text),
        400 => KeyError::Corrupt(text),
        412 | 429 | 500..=599 => KeyError::Unavailable(text),
        _ => KeyError::Denied(text),
    }
}

/// Whether a `400` message says the key, or the wrapped key's version of it, is gone.
fn names_missing_key(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("not found") || lower.contains("disallowed by policy")
}

fn from_transport(what: &str, err: HttpError) -> KeyError {
    match err {
        HttpError::ServerResponseError { code, .. } => by_status(what, code, "(no error list)"),
        // Connection refused or reset, TLS failures and timeouts: the service is not there
        // right now. Their causes come from the HTTP stack and name at most the URL.
        HttpError::RequestError { .. } | HttpError::ResponseError { .. } => {
            KeyError::Unavailable(format!("{what}: {err}: {}", source_text(&err)))
        }
        // An answer that does not parse. Only the error's own text is kept: its fields and
        // causes can quote the body, which may hold key material.
        other => KeyError::Unavailable(format!("{what}: {other}")),
    }
}

fn source_text(err: &HttpError) -> String {
    use std::error::Error;
    let mut out = String::new();
    let mut next = err.source();
    while let Some(cause) = next {
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_the_fault_they_describe() {
        let kind = |code, msg: &str| match by_status("op", code, msg) {
            KeyError::Denied(_) => "denied",
            KeyError::NotFound(_) => "not found",
            KeyError::Unavailable(_) => "unavailable",
            KeyError::Corrupt(_) => "corrupt",
        };
        assert_eq!(kind(403, "permission denied"), "denied");
        assert_eq!(kind(404, ""), "not found");
        assert_eq!(kind(400, "encryption key not found"), "not found");
        assert_eq!(
            kind(
                400,
                "ciphertext or signature version is disallowed by policy (too old)"
            ),
            "not found"
        );
        assert_eq!(
            kind(400, "cipher: message authentication failed"),
            "corrupt"
        );
        assert_eq!(kind(503, "Vault is sealed"), "unavailable");
        assert_eq!(kind(429, ""), "unavailable");
    }
}
