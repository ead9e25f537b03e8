//! `cloak keys`: the local keyring file (`init`, `list`), master-key rotation at any provider
//! (`rotate-master`), moving objects to the current version (`rotate`), and crypto-shredding
//! (`shred`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;

use super::rotate::{self, RotateArgs};
use super::shred::{self, ShredArgs};
use super::Tools;

#[derive(Subcommand)]
pub enum KeysAction {
    /// Create a keyring file (mode 0600) with one master key.
    Init {
        #[arg(long)]
        keyring: PathBuf,
        #[arg(long, default_value = "default")]
        key: String,
    },
    /// List master keys and their current versions in a keyring file.
    List {
        #[arg(long)]
        keyring: PathBuf,
    },
    /// Add a version to a master key and make it current (keyring: a new version; Vault:
    /// transit rotate; AWS KMS: on-demand rotation). Existing objects keep opening.
    RotateMaster {
        #[arg(long)]
        config: PathBuf,
        /// A provider name from the configuration.
        #[arg(long)]
        provider: String,
        #[arg(long)]
        key: String,
    },
    /// Re-wrap every object's data key under its master key's current version, rewriting
    /// only the envelope header (object bodies are not re-encrypted).
    Rotate {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        bucket: String,
        #[arg(long, default_value = "")]
        prefix: String,
        /// Progress file: resume after the key it holds; removed after a clean run.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// Start after this key (overrides the checkpoint).
        #[arg(long)]
        start_after: Option<String>,
        /// Objects handled at once.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// Destroy master keys: every object sealed under them becomes unreadable for good.
    Shred {
        #[arg(long)]
        config: PathBuf,
        #[arg(long, requires = "key")]
        provider: Option<String>,
        #[arg(long, requires = "provider")]
        key: Option<String>,
        /// Shred the keys the objects under this bucket (and --prefix) are sealed with, or,
        /// with --provider and --key, count the objects that key affects there.
        #[arg(long, required_unless_present = "provider")]
        bucket: Option<String>,
        #[arg(long, default_value = "", requires = "bucket")]
        prefix: String,
        /// Write the JSON report here instead of to standard output.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Required: confirms that the keys are to be destroyed.
        #[arg(long)]
        yes_destroy_keys: bool,
    },
}

/// Runs one action; the result is the process's exit status.
pub async fn run(action: KeysAction) -> Result<std::process::ExitCode> {
    use std::process::ExitCode;
    match action {
        KeysAction::Init { keyring, key } => {
            anyhow::ensure!(!keyring.exists(), "{} already exists", keyring.display());
            cloak_kms::Keyring::open_or_create(&keyring, &key)?;
            println!("created {} with master key {key}", keyring.display());
        }
        KeysAction::List { keyring } => {
            for (name, version) in cloak_kms::Keyring::open(&keyring)?.list() {
                println!("{name}\tv{version}");
            }
        }
        KeysAction::RotateMaster {
            config,
            provider,
            key,
        } => rotate_master(&Tools::load(&config).await?, &provider, &key).await?,
        KeysAction::Rotate {
            config,
            bucket,
            prefix,
            checkpoint,
            start_after,
            concurrency,
        } => {
            let args = RotateArgs {
                bucket,
                prefix,
                checkpoint,
                start_after,
                concurrency,
            };
            let counts = rotate::run(&Tools::load(&config).await?, &args).await?;
            if counts.failed > 0 {
                return Ok(ExitCode::FAILURE);
            }
        }
        KeysAction::Shred {
            config,
            provider,
            key,
            bucket,
            prefix,
            report,
            yes_destroy_keys,
        } => {
            let args = ShredArgs {
                provider,
                key,
                bucket,
                prefix,
                report,
                confirmed: yes_destroy_keys,
            };
            if !shred::run(&Tools::load(&config).await?, &args).await? {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn rotate_master(tools: &Tools, provider: &str, key: &str) -> Result<()> {
    let stack = tools
        .keys
        .providers()
        .get(provider)
        .with_context(|| format!("no key provider named {provider:?} in the configuration"))?;
    match stack.admin.rotate_master(key).await? {
        Some(version) => println!("{provider}/{key}: now at version {version}"),
        None => println!("{provider}/{key}: rotated (the service does not number versions)"),
    }
    println!(
        "new objects use it within keys.cache_ttl_secs ({} s); `cloak keys rotate` moves \
         existing ones",
        tools.cache_ttl_secs
    );
    Ok(())
}
