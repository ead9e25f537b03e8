//! The proxy's shared state, built once from the configuration.
//!
//! Nothing here is authoritative state: the caches only save round trips, and any replica
//! built from the same configuration answers every request the same way.

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

use crate::auth::{AuthOptions, SecretKey, StaticCredentials};
use crate::config::{Config, ConfigError, ForeignPolicy};
use crate::hooks::Hooks;
use crate::keys::KeyService;
use crate::upstream::Upstream;

/// The plaintext facts of a stored object version, keyed by its upstream ETag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectFacts {
    pub etag: String,
    pub plain_len: u64,
}

pub struct App {
    pub upstream: Upstream,
    pub keys: KeyService,
    pub creds: StaticCredentials,
    pub auth: AuthOptions,
    pub virtual_host_domain: Option<String>,
    pub foreign: ForeignPolicy,
    pub plaintext_list_etags: bool,
    pub list_concurrency: usize,
    pub hooks: Hooks,
    facts: Cache<String, ObjectFacts>,
}

impl App {
    /// Builds the state: reads secrets, prepares the key providers and the upstream pool.
    pub async fn from_config(config: &Config, hooks: Hooks) -> Result<Arc<Self>, ConfigError> {
        let upstream_secret = config
            .upstream_secret_source()?
            .read("upstream.secret_access_key")?;
        let upstream = Upstream::new(config, upstream_secret)?;
        let keys = KeyService::from_config(&config.keys, config.objects.segment_size).await?;
        let mut creds = StaticCredentials::new();
        for (i, c) in config.clients.iter().enumerate() {
            let secret = c
                .secret_source(i)?
                .read(&format!("clients[{i}].secret_key"))?;
            creds.insert(
                &c.access_key_id,
                c.display_name(),
                SecretKey::new(secret.expose()),
            );
        }
        let auth = AuthOptions {
            allow_sigv2: config.auth.allow_sigv2,
            max_skew: Duration::from_secs(config.auth.max_skew_secs),
            virtual_host_domain: config.server.virtual_host_domain.clone(),
            ..AuthOptions::default()
        };
        Ok(Arc::new(Self {
            upstream,
            keys,
            creds,
            auth,
            virtual_host_domain: config.server.virtual_host_domain.clone(),
            foreign: config.objects.foreign,
            plaintext_list_etags: config.objects.plaintext_list_etags,
            list_concurrency: config.objects.list_concurrency,
            hooks,
            facts: Cache::builder().max_capacity(100_000).build(),
        }))
    }

    /// Records what a stored version is in plaintext terms (its ETag and size), so listings
    /// and later reads need not look again.
    ///
    /// Facts are keyed by the store's ETag, which changes whenever the stored bytes do. A store
    /// that lists no ETags (`rclone serve s3` without hashing) gives nothing to key on, so
    /// nothing is remembered for it: a stale size or ETag is never served.
    pub async fn remember(&self, bucket: &str, key: &str, upstream_etag: &str, facts: ObjectFacts) {
        if let Some(id) = facts_key(bucket, key, upstream_etag) {
            self.facts.insert(id, facts).await;
        }
    }

    pub async fn recall(
        &self,
        bucket: &str,
        key: &str,
        upstream_etag: &str,
    ) -> Option<ObjectFacts> {
        self.facts
            .get(&facts_key(bucket, key, upstream_etag)?)
            .await
    }
}

fn facts_key(bucket: &str, key: &str, upstream_etag: &str) -> Option<String> {
    let etag = upstream_etag.trim_matches('"');
    (!etag.is_empty()).then(|| format!("{bucket}\u{0}{key}\u{0}{etag}"))
}

#[cfg(test)]
mod tests {
    use super::facts_key;

    #[test]
    fn facts_need_a_store_etag_to_key_on() {
        assert_eq!(
            facts_key("b", "k", "\"abc\"").as_deref(),
            Some("b\u{0}k\u{0}abc")
        );
        assert_eq!(facts_key("b", "k", "\"\""), None);
        assert_eq!(facts_key("b", "k", ""), None);
    }
}
