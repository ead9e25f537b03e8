//! The upstream store: `rclone serve s3` over a fresh directory on disk.

use std::io::Read as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Context as _;

use crate::child::{self, Server};
use crate::s3::{Credentials, Endpoint};

/// The running store and the credentials it accepts.
pub struct Upstream {
    pub endpoint: Endpoint,
    pub addr: SocketAddr,
    pub server: Server,
}

/// Starts `rclone serve s3` on a free loopback port, serving buckets as subdirectories of
/// `dir/data`, with fresh credentials and any `extra` flags.
pub fn start(rclone: &Path, extra: &[String], dir: &Path, logs: &Path) -> anyhow::Result<Upstream> {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
    let config = dir.join("rclone.conf");
    std::fs::write(&config, "").context("writing an empty rclone.conf")?;
    let credentials = Credentials {
        access_key: format!("LOADTEST{}", random_hex(6).to_uppercase()),
        secret_key: random_hex(20),
    };

    // rclone reads a list flag's variable as CSV, so the "key,secret" pair is quoted; the
    // secret never appears on a command line.
    let auth = format!("\"{},{}\"", credentials.access_key, credentials.secret_key);
    let (server, port) = child::spawn_listening("rclone", logs, Duration::from_secs(30), |port| {
        let mut command = Command::new(rclone);
        command
            .args(["serve", "s3", "--addr", &format!("127.0.0.1:{port}")])
            .arg("--config")
            .arg(&config)
            .args(extra)
            .arg(&data)
            .env("RCLONE_AUTH_KEY", &auth)
            .env("HOME", dir);
        Ok(command)
    })?;

    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let endpoint = Endpoint {
        base: format!("http://{addr}"),
        credentials,
        region: "us-east-1".to_owned(),
    };
    Ok(Upstream {
        endpoint,
        addr,
        server,
    })
}

/// `bytes` random bytes from the kernel, as hex: throw-away credentials.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf));
    if read.is_err() {
        // Only ever loopback test credentials; the clock is random enough for those.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        for (i, b) in buf.iter_mut().enumerate() {
            *b = crate::content::splitmix64(nanos ^ i as u64) as u8;
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}
