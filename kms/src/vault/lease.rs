//! What is known about a Vault token's life, and when to act on it.
//!
//! A lease is measured against tokio's clock, so tests can pause and advance it. Renewal is
//! due when a third of the TTL the token was issued with is left; a token that cannot be
//! renewed any further is replaced by a new login, where the auth method allows one.

use std::time::Duration;

use tokio::time::Instant;
use vaultrs::api::AuthInfo;

use super::session::TokenLookup;

/// After a failed renewal or login, nothing is tried again for this long.
pub(super) const RETRY_HOLD: Duration = Duration::from_secs(1);

/// What is known about a token's life.
#[derive(Clone, Copy, Debug)]
pub(super) struct Lease {
    /// When `ttl` was measured.
    pub since: Instant,
    /// Time left at `since`; `None` for a token that never expires.
    pub ttl: Option<Duration>,
    /// The TTL the token was issued with; renewal is due when a third of it is left.
    pub full: Duration,
    pub renewable: bool,
    /// No renewal or login is attempted before this.
    pub hold_until: Option<Instant>,
}

impl Lease {
    pub(super) fn granted(info: &AuthInfo) -> Self {
        let ttl = Duration::from_secs(info.lease_duration);
        Self {
            since: Instant::now(),
            ttl: (info.lease_duration > 0).then_some(ttl),
            full: ttl,
            renewable: info.renewable,
            hold_until: None,
        }
    }

    pub(super) fn looked_up(found: &TokenLookup) -> Self {
        Self {
            since: Instant::now(),
            ttl: (found.ttl > 0).then(|| Duration::from_secs(found.ttl)),
            full: Duration::from_secs(found.creation_ttl.max(found.ttl)),
            renewable: found.renewable,
            hold_until: None,
        }
    }

    pub(super) fn unknown() -> Self {
        Self {
            since: Instant::now(),
            ttl: None,
            full: Duration::ZERO,
            renewable: false,
            hold_until: None,
        }
    }

    /// The lease after a renewal. One that no longer buys a third of the original TTL is the
    /// token reaching its maximum TTL: renewing it again would not help.
    pub(super) fn renewed(self, info: &AuthInfo) -> Self {
        let ttl = Duration::from_secs(info.lease_duration);
        Self {
            since: Instant::now(),
            ttl: Some(ttl),
            renewable: info.renewable && ttl >= self.full / 3,
            hold_until: None,
            ..self
        }
    }

    fn left(&self, now: Instant) -> Option<Duration> {
        let ttl = self.ttl?;
        Some(ttl.saturating_sub(now.saturating_duration_since(self.since)))
    }

    pub(super) fn expired(&self, now: Instant) -> bool {
        self.left(now) == Some(Duration::ZERO)
    }

    pub(super) fn needs_refresh(&self, now: Instant, can_login: bool) -> bool {
        if self.hold_until.is_some_and(|until| now < until) {
            return false;
        }
        match self.left(now) {
            None => false,
            Some(Duration::ZERO) => can_login,
            Some(left) => left < self.full / 3 && (self.renewable || can_login),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(ttl: u64, renewable: bool) -> Lease {
        Lease {
            since: Instant::now(),
            ttl: Some(Duration::from_secs(ttl)),
            full: Duration::from_secs(ttl),
            renewable,
            hold_until: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn renewal_is_due_when_a_third_of_the_ttl_is_left() {
        let l = lease(30, true);
        let at = |s| l.since + Duration::from_secs(s);
        assert!(!l.needs_refresh(at(19), false));
        assert!(l.needs_refresh(at(21), false));
        assert!(!l.expired(at(29)));
        assert!(l.expired(at(30)));
    }

    #[tokio::test(start_paused = true)]
    async fn an_unrenewable_token_is_refreshed_only_by_logging_in() {
        let l = lease(30, false);
        let late = l.since + Duration::from_secs(25);
        assert!(!l.needs_refresh(late, false));
        assert!(l.needs_refresh(late, true));
        assert!(!Lease::unknown().needs_refresh(late, true));
    }

    #[tokio::test(start_paused = true)]
    async fn a_hold_defers_refreshing() {
        let mut l = lease(30, true);
        let late = l.since + Duration::from_secs(25);
        l.hold_until = Some(late + RETRY_HOLD);
        assert!(!l.needs_refresh(late, true));
        assert!(l.needs_refresh(late + RETRY_HOLD, true));
    }
}
