//! The scenarios, and measuring one scenario against one target.
//!
//! A measurement brackets the workload with readings of the proxy's CPU ticks and a reset of
//! its peak RSS, so each sample's CPU-seconds and VmHWM belong to that scenario alone. The
//! upstream's and the client's own CPU time are read the same way, to show where the machine's
//! two cores went.

mod pool;
mod work;

use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Serialize;

use crate::procfs::{self, Tree};
use crate::stats;
use crate::targets::{Kind, Target};
pub use work::{seed, Data, Plan, BUCKET};

/// One scenario of the standard set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// Large objects written as single PUTs, several at once.
    LargePut,
    /// The large objects read back in full, several at once.
    LargeGet,
    /// Small objects (4 KiB to 1 MiB) written concurrently.
    SmallPut,
    /// The small objects read back concurrently.
    SmallGet,
    /// Small objects written one at a time: the latency a proxy adds, without queueing.
    LatencyPut,
    /// Small objects read one at a time.
    LatencyGet,
    /// The ML-loader pattern: random ranges of 64 KiB to 8 MiB from the large objects.
    RangedGet,
    /// One object uploaded in parts, several parts at once.
    MultipartPut,
    /// A prefix of many objects listed in full, page by page.
    List,
    /// Many concurrent full reads of the large objects, for the proxy's peak memory.
    MemoryGet,
}

/// What one scenario run against one target measured.
#[derive(Clone, Debug, Serialize)]
pub struct Sample {
    pub secs: f64,
    /// Payload bytes moved: bodies sent plus bodies received.
    pub bytes: u64,
    pub ops: u64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// CPU time of the proxy's processes; none for direct access.
    pub proxy_cpu_s: Option<f64>,
    /// The proxy's VmHWM during the scenario (summed over its processes).
    pub proxy_peak_rss: Option<u64>,
    pub upstream_cpu_s: f64,
    pub client_cpu_s: f64,
    /// Anything the numbers alone do not say (streams cut at a deadline, say).
    pub note: Option<String>,
}

/// What a workload reports to the measurement around it.
#[derive(Debug, Default)]
pub struct Work {
    pub bytes: u64,
    pub ops: u64,
    pub latencies: Vec<Duration>,
    pub note: Option<String>,
}

impl Scenario {
    pub const ALL: [Scenario; 10] = [
        Scenario::LargePut,
        Scenario::LargeGet,
        Scenario::SmallPut,
        Scenario::SmallGet,
        Scenario::LatencyPut,
        Scenario::LatencyGet,
        Scenario::RangedGet,
        Scenario::MultipartPut,
        Scenario::List,
        Scenario::MemoryGet,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::LargePut => "large-put",
            Scenario::LargeGet => "large-get",
            Scenario::SmallPut => "small-put",
            Scenario::SmallGet => "small-get",
            Scenario::LatencyPut => "latency-put",
            Scenario::LatencyGet => "latency-get",
            Scenario::RangedGet => "ranged-get",
            Scenario::MultipartPut => "multipart-put",
            Scenario::List => "list",
            Scenario::MemoryGet => "memory-get",
        }
    }

    /// Whether the scenario runs against `kind`: the memory check only means something for
    /// a proxy.
    pub fn applies_to(self, kind: Kind) -> bool {
        !(self == Scenario::MemoryGet && kind == Kind::Direct)
    }

    /// Whether the scenario runs only once per run, not once per repetition: the memory
    /// check is long and its figure is a peak, not a rate.
    pub fn once(self) -> bool {
        self == Scenario::MemoryGet
    }
}

/// Runs `scenario` against `target` and measures it.
pub async fn measure(
    scenario: Scenario,
    target: &mut Target,
    upstream: Tree,
    data: &mut Data,
    plan: &Plan,
    rep: u32,
) -> anyhow::Result<Sample> {
    target.check_running()?;
    data.prepare(scenario, target, plan)
        .await
        .context("preparing data")?;

    if let Some(proxy) = &target.process {
        proxy.reset_peak()?;
    }
    let before = Readings::take(target.process.as_ref(), upstream)?;
    let start = Instant::now();
    let work = tokio::time::timeout(plan.scenario_timeout, data.run(scenario, target, plan, rep))
        .await
        .map_err(|_| anyhow::anyhow!("timed out after {:?}", plan.scenario_timeout))??;
    let secs = start.elapsed().as_secs_f64();
    let after = Readings::take(target.process.as_ref(), upstream)?;
    target.check_running()?;

    let tick = procfs::ticks_per_second() as f64;
    let cpu = |a: u64, b: u64| a.saturating_sub(b) as f64 / tick;
    let (p50_ms, p99_ms) = stats::latency_ms(&work.latencies);
    Ok(Sample {
        secs,
        bytes: work.bytes,
        ops: work.ops,
        p50_ms,
        p99_ms,
        proxy_cpu_s: after
            .proxy
            .zip(before.proxy)
            .map(|(a, b)| cpu(a.cpu_ticks, b.cpu_ticks)),
        proxy_peak_rss: after.proxy.map(|a| a.peak_rss_bytes),
        upstream_cpu_s: cpu(after.upstream, before.upstream),
        client_cpu_s: cpu(after.client, before.client),
        note: work.note,
    })
}

/// CPU readings around a scenario.
struct Readings {
    proxy: Option<procfs::Usage>,
    upstream: u64,
    client: u64,
}

impl Readings {
    fn take(proxy: Option<&Tree>, upstream: Tree) -> anyhow::Result<Self> {
        Ok(Self {
            proxy: proxy.map(Tree::usage).transpose()?,
            upstream: upstream.usage()?.cpu_ticks,
            client: procfs::own_cpu_ticks()?,
        })
    }
}
