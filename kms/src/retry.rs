//! Retries for calls to a remote key service.
//!
//! A key service that is briefly unreachable, overloaded or failing over should cost a request
//! some latency, not an error; a service that refuses, or has no such key, will say the same
//! thing every time, so only [`KeyError::Unavailable`] is retried. Each attempt has its own
//! deadline and the number of attempts is fixed, so a call that fails does so within
//! [`RetryPolicy::worst_case`]. Backoff is exponential with full jitter (a uniformly random
//! wait below the exponential bound) so that many proxies losing the same service do not come
//! back to it in lockstep.

use std::future::Future;
use std::time::Duration;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use crate::KeyError;

/// How a provider retries transient failures of its key service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 disables retries.
    pub attempts: u32,
    /// Bound of the wait before the first retry; the bound doubles with each retry.
    pub base_delay: Duration,
    /// Bound of any one wait.
    pub max_delay: Duration,
    /// Time allowed for one attempt; a slower attempt counts as the service being unavailable.
    pub call_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            call_timeout: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The longest a call can take before it gives up: every attempt timing out, every wait
    /// at its bound.
    pub fn worst_case(&self) -> Duration {
        let waits: Duration = (1..self.attempts).map(|n| self.bound(n)).sum();
        self.call_timeout * self.attempts.max(1) + waits
    }

    /// Runs `attempt` until it succeeds, fails with a final error, or the attempts run out.
    /// `operation` names the call in the warnings logged for each retry.
    pub async fn run<T, F, Fut>(&self, operation: &str, mut attempt: F) -> Result<T, KeyError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, KeyError>>,
    {
        let attempts = self.attempts.max(1);
        let mut tried = 1;
        loop {
            let outcome = match tokio::time::timeout(self.call_timeout, attempt()).await {
                Ok(outcome) => outcome,
                Err(_) => Err(KeyError::Unavailable(format!(
                    "{operation}: no answer within {:?}",
                    self.call_timeout
                ))),
            };
            match outcome {
                Err(e) if e.is_transient() && tried < attempts => {
                    let wait = jitter(self.bound(tried));
                    tracing::warn!(operation, attempt = tried, error = %e, ?wait, "retrying");
                    tokio::time::sleep(wait).await;
                    tried += 1;
                }
                done => return done,
            }
        }
    }

    /// The bound of the wait before retry `n` (1-based).
    fn bound(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n - 1).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// A uniformly random duration in `[0, bound]`.
fn jitter(bound: Duration) -> Duration {
    let mut bytes = [0u8; 8];
    if SystemRandom::new().fill(&mut bytes).is_err() {
        // Without randomness the wait is still bounded; only the spreading is lost.
        return bound / 2;
    }
    let fraction = u64::from_be_bytes(bytes) as f64 / u64::MAX as f64;
    bound.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(250),
            call_timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn bounds_double_then_cap() {
        let p = policy();
        let bounds: Vec<_> = (1..5).map(|n| p.bound(n).as_millis()).collect();
        assert_eq!(bounds, [100, 200, 250, 250]);
        assert_eq!(
            p.worst_case(),
            Duration::from_millis(4000 + 100 + 200 + 250)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_until_success() {
        let calls = AtomicU32::new(0);
        let out = policy()
            .run("test", || async {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 | 1 => Err(KeyError::Unavailable("down".into())),
                    _ => Ok(7),
                }
            })
            .await;
        assert_eq!(out, Ok(7));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn final_errors_are_not_retried() {
        let calls = AtomicU32::new(0);
        let out: Result<(), _> = policy()
            .run("test", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(KeyError::Denied("no".into()))
            })
            .await;
        assert_eq!(out, Err(KeyError::Denied("no".into())));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn hung_attempts_time_out_and_the_whole_call_stays_bounded() {
        let p = policy();
        let start = tokio::time::Instant::now();
        let calls = AtomicU32::new(0);
        let out: Result<(), _> = p
            .run("test", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                std::future::pending().await
            })
            .await;
        assert!(matches!(out, Err(KeyError::Unavailable(_))), "{out:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        assert!(start.elapsed() <= p.worst_case(), "{:?}", start.elapsed());
    }
}
