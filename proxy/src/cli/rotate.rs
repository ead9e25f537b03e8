//! `cloak keys rotate`: moves every object under a bucket and prefix to its master key's
//! current version, without touching object bodies.
//!
//! Each object's data key is re-wrapped by the provider that wrapped it (the one its header
//! names, whatever the rules say now), and only the envelope header changes: the store copies
//! the object onto itself (`CopyObject`, metadata directive REPLACE) with the new header and
//! every other metadata field and content header as they were. The copy is conditional on
//! the ETag seen at HEAD, so an object overwritten meanwhile is left alone and counted as
//! failed, never clobbered. A KEK-sealed object's KEK is re-wrapped once per KEK, however many
//! objects share it.
//!
//! Objects already at the current version are skipped; AWS KMS does not tell versions apart
//! (its rotation is invisible to callers), so there every object is re-encrypted each run.
//!
//! Resuming: with `--checkpoint FILE`, the last key of each completed listing page is written
//! to FILE, a run that finds FILE starts after that key, and FILE is removed when a run
//! finishes without failures. `--start-after KEY` starts after KEY explicitly.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use cloak_envelope::Header;
use cloak_proxy::keys::KeyService;
use cloak_proxy::ops::headers::ENVELOPE_META;
use cloak_proxy::route::object_path;
use cloak_proxy::upstream::Upstream;
use futures_util::stream::{self, StreamExt};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use http_body_util::BodyExt;

use super::progress::Progress;
use super::scan::{self, Probe};
use super::Tools;

/// The largest object CopyObject can copy in one request.
const MAX_COPY: u64 = 5 << 30;

/// Content headers a copy with REPLACE would otherwise drop.
const KEPT_HEADERS: &[&str] = &[
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "content-type",
    "expires",
    "x-amz-storage-class",
    "x-amz-website-redirect-location",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
];

/// What to rotate, and how.
pub struct RotateArgs {
    pub bucket: String,
    pub prefix: String,
    pub checkpoint: Option<PathBuf>,
    pub start_after: Option<String>,
    pub concurrency: usize,
}

/// What a run did, object by object.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub scanned: u64,
    pub rewrapped: u64,
    pub already_current: u64,
    pub skipped_foreign: u64,
    /// Listed, then gone before they could be looked at.
    pub vanished: u64,
    pub failed: u64,
}

enum Outcome {
    Rewrapped,
    Current,
    Foreign,
    Vanished,
}

/// The run's shared state: current versions are asked once per master key.
struct Run<'a> {
    upstream: &'a Upstream,
    keys: &'a KeyService,
    bucket: &'a str,
    current: Mutex<HashMap<(String, String), Option<u32>>>,
}

pub async fn run(tools: &Tools, args: &RotateArgs) -> Result<Counts> {
    let mut after = resume_point(args)?;
    let run = Run {
        upstream: &tools.upstream,
        keys: &tools.keys,
        bucket: &args.bucket,
        current: Mutex::new(HashMap::new()),
    };
    let progress = Progress::new("rotating");
    let mut counts = Counts::default();
    let mut token: Option<String> = None;
    loop {
        let page = scan::page(
            run.upstream,
            &args.bucket,
            &args.prefix,
            after.as_deref(),
            token.as_deref(),
        );
        let page = page.await?;
        let outcomes = stream::iter(page.keys.iter())
            .map(|key| run.one(key))
            .buffered(args.concurrency.max(1))
            .zip(stream::iter(page.keys.iter()));
        let outcomes: Vec<_> = outcomes.collect().await;
        for (outcome, key) in outcomes {
            counts.record(key, outcome, &progress);
        }
        if let (Some(path), Some(last)) = (&args.checkpoint, page.keys.last()) {
            write_checkpoint(path, last)?;
        }
        after = page.keys.last().cloned().or(after);
        match page.next {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    progress.finish(&counts.summary());
    if let (Some(path), 0) = (&args.checkpoint, counts.failed) {
        let _ = std::fs::remove_file(path);
    }
    Ok(counts)
}

impl Run<'_> {
    async fn one(&self, key: &str) -> Result<Outcome> {
        let (header, head) = match scan::probe(self.upstream, self.bucket, key).await? {
            Probe::Sealed(h, head) => (h, head),
            Probe::Foreign => return Ok(Outcome::Foreign),
            Probe::Missing => return Ok(Outcome::Vanished),
        };
        if self.current_version(&header).await? == Some(header.key.key_version) {
            return Ok(Outcome::Current);
        }
        let size = header_u64(&head, "content-length").unwrap_or(0);
        if size > MAX_COPY {
            bail!("larger than 5 GiB: CopyObject cannot rewrite its header");
        }
        let place = (self.bucket, key);
        let moved = self.keys.rewrap_header(&header, place, place).await?;
        self.copy_onto_itself(key, &head, &moved).await?;
        Ok(Outcome::Rewrapped)
    }

    /// The current version of the header's master key, asked once per run.
    async fn current_version(&self, header: &Header) -> Result<Option<u32>> {
        let slot = (header.key.provider.clone(), header.key.key_id.clone());
        if let Some(v) = self.current.lock().expect("never poisoned").get(&slot) {
            return Ok(*v);
        }
        let Some((stack, _)) = self.keys.providers().reader(&header.key.provider) else {
            bail!(
                "written with key provider {:?}, which the configuration does not define",
                header.key.provider
            );
        };
        let version = stack.current_version(&header.key.key_id).await?;
        self.current
            .lock()
            .expect("never poisoned")
            .insert(slot, version);
        Ok(version)
    }

    /// Rewrites `key`'s metadata in place: the new envelope header, all else as it was.
    async fn copy_onto_itself(&self, key: &str, head: &HeaderMap, moved: &Header) -> Result<()> {
        let path = object_path(self.bucket, key);
        let mut req = scan::request(Method::PUT, path.clone());
        req.headers = kept_headers(head);
        let set = |h: &mut HeaderMap, name: &'static str, value: &str| -> Result<()> {
            h.insert(name, HeaderValue::from_str(value)?);
            Ok(())
        };
        set(&mut req.headers, ENVELOPE_META, &moved.encode())?;
        set(&mut req.headers, "x-amz-copy-source", &path)?;
        set(&mut req.headers, "x-amz-metadata-directive", "REPLACE")?;
        if let Some(etag) = head.get("etag") {
            req.headers
                .insert("x-amz-copy-source-if-match", etag.clone());
        }
        let resp = self.upstream.call(req).await?;
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        if status == StatusCode::PRECONDITION_FAILED {
            bail!("changed while it was being rotated; run again to rotate its new version");
        }
        // A copy can fail after its 200 status was sent: the error is then in the body.
        if !status.is_success() || body.windows(7).any(|w| w == b"<Error>") {
            bail!(
                "the store refused the copy ({status}): {}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok(())
    }
}

impl Counts {
    fn record(&mut self, key: &str, outcome: Result<Outcome>, progress: &Progress) {
        self.scanned += 1;
        match outcome {
            Ok(Outcome::Rewrapped) => self.rewrapped += 1,
            Ok(Outcome::Current) => self.already_current += 1,
            Ok(Outcome::Foreign) => self.skipped_foreign += 1,
            Ok(Outcome::Vanished) => self.vanished += 1,
            Err(e) => {
                self.failed += 1;
                progress.println(&format!("failed: {key}: {e:#}"));
            }
        }
        progress.update(self.scanned, &self.summary());
    }

    pub fn summary(&self) -> String {
        format!(
            "scanned {}, rewrapped {}, already current {}, skipped foreign {}, vanished {}, \
             failed {}",
            self.scanned,
            self.rewrapped,
            self.already_current,
            self.skipped_foreign,
            self.vanished,
            self.failed
        )
    }
}

/// Copies the user metadata (all but the envelope header) and content headers of a HEAD.
fn kept_headers(head: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (name, value) in head {
        let n = name.as_str();
        let user_meta = n.starts_with("x-amz-meta-") && n != ENVELOPE_META;
        if user_meta || KEPT_HEADERS.contains(&n) {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

fn header_u64(head: &HeaderMap, name: &str) -> Option<u64> {
    head.get(name)?.to_str().ok()?.parse().ok()
}

/// Where to start: `--start-after`, else the checkpoint file's key, else the beginning.
fn resume_point(args: &RotateArgs) -> Result<Option<String>> {
    if let Some(key) = &args.start_after {
        return Ok(Some(key.clone()));
    }
    let Some(path) = &args.checkpoint else {
        return Ok(None);
    };
    match std::fs::read_to_string(path) {
        Ok(key) if !key.is_empty() => {
            eprintln!("resuming after {key:?} (from {})", path.display());
            Ok(Some(key))
        }
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("checkpoint {}", path.display())),
    }
}

/// Replaces the checkpoint atomically, so an interrupted run never leaves half a key.
fn write_checkpoint(path: &Path, key: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, key).with_context(|| format!("checkpoint {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("checkpoint {}", path.display()))
}
