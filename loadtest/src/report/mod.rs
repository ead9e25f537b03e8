//! Turning samples into the summary, the ratios and the bars, and writing them out.
//!
//! - `bars`: the four bars, each judged met or not from the summary.
//! - `table`: the text table on stdout and the markdown file.
//! - `svg`: the chart.
//!
//! Every figure in the summary is the median over the repetitions that succeeded, except peak
//! RSS, which is the largest seen: a bound is only as good as its worst sample.

pub mod bars;
pub mod svg;
pub mod table;

use serde::Serialize;

use crate::scenario::{Plan, Sample, Scenario};
use crate::stats::median;
use crate::targets::Kind;

const GIB: f64 = (1u64 << 30) as f64;
const MIB: f64 = (1u64 << 20) as f64;

/// Everything a run produced; the JSON output is this, serialized.
#[derive(Debug, Serialize)]
pub struct Report {
    pub started_unix: u64,
    pub duration_secs: f64,
    pub machine: Machine,
    pub plan: Plan,
    pub floor_runtime: crate::targets::floor::Runtime,
    pub nginx_workers: u32,
    /// Flags `rclone serve s3` ran with beyond its address, config and directory.
    pub upstream_flags: Vec<String>,
    pub targets: Vec<TargetStatus>,
    /// Whether a Cloak-written object read straight from the upstream differs from its
    /// plaintext; none if that could not be checked.
    pub cloak_encrypts: Option<bool>,
    pub listing_written_by: Option<Kind>,
    pub runs: Vec<Run>,
    pub summary: Vec<Summary>,
    pub ratios: Vec<Ratio>,
    pub bars: Vec<bars::Bar>,
}

/// What the run ran on.
#[derive(Debug, Default, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub kernel: String,
    pub nginx: String,
    pub rclone: String,
}

/// Whether a target could be started, and if not, why.
#[derive(Debug, Clone, Serialize)]
pub struct TargetStatus {
    pub kind: Kind,
    pub available: bool,
    pub reason: Option<String>,
}

/// One scenario against one target in one repetition.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub scenario: Scenario,
    pub target: Kind,
    pub repetition: u32,
    pub sample: Option<Sample>,
    pub error: Option<String>,
}

/// The medians for one scenario and target.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub scenario: Option<Scenario>,
    pub target: Option<Kind>,
    pub repetitions_ok: usize,
    pub repetitions_failed: usize,
    pub mb_per_s: Option<f64>,
    pub ops_per_s: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub proxy_cpu_s_per_gib: Option<f64>,
    pub proxy_cpu_ms_per_op: Option<f64>,
    pub proxy_peak_rss_mib: Option<f64>,
    pub upstream_cpu_s_per_gib: Option<f64>,
    pub client_cpu_s_per_gib: Option<f64>,
    pub first_error: Option<String>,
    pub note: Option<String>,
}

/// Cloak's figure divided by another target's, for one metric of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    pub scenario: Scenario,
    pub metric: &'static str,
    pub cloak_floor: Option<f64>,
    pub cloak_nginx: Option<f64>,
    pub cloak_direct: Option<f64>,
}

impl Summary {
    /// The summary of all `runs` of one scenario against one target.
    pub fn of(scenario: Scenario, target: Kind, runs: &[&Run]) -> Self {
        let ok: Vec<&Sample> = runs.iter().filter_map(|r| r.sample.as_ref()).collect();
        let per = |f: &dyn Fn(&Sample) -> Option<f64>| median(ok.iter().filter_map(|s| f(s)));
        let gib = |s: &Sample| s.bytes as f64 / GIB;
        Self {
            scenario: Some(scenario),
            target: Some(target),
            repetitions_ok: ok.len(),
            repetitions_failed: runs.len() - ok.len(),
            mb_per_s: per(&|s| rate(s.bytes as f64 / 1e6, s.secs)),
            ops_per_s: per(&|s| rate(s.ops as f64, s.secs)),
            p50_ms: per(&|s| s.p50_ms),
            p99_ms: per(&|s| s.p99_ms),
            proxy_cpu_s_per_gib: per(&|s| rate(s.proxy_cpu_s?, gib(s))),
            proxy_cpu_ms_per_op: per(&|s| rate(s.proxy_cpu_s? * 1e3, s.ops as f64)),
            proxy_peak_rss_mib: ok
                .iter()
                .filter_map(|s| s.proxy_peak_rss)
                .max()
                .map(|b| b as f64 / MIB),
            upstream_cpu_s_per_gib: per(&|s| rate(s.upstream_cpu_s, gib(s))),
            client_cpu_s_per_gib: per(&|s| rate(s.client_cpu_s, gib(s))),
            first_error: runs.iter().find_map(|r| r.error.clone()),
            note: ok.iter().rev().find_map(|s| s.note.clone()),
        }
    }

    /// The throughput figure that fits the scenario: MB/s for data, pages/s for listing.
    pub fn throughput(&self) -> Option<f64> {
        match self.scenario {
            Some(Scenario::List) => self.ops_per_s,
            _ => self.mb_per_s,
        }
    }
}

/// Summaries for every scenario and target that ran, in plan order.
pub fn summarize(runs: &[Run], scenarios: &[Scenario], targets: &[Kind]) -> Vec<Summary> {
    let mut out = Vec::new();
    for &scenario in scenarios {
        for &target in targets {
            let these: Vec<&Run> = runs
                .iter()
                .filter(|r| r.scenario == scenario && r.target == target)
                .collect();
            if !these.is_empty() {
                out.push(Summary::of(scenario, target, &these));
            }
        }
    }
    out
}

/// The summary for one scenario and target, if it ran.
pub fn find(summary: &[Summary], scenario: Scenario, target: Kind) -> Option<&Summary> {
    summary
        .iter()
        .find(|s| s.scenario == Some(scenario) && s.target == Some(target))
}

/// Cloak's ratios to the other targets, per scenario, for throughput, p50 and proxy CPU.
pub fn ratios(summary: &[Summary], scenarios: &[Scenario]) -> Vec<Ratio> {
    let mut out = Vec::new();
    for &scenario in scenarios {
        let Some(cloak) = find(summary, scenario, Kind::Cloak) else {
            continue;
        };
        let metrics: [(&'static str, Figure); 3] = [
            (throughput_name(scenario), Summary::throughput),
            ("p50 latency", |s| s.p50_ms),
            (cpu_name(scenario), cpu_figure),
        ];
        for (metric, get) in metrics {
            let versus = |other: Kind| {
                let other = find(summary, scenario, other)?;
                divide(get(cloak)?, get(other)?)
            };
            let ratio = Ratio {
                scenario,
                metric,
                cloak_floor: versus(Kind::Floor),
                cloak_nginx: versus(Kind::Nginx),
                cloak_direct: versus(Kind::Direct),
            };
            if ratio.cloak_floor.is_some()
                || ratio.cloak_nginx.is_some()
                || ratio.cloak_direct.is_some()
            {
                out.push(ratio);
            }
        }
    }
    out
}

/// Reads one figure from a summary.
type Figure = fn(&Summary) -> Option<f64>;

/// Whether a scenario's cost is best read per GiB (data) or per operation (listing, the
/// one-at-a-time latency runs).
pub fn cost_per_op(scenario: Scenario) -> bool {
    matches!(
        scenario,
        Scenario::List | Scenario::LatencyPut | Scenario::LatencyGet
    )
}

/// The proxy CPU figure that fits the scenario.
pub fn cpu_figure(s: &Summary) -> Option<f64> {
    match s.scenario {
        Some(sc) if cost_per_op(sc) => s.proxy_cpu_ms_per_op,
        _ => s.proxy_cpu_s_per_gib,
    }
}

fn throughput_name(scenario: Scenario) -> &'static str {
    if scenario == Scenario::List {
        "pages/s"
    } else {
        "MB/s"
    }
}

fn cpu_name(scenario: Scenario) -> &'static str {
    if cost_per_op(scenario) {
        "proxy CPU-ms/op"
    } else {
        "proxy CPU-s/GiB"
    }
}

fn rate(amount: f64, per: f64) -> Option<f64> {
    (per > 0.0).then(|| amount / per)
}

fn divide(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| a / b)
}

#[cfg(test)]
mod tests;
