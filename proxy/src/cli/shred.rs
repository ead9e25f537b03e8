//! `cloak keys shred`: crypto-shredding. Destroys master keys at their provider, after which
//! every object whose data key they wrapped (directly or through a KEK) is unreadable for good.
//!
//! The keys are named directly (`--provider NAME --key K`), or found by scanning a bucket and
//! prefix for the master keys its objects are sealed with (`--bucket B [--prefix P]`). Given
//! both, the scan only counts the objects the named key affects. A master key is shared by
//! everything written under it, wherever it is: the report counts affected objects in the
//! scanned range only, and says so.
//!
//! What "destroyed" means is the provider's: the keyring removes the key's versions from its
//! file, Transit deletes the key (after setting `deletion_allowed`), AWS KMS disables it now
//! and deletes it after the shortest waiting period it allows (7 days). Running proxies keep
//! unwrapped keys in memory for up to `keys.cache_ttl_secs`; after that, reads of affected
//! objects fail with `AccessDenied`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::progress::Progress;
use super::scan::{self, Probe};
use super::Tools;

/// How many objects are looked at at once while scanning.
const SCAN_CONCURRENCY: usize = 16;

pub struct ShredArgs {
    pub provider: Option<String>,
    pub key: Option<String>,
    pub bucket: Option<String>,
    pub prefix: String,
    pub report: Option<PathBuf>,
    pub confirmed: bool,
}

#[derive(Serialize)]
struct Report {
    shredded_at: String,
    keys: Vec<KeyReport>,
    scan: Option<ScanReport>,
    /// How long running proxies may still open affected objects from memory.
    revocation_delay_secs: u64,
}

#[derive(Serialize)]
struct KeyReport {
    provider: String,
    kind: String,
    key: String,
    destroyed: bool,
    immediate: bool,
    versions: Option<Vec<u32>>,
    note: String,
    /// Objects under the scanned bucket and prefix sealed with this key.
    objects_affected: Option<u64>,
}

#[derive(Serialize)]
struct ScanReport {
    bucket: String,
    prefix: String,
    objects_scanned: u64,
    objects_affected: u64,
    objects_foreign: u64,
    note: &'static str,
}

/// Objects found per (provider name, master key), and the totals.
#[derive(Default)]
struct Tally {
    by_key: BTreeMap<(String, String), u64>,
    scanned: u64,
    foreign: u64,
}

pub async fn run(tools: &Tools, args: &ShredArgs) -> Result<bool> {
    if !args.confirmed {
        bail!("shredding destroys keys for good; add --yes-destroy-keys to confirm");
    }
    let named = match (&args.provider, &args.key) {
        (Some(p), Some(k)) => Some((p.clone(), k.clone())),
        (None, None) => None,
        _ => bail!("--provider and --key go together"),
    };
    let tally = match &args.bucket {
        Some(bucket) => Some(scan_bucket(tools, bucket, &args.prefix).await?),
        None => None,
    };
    let targets: Vec<(String, String)> = match (&named, &tally) {
        (Some(t), _) => vec![t.clone()],
        (None, Some(t)) => t.by_key.keys().cloned().collect(),
        (None, None) => bail!("name a key (--provider, --key) or a dataset (--bucket)"),
    };
    if targets.is_empty() {
        bail!("no Cloak objects under the given bucket and prefix: nothing to shred");
    }

    let shredded_at = OffsetDateTime::now_utc().format(&Rfc3339)?;
    let mut keys = Vec::new();
    for (provider, key) in &targets {
        let affected = tally.as_ref().map(|t| {
            let slot = (provider.clone(), key.clone());
            t.by_key.get(&slot).copied().unwrap_or(0)
        });
        keys.push(shred_one(tools, provider, key, affected).await?);
    }
    let report = Report {
        shredded_at,
        scan: tally.map(|t| scan_report(args, &t, &keys)),
        keys,
        revocation_delay_secs: tools.cache_ttl_secs,
    };
    write_report(args, &report)?;
    Ok(report.keys.iter().all(|k| k.destroyed))
}

/// Destroys one key; a refusal is recorded in the report, not fatal to the others.
async fn shred_one(
    tools: &Tools,
    provider: &str,
    key: &str,
    affected: Option<u64>,
) -> Result<KeyReport> {
    let stack = tools
        .keys
        .providers()
        .get(provider)
        .with_context(|| format!("no key provider named {provider:?} in the configuration"))?;
    let outcome = stack.admin.shred_master(key).await;
    stack.forget_all();
    let mut report = KeyReport {
        provider: provider.to_owned(),
        kind: stack.kind.to_owned(),
        key: key.to_owned(),
        destroyed: false,
        immediate: false,
        versions: None,
        note: String::new(),
        objects_affected: affected,
    };
    match outcome {
        Ok(done) => {
            eprintln!("shredded {provider}/{key}: {}", done.note);
            report.destroyed = true;
            report.immediate = done.immediate;
            report.versions = done.versions;
            report.note = done.note;
        }
        Err(e) => {
            eprintln!("could not shred {provider}/{key}: {e}");
            report.note = format!("not shredded: {e}");
        }
    }
    Ok(report)
}

/// Finds the master keys the objects under `bucket`/`prefix` are sealed with.
async fn scan_bucket(tools: &Tools, bucket: &str, prefix: &str) -> Result<Tally> {
    let progress = Progress::new("scanning");
    let mut tally = Tally::default();
    let mut token: Option<String> = None;
    loop {
        let page = scan::page(&tools.upstream, bucket, prefix, None, token.as_deref()).await?;
        let probes = stream::iter(page.keys.iter())
            .map(|key| scan::probe(&tools.upstream, bucket, key))
            .buffered(SCAN_CONCURRENCY);
        let probes: Vec<_> = probes.collect().await;
        for probe in probes {
            tally.scanned += 1;
            match probe? {
                Probe::Sealed(header, _) => {
                    let label = &header.key.provider;
                    let name = label.strip_prefix("kek+").unwrap_or(label);
                    let slot = (name.to_owned(), header.key.key_id.clone());
                    *tally.by_key.entry(slot).or_default() += 1;
                }
                Probe::Foreign => tally.foreign += 1,
                Probe::Missing => {}
            }
            progress.update(tally.scanned, &format!("{} objects", tally.scanned));
        }
        match page.next {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    progress.finish(&format!(
        "scanned {} objects under {bucket}/{prefix}",
        tally.scanned
    ));
    Ok(tally)
}

fn scan_report(args: &ShredArgs, tally: &Tally, keys: &[KeyReport]) -> ScanReport {
    ScanReport {
        bucket: args.bucket.clone().unwrap_or_default(),
        prefix: args.prefix.clone(),
        objects_scanned: tally.scanned,
        objects_affected: keys.iter().filter_map(|k| k.objects_affected).sum(),
        objects_foreign: tally.foreign,
        note: "objects elsewhere sealed with the same keys are affected too, and not counted",
    }
}

fn write_report(args: &ShredArgs, report: &Report) -> Result<()> {
    let json = serde_json::to_string_pretty(report)?;
    match &args.report {
        Some(path) => std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write the report to {}", path.display())),
        None => {
            println!("{json}");
            Ok(())
        }
    }
}
