//! Command-line options, and the presets that fill in whatever is not given.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::scenario::{Plan, Scenario};
use crate::targets::{floor, Kind};

#[derive(Parser, Debug)]
#[command(
    name = "cloak-loadtest",
    version,
    about = "What Cloak costs, next to direct access, a minimal forwarder and nginx, on one upstream."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start the upstream and the targets, run the scenarios, report.
    Run(Box<RunArgs>),
    /// Serve the floor proxy (the load test starts this itself).
    Floor {
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long)]
        upstream: SocketAddr,
        #[arg(long, value_enum, default_value = "current-thread")]
        runtime: floor::Runtime,
    },
}

/// Sizes and counts that fit the time a run may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// The standard set: about 8 minutes on a 2-core machine.
    Standard,
    /// Small sizes, one repetition: seconds, for trying the harness out.
    Quick,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[arg(long, value_enum, default_value = "standard")]
    pub preset: Preset,
    /// Targets to run, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "direct,floor,nginx,cloak"
    )]
    pub targets: Vec<Kind>,
    /// Scenarios to run, comma-separated; all by default.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub scenarios: Vec<Scenario>,

    /// Write the report as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the report as markdown here.
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    /// Write an SVG chart here.
    #[arg(long)]
    pub plot: Option<PathBuf>,

    /// The rclone binary (the upstream store).
    #[arg(long, default_value = "rclone")]
    pub rclone: PathBuf,
    /// Leave rclone's MD5 ETags on. Off by default: with them, rclone reads and hashes the
    /// whole file on every GET, so one 64 KiB range of a 1 GiB shard costs a 1 GiB MD5.
    #[arg(long)]
    pub rclone_md5_etags: bool,
    /// An extra flag for `rclone serve s3` (repeatable), such as `--rclone-arg=--etag-hash=`.
    #[arg(long, allow_hyphen_values = true)]
    pub rclone_arg: Vec<String>,
    /// The nginx binary.
    #[arg(long, default_value = "nginx")]
    pub nginx: PathBuf,
    /// The cloak binary; by default, `cloak` next to this program.
    #[arg(long)]
    pub cloak: Option<PathBuf>,
    /// Report Cloak as not available, for this reason, without trying to start it (say, its
    /// build failed and the binary on disk is stale).
    #[arg(long, value_name = "REASON")]
    pub cloak_unavailable: Option<String>,
    /// Where the run's temporary directory (store data, configs) goes.
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Where server logs go; by default inside the temporary directory, deleted at the end.
    #[arg(long)]
    pub log_dir: Option<PathBuf>,

    /// The floor's runtime.
    #[arg(long, value_enum, default_value = "current-thread")]
    pub floor_runtime: floor::Runtime,
    /// nginx worker processes; by default one per CPU.
    #[arg(long)]
    pub nginx_workers: Option<u32>,
    /// The client's worker threads; by default one per CPU.
    #[arg(long)]
    pub client_threads: Option<usize>,

    #[arg(long)]
    pub repetitions: Option<u32>,
    /// Size of the large objects (PUT/GET streams, ranged-read shards, memory check).
    #[arg(long, value_parser = parse_size)]
    pub large_size: Option<u64>,
    #[arg(long)]
    pub large_streams: Option<u32>,
    #[arg(long, value_parser = parse_size)]
    pub small_min: Option<u64>,
    #[arg(long, value_parser = parse_size)]
    pub small_max: Option<u64>,
    #[arg(long)]
    pub small_count: Option<u64>,
    #[arg(long)]
    pub small_concurrency: Option<u32>,
    /// Operations in each one-at-a-time latency scenario.
    #[arg(long)]
    pub latency_count: Option<u64>,
    #[arg(long, value_parser = parse_size)]
    pub range_min: Option<u64>,
    #[arg(long, value_parser = parse_size)]
    pub range_max: Option<u64>,
    #[arg(long)]
    pub range_count: Option<u64>,
    #[arg(long)]
    pub range_concurrency: Option<u32>,
    #[arg(long, value_parser = parse_size)]
    pub multipart_size: Option<u64>,
    #[arg(long, value_parser = parse_size)]
    pub part_size: Option<u64>,
    #[arg(long)]
    pub multipart_concurrency: Option<u32>,
    #[arg(long)]
    pub list_objects: Option<u64>,
    #[arg(long)]
    pub list_page: Option<u32>,
    #[arg(long)]
    pub list_repeats: Option<u32>,
    #[arg(long)]
    pub memory_streams: Option<u32>,
    /// Each memory-check stream stops after this many seconds, complete or not.
    #[arg(long)]
    pub memory_seconds: Option<f64>,
    /// A scenario against one target that runs longer than this fails.
    #[arg(long, default_value_t = 180)]
    pub scenario_timeout_secs: u64,
}

impl RunArgs {
    /// The plan: the preset, with every option given on the command line in its place.
    pub fn plan(&self) -> anyhow::Result<Plan> {
        let mut plan = preset(self.preset);
        macro_rules! take {
            ($($field:ident),*) => { $( if let Some(v) = self.$field { plan.$field = v; } )* };
        }
        take!(
            repetitions,
            large_size,
            large_streams,
            small_min,
            small_max,
            small_count,
            small_concurrency,
            latency_count,
            range_min,
            range_max,
            range_count,
            range_concurrency,
            multipart_size,
            part_size,
            multipart_concurrency,
            list_objects,
            list_page,
            list_repeats,
            memory_streams,
            memory_seconds
        );
        plan.scenario_timeout = Duration::from_secs(self.scenario_timeout_secs);
        check(&plan)?;
        Ok(plan)
    }

    /// The flags `rclone serve s3` gets beyond its address, config and directory.
    pub fn rclone_flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        if !self.rclone_md5_etags {
            flags.push("--etag-hash=".to_owned());
        }
        flags.extend(self.rclone_arg.iter().cloned());
        flags
    }

    /// The scenarios to run, in the standard order.
    pub fn scenarios(&self) -> Vec<Scenario> {
        if self.scenarios.is_empty() {
            return Scenario::ALL.to_vec();
        }
        Scenario::ALL
            .into_iter()
            .filter(|s| self.scenarios.contains(s))
            .collect()
    }

    /// The targets to run, in the standard order, each once.
    pub fn targets(&self) -> Vec<Kind> {
        Kind::ALL
            .into_iter()
            .filter(|k| self.targets.contains(k))
            .collect()
    }
}

/// The sizes each preset starts from.
pub fn preset(preset: Preset) -> Plan {
    const KIB: u64 = 1 << 10;
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    let standard = Plan {
        repetitions: 3,
        large_size: GIB,
        large_streams: 2,
        small_min: 4 * KIB,
        small_max: MIB,
        small_count: 300,
        small_concurrency: 8,
        latency_count: 100,
        range_min: 64 * KIB,
        range_max: 8 * MIB,
        range_count: 200,
        range_concurrency: 32,
        multipart_size: 256 * MIB,
        part_size: 16 * MIB,
        multipart_concurrency: 4,
        list_objects: 10_000,
        list_page: 1000,
        list_repeats: 2,
        memory_streams: 64,
        memory_seconds: 15.0,
        scenario_timeout: Duration::from_secs(180),
    };
    match preset {
        Preset::Standard => standard,
        Preset::Quick => Plan {
            repetitions: 1,
            large_size: 64 * MIB,
            small_count: 50,
            latency_count: 20,
            range_count: 40,
            range_concurrency: 8,
            multipart_size: 32 * MIB,
            part_size: 8 * MIB,
            list_objects: 500,
            list_page: 100,
            list_repeats: 1,
            memory_streams: 8,
            memory_seconds: 3.0,
            ..standard
        },
    }
}

/// Rejects plans whose scenarios could not run.
fn check(plan: &Plan) -> anyhow::Result<()> {
    let positive = [
        ("repetitions", u64::from(plan.repetitions)),
        ("large-size", plan.large_size),
        ("large-streams", u64::from(plan.large_streams)),
        ("small-min", plan.small_min),
        ("range-min", plan.range_min),
        ("part-size", plan.part_size),
        ("multipart-size", plan.multipart_size),
        ("list-page", u64::from(plan.list_page)),
        ("memory-streams", u64::from(plan.memory_streams)),
    ];
    if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
        bail!("--{name} must be above zero");
    }
    if plan.small_min > plan.small_max {
        bail!("--small-min is above --small-max");
    }
    if plan.range_min > plan.range_max {
        bail!("--range-min is above --range-max");
    }
    if plan.range_min > plan.large_size {
        bail!("--range-min is above --large-size: ranges come from the large objects");
    }
    if plan.part_size < 5 << 20 && plan.multipart_size > plan.part_size {
        bail!("--part-size must be at least 5 MiB (S3's minimum for all parts but the last)");
    }
    if plan.memory_seconds.is_nan() || plan.memory_seconds <= 0.0 {
        bail!("--memory-seconds must be above zero");
    }
    Ok(())
}

/// A byte size: a number with an optional KiB, MiB, GiB (or K, M, G) suffix.
pub fn parse_size(text: &str) -> anyhow::Result<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .with_context(|| format!("{text:?} is not a size"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" | "kb" => 10,
        "m" | "mib" | "mb" => 20,
        "g" | "gib" | "gb" => 30,
        other => bail!("unknown size unit {other:?} (use KiB, MiB or GiB)"),
    };
    number.checked_mul(1 << shift).context("size too large")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert_eq!(parse_size("64KiB").unwrap(), 64 << 10);
        assert_eq!(parse_size("8M").unwrap(), 8 << 20);
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert!(parse_size("1.5GiB").is_err());
        assert!(parse_size("12 parsecs").is_err());
    }

    #[test]
    fn presets_pass_their_own_checks() {
        check(&preset(Preset::Standard)).unwrap();
        check(&preset(Preset::Quick)).unwrap();
    }

    #[test]
    fn command_line_overrides_the_preset() {
        let cli = Cli::try_parse_from([
            "cloak-loadtest",
            "run",
            "--preset",
            "quick",
            "--large-size",
            "8MiB",
            "--targets",
            "direct,cloak",
            "--scenarios",
            "list,large-put",
        ])
        .unwrap();
        let Command::Run(args) = cli.command else {
            panic!("not run")
        };
        let plan = args.plan().unwrap();
        assert_eq!(plan.large_size, 8 << 20);
        assert_eq!(plan.repetitions, 1);
        assert_eq!(args.targets(), [Kind::Direct, Kind::Cloak]);
        assert_eq!(args.scenarios(), [Scenario::LargePut, Scenario::List]);
    }

    #[test]
    fn a_bad_plan_names_the_option() {
        let mut plan = preset(Preset::Quick);
        plan.small_min = plan.small_max + 1;
        assert!(check(&plan)
            .unwrap_err()
            .to_string()
            .contains("--small-min"));
    }
}
