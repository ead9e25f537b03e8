//! The four bars, judged from a run's summary.
//!
//! A bar is reported, never asserted: machines are noisy. Each comes out met, not met, or not
//! measured (a target was missing or a scenario failed), always with the figure behind it.

use serde::Serialize;

use super::{find, Summary};
use crate::scenario::{Plan, Scenario};
use crate::targets::Kind;

/// How much CPU Cloak may spend per GiB above the floor.
pub const FLOOR_ALLOWANCE_CPU_S_PER_GIB: f64 = 0.5;
/// Cloak's peak RSS bound in the memory check.
pub const PEAK_RSS_LIMIT_MIB: f64 = 128.0;
/// The p50 latency Cloak may add over direct access on small objects.
pub const ADDED_P50_LIMIT_MS: f64 = 1.0;

/// One bar, for one direction where the issue asks for each.
#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub name: String,
    pub target: String,
    /// The figures the verdict rests on.
    pub figure: String,
    /// `None` when it could not be measured.
    pub met: Option<bool>,
}

impl Bar {
    pub fn verdict(&self) -> &'static str {
        match self.met {
            Some(true) => "met",
            Some(false) => "NOT met",
            None => "not measured",
        }
    }
}

/// Judges every bar. `encrypts` is whether Cloak was seen to store ciphertext.
pub fn evaluate(summary: &[Summary], plan: &Plan, encrypts: Option<bool>) -> Vec<Bar> {
    let mut bars = Vec::new();
    for (direction, scenario) in [("PUT", Scenario::LargePut), ("GET", Scenario::LargeGet)] {
        bars.push(versus_nginx(summary, direction, scenario, encrypts));
    }
    for (direction, scenario) in [("PUT", Scenario::LargePut), ("GET", Scenario::LargeGet)] {
        bars.push(versus_floor(summary, direction, scenario));
    }
    bars.push(peak_rss(summary, plan));
    for (direction, scenario) in [("GET", Scenario::LatencyGet), ("PUT", Scenario::LatencyPut)] {
        bars.push(added_latency(summary, direction, scenario));
    }
    bars
}

fn cpu(summary: &[Summary], scenario: Scenario, kind: Kind) -> Result<f64, String> {
    let s = find(summary, scenario, kind).ok_or_else(|| format!("{kind} did not run"))?;
    s.proxy_cpu_s_per_gib.ok_or_else(|| failure(s, kind))
}

fn failure(s: &Summary, kind: Kind) -> String {
    match &s.first_error {
        Some(e) => format!("{kind} failed: {}", first_line(e)),
        None => format!("{kind} has no figure"),
    }
}

fn versus_nginx(
    summary: &[Summary],
    direction: &str,
    scenario: Scenario,
    encrypts: Option<bool>,
) -> Bar {
    let name = format!("Cloak CPU-s/GiB, {direction}, vs nginx");
    let target = "at most nginx's pass-through figure, while encrypting".to_owned();
    let figures = cpu(summary, scenario, Kind::Cloak)
        .and_then(|c| Ok((c, cpu(summary, scenario, Kind::Nginx)?)));
    match figures {
        Ok((cloak, nginx)) => {
            let mut figure = format!(
                "cloak {cloak:.2} vs nginx {nginx:.2} CPU-s/GiB ({})",
                scenario.name()
            );
            let met = match encrypts {
                Some(true) => Some(cloak <= nginx),
                Some(false) => {
                    figure += "; Cloak stored plaintext upstream";
                    Some(false)
                }
                None => {
                    figure += "; encryption not confirmed";
                    None
                }
            };
            Bar {
                name,
                target,
                figure,
                met,
            }
        }
        Err(why) => Bar {
            name,
            target,
            figure: why,
            met: None,
        },
    }
}

fn versus_floor(summary: &[Summary], direction: &str, scenario: Scenario) -> Bar {
    let name = format!("Cloak CPU-s/GiB, {direction}, vs floor");
    let target = format!("at most the floor's figure + {FLOOR_ALLOWANCE_CPU_S_PER_GIB} CPU-s/GiB");
    let figures = cpu(summary, scenario, Kind::Cloak)
        .and_then(|c| Ok((c, cpu(summary, scenario, Kind::Floor)?)));
    match figures {
        Ok((cloak, floor)) => {
            let limit = floor + FLOOR_ALLOWANCE_CPU_S_PER_GIB;
            Bar {
                name,
                target,
                figure: format!(
                    "cloak {cloak:.2} vs floor {floor:.2} + {FLOOR_ALLOWANCE_CPU_S_PER_GIB} = {limit:.2} CPU-s/GiB ({})",
                    scenario.name()
                ),
                met: Some(cloak <= limit),
            }
        }
        Err(why) => Bar {
            name,
            target,
            figure: why,
            met: None,
        },
    }
}

fn peak_rss(summary: &[Summary], plan: &Plan) -> Bar {
    let name = "Cloak peak RSS, concurrent 1 GiB streams".to_owned();
    let target = format!("under {PEAK_RSS_LIMIT_MIB} MiB with 64 concurrent 1 GiB streams");
    let shape = format!(
        "{} streams of {} MiB",
        plan.memory_streams,
        plan.large_size >> 20
    );
    let found = find(summary, Scenario::MemoryGet, Kind::Cloak);
    match found.and_then(|s| s.proxy_peak_rss_mib) {
        Some(mib) => {
            let standard = plan.memory_streams >= 64 && plan.large_size >= 1 << 30;
            let mut figure = format!("{mib:.1} MiB VmHWM, {shape}");
            if !standard {
                figure += " (smaller than the bar's shape)";
            }
            Bar {
                name,
                target,
                figure,
                met: standard.then_some(mib < PEAK_RSS_LIMIT_MIB),
            }
        }
        None => {
            let why = found.map_or_else(
                || "cloak did not run".to_owned(),
                |s| failure(s, Kind::Cloak),
            );
            Bar {
                name,
                target,
                figure: why,
                met: None,
            }
        }
    }
}

fn added_latency(summary: &[Summary], direction: &str, scenario: Scenario) -> Bar {
    let name = format!("small-object p50 added over direct, {direction}");
    let target = format!("at most {ADDED_P50_LIMIT_MS} ms (warm key cache)");
    let p50 = |kind| {
        let s = find(summary, scenario, kind).ok_or_else(|| format!("{kind} did not run"))?;
        s.p50_ms.ok_or_else(|| failure(s, kind))
    };
    match p50(Kind::Cloak).and_then(|c| Ok((c, p50(Kind::Direct)?))) {
        Ok((cloak, direct)) => {
            let added = cloak - direct;
            Bar {
                name,
                target,
                figure: format!(
                    "{added:+.2} ms (cloak {cloak:.2} ms, direct {direct:.2} ms, {})",
                    scenario.name()
                ),
                met: Some(added <= ADDED_P50_LIMIT_MS),
            }
        }
        Err(why) => Bar {
            name,
            target,
            figure: why,
            met: None,
        },
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}
