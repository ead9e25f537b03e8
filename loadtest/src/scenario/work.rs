//! What each scenario does, and the objects it needs in place first.
//!
//! Objects live in one bucket, under a prefix per target (`cloak/large/0`, ...), so every
//! target reads back what it wrote itself: through Cloak that is ciphertext upstream, which
//! only Cloak can read. The listing prefix is shared and written once per run. Sizes, ranges
//! and choices come from seeded generators, so every target sees the same sequence.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde::Serialize;

use super::pool;
use super::{Scenario, Work};
use crate::content::{splitmix64, XorShift};
use crate::s3::Client;
use crate::targets::{Kind, Target};

/// The bucket every scenario uses.
pub const BUCKET: &str = "loadtest";

/// Operations done before a latency scenario so connections and key caches are warm.
const WARMUP_OPS: u64 = 5;

/// Sizes, counts and concurrency of every scenario.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub repetitions: u32,
    pub large_size: u64,
    pub large_streams: u32,
    pub small_min: u64,
    pub small_max: u64,
    pub small_count: u64,
    pub small_concurrency: u32,
    pub latency_count: u64,
    pub range_min: u64,
    pub range_max: u64,
    pub range_count: u64,
    pub range_concurrency: u32,
    pub multipart_size: u64,
    pub part_size: u64,
    pub multipart_concurrency: u32,
    pub list_objects: u64,
    pub list_page: u32,
    pub list_repeats: u32,
    pub memory_streams: u32,
    /// Each memory-check stream stops reading after this long, complete or not.
    pub memory_seconds: f64,
    #[serde(skip)]
    pub scenario_timeout: Duration,
}

/// Which objects each target has written so far, and the listing prefix.
#[derive(Default)]
pub struct Data {
    written: HashSet<(Kind, Group)>,
    listing_by: Option<Kind>,
}

/// A family of objects a read scenario needs written first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Group {
    Large,
    Small,
    Latency,
}

impl Data {
    /// Writes, unmeasured, what `scenario` reads and `target` has not written yet; warms up
    /// the latency scenarios.
    pub async fn prepare(
        &mut self,
        scenario: Scenario,
        target: &Target,
        plan: &Plan,
    ) -> anyhow::Result<()> {
        let client = Client::new(&target.endpoint);
        let t = target.kind;
        match scenario {
            Scenario::LargeGet | Scenario::RangedGet | Scenario::MemoryGet
                if !self.written.contains(&(t, Group::Large)) =>
            {
                large_put(&client, t, plan).await?;
                self.written.insert((t, Group::Large));
            }
            Scenario::SmallGet if !self.written.contains(&(t, Group::Small)) => {
                small(&client, t, plan, Group::Small, Op::Put).await?;
                self.written.insert((t, Group::Small));
            }
            Scenario::LatencyGet if !self.written.contains(&(t, Group::Latency)) => {
                small(&client, t, plan, Group::Latency, Op::Put).await?;
                self.written.insert((t, Group::Latency));
            }
            Scenario::List if self.listing_by.is_none() => {
                bail!("the listing prefix was not written")
            }
            _ => {}
        }
        if matches!(scenario, Scenario::LatencyPut | Scenario::LatencyGet) {
            let op = if scenario == Scenario::LatencyPut {
                Op::Put
            } else {
                Op::Get
            };
            warm_up(&client, t, plan, op).await?;
        }
        Ok(())
    }

    /// Writes the listing prefix through `target`, many objects at once.
    pub async fn write_listing(&mut self, target: &Target, plan: &Plan) -> anyhow::Result<()> {
        let client = Client::new(&target.endpoint);
        pool::run(plan.list_objects, 32, move |i| {
            let client = client.clone();
            async move {
                let key = list_key(i);
                client.put_object(BUCKET, &key, seed(&key), 256).await?;
                Ok(256)
            }
        })
        .await?;
        self.listing_by = Some(target.kind);
        Ok(())
    }

    /// Which target wrote the listing prefix.
    pub fn listing_by(&self) -> Option<Kind> {
        self.listing_by
    }

    /// Runs `scenario`'s measured work against `target`.
    pub async fn run(
        &mut self,
        scenario: Scenario,
        target: &Target,
        plan: &Plan,
        rep: u32,
    ) -> anyhow::Result<Work> {
        let client = Client::new(&target.endpoint);
        let t = target.kind;
        let work = match scenario {
            Scenario::LargePut => large_put(&client, t, plan).await?,
            Scenario::LargeGet => large_get(&client, t, plan).await?,
            Scenario::SmallPut => small(&client, t, plan, Group::Small, Op::Put).await?,
            Scenario::SmallGet => small(&client, t, plan, Group::Small, Op::Get).await?,
            Scenario::LatencyPut => small(&client, t, plan, Group::Latency, Op::Put).await?,
            Scenario::LatencyGet => small(&client, t, plan, Group::Latency, Op::Get).await?,
            Scenario::RangedGet => ranged_get(&client, t, plan, rep).await?,
            Scenario::MultipartPut => multipart_put(&client, t, plan).await?,
            Scenario::List => list(&client, plan).await?,
            Scenario::MemoryGet => memory_get(&client, t, plan).await?,
        };
        match scenario {
            Scenario::LargePut => self.written.insert((t, Group::Large)),
            Scenario::SmallPut => self.written.insert((t, Group::Small)),
            Scenario::LatencyPut => self.written.insert((t, Group::Latency)),
            _ => false,
        };
        Ok(work)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Put,
    Get,
}

async fn large_put(client: &Client, t: Kind, plan: &Plan) -> anyhow::Result<Work> {
    settle_prefix(client, &format!("{t}/large")).await?;
    let (client, size) = (client.clone(), plan.large_size);
    let done = pool::run(plan.large_streams.into(), plan.large_streams, move |i| {
        let client = client.clone();
        async move {
            let key = large_key(t, i);
            client.put_object(BUCKET, &key, seed(&key), size).await?;
            Ok(size)
        }
    })
    .await?;
    Ok(work(done, plan.large_streams.into()))
}

async fn large_get(client: &Client, t: Kind, plan: &Plan) -> anyhow::Result<Work> {
    let (client, size) = (client.clone(), plan.large_size);
    let done = pool::run(plan.large_streams.into(), plan.large_streams, move |i| {
        let client = client.clone();
        async move {
            let key = large_key(t, i);
            let read = client
                .get_object(BUCKET, &key, seed(&key), size, None, None)
                .await?;
            Ok(read.bytes)
        }
    })
    .await?;
    Ok(work(done, plan.large_streams.into()))
}

/// Small PUTs or GETs of the objects in `group`, concurrently (`Group::Small`) or one at
/// a time (`Group::Latency`).
async fn small(
    client: &Client,
    t: Kind,
    plan: &Plan,
    group: Group,
    op: Op,
) -> anyhow::Result<Work> {
    let (count, workers) = match group {
        Group::Latency => (plan.latency_count, 1),
        _ => (plan.small_count, plan.small_concurrency),
    };
    let prefix = if group == Group::Latency {
        "latency"
    } else {
        "small"
    };
    if op == Op::Put {
        settle_prefix(client, &format!("{t}/{prefix}")).await?;
    }
    let (client, lo, hi) = (client.clone(), plan.small_min, plan.small_max);
    let done = pool::run(count, workers, move |i| {
        let client = client.clone();
        async move {
            let key = format!("{t}/{prefix}/{i}");
            let size = small_size(i, lo, hi);
            match op {
                Op::Put => client.put_object(BUCKET, &key, seed(&key), size).await?,
                Op::Get => {
                    client
                        .get_object(BUCKET, &key, seed(&key), size, None, None)
                        .await?;
                }
            }
            Ok(size)
        }
    })
    .await?;
    Ok(work(done, count))
}

/// Writes one tiny object under `prefix`, untimed, before concurrent writes there. `rclone
/// serve s3` keeps objects as files, and two uploads that both create a key's new directory
/// race in its rename: one fails with 500 ("Dir.Rename error: file does not exist").
async fn settle_prefix(client: &Client, prefix: &str) -> anyhow::Result<()> {
    let key = format!("{prefix}/.settled");
    client.put_object(BUCKET, &key, seed(&key), 1).await
}

/// A few untimed operations like the latency scenario's, to warm connections and caches.
async fn warm_up(client: &Client, t: Kind, plan: &Plan, op: Op) -> anyhow::Result<()> {
    for i in 0..WARMUP_OPS.min(plan.latency_count) {
        let key = format!("{t}/latency/{i}");
        let size = small_size(i, plan.small_min, plan.small_max);
        match op {
            Op::Put => client.put_object(BUCKET, &key, seed(&key), size).await?,
            Op::Get => {
                client
                    .get_object(BUCKET, &key, seed(&key), size, None, None)
                    .await?;
            }
        }
    }
    Ok(())
}

async fn ranged_get(client: &Client, t: Kind, plan: &Plan, rep: u32) -> anyhow::Result<Work> {
    let plan = plan.clone();
    let client = client.clone();
    let count = plan.range_count;
    let workers = plan.range_concurrency;
    let done = pool::run(count, workers, move |i| {
        let (client, plan) = (client.clone(), plan.clone());
        async move {
            let (object, start, len) = pick_range(&plan, rep, i);
            let key = large_key(t, object);
            let range = Some((start, len));
            client
                .get_object(BUCKET, &key, seed(&key), plan.large_size, range, None)
                .await?;
            Ok(len)
        }
    })
    .await?;
    Ok(work(done, count))
}

async fn multipart_put(client: &Client, t: Kind, plan: &Plan) -> anyhow::Result<Work> {
    let key = format!("{t}/multipart/0");
    let object = seed(&key);
    let (size, part) = (plan.multipart_size, plan.part_size.max(1));
    let parts = size.div_ceil(part);
    let upload_id: Arc<str> = client.create_multipart(BUCKET, &key).await?.into();
    let etags = Arc::new(Mutex::new(vec![String::new(); parts as usize]));

    let uploads = {
        let (client, key, upload_id, etags) = (
            client.clone(),
            key.clone(),
            upload_id.clone(),
            etags.clone(),
        );
        pool::run(parts, plan.multipart_concurrency, move |i| {
            let (client, key, upload_id, etags) = (
                client.clone(),
                key.clone(),
                upload_id.clone(),
                etags.clone(),
            );
            async move {
                let start = i * part;
                let len = part.min(size - start);
                let number = u32::try_from(i + 1).context("too many parts")?;
                let etag = client
                    .upload_part(BUCKET, &key, &upload_id, number, object, (start, len))
                    .await?;
                etags.lock().expect("no holder panics")[i as usize] = etag;
                Ok(len)
            }
        })
        .await?
    };
    let etags = etags.lock().expect("no holder panics").clone();
    client
        .complete_multipart(BUCKET, &key, &upload_id, &etags)
        .await?;

    // The parts must have been joined in order: read across a part boundary and the end.
    for (start, len) in [
        (part.saturating_sub(4096), 8192.min(size)),
        (size - 4096.min(size), 4096.min(size)),
    ] {
        let len = len.min(size - start);
        client
            .get_object(BUCKET, &key, object, size, Some((start, len)), None)
            .await
            .context("reading the completed upload back")?;
    }
    Ok(work(uploads, parts))
}

async fn list(client: &Client, plan: &Plan) -> anyhow::Result<Work> {
    let mut work = Work::default();
    let max_pages = plan.list_objects / u64::from(plan.list_page.max(1)) + 2;
    for _ in 0..plan.list_repeats {
        let mut keys = Vec::with_capacity(plan.list_objects as usize);
        let mut token: Option<String> = None;
        for page in 0.. {
            if page > max_pages {
                bail!("listing did not end within {max_pages} pages");
            }
            let start = Instant::now();
            let listed = client
                .list_page(BUCKET, "list/", plan.list_page, token.as_deref())
                .await?;
            work.latencies.push(start.elapsed());
            work.ops += 1;
            work.bytes += listed.bytes;
            keys.extend(listed.page.keys);
            token = listed.page.next_token.filter(|_| listed.page.truncated);
            if token.is_none() {
                break;
            }
        }
        check_listing(&keys, plan.list_objects)?;
    }
    work.note = Some(format!(
        "{} full listings of {} keys",
        plan.list_repeats, plan.list_objects
    ));
    Ok(work)
}

async fn memory_get(client: &Client, t: Kind, plan: &Plan) -> anyhow::Result<Work> {
    let deadline = Instant::now() + Duration::from_secs_f64(plan.memory_seconds);
    let complete = Arc::new(AtomicU64::new(0));
    let streams = plan.memory_streams;
    let (client, size, objects, done_count) = (
        client.clone(),
        plan.large_size,
        plan.large_streams,
        complete.clone(),
    );
    let done = pool::run(streams.into(), streams, move |i| {
        let (client, done_count) = (client.clone(), done_count.clone());
        async move {
            let key = large_key(t, i % u64::from(objects));
            let read = client
                .get_object(BUCKET, &key, seed(&key), size, None, Some(deadline))
                .await?;
            if read.complete {
                done_count.fetch_add(1, Ordering::Relaxed);
            }
            Ok(read.bytes)
        }
    })
    .await?;
    let complete = complete.load(Ordering::Relaxed);
    let mut work = work(done, streams.into());
    work.note = Some(format!(
        "{streams} concurrent streams of {} MiB: {complete} read in full, the rest stopped at {} s",
        size >> 20,
        plan.memory_seconds
    ));
    Ok(work)
}

fn work(done: pool::Done, ops: u64) -> Work {
    Work {
        bytes: done.bytes,
        ops,
        latencies: done.latencies,
        note: None,
    }
}

/// Fails unless `keys` are exactly the listing prefix's, in order.
fn check_listing(keys: &[String], objects: u64) -> anyhow::Result<()> {
    if keys.len() as u64 != objects {
        bail!("listed {} keys, expected {objects}", keys.len());
    }
    for (i, key) in keys.iter().enumerate() {
        let want = list_key(i as u64);
        if *key != want {
            bail!("listed key {i} is {key:?}, expected {want:?}");
        }
    }
    Ok(())
}

/// The object, start and length of ranged read `i` in repetition `rep`.
pub fn pick_range(plan: &Plan, rep: u32, i: u64) -> (u64, u64, u64) {
    let mut rng = XorShift::new((u64::from(rep) << 40) ^ i);
    let object = rng.below(plan.large_streams.max(1).into());
    let len = rng
        .log_uniform(plan.range_min, plan.range_max.min(plan.large_size))
        .max(1);
    let start = rng.below(plan.large_size - len + 1);
    (object, start, len)
}

/// The size of small object `i`: log-uniform in `[lo, hi]`, the same for every target.
pub fn small_size(i: u64, lo: u64, hi: u64) -> u64 {
    XorShift::new(0x5A11 ^ i).log_uniform(lo, hi)
}

fn large_key(t: Kind, i: u64) -> String {
    format!("{t}/large/{i}")
}

/// Zero-padded, so the store's lexical order is the numeric order.
fn list_key(i: u64) -> String {
    format!("list/{i:06}")
}

/// The content seed of the object at `key` (FNV-1a, then mixed).
pub fn seed(key: &str) -> u64 {
    let hash = key.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
    });
    splitmix64(hash)
}

#[cfg(test)]
mod tests;
