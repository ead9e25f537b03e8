//! The four ways the load test reaches the same upstream store, and starting them.
//!
//! - `upstream`: the store itself, `rclone serve s3` over a directory on disk.
//! - `floor`: a minimal streaming forwarder built into this crate.
//! - `nginx`: nginx as a plain, non-buffering reverse proxy.
//! - `cloak`: Cloak, started from its binary with a generated config.
//!
//! Every proxy passes the Host header through unchanged: the client signs for the upstream's
//! credentials (direct, floor, nginx) or Cloak's client credentials (Cloak), and the signed
//! Host is what the receiver checks.

pub mod cloak;
pub mod floor;
pub mod nginx;
pub mod upstream;

use std::fmt;

use crate::child::Server;
use crate::procfs::Tree;
use crate::s3::Endpoint;

/// A way to reach the upstream.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Direct,
    Floor,
    Nginx,
    Cloak,
}

/// A running target: where the client sends requests and which processes to measure.
pub struct Target {
    pub kind: Kind,
    pub endpoint: Endpoint,
    /// The proxy's processes; none for direct access.
    pub process: Option<Tree>,
    server: Option<Server>,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Direct, Kind::Floor, Kind::Nginx, Kind::Cloak];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Direct => "direct",
            Kind::Floor => "floor",
            Kind::Nginx => "nginx",
            Kind::Cloak => "cloak",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Target {
    /// The upstream reached without a proxy.
    pub fn direct(endpoint: Endpoint) -> Self {
        Self {
            kind: Kind::Direct,
            endpoint,
            process: None,
            server: None,
        }
    }

    /// A proxy running as `server`, measured as `process`.
    pub fn proxy(kind: Kind, endpoint: Endpoint, server: Server, process: Tree) -> Self {
        Self {
            kind,
            endpoint,
            process: Some(process),
            server: Some(server),
        }
    }

    /// Fails, with its log's tail, if the proxy process has exited.
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        match &mut self.server {
            Some(server) => server.check_running(),
            None => Ok(()),
        }
    }
}
