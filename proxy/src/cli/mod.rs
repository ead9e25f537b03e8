//! The `cloak` command's subcommands other than `serve`.
//!
//! Layout:
//! - `keys`: `cloak keys`, its arguments and what each action does.
//! - `rotate`: re-wrapping every object's data key under its master key's current version.
//! - `shred`: destroying master keys, with a JSON report.
//! - `scan`: listing and HEADing objects at the store, as the proxy does.
//! - `progress`: a spinner with counts on a terminal.

pub mod keys;
mod progress;
mod rotate;
mod scan;
mod shred;

use std::path::Path;

use anyhow::{Context, Result};
use cloak_proxy::config::Config;
use cloak_proxy::keys::KeyService;
use cloak_proxy::upstream::Upstream;

/// What the key commands that read a configuration work with: the store, as the proxy
/// reaches it, and the same key providers the proxy would build.
pub struct Tools {
    pub upstream: Upstream,
    pub keys: KeyService,
    pub cache_ttl_secs: u64,
}

impl Tools {
    pub async fn load(path: &Path) -> Result<Self> {
        let config = Config::load(path)?;
        let secret = config
            .upstream_secret_source()?
            .read("upstream.secret_access_key")?;
        let upstream = Upstream::new(&config, secret)?;
        let keys = KeyService::from_config(&config.keys, config.objects.segment_size)
            .await
            .context("keys")?;
        Ok(Self {
            upstream,
            keys,
            cache_ttl_secs: config.keys.cache_ttl_secs,
        })
    }
}
