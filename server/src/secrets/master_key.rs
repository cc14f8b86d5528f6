//! The master key: from `PARKBRIDGE_MASTER_KEY`, else a key file created on first start (0600),
//! and proved against the database's `instance.key_check` before anything is served.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::Utc;
use zeroize::Zeroize;

use super::SecretBox;
use crate::storage::{Db, to_ms};

/// The environment variable that carries the key as 64 hex digits.
pub(crate) const ENV: &str = "PARKBRIDGE_MASTER_KEY";

/// What `instance.key_check` seals; opening it proves the key is the database's.
const CHECK_PLAINTEXT: &[u8] = b"ParkBridge master key check v1";
const CHECK_CONTEXT: &str = "instance.key_check";

/// The 32-byte key every stored secret is sealed with; wiped on drop, never printed.
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Why the master key could not be had or does not fit the database.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The variable or file does not hold 64 hex digits (the value itself is never echoed).
    #[error(
        "{origin} must hold exactly 64 hexadecimal digits (32 bytes); generate one with `openssl rand -hex 32`"
    )]
    Malformed {
        /// Where the bad key came from.
        origin: String,
    },
    /// The key file could not be read or created.
    #[error("master key file {path}: {source}")]
    File {
        /// The key file.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// Others than the owner may read or write the key file.
    #[error(
        "master key file {path} is accessible to group or others (mode {mode:o}); run `chmod 600 {path}`"
    )]
    Permissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Neither the variable nor the key file exists (only `serve` creates one).
    #[error(
        "no master key: {ENV} is not set and {path} does not exist; a database's secrets open only with the key they were sealed with"
    )]
    Missing {
        /// The key file looked for.
        path: PathBuf,
    },
    /// The database was sealed with another key.
    #[error(
        "this database was sealed with a different master key; set PARKBRIDGE_MASTER_KEY (or --master-key-file) to the key it was created with"
    )]
    Mismatch,
    /// Reading or writing `instance` failed.
    #[error("cannot check the master key against the database: {0}")]
    Storage(#[from] sqlx::Error),
}

impl MasterKey {
    /// A key from raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> MasterKey {
        MasterKey(bytes)
    }

    /// The raw bytes, for the cipher only.
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn parse(text: &str, origin: &str) -> Result<MasterKey, KeyError> {
        let malformed = || KeyError::Malformed {
            origin: origin.to_owned(),
        };
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut bytes).map_err(|_| malformed())?;
        Ok(MasterKey(bytes))
    }

    fn generate() -> MasterKey {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system provides randomness");
        MasterKey(bytes)
    }
}

/// Where the master key comes from.
#[derive(Debug, Clone)]
pub struct KeySource {
    /// The key itself, from `PARKBRIDGE_MASTER_KEY`; wins over the file.
    pub env_value: Option<String>,
    /// The key file used (and created on first start) when no variable is set.
    pub file: PathBuf,
}

impl KeySource {
    /// `PARKBRIDGE_MASTER_KEY` if set and non-empty, else `file`.
    pub fn from_env(file: PathBuf) -> KeySource {
        KeySource {
            env_value: std::env::var(ENV).ok().filter(|v| !v.trim().is_empty()),
            file,
        }
    }

    /// Where the key comes from, for people (never the key): the variable or the file.
    pub fn describe(&self) -> String {
        match &self.env_value {
            Some(_) => format!("the environment variable {ENV}"),
            None => format!("the file {}", self.file.display()),
        }
    }

    /// Loads the key like [`KeySource::load`], but never creates a key file: for commands that
    /// only inspect (`doctor`, `restore`).
    pub fn load_existing(&self) -> Result<MasterKey, KeyError> {
        if self.env_value.is_none() && !self.file.exists() {
            return Err(KeyError::Missing {
                path: self.file.clone(),
            });
        }
        self.load()
    }

    /// Loads the key, creating the key file when neither it nor the variable exists.
    pub fn load(&self) -> Result<MasterKey, KeyError> {
        if let Some(value) = &self.env_value {
            return MasterKey::parse(value, ENV);
        }
        match std::fs::read_to_string(&self.file) {
            Ok(mut text) => {
                check_permissions(&self.file)?;
                let key =
                    MasterKey::parse(&text, &format!("master key file {}", self.file.display()));
                text.zeroize();
                key
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key_file(&self.file),
            Err(source) => Err(KeyError::File {
                path: self.file.clone(),
                source,
            }),
        }
    }
}

/// Refuses a key file others may read or write: it is the only protection of every secret.
#[cfg(unix)]
fn check_permissions(path: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|source| KeyError::File {
            path: path.to_owned(),
            source,
        })?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Permissions {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path) -> Result<(), KeyError> {
    Ok(())
}

fn create_key_file(path: &Path) -> Result<MasterKey, KeyError> {
    let io_err = |source| KeyError::File {
        path: path.to_owned(),
        source,
    };
    let key = MasterKey::generate();
    let mut options = std::fs::OpenOptions::new();
    // create_new: two instances starting at once must not overwrite each other's key.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io_err)?;
    let mut text = hex::encode(key.bytes());
    text.push('\n');
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all());
    text.zeroize();
    written.map_err(io_err)?;
    tracing::warn!(
        file = %path.display(),
        "created a new master key file; back it up with the database (secrets cannot be read without it)"
    );
    Ok(key)
}

/// Proves `secrets` holds the key this database was sealed with, recording it on first start.
///
/// With PostgreSQL several instances share one database: the first one to start records its
/// key check, and every later instance with another key refuses to start instead of sealing
/// secrets that its peers cannot open.
pub async fn verify_instance(db: &Db, secrets: &SecretBox) -> Result<(), KeyError> {
    let check = secrets.seal(CHECK_CONTEXT, CHECK_PLAINTEXT);
    // Whichever instance inserts or fills first wins; the others read its check below.
    sqlx::query("INSERT INTO instance (id, created_at, key_check) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING")
        .bind(to_ms(Utc::now()))
        .bind(check.clone())
        .execute(&db.pool)
        .await?;
    sqlx::query("UPDATE instance SET key_check = $1 WHERE id = 1 AND key_check IS NULL")
        .bind(check)
        .execute(&db.pool)
        .await?;
    let stored: Option<Vec<u8>> = sqlx::query_scalar("SELECT key_check FROM instance WHERE id = 1")
        .fetch_one(&db.pool)
        .await?;
    match stored.map(|s| secrets.open(CHECK_CONTEXT, &s)) {
        Some(Ok(plain)) if plain == CHECK_PLAINTEXT => Ok(()),
        _ => Err(KeyError::Mismatch),
    }
}

/// What the database's `instance.key_check` says of a key, read without writing anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCheck {
    /// The key opens it: it is this database's key.
    Opens,
    /// It was sealed with another key.
    Mismatch,
    /// No instance has recorded one yet (no server has started on this database).
    NotRecorded,
}

/// Whether `sealed` is a key check sealed with `secrets`' key.
pub fn opens_key_check(secrets: &SecretBox, sealed: &[u8]) -> bool {
    secrets
        .open(CHECK_CONTEXT, sealed)
        .is_ok_and(|plain| plain == CHECK_PLAINTEXT)
}

/// Reads `instance.key_check` and tries `secrets` on it, changing nothing (unlike
/// [`verify_instance`], which records the first check).
pub async fn check_recorded(db: &Db, secrets: &SecretBox) -> Result<KeyCheck, sqlx::Error> {
    let stored: Option<Option<Vec<u8>>> =
        sqlx::query_scalar("SELECT key_check FROM instance WHERE id = 1")
            .fetch_optional(&db.pool)
            .await?;
    Ok(match stored.flatten() {
        None => KeyCheck::NotRecorded,
        Some(sealed) if opens_key_check(secrets, &sealed) => KeyCheck::Opens,
        Some(_) => KeyCheck::Mismatch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_key_is_refused_without_echoing_it() {
        for bad in ["", "abc", &"g".repeat(64), &"a".repeat(62)] {
            let err = MasterKey::parse(bad, ENV).unwrap_err().to_string();
            assert!(err.contains("64 hexadecimal digits"), "{err}");
        }
        let err = MasterKey::parse(&"z".repeat(64), ENV)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("zzzz"), "{err}");
        assert!(MasterKey::parse(&format!("{}\n", "ab".repeat(32)), ENV).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_created_0600_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let source = KeySource {
            env_value: None,
            file: dir.path().join("master.key"),
        };
        let first = source.load().unwrap();
        let mode = std::fs::metadata(&source.file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(source.load().unwrap().bytes(), first.bytes());
        std::fs::set_permissions(&source.file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(source.load(), Err(KeyError::Permissions { .. })));
    }

    #[test]
    fn the_variable_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let source = KeySource {
            env_value: Some("01".repeat(32)),
            file: dir.path().join("master.key"),
        };
        assert_eq!(source.load().unwrap().bytes(), &[1u8; 32]);
        assert!(
            !source.file.exists(),
            "no file is created when the variable is set"
        );
    }
}
