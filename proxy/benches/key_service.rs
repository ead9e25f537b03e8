//! What a remote key service costs small PUTs: 4 KiB PUTs through Cloak with Vault/OpenBao
//! Transit as the provider (KEK-sealing, the default), against the same PUTs with the local
//! keyring, in one run on one machine.
//!
//! `cargo bench -p cloak-proxy --bench key_service` starts an OpenBao dev server on loopback
//! (`$CLOAK_BAO_BIN`, `.venv/bin/bao` or `PATH`), two embedded stores and two proxies, and
//! prints key-service round trips per 1,000 PUTs (from the provider's call counters) and each
//! PUT rate, with their ratio. The bars: at most 10 calls per 1,000 PUTs at steady state, and
//! a Vault PUT rate of at least 80 % of the keyring's. This is a benchmark, not a test: it
//! reports and never fails on a slow machine. `CLOAK_BENCH_PUTS` sets the PUTs per round.
//! The stores live in the system's temporary directory: `TMPDIR=/dev/shm` keeps disk writes
//! out of the comparison.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/keysupport/mod.rs"]
mod keysupport;

use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use futures_util::stream::{self, StreamExt};

use common::{plaintext, Cloak, BUCKET};
use keysupport::{vault_keys, Bao};

const BODY: usize = 4096;
const CONCURRENCY: usize = 16;
const WARMUP: usize = 200;
const ROUNDS: usize = 10;

/// One proxy under test and what its provider has been asked so far.
struct Target {
    label: &'static str,
    cloak: Cloak,
    provider: &'static str,
}

/// Totals over the measured rounds.
#[derive(Default)]
struct Tally {
    puts: usize,
    elapsed: Duration,
    calls: u64,
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run());
}

async fn run() {
    let puts: usize = std::env::var("CLOAK_BENCH_PUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let bao = Bao::with_transit();
    let targets = [
        Target {
            label: "keyring",
            cloak: Cloak::start().await,
            provider: "keyring",
        },
        Target {
            label: "vault (KEK)",
            cloak: Cloak::start_with_keys(|ring| vault_keys(&bao, ring, "")).await,
            provider: "bao",
        },
        // Informational: the KEK layer over the keyring, to tell its cost from Vault's.
        Target {
            label: "keyring (KEK)",
            cloak: Cloak::start_with_keys(keyring_kek).await,
            provider: "ring",
        },
    ];
    let body = plaintext(BODY);
    for t in &targets {
        put_many(&t.cloak, "warmup", WARMUP, &body).await;
    }

    // Short rounds alternate between the targets, in a rotating order, so that drift in a
    // shared machine's speed hits all of them; the ratio is the median of the rounds'.
    let mut tallies = [Tally::default(), Tally::default(), Tally::default()];
    let mut ratios = Vec::new();
    for round in 0..ROUNDS {
        let mut took = [Duration::ZERO; 3];
        for step in 0..targets.len() {
            let i = (round + step) % targets.len();
            let (t, tally) = (&targets[i], &mut tallies[i]);
            let before = calls(t);
            took[i] = put_many(&t.cloak, &format!("round{round}"), puts, &body).await;
            tally.puts += puts;
            tally.elapsed += took[i];
            tally.calls += calls(t) - before;
        }
        ratios.push(took[0].as_secs_f64() / took[1].as_secs_f64());
    }
    ratios.sort_by(f64::total_cmp);
    report(&targets, &tallies, ratios[ratios.len() / 2]);
    for t in targets {
        t.cloak.stop().await;
    }
}

fn keyring_kek(ring: &std::path::Path) -> String {
    format!(
        "[keys]\nprovider = \"ring\"\n[keys.providers.ring]\nkind = \"keyring\"\n\
         path = \"{}\"\nkek = {{ enabled = true }}\n",
        ring.display()
    )
}

/// PUTs `n` objects of `body` under `prefix`, `CONCURRENCY` at a time; returns the time taken.
async fn put_many(cloak: &Cloak, prefix: &str, n: usize, body: &[u8]) -> Duration {
    let s3 = cloak.s3();
    let start = Instant::now();
    let puts = stream::iter(0..n).map(|i| {
        let put = s3
            .put_object()
            .bucket(BUCKET)
            .key(format!("{prefix}/{i:06}"));
        put.body(ByteStream::from(body.to_vec())).send()
    });
    let mut puts = puts.buffer_unordered(CONCURRENCY);
    while let Some(out) = puts.next().await {
        out.expect("a benchmark PUT succeeds");
    }
    start.elapsed()
}

fn calls(t: &Target) -> u64 {
    let stack = t.cloak.app.keys.providers().get(t.provider);
    stack
        .expect("the provider is configured")
        .metrics()
        .inner_calls()
}

fn report(targets: &[Target], tallies: &[Tally], median_ratio: f64) {
    println!("(calls in all: since start, warm-up included; the keyring's calls are local)");
    println!(
        "Key service cost: {BODY}-byte PUTs, {CONCURRENCY} at a time, {ROUNDS} rounds of {} \
         after {WARMUP} warm-up PUTs",
        tallies[0].puts / ROUNDS
    );
    println!("| provider | PUTs | PUT/s | provider calls per 1,000 PUTs | calls in all |");
    println!("|---|---:|---:|---:|---:|");
    let mut rates = Vec::new();
    for (t, tally) in targets.iter().zip(tallies) {
        let rate = tally.puts as f64 / tally.elapsed.as_secs_f64();
        let per_1000 = tally.calls as f64 * 1000.0 / tally.puts as f64;
        println!(
            "| {} | {} | {rate:.0} | {per_1000:.2} | {} |",
            t.label,
            tally.puts,
            calls(t)
        );
        rates.push((rate, per_1000));
    }
    let ratio = rates[1].0 / rates[0].0;
    let calls_ok = rates[1].1 <= 10.0;
    let rate_ok = median_ratio >= 0.8;
    println!(
        "Vault PUT rate / keyring PUT rate: {:.1} % overall, {:.1} % median of rounds",
        ratio * 100.0,
        median_ratio * 100.0
    );
    println!(
        "keyring with KEKs / keyring: {:.1} % (informational)",
        rates[2].0 / rates[0].0 * 100.0
    );
    println!(
        "bars: <= 10 calls per 1,000 PUTs: {}; Vault rate >= 80 % of keyring (median): {}",
        verdict(calls_ok),
        verdict(rate_ok)
    );
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}
