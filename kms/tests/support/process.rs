//! Real servers for integration tests: finding their binaries, free loopback ports, and
//! processes that are killed when the test lets go of them, whether it passes or panics.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process, killed on drop. Its output goes to `log` in its scratch directory.
pub struct Process {
    child: Child,
    pub dir: tempfile::TempDir,
}

/// Finds a tool the suite needs: `$<env>`, else `.venv/bin/<name>` in the repository (where
/// `scripts/python-env.sh` installs it), else `<name>` on `PATH`. A missing tool fails the
/// test: these tests stand in for the real service and must not pass silently without it.
pub fn find_binary(env: &str, name: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(env) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{env}={} does not name a file",
            path.display()
        );
        return path;
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../.venv/bin")
        .join(name);
    if venv.is_file() {
        return venv;
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    on_path.unwrap_or_else(|| {
        panic!("{name} not found: set {env}, or run scripts/python-env.sh to install it into .venv")
    })
}

/// A loopback port that was free a moment ago, with the next one free too (OpenBao's dev
/// server also listens on the port after its API port).
pub fn free_port_pair() -> u16 {
    loop {
        let first = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
        let port = first.local_addr().expect("local address").port();
        if port < u16::MAX && TcpListener::bind((Ipv4Addr::LOCALHOST, port + 1)).is_ok() {
            return port;
        }
    }
}

impl Process {
    /// Starts `command` with its output in a log file inside `dir`.
    pub fn start(mut command: Command, dir: tempfile::TempDir) -> Self {
        let log = std::fs::File::create(dir.path().join("log")).expect("create server log");
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {command:?}: {e}"));
        Self { child, dir }
    }

    /// Waits up to `limit` for `ready`; panics with the server's log if it never is.
    pub fn wait_until(&mut self, limit: Duration, mut ready: impl FnMut() -> bool) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "server exited with {status} before it was ready:\n{}",
                    self.log()
                );
            }
            if ready() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("server not ready within {limit:?}:\n{}", self.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Kills the server now and waits for it to be gone.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}
