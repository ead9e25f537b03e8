//! Secrets read from a file or an environment variable, never from the config text itself.

use std::fmt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::ConfigError;

/// Where a secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    File(PathBuf),
    Env(String),
}

/// A secret string: zeroized on drop, never printed.
pub struct SecretString(Zeroizing<String>);

impl SecretSource {
    /// Exactly one of `file` and `env` must be set for `field`.
    pub fn pick(field: &str, file: Option<&Path>, env: Option<&str>) -> Result<Self, ConfigError> {
        match (file, env) {
            (Some(f), None) => Ok(Self::File(f.to_owned())),
            (None, Some(e)) => Ok(Self::Env(e.to_owned())),
            _ => Err(ConfigError::Invalid {
                field: field.into(),
                reason: "set exactly one of the `_file` and `_env` forms".into(),
            }),
        }
    }

    /// Reads the secret; `field` names it in errors. A trailing newline in a file is dropped.
    pub fn read(&self, field: &str) -> Result<SecretString, ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            field: field.into(),
            reason,
        };
        let value = match self {
            Self::File(path) => std::fs::read_to_string(path)
                .map_err(|e| invalid(format!("cannot read {}: {e}", path.display())))?,
            Self::Env(name) => std::env::var(name)
                .map_err(|_| invalid(format!("environment variable {name} is not set")))?,
        };
        let trimmed = value.trim_end_matches(['\n', '\r']).to_owned();
        drop(Zeroizing::new(value));
        if trimmed.is_empty() {
            return Err(invalid("is empty".into()));
        }
        Ok(SecretString(Zeroizing::new(trimmed)))
    }
}

impl SecretString {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(**redacted**)")
    }
}
