//! Bringing a run's targets up and checking each answers S3 before it is measured.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

use crate::child;
use crate::content;
use crate::procfs::Tree;
use crate::report::Machine;
use crate::s3::{Client, Endpoint};
use crate::scenario::BUCKET;
use crate::targets::upstream::Upstream;
use crate::targets::{cloak, floor, nginx, Kind, Target};

/// What starting the targets needs.
pub struct Env<'a> {
    pub upstream: &'a Upstream,
    pub dir: &'a Path,
    pub logs: &'a Path,
    pub nginx: &'a Path,
    pub cloak: &'a Path,
    pub cloak_unavailable: Option<&'a str>,
    pub floor_runtime: floor::Runtime,
    pub nginx_workers: u32,
}

/// Starts `kind` and checks that a signed request through it works.
pub async fn start(kind: Kind, env: &Env<'_>) -> anyhow::Result<Target> {
    let mut target = match kind {
        Kind::Direct => Target::direct(env.upstream.endpoint.clone()),
        Kind::Floor => start_floor(env)?,
        Kind::Nginx => {
            let (server, port) = nginx::start(
                env.nginx,
                env.upstream.addr,
                env.nginx_workers,
                env.dir,
                env.logs,
            )?;
            let tree = Tree::with_children(server.pid());
            Target::proxy(kind, proxied(&env.upstream.endpoint, port), server, tree)
        }
        Kind::Cloak => {
            if let Some(reason) = env.cloak_unavailable {
                bail!("{reason}");
            }
            let (server, endpoint) = cloak::start(env.cloak, env.upstream, env.dir, env.logs)?;
            let tree = Tree::single(server.pid());
            Target::proxy(kind, endpoint, server, tree)
        }
    };
    answers(&mut target).await?;
    Ok(target)
}

/// The bucket every scenario uses, created on the upstream; rclone may need a moment after
/// it starts listening.
pub async fn create_bucket(upstream: &Endpoint) -> anyhow::Result<()> {
    let client = Client::new(upstream);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match client.create_bucket(BUCKET).await {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() >= deadline => return Err(e.context("creating the bucket")),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Whether Cloak stores ciphertext: writes an object through it, reads it back through it,
/// and compares what the upstream holds with the plaintext.
pub async fn cloak_encrypts(cloak: &Target, upstream: &Endpoint) -> anyhow::Result<bool> {
    const SIZE: u64 = 64 * 1024;
    let key = "cloak/encryption-check";
    let seed = crate::scenario::seed(key);
    let through = Client::new(&cloak.endpoint);
    through.put_object(BUCKET, key, seed, SIZE).await?;
    through
        .get_object(BUCKET, key, seed, SIZE, None, None)
        .await?;

    let stored = Client::new(upstream)
        .get_prefix_raw(BUCKET, key, 4096)
        .await?;
    let mut plain = vec![0u8; stored.len()];
    content::fill(seed, 0, &mut plain);
    Ok(stored[..] != plain[..])
}

/// Versions of what the run measured, for the report.
pub fn machine(rclone: &Path, nginx: &Path) -> Machine {
    let first_line = |program: &Path, args: &[&str]| -> String {
        let output = Command::new(program).args(args).output();
        output.ok().map_or_else(
            || "unknown".to_owned(),
            |o| {
                let text = if o.stdout.is_empty() {
                    o.stderr
                } else {
                    o.stdout
                };
                String::from_utf8_lossy(&text)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_owned()
            },
        )
    };
    Machine {
        cpus: std::thread::available_parallelism().map_or(1, usize::from),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".to_owned(), |s| s.trim().to_owned()),
        nginx: first_line(nginx, &["-v"]).replace("nginx version: ", ""),
        rclone: first_line(rclone, &["version"]),
    }
}

/// `cloak` next to this program, where `cargo build --release` puts both.
pub fn default_cloak_path() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("cloak")))
        .unwrap_or_else(|| PathBuf::from("cloak"))
}

fn start_floor(env: &Env<'_>) -> anyhow::Result<Target> {
    let exe = std::env::current_exe().context("finding this program to run the floor")?;
    let runtime = match env.floor_runtime {
        floor::Runtime::CurrentThread => "current-thread",
        floor::Runtime::MultiThread => "multi-thread",
    };
    let upstream = env.upstream.addr.to_string();
    let (server, port) =
        child::spawn_listening("floor", env.logs, Duration::from_secs(10), |port| {
            let listen = SocketAddr::from(([127, 0, 0, 1], port)).to_string();
            let mut command = Command::new(&exe);
            command.args([
                "floor",
                "--listen",
                &listen,
                "--upstream",
                &upstream,
                "--runtime",
                runtime,
            ]);
            Ok(command)
        })?;
    let tree = Tree::single(server.pid());
    Ok(Target::proxy(
        Kind::Floor,
        proxied(&env.upstream.endpoint, port),
        server,
        tree,
    ))
}

/// The upstream's credentials, reached through a proxy on `port`.
fn proxied(upstream: &Endpoint, port: u16) -> Endpoint {
    Endpoint {
        base: format!("http://127.0.0.1:{port}"),
        ..upstream.clone()
    }
}

/// Retries a one-key listing through the target for a few seconds: a proxy may listen
/// before it is ready to serve.
async fn answers(target: &mut Target) -> anyhow::Result<()> {
    let client = Client::new(&target.endpoint);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        target.check_running()?;
        match client.list_page(BUCKET, "", 1, None).await {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                bail!(
                    "a signed ListObjectsV2 through {} failed: {e:#}",
                    target.kind
                )
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}
