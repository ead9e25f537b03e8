//! Logging in to Vault and keeping the token alive.
//!
//! A token is renewed on use: the first call that finds less than a third of the token's TTL
//! left renews it first, so an idle proxy makes no calls at all and a busy one renews about
//! once per two-thirds of a TTL. When renewal is refused, or no longer extends the token by a
//! useful amount (Vault caps it at the token's maximum TTL), or the token has expired, a proxy
//! that logs in (AppRole, Kubernetes) logs in again. A fixed token is used for as long as
//! Vault accepts it.
//!
//! Only one task renews or logs in at a time; the others wait for it and use its result. A
//! renewal or login that fails for want of a service is not tried again for a second, so a
//! Vault outage does not turn every request into a login attempt.
//!
//! Tokens live in [`SecretString`]s here. `vaultrs` keeps its own copy of the current token in
//! its client settings, which is not zeroed.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;
use vaultrs::client::{VaultClient, VaultClientSettingsBuilder};

use super::failure::classify;
use super::lease::{Lease, RETRY_HOLD};
use super::transit::Call;
use crate::{KeyError, SecretString};

/// How the provider proves who it is to Vault.
#[derive(Clone, Debug)]
pub enum VaultAuth {
    /// A token issued out of band, renewed while it is renewable.
    Token(SecretString),
    /// AppRole: a role id and a secret id, exchanged for a token at `auth/<mount>/login`.
    AppRole {
        mount: String,
        role_id: String,
        secret_id: SecretString,
    },
    /// A Kubernetes service-account token, read afresh from `jwt_path` at every login (the
    /// kubelet rotates projected tokens) and exchanged at `auth/<mount>/login`.
    Kubernetes {
        mount: String,
        role: String,
        jwt_path: PathBuf,
    },
}

/// Counts of what the token lifecycle has done, for metrics and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuthStats {
    /// Tokens put into use: logins, plus the first look-up of a fixed token.
    pub logins: u64,
    /// Successful renewals.
    pub renewals: u64,
    /// Renewals or logins that failed.
    pub failures: u64,
}

/// Where Vault is and how to talk to it, apart from the token.
#[derive(Clone, Debug)]
pub(super) struct Server {
    pub address: String,
    pub namespace: Option<String>,
    pub ca_bundle: Option<PathBuf>,
    pub call_timeout: Duration,
}

/// A token in use and the client that sends it.
pub(super) struct Session {
    pub client: VaultClient,
    lease: Mutex<Lease>,
}

/// The token lifecycle: the current session and how to get the next.
pub(super) struct Sessions {
    server: Server,
    auth: VaultAuth,
    /// A client without a token, for logins.
    anonymous: VaultClient,
    current: RwLock<Option<Arc<Session>>>,
    refreshing: tokio::sync::Mutex<()>,
    logins: AtomicU64,
    renewals: AtomicU64,
    failures: AtomicU64,
}

/// The part of `auth/token/lookup-self` the lease needs.
#[derive(Deserialize)]
pub(super) struct TokenLookup {
    pub ttl: u64,
    pub creation_ttl: u64,
    #[serde(default)]
    pub renewable: bool,
}

impl Sessions {
    pub(super) fn new(server: Server, auth: VaultAuth) -> Result<Self, KeyError> {
        let anonymous = build_client(&server, &SecretString::from(""))?;
        Ok(Self {
            server,
            auth,
            anonymous,
            current: RwLock::new(None),
            refreshing: tokio::sync::Mutex::new(()),
            logins: AtomicU64::new(0),
            renewals: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        })
    }

    pub(super) fn stats(&self) -> AuthStats {
        AuthStats {
            logins: self.logins.load(Ordering::Relaxed),
            renewals: self.renewals.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
        }
    }

    /// The session to use now, renewing or logging in first if that is due.
    pub(super) async fn session(&self) -> Result<Arc<Session>, KeyError> {
        if let Some(s) = self.usable() {
            return Ok(s);
        }
        let _one_at_a_time = self.refreshing.lock().await;
        if let Some(s) = self.usable() {
            return Ok(s);
        }
        let previous = self.current();
        let next = self.refresh(previous).await?;
        *self
            .current
            .write()
            .expect("session lock is never poisoned") = Some(next.clone());
        Ok(next)
    }

    /// Called when Vault refused `used`'s token. Returns whether a new session is in place, in
    /// which case the refused call is worth repeating once. A token that still looks itself up
    /// was refused on policy, which a new login would not change.
    pub(super) async fn after_denial(&self, used: &Arc<Session>) -> Result<bool, KeyError> {
        if !self.can_login() || lookup(&used.client).await.is_ok() {
            return Ok(false);
        }
        let _one_at_a_time = self.refreshing.lock().await;
        if let Some(current) = self.current() {
            if !Arc::ptr_eq(&current, used) {
                return Ok(true);
            }
        }
        let next = self.login().await?;
        *self
            .current
            .write()
            .expect("session lock is never poisoned") = Some(next);
        Ok(true)
    }

    fn current(&self) -> Option<Arc<Session>> {
        self.current
            .read()
            .expect("session lock is never poisoned")
            .clone()
    }

    /// The current session, if nothing is due for it.
    fn usable(&self) -> Option<Arc<Session>> {
        let s = self.current()?;
        let due = s.lease().needs_refresh(Instant::now(), self.can_login());
        (!due).then_some(s)
    }

    fn can_login(&self) -> bool {
        !matches!(self.auth, VaultAuth::Token(_))
    }

    /// Renews `previous` if that is possible and worthwhile, else logs in.
    async fn refresh(&self, previous: Option<Arc<Session>>) -> Result<Arc<Session>, KeyError> {
        let Some(s) = previous else {
            return self.login().await;
        };
        if self.renew(&s).await && !s.lease().needs_refresh(Instant::now(), self.can_login()) {
            return Ok(s);
        }
        if !self.can_login() {
            return Ok(s);
        }
        match self.login().await {
            Ok(next) => Ok(next),
            Err(e) if !s.lease().expired(Instant::now()) => {
                tracing::warn!(error = %e, "vault login failed; the current token is still valid");
                s.hold();
                Ok(s)
            }
            Err(e) => Err(e),
        }
    }

    /// Tries to renew `s`'s token, updating its lease. Returns whether the token was renewed.
    async fn renew(&self, s: &Session) -> bool {
        let lease = s.lease();
        if !lease.renewable || lease.expired(Instant::now()) {
            return false;
        }
        let renewed = timed(self.server.call_timeout, async {
            vaultrs::token::renew_self(&s.client, None)
                .await
                .map_err(|e| classify("renew token", e))
        })
        .await;
        match renewed {
            Ok(info) => {
                self.renewals.fetch_add(1, Ordering::Relaxed);
                s.set_lease(lease.renewed(&info));
                true
            }
            Err(e) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, "vault token renewal failed");
                s.after_failed_renewal(&e);
                false
            }
        }
    }

    /// A new session: a login for AppRole and Kubernetes, a look-up of a fixed token.
    async fn login(&self) -> Result<Arc<Session>, KeyError> {
        let started = timed(self.server.call_timeout, self.start_session()).await;
        match started {
            Ok(s) => {
                self.logins.fetch_add(1, Ordering::Relaxed);
                tracing::info!(method = self.method(), "vault session started");
                Ok(Arc::new(s))
            }
            Err(e) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    async fn start_session(&self) -> Result<Session, KeyError> {
        let info = match &self.auth {
            VaultAuth::Token(token) => return self.adopt(token).await,
            VaultAuth::AppRole {
                mount,
                role_id,
                secret_id,
            } => vaultrs::auth::approle::login(&self.anonymous, mount, role_id, secret_id.expose())
                .await
                .map_err(|e| classify("approle login", e))?,
            VaultAuth::Kubernetes {
                mount,
                role,
                jwt_path,
            } => {
                let jwt = SecretString::from_file(jwt_path).map_err(|e| {
                    KeyError::Denied(format!("service-account token {}: {e}", jwt_path.display()))
                })?;
                vaultrs::auth::kubernetes::login(&self.anonymous, mount, role, jwt.expose())
                    .await
                    .map_err(|e| classify("kubernetes login", e))?
            }
        };
        let lease = Lease::granted(&info);
        let token = SecretString::new(info.client_token);
        Ok(Session::new(build_client(&self.server, &token)?, lease))
    }

    /// A session for a fixed token, its lease learnt by looking the token up. A token that may
    /// not look itself up is still used, as one that never expires; Vault has the last word.
    async fn adopt(&self, token: &SecretString) -> Result<Session, KeyError> {
        let client = build_client(&self.server, token)?;
        let lease = match lookup(&client).await {
            Ok(found) => Lease::looked_up(&found),
            Err(KeyError::Denied(e)) => {
                tracing::warn!(error = %e, "vault token cannot look itself up; not renewing it");
                Lease::unknown()
            }
            Err(e) => return Err(e),
        };
        Ok(Session::new(client, lease))
    }

    fn method(&self) -> &'static str {
        match self.auth {
            VaultAuth::Token(_) => "token",
            VaultAuth::AppRole { .. } => "approle",
            VaultAuth::Kubernetes { .. } => "kubernetes",
        }
    }
}

impl Session {
    fn new(client: VaultClient, lease: Lease) -> Self {
        Self {
            client,
            lease: Mutex::new(lease),
        }
    }

    fn lease(&self) -> Lease {
        *self.lease.lock().expect("lease lock is never poisoned")
    }

    fn set_lease(&self, lease: Lease) {
        *self.lease.lock().expect("lease lock is never poisoned") = lease;
    }

    fn hold(&self) {
        let mut lease = self.lease();
        lease.hold_until = Some(Instant::now() + RETRY_HOLD);
        self.set_lease(lease);
    }

    /// A refused renewal will be refused again; an unanswered one is tried after a pause.
    fn after_failed_renewal(&self, e: &KeyError) {
        let mut lease = self.lease();
        if e.is_transient() {
            lease.hold_until = Some(Instant::now() + RETRY_HOLD);
        } else {
            lease.renewable = false;
        }
        self.set_lease(lease);
    }
}

/// A `vaultrs` client for `server` sending `token`; an empty token sends none.
fn build_client(server: &Server, token: &SecretString) -> Result<VaultClient, KeyError> {
    let mut settings = VaultClientSettingsBuilder::default();
    // Every field that would otherwise default from VAULT_* variables is set explicitly, so
    // the process environment cannot redirect or weaken the connection.
    settings
        .address(&server.address)
        .token(token.expose())
        .ca_certs(
            server
                .ca_bundle
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
        )
        .identity(None)
        .verify(true)
        .timeout(Some(server.call_timeout))
        .namespace(server.namespace.clone());
    let settings = settings
        .build()
        .map_err(|e| KeyError::Denied(format!("vault client settings: {e}")))?;
    VaultClient::new(settings)
        .map_err(|e| KeyError::Denied(format!("vault client for {}: {e}", server.address)))
}

async fn lookup(client: &VaultClient) -> Result<TokenLookup, KeyError> {
    let call = Call::<TokenLookup>::get("auth/token/lookup-self".into());
    vaultrs::api::exec_with_result(client, call)
        .await
        .map_err(|e| classify("look up token", e))
}

async fn timed<T>(
    limit: Duration,
    call: impl std::future::Future<Output = Result<T, KeyError>>,
) -> Result<T, KeyError> {
    tokio::time::timeout(limit, call)
        .await
        .unwrap_or_else(|_| Err(KeyError::Unavailable(format!("no answer within {limit:?}"))))
}
