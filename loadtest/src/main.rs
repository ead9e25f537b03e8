//! `cloak-loadtest`: what Cloak costs, measured next to not having it.
//!
//! One run starts an `rclone serve s3` upstream on loopback and four ways to reach it: the
//! upstream directly, a minimal forwarding proxy (the floor), nginx as a plain reverse proxy,
//! and Cloak. It runs the same scenarios against each with a signed S3 client that checks
//! every byte it reads, and reports throughput, latency, and each proxy's CPU time per GiB
//! and peak memory, with Cloak's ratios to the others and the bars it is held to.
//!
//! Layout:
//! - `cli`: options and presets.
//! - `run`: one run from start to stop; `setup`: starting targets and checking them.
//! - `targets`: the upstream, the floor, nginx and Cloak.
//! - `child`: server processes, and making sure none outlives the run.
//! - `s3`: the signed S3 client; `content`: deterministic object bytes and their checks.
//! - `scenario`: the workloads and the measurement around each.
//! - `procfs`: CPU time and peak RSS from `/proc`; `stats`: percentiles and medians.
//! - `report`: summary, ratios, bars, and the text, markdown, JSON and SVG outputs.

mod child;
mod cli;
mod content;
mod procfs;
mod report;
mod run;
mod s3;
mod scenario;
mod setup;
mod stats;
mod targets;

use std::process::ExitCode;

use clap::Parser as _;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Run(args) => run::main(args),
        Command::Floor {
            listen,
            upstream,
            runtime,
        } => targets::floor::run(*listen, *upstream, *runtime),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cloak-loadtest: {e:#}");
            ExitCode::FAILURE
        }
    }
}
