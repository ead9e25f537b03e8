//! Running a numbered set of operations with a fixed number of workers.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

/// What a set of operations did: bytes moved and each operation's latency.
#[derive(Debug, Default)]
pub struct Done {
    pub bytes: u64,
    pub latencies: Vec<Duration>,
}

/// Runs operations `0..count` on `workers` tasks; each operation returns the bytes it moved.
/// Stops at the first error and returns it. Dropping the returned future aborts the workers.
pub async fn run<F, Fut>(count: u64, workers: u32, op: F) -> anyhow::Result<Done>
where
    F: Fn(u64) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<u64>> + Send + 'static,
{
    let next = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicBool::new(false));
    let mut set = JoinSet::new();
    for _ in 0..workers.max(1) {
        let (next, failed, op) = (next.clone(), failed.clone(), op.clone());
        set.spawn(async move {
            let mut done = Done::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count || failed.load(Ordering::Relaxed) {
                    return Ok(done);
                }
                let start = Instant::now();
                match op(i).await {
                    Ok(bytes) => {
                        done.bytes += bytes;
                        done.latencies.push(start.elapsed());
                    }
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        return Err(e.context(format!("operation {i}")));
                    }
                }
            }
        });
    }

    let mut total = Done::default();
    let mut first_error = None;
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(done)) => {
                total.bytes += done.bytes;
                total.latencies.extend(done.latencies);
            }
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(e) => {
                first_error.get_or_insert(anyhow::anyhow!("worker failed: {e}"));
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(total),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_every_operation_once() {
        let done = run(100, 7, |i| async move { Ok(i) }).await.unwrap();
        assert_eq!(done.bytes, (0..100).sum::<u64>());
        assert_eq!(done.latencies.len(), 100);
    }

    #[tokio::test]
    async fn stops_at_an_error() {
        let result = run(1000, 3, |i| async move {
            if i == 5 {
                anyhow::bail!("boom")
            }
            Ok(1)
        })
        .await;
        let message = format!("{:#}", result.unwrap_err());
        assert!(
            message.contains("boom") && message.contains("operation 5"),
            "{message}"
        );
    }
}
