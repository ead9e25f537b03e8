//! A real OpenBao dev server per test, set up through the `bao` CLI as an operator would.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::process::{find_binary, free_port_pair, Process};

/// A running dev-mode OpenBao. Dev mode keeps everything in memory: stopping it forgets every
/// key, so each test gets a fresh one.
pub struct Bao {
    pub addr: String,
    pub root_token: String,
    /// The CA that signed the server's certificate, when it serves TLS.
    pub ca: Option<PathBuf>,
    cli: Cli,
    process: Process,
}

/// How to run the `bao` CLI against one server, as root.
struct Cli {
    bin: PathBuf,
    env: Vec<(String, String)>,
}

impl Bao {
    /// Starts a server, over TLS with a generated CA if `tls`.
    pub fn start(tls: bool) -> Self {
        let bin = find_binary("CLOAK_BAO_BIN", "bao");
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port_pair();
        let root_token = random_hex();
        let mut command = Command::new(&bin);
        command
            .args(["server", "-dev", "-dev-no-store-token"])
            .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
            // Through the environment, so the token is not in the process list.
            .env("BAO_DEV_ROOT_TOKEN_ID", &root_token)
            .env("HOME", dir.path());
        let mut ca = None;
        if tls {
            command
                .arg("-dev-tls")
                .arg(format!("-dev-tls-cert-dir={}", dir.path().display()));
            ca = Some(dir.path().join("vault-ca.pem"));
        }
        let scheme = if tls { "https" } else { "http" };
        let addr = format!("{scheme}://127.0.0.1:{port}");
        let mut env = vec![
            ("HOME".to_owned(), dir.path().display().to_string()),
            ("BAO_ADDR".to_owned(), addr.clone()),
            ("BAO_TOKEN".to_owned(), root_token.clone()),
        ];
        if let Some(ca) = &ca {
            env.push(("BAO_CACERT".to_owned(), ca.display().to_string()));
        }
        let cli = Cli { bin, env };
        let mut process = Process::start(command, dir);
        process.wait_until(Duration::from_secs(30), || cli.status_ok());
        Self {
            addr,
            root_token,
            ca,
            cli,
            process,
        }
    }

    /// Starts a plain-HTTP server with transit enabled and two keys: `aead` (aes256-gcm96,
    /// context as associated data) and `derived` (derived=true).
    pub fn with_transit() -> Self {
        let bao = Self::start(false);
        bao.cli(&["secrets", "enable", "transit"]);
        bao.cli(&["write", "-f", "transit/keys/aead"]);
        bao.cli(&["write", "transit/keys/derived", "derived=true"]);
        bao
    }

    /// Runs `bao ARGS` as root; returns its trimmed output, panicking if it fails.
    pub fn cli(&self, args: &[&str]) -> String {
        self.cli_in(None, args)
    }

    /// [`Bao::cli`] inside a namespace.
    pub fn cli_in(&self, namespace: Option<&str>, args: &[&str]) -> String {
        let mut command = self.cli.command(namespace);
        let out = command.args(args).output().expect("run bao");
        assert!(
            out.status.success(),
            "bao {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("utf-8 output")
            .trim()
            .to_owned()
    }

    /// Writes a policy allowing the data-key calls Cloak makes on `keys`.
    pub fn data_key_policy(&self, name: &str, keys: &[&str]) {
        let mut hcl = String::new();
        for key in keys {
            for action in ["datakey/plaintext", "decrypt", "encrypt", "rewrap"] {
                hcl +=
                    &format!("path \"transit/{action}/{key}\" {{ capabilities = [\"update\"] }}\n");
            }
            hcl += &format!("path \"transit/keys/{key}\" {{ capabilities = [\"read\"] }}\n");
        }
        let file = self.process.dir.path().join(format!("{name}.hcl"));
        std::fs::write(&file, hcl).expect("write policy");
        self.cli(&["policy", "write", name, file.to_str().expect("utf-8 path")]);
    }

    /// Enables AppRole with role `role` under `policy`; returns (role id, secret id).
    pub fn approle(&self, role: &str, policy: &str, ttl: &str, max_ttl: &str) -> (String, String) {
        if !self.cli(&["auth", "list"]).contains("approle/") {
            self.cli(&["auth", "enable", "approle"]);
        }
        let path = format!("auth/approle/role/{role}");
        self.cli(&[
            "write",
            &path,
            &format!("token_policies={policy}"),
            &format!("token_ttl={ttl}"),
            &format!("token_max_ttl={max_ttl}"),
        ]);
        let role_id = self.cli(&["read", "-field=role_id", &format!("{path}/role-id")]);
        let secret_id = self.cli(&[
            "write",
            "-f",
            "-field=secret_id",
            &format!("{path}/secret-id"),
        ]);
        (role_id, secret_id)
    }

    /// Kills the server, as an outage would.
    pub fn stop(&mut self) {
        self.process.stop();
    }
}

impl Cli {
    fn command(&self, namespace: Option<&str>) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some(ns) = namespace {
            command.env("BAO_NAMESPACE", ns);
        }
        command
    }

    /// Whether `bao status` reports an unsealed, active server.
    fn status_ok(&self) -> bool {
        let out = self.command(None).arg("status").output();
        matches!(out, Ok(out) if out.status.success())
    }
}

fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::SecureRandom::fill(&aws_lc_rs::rand::SystemRandom::new(), &mut bytes)
        .expect("random bytes");
    hex::encode(bytes)
}
