//! A real moto server per test, standing in for AWS KMS.

use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use super::process::{find_binary, free_port_pair, Process};

/// A running `moto_server`. It keeps its state in memory, so each test gets a fresh one.
pub struct Moto {
    pub url: String,
    process: Process,
}

impl Moto {
    pub fn start() -> Self {
        let bin = find_binary("CLOAK_MOTO_BIN", "moto_server");
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port_pair();
        let mut command = Command::new(bin);
        command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("HOME", dir.path());
        let mut process = Process::start(command, dir);
        process.wait_until(Duration::from_secs(30), || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Self {
            url: format!("http://127.0.0.1:{port}"),
            process,
        }
    }

    /// Kills the server, as an outage would.
    pub fn stop(&mut self) {
        self.process.stop();
    }
}
