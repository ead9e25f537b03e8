//! The local keyring: a file of named, versioned 256-bit master keys.
//!
//! The file is TOML, created with mode 0600 and rewritten atomically (write a sibling, then
//! rename). Rotation adds a version and makes it current; older versions stay and still unwrap.
//! Shredding removes versions, after which everything wrapped under them is unreadable.
//!
//! A keyring opened by a running proxy notices when another process (`cloak keys`) replaced
//! the file: at most once per [`RECHECK`] it compares the file's identity (inode, size and
//! modification time) with the one it read, and re-reads it if they differ. A shred by the
//! CLI therefore reaches a running proxy within that interval, plus its caches' TTL.
//!
//! A wrapped key is `nonce (12) || AES-256-GCM(master, data key) || tag (16)`. The authenticated
//! data binds the key name, the version and the encryption context, so a wrapped key moved to
//! another object or relabelled with another version fails to open.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::admin::{MasterKeyAdmin, ShredOutcome};
use crate::secret::KEY_LEN;
use crate::{
    DataKey, EncryptionContext, GeneratedKey, KeyError, KeyProvider, MasterKey, WrappedKey,
};

const WRAP_LABEL: &[u8] = b"cloak-keyring-v1\0";
const TAG_LEN: usize = 16;
const WRAPPED_LEN: usize = NONCE_LEN + KEY_LEN + TAG_LEN;

/// How often a lookup may check whether the file was replaced.
const RECHECK: Duration = Duration::from_secs(1);

/// A local keyring backed by a file.
pub struct Keyring {
    path: PathBuf,
    keys: RwLock<BTreeMap<String, KeyVersions>>,
    /// The identity of the file last read, and when it was last compared.
    seen: Mutex<(Option<FileStamp>, Instant)>,
}

/// What tells one version of the file from the next: an atomic rewrite changes the inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileStamp {
    inode: u64,
    len: u64,
    modified: Option<SystemTime>,
}

/// The versions of one named master key. The highest version is current.
#[derive(Clone, Default)]
struct KeyVersions(BTreeMap<u32, MasterKey>);

#[derive(Serialize, Deserialize, Default)]
struct KeyringFile {
    #[serde(default)]
    keys: BTreeMap<String, KeyFileEntry>,
}

#[derive(Serialize, Deserialize, Default)]
struct KeyFileEntry {
    /// Version number (as a string, TOML keys are strings) to base64 key bytes.
    versions: BTreeMap<String, String>,
}

impl Keyring {
    /// Opens an existing keyring file. Refuses files readable by group or others.
    pub fn open(path: &Path) -> Result<Self, KeyError> {
        let meta = fs::metadata(path)
            .map_err(|e| KeyError::NotFound(format!("keyring {}: {e}", path.display())))?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(KeyError::Denied(format!(
                "keyring {} must not be readable by group or others (chmod 600)",
                path.display()
            )));
        }
        let stamp = FileStamp::of(path);
        let keys = read_file(path)?;
        Ok(Self {
            path: path.to_owned(),
            keys: RwLock::new(keys),
            seen: Mutex::new((stamp, Instant::now())),
        })
    }

    /// Opens the keyring, creating it with one fresh key named `initial_key` if it is absent.
    pub fn open_or_create(path: &Path, initial_key: &str) -> Result<Self, KeyError> {
        if path.exists() {
            return Self::open(path);
        }
        let ring = Self {
            path: path.to_owned(),
            keys: RwLock::new(BTreeMap::new()),
            seen: Mutex::new((None, Instant::now())),
        };
        ring.add_key(initial_key)?;
        Ok(ring)
    }

    /// Names of the master keys and their current versions.
    pub fn list(&self) -> Vec<(String, u32)> {
        let keys = self.keys.read().expect("keyring lock is never poisoned");
        keys.iter()
            .filter_map(|(n, v)| Some((n.clone(), v.current()?.0)))
            .collect()
    }

    /// Adds a new master key with version 1. Fails if the name exists.
    pub fn add_key(&self, name: &str) -> Result<(), KeyError> {
        self.mutate(|keys| {
            if keys.contains_key(name) {
                return Err(KeyError::Denied(format!(
                    "master key {name} already exists"
                )));
            }
            let mut versions = KeyVersions::default();
            versions.0.insert(1, MasterKey::generate());
            keys.insert(name.to_owned(), versions);
            Ok(())
        })
    }

    /// Adds a version to `name` and makes it current. Returns the new version.
    pub fn rotate(&self, name: &str) -> Result<u32, KeyError> {
        self.mutate(|keys| {
            let versions = keys
                .get_mut(name)
                .ok_or_else(|| KeyError::NotFound(format!("master key {name}")))?;
            let next = versions.current().map_or(1, |(v, _)| v + 1);
            versions.0.insert(next, MasterKey::generate());
            Ok(next)
        })
    }

    /// Destroys every version of `name`. Everything wrapped under it becomes unreadable.
    /// Returns the versions destroyed.
    pub fn shred(&self, name: &str) -> Result<Vec<u32>, KeyError> {
        self.mutate(|keys| {
            let removed = keys
                .remove(name)
                .ok_or_else(|| KeyError::NotFound(format!("master key {name}")))?;
            Ok(removed.0.keys().copied().collect())
        })
    }

    /// Re-reads the file, picking up rotations made by another process (the CLI or a replica).
    pub fn reload(&self) -> Result<(), KeyError> {
        let stamp = FileStamp::of(&self.path);
        let fresh = read_file(&self.path)?;
        *self.keys.write().expect("keyring lock is never poisoned") = fresh;
        *self.seen.lock().expect("keyring lock is never poisoned") = (stamp, Instant::now());
        Ok(())
    }

    /// The current version of `name`.
    pub fn current(&self, name: &str) -> Result<u32, KeyError> {
        self.recheck()?;
        Ok(self.master(name, None)?.0)
    }

    /// Re-reads the file if another process replaced it since it was last read; compares at
    /// most once per [`RECHECK`]. A file that vanished leaves the keys held as they are, so a
    /// moment without the file (an operator restoring a backup) does not stop the proxy.
    fn recheck(&self) -> Result<(), KeyError> {
        let stamp = {
            let mut seen = self.seen.lock().expect("keyring lock is never poisoned");
            if seen.1.elapsed() < RECHECK {
                return Ok(());
            }
            seen.1 = Instant::now();
            let now = FileStamp::of(&self.path);
            if now.is_none() || now == seen.0 {
                return Ok(());
            }
            now
        };
        tracing::info!(path = %self.path.display(), "keyring file changed; re-reading it");
        let fresh = read_file(&self.path)?;
        *self.keys.write().expect("keyring lock is never poisoned") = fresh;
        self.seen.lock().expect("keyring lock is never poisoned").0 = stamp;
        Ok(())
    }

    fn mutate<T>(
        &self,
        change: impl FnOnce(&mut BTreeMap<String, KeyVersions>) -> Result<T, KeyError>,
    ) -> Result<T, KeyError> {
        let mut keys = self.keys.write().expect("keyring lock is never poisoned");
        // Start from the file so a concurrent rotation by another process is not lost.
        if self.path.exists() {
            *keys = read_file(&self.path)?;
        }
        let out = change(&mut keys)?;
        write_file(&self.path, &keys)?;
        *self.seen.lock().expect("keyring lock is never poisoned") =
            (FileStamp::of(&self.path), Instant::now());
        Ok(out)
    }

    fn master(&self, key_id: &str, version: Option<u32>) -> Result<(u32, MasterKey), KeyError> {
        let keys = self.keys.read().expect("keyring lock is never poisoned");
        let versions = keys
            .get(key_id)
            .ok_or_else(|| KeyError::NotFound(format!("master key {key_id}")))?;
        let found = match version {
            Some(v) => versions.0.get(&v).map(|k| (v, k.clone())),
            None => versions.current().map(|(v, k)| (v, k.clone())),
        };
        found.ok_or_else(|| KeyError::NotFound(format!("master key {key_id} version {version:?}")))
    }

    /// Finds a master key version, re-reading the file once if it is not known yet.
    fn master_fresh(
        &self,
        key_id: &str,
        version: Option<u32>,
    ) -> Result<(u32, MasterKey), KeyError> {
        self.recheck()?;
        match self.master(key_id, version) {
            Err(KeyError::NotFound(_)) => {
                self.reload()?;
                self.master(key_id, version)
            }
            other => other,
        }
    }
}

impl FileStamp {
    fn of(path: &Path) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;
        let meta = fs::metadata(path).ok()?;
        Some(Self {
            inode: meta.ino(),
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

impl KeyVersions {
    fn current(&self) -> Option<(u32, &MasterKey)> {
        self.0.iter().next_back().map(|(v, k)| (*v, k))
    }
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl KeyProvider for Keyring {
    fn name(&self) -> &str {
        "keyring"
    }

    async fn generate_data_key(
        &self,
        key_id: &str,
        context: &EncryptionContext,
    ) -> Result<GeneratedKey, KeyError> {
        let (version, master) = self.master_fresh(key_id, None)?;
        let plaintext = DataKey::generate();
        let ciphertext = seal(&master, key_id, version, context, plaintext.expose())?;
        let wrapped = WrappedKey {
            key_id: key_id.to_owned(),
            version,
            ciphertext,
        };
        Ok(GeneratedKey { plaintext, wrapped })
    }

    async fn unwrap_key(
        &self,
        wrapped: &WrappedKey,
        context: &EncryptionContext,
    ) -> Result<DataKey, KeyError> {
        let (_, master) = self.master_fresh(&wrapped.key_id, Some(wrapped.version))?;
        open(&master, wrapped, context)
    }

    async fn rewrap_key(
        &self,
        wrapped: &WrappedKey,
        context: &EncryptionContext,
        new_context: &EncryptionContext,
    ) -> Result<WrappedKey, KeyError> {
        let key = self.unwrap_key(wrapped, context).await?;
        let (version, master) = self.master_fresh(&wrapped.key_id, None)?;
        let ciphertext = seal(&master, &wrapped.key_id, version, new_context, key.expose())?;
        Ok(WrappedKey {
            key_id: wrapped.key_id.clone(),
            version,
            ciphertext,
        })
    }

    async fn current_version(&self, key_id: &str) -> Result<Option<u32>, KeyError> {
        self.current(key_id).map(Some)
    }
}

#[async_trait]
impl MasterKeyAdmin for Keyring {
    async fn rotate_master(&self, key_id: &str) -> Result<Option<u32>, KeyError> {
        self.rotate(key_id).map(Some)
    }

    async fn shred_master(&self, key_id: &str) -> Result<ShredOutcome, KeyError> {
        let versions = self.shred(key_id)?;
        let note = format!(
            "master key {key_id} removed from {}; copies of the file made earlier (backups) \
             still hold it",
            self.path.display()
        );
        Ok(ShredOutcome {
            versions: Some(versions),
            immediate: true,
            note,
        })
    }
}

fn wrap_aad(key_id: &str, version: u32, context: &EncryptionContext) -> Vec<u8> {
    let mut aad = WRAP_LABEL.to_vec();
    aad.extend_from_slice(&(key_id.len() as u32).to_be_bytes());
    aad.extend_from_slice(key_id.as_bytes());
    aad.extend_from_slice(&version.to_be_bytes());
    aad.extend_from_slice(&context.canonical_bytes());
    aad
}

fn aead_key(master: &MasterKey) -> LessSafeKey {
    let unbound = UnboundKey::new(&AES_256_GCM, master.expose())
        .expect("a 32-byte key is valid for AES-256-GCM");
    LessSafeKey::new(unbound)
}

fn seal(
    master: &MasterKey,
    key_id: &str,
    version: u32,
    context: &EncryptionContext,
    data_key: &[u8; KEY_LEN],
) -> Result<Vec<u8>, KeyError> {
    // A random 96-bit nonce per wrap: a master key wraps far fewer than 2^32 keys between
    // rotations, which keeps the collision probability negligible.
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| KeyError::Unavailable("random source failed".into()))?;
    let mut buf = Zeroizing::new(data_key.to_vec());
    let aad = wrap_aad(key_id, version, context);
    let tag = aead_key(master)
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut buf,
        )
        .map_err(|_| KeyError::Unavailable("seal failed".into()))?;
    let mut out = Vec::with_capacity(WRAPPED_LEN);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&buf);
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

fn open(
    master: &MasterKey,
    wrapped: &WrappedKey,
    context: &EncryptionContext,
) -> Result<DataKey, KeyError> {
    if wrapped.ciphertext.len() != WRAPPED_LEN {
        return Err(KeyError::Corrupt(format!(
            "keyring wrapped key is {} bytes, expected {WRAPPED_LEN}",
            wrapped.ciphertext.len()
        )));
    }
    let (nonce, sealed) = wrapped.ciphertext.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce)
        .map_err(|_| KeyError::Corrupt("bad nonce".into()))?;
    let mut buf = Zeroizing::new(sealed.to_vec());
    let aad = wrap_aad(&wrapped.key_id, wrapped.version, context);
    let plain = aead_key(master)
        .open_in_place(nonce, Aad::from(aad), &mut buf)
        .map_err(|_| {
            KeyError::Corrupt("wrapped key fails authentication (altered, or wrong context)".into())
        })?;
    DataKey::from_slice(plain).ok_or_else(|| KeyError::Corrupt("bad key length".into()))
}

fn read_file(path: &Path) -> Result<BTreeMap<String, KeyVersions>, KeyError> {
    let text = Zeroizing::new(
        fs::read_to_string(path)
            .map_err(|e| KeyError::Unavailable(format!("keyring {}: {e}", path.display())))?,
    );
    let file: KeyringFile = toml::from_str(&text)
        .map_err(|e| KeyError::Corrupt(format!("keyring {}: {}", path.display(), e.message())))?;
    let mut out = BTreeMap::new();
    for (name, entry) in file.keys {
        let mut versions = KeyVersions::default();
        for (v, b64) in entry.versions {
            let version: u32 = v.parse().map_err(|_| {
                KeyError::Corrupt(format!("key {name}: version {v:?} is not a number"))
            })?;
            let bytes =
                Zeroizing::new(B64.decode(b64.trim()).map_err(|_| {
                    KeyError::Corrupt(format!("key {name} v{version}: bad base64"))
                })?);
            let arr: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| {
                KeyError::Corrupt(format!("key {name} v{version}: must be 32 bytes"))
            })?;
            versions.0.insert(version, MasterKey::from_bytes(arr));
        }
        out.insert(name, versions);
    }
    Ok(out)
}

fn write_file(path: &Path, keys: &BTreeMap<String, KeyVersions>) -> Result<(), KeyError> {
    let mut file = KeyringFile::default();
    for (name, versions) in keys {
        let entry = file.keys.entry(name.clone()).or_default();
        for (v, key) in &versions.0 {
            entry
                .versions
                .insert(v.to_string(), B64.encode(key.expose()));
        }
    }
    let body = Zeroizing::new(
        toml::to_string(&file).map_err(|e| KeyError::Corrupt(format!("keyring encode: {e}")))?,
    );
    let tmp = path.with_extension("tmp");
    let io_err =
        |e: std::io::Error| KeyError::Unavailable(format!("keyring {}: {e}", path.display()));
    let mut out = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io_err)?;
    out.write_all(b"# Cloak local keyring: master keys. Secret: keep at mode 0600.\n")
        .and_then(|_| out.write_all(body.as_bytes()))
        .and_then(|_| out.sync_all())
        .map_err(io_err)?;
    fs::rename(&tmp, path).map_err(io_err)
}

#[cfg(test)]
mod tests;
