//! One run: start everything, measure every scenario against every target, report, stop.
//!
//! Targets take turns within each repetition, in an order rotated each time, so a slow drift
//! in the machine (another build starting, the page cache filling) spreads over all of them.

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;

use crate::cli::RunArgs;
use crate::report::{self, bars, svg, table, Report, Run, TargetStatus};
use crate::scenario::{self, Data, Plan, Sample, Scenario};
use crate::setup::{self, Env};
use crate::targets::{upstream, Kind, Target};

/// Runs the load test; returns once everything it started has stopped.
pub fn main(args: &RunArgs) -> anyhow::Result<()> {
    let plan = args.plan()?;
    let threads = args.client_threads.unwrap_or_else(cpus);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .context("building the client runtime")?;

    // Servers are started from this (the main) thread: see `child` on PR_SET_PDEATHSIG.
    runtime.block_on(async {
        tokio::select! {
            result = run(args, plan) => result,
            signal = shutdown_signal() => {
                anyhow::bail!("stopped by {signal}; every server was stopped too")
            }
        }
    })
}

async fn run(args: &RunArgs, plan: Plan) -> anyhow::Result<()> {
    let started = Instant::now();
    let started_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let work_dir = args.work_dir.clone().unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&work_dir)?;
    let dir = tempfile::Builder::new()
        .prefix("cloak-loadtest-")
        .tempdir_in(&work_dir)
        .context("creating the run's directory")?;
    let logs = args
        .log_dir
        .clone()
        .unwrap_or_else(|| dir.path().join("logs"));
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;

    let upstream = upstream::start(&args.rclone, &args.rclone_flags(), dir.path(), &logs)
        .context("starting rclone")?;
    setup::create_bucket(&upstream.endpoint).await?;
    let cloak_path = args.cloak.clone().unwrap_or_else(setup::default_cloak_path);
    let env = Env {
        upstream: &upstream,
        dir: dir.path(),
        logs: &logs,
        nginx: &args.nginx,
        cloak: &cloak_path,
        cloak_unavailable: args.cloak_unavailable.as_deref(),
        floor_runtime: args.floor_runtime,
        nginx_workers: args.nginx_workers.unwrap_or(cpus() as u32),
    };
    let (mut targets, statuses) = start_targets(&args.targets(), &env).await;

    let cloak = targets.iter().find(|t| t.kind == Kind::Cloak);
    let cloak_encrypts = match cloak {
        Some(c) => match setup::cloak_encrypts(c, &upstream.endpoint).await {
            Ok(yes) => Some(yes),
            Err(e) => {
                eprintln!("cloak: could not check that it encrypts: {e:#}");
                None
            }
        },
        None => None,
    };

    let scenarios = args.scenarios();
    let mut data = Data::default();
    if scenarios.contains(&Scenario::List) {
        write_listing(&mut data, &targets, &plan).await?;
    }
    let runs = measure_all(
        &scenarios,
        &mut targets,
        upstream.server.pid(),
        &mut data,
        &plan,
    )
    .await;

    let kinds: Vec<Kind> = targets.iter().map(|t| t.kind).collect();
    let summary = report::summarize(&runs, &scenarios, &kinds);
    let report = Report {
        started_unix,
        duration_secs: started.elapsed().as_secs_f64(),
        machine: setup::machine(&args.rclone, &args.nginx),
        floor_runtime: args.floor_runtime,
        nginx_workers: env.nginx_workers,
        upstream_flags: args.rclone_flags(),
        targets: statuses,
        cloak_encrypts,
        listing_written_by: data.listing_by(),
        ratios: report::ratios(&summary, &scenarios),
        bars: bars::evaluate(&summary, &plan, cloak_encrypts),
        plan,
        summary,
        runs,
    };
    drop(targets);
    drop(upstream);
    write_outputs(args, &report)
}

/// Starts each target; one that fails is reported as not available and left out.
async fn start_targets(kinds: &[Kind], env: &Env<'_>) -> (Vec<Target>, Vec<TargetStatus>) {
    let mut targets = Vec::new();
    let mut statuses = Vec::new();
    for &kind in kinds {
        match setup::start(kind, env).await {
            Ok(target) => {
                eprintln!("{kind}: available at {}", target.endpoint.base);
                targets.push(target);
                statuses.push(TargetStatus {
                    kind,
                    available: true,
                    reason: None,
                });
            }
            Err(e) => {
                let reason = format!("{e:#}");
                eprintln!("{kind}: not available: {reason}");
                statuses.push(TargetStatus {
                    kind,
                    available: false,
                    reason: Some(reason),
                });
            }
        }
    }
    (targets, statuses)
}

/// Writes the listing prefix once, through Cloak when it is up (so the listing holds what a
/// bucket behind Cloak holds), else directly.
async fn write_listing(data: &mut Data, targets: &[Target], plan: &Plan) -> anyhow::Result<()> {
    let start = Instant::now();
    let mut order: Vec<&Target> = targets.iter().filter(|t| t.kind == Kind::Cloak).collect();
    order.extend(targets.iter().filter(|t| t.kind == Kind::Direct));
    for target in order {
        match data.write_listing(target, plan).await {
            Ok(()) => {
                eprintln!(
                    "listing: wrote {} objects through {} in {:.1} s",
                    plan.list_objects,
                    target.kind,
                    start.elapsed().as_secs_f64()
                );
                return Ok(());
            }
            Err(e) => eprintln!("listing: writing through {} failed: {e:#}", target.kind),
        }
    }
    eprintln!("listing: not written; the list scenario will fail");
    Ok(())
}

async fn measure_all(
    scenarios: &[Scenario],
    targets: &mut [Target],
    upstream_pid: u32,
    data: &mut Data,
    plan: &Plan,
) -> Vec<Run> {
    let upstream = crate::procfs::Tree::single(upstream_pid);
    let mut runs = Vec::new();
    for rep in 0..plan.repetitions {
        for &scenario in scenarios {
            if scenario.once() && rep > 0 {
                continue;
            }
            let n = targets.len();
            for i in 0..n {
                let target = &mut targets[(i + rep as usize) % n];
                if !scenario.applies_to(target.kind) {
                    continue;
                }
                let result = scenario::measure(scenario, target, upstream, data, plan, rep).await;
                progress(rep, plan.repetitions, scenario, target.kind, &result);
                runs.push(Run {
                    scenario,
                    target: target.kind,
                    repetition: rep,
                    error: result.as_ref().err().map(|e| format!("{e:#}")),
                    sample: result.ok(),
                });
            }
        }
    }
    runs
}

fn progress(rep: u32, reps: u32, scenario: Scenario, kind: Kind, result: &anyhow::Result<Sample>) {
    let head = format!("[{}/{reps}] {:<13} {:<6}", rep + 1, scenario.name(), kind);
    match result {
        Ok(s) => {
            let cpu = s.proxy_cpu_s.map_or(String::new(), |c| {
                let gib = s.bytes as f64 / (1u64 << 30) as f64;
                format!(", proxy {c:.2} CPU-s ({:.2}/GiB)", c / gib.max(1e-12))
            });
            let rss = s
                .proxy_peak_rss
                .map_or(String::new(), |b| format!(", peak {} MiB", b >> 20));
            eprintln!(
                "{head} {:>8.1} MB/s {:>8.1} ops/s  p50 {:.2} ms{cpu}{rss}  ({:.1} s)",
                s.bytes as f64 / 1e6 / s.secs,
                s.ops as f64 / s.secs,
                s.p50_ms.unwrap_or(0.0),
                s.secs
            );
        }
        Err(e) => eprintln!("{head} failed: {e:#}"),
    }
}

fn write_outputs(args: &RunArgs, report: &Report) -> anyhow::Result<()> {
    print!("{}", table::text(report));
    let write = |path: &PathBuf, text: String| -> anyhow::Result<()> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    };
    if let Some(path) = &args.json {
        write(path, serde_json::to_string_pretty(report)? + "\n")?;
    }
    if let Some(path) = &args.markdown {
        write(path, table::markdown(report))?;
    }
    if let Some(path) = &args.plot {
        let title = format!(
            "Cloak load test, {} CPUs, {}",
            report.machine.cpus,
            date(report.started_unix)
        );
        write(path, svg::chart(&report.summary, &title))?;
    }
    for path in [&args.json, &args.markdown, &args.plot]
        .into_iter()
        .flatten()
    {
        eprintln!("wrote {}", display(path));
    }
    Ok(())
}

/// SIGINT or SIGTERM, whichever comes first.
async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// A UTC date, `YYYY-MM-DD`, from Unix seconds (the civil-from-days algorithm).
pub fn date(unix: u64) -> String {
    let days = (unix / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_from_unix_seconds() {
        assert_eq!(super::date(0), "1970-01-01");
        assert_eq!(super::date(1_709_294_400), "2024-03-01");
        assert_eq!(super::date(951_782_400), "2000-02-29");
    }
}
