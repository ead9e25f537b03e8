//! Operations on master keys themselves, as opposed to data keys: rotation and destruction.
//!
//! These are operator actions (the `cloak keys` command runs them), never taken by the proxy
//! on a request path. Each provider does what its service offers; what was done is described
//! in the returned [`ShredOutcome`], because "destroyed" means different things: the keyring
//! and Transit remove the key material at once, AWS KMS only after a waiting period.

use async_trait::async_trait;

use crate::KeyError;

/// What a shred did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShredOutcome {
    /// The versions destroyed, where the service reports them.
    pub versions: Option<Vec<u32>>,
    /// Whether the key material is gone now (false: destruction is scheduled).
    pub immediate: bool,
    /// A sentence for the operator on what happened and what remains.
    pub note: String,
}

/// Rotation and destruction of master keys.
#[async_trait]
pub trait MasterKeyAdmin: Send + Sync {
    /// Adds a version to `key_id` and makes it current; returns the new version where the
    /// service reports one. Existing wrapped keys keep opening.
    async fn rotate_master(&self, key_id: &str) -> Result<Option<u32>, KeyError>;

    /// Destroys `key_id`: every data key wrapped under it becomes unreadable for good.
    async fn shred_master(&self, key_id: &str) -> Result<ShredOutcome, KeyError>;
}
