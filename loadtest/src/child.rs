//! Server processes the load test starts, and how none of them outlives it.
//!
//! Each server runs in its own process group with its output in log files. Dropping a
//! `Server` sends SIGTERM to the group, then SIGKILL after a grace period, so a worker the
//! server forked goes too. If the load test itself dies without dropping (SIGKILL), the kernel
//! sends the server SIGTERM (`PR_SET_PDEATHSIG`); the spawning thread must live as long as
//! the load test, which is why servers are started from the main thread.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

/// A running server process.
pub struct Server {
    name: String,
    child: Child,
    log: PathBuf,
    stopped: bool,
}

impl Server {
    /// Starts `command`, logging its output to `log_dir/NAME.log`.
    pub fn spawn(name: &str, mut command: Command, log_dir: &Path) -> anyhow::Result<Self> {
        let log = log_dir.join(format!("{name}.log"));
        let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let parent = std::process::id();
        command
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .process_group(0);
        // SAFETY: the closure runs between fork and exec and calls only async-signal-safe
        // functions (prctl, getppid, _exit), touching no memory shared with other threads.
        unsafe {
            command.pre_exec(move || {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM, 0, 0, 0);
                // The parent may have died before the prctl took effect.
                if libc::getppid() as u32 != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
        let child = command
            .spawn()
            .with_context(|| format!("starting {name} ({:?})", command.get_program()))?;
        Ok(Self {
            name: name.to_owned(),
            child,
            log,
            stopped: false,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails with the log's tail if the process has exited.
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited ({status}):\n{}", self.name, self.log_tail(20));
        }
        Ok(())
    }

    /// Waits until `addr` accepts connections, failing if the process exits or `timeout`
    /// passes first.
    pub fn wait_listening(&mut self, addr: SocketAddr, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            self.check_running()?;
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("{} did not listen on {addr} within {timeout:?}", self.name);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The last `lines` lines of the server's log.
    pub fn log_tail(&self, lines: usize) -> String {
        let Ok(mut file) = File::open(&self.log) else {
            return String::new();
        };
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = file.seek(SeekFrom::Start(len.saturating_sub(16 * 1024)));
        let mut text = String::new();
        let _ = file.read_to_string(&mut text);
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// SIGTERM to the process group, SIGKILL after `grace`, then reap.
    pub fn stop(&mut self, grace: Duration) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let group = self.child.id() as libc::pid_t;
        // SAFETY: kill has no memory-safety preconditions; the group is ours (process_group(0)).
        unsafe { libc::kill(-group, libc::SIGTERM) };
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Also reaches anything in the group that ignored SIGTERM or outlived the leader.
        // SAFETY: as above.
        unsafe { libc::kill(-group, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(5));
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("binding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Starts a server on a fresh free port, trying again if it exits early: most likely the
/// port was taken between `free_port` and the server's bind.
pub fn spawn_listening(
    name: &str,
    log_dir: &Path,
    timeout: Duration,
    command_for: impl Fn(u16) -> anyhow::Result<Command>,
) -> anyhow::Result<(Server, u16)> {
    let mut last_error = None;
    for _attempt in 0..3 {
        let port = free_port()?;
        let mut server = Server::spawn(name, command_for(port)?, log_dir)?;
        match server.wait_listening((Ipv4Addr::LOCALHOST, port).into(), timeout) {
            Ok(()) => return Ok((server, port)),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.expect("the loop ran at least once"))
}
