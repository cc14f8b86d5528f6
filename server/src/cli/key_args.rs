//! The master key's option, shared by `serve` and the commands that inspect or copy its
//! database (`doctor`, `backup`, `restore`), so each finds the key where the server does.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::secrets::KeySource;

/// Where the master key is.
#[derive(Debug, Clone, Args)]
pub(crate) struct KeyArgs {
    /// Master key file, created (mode 0600) on first start; ignored when PARKBRIDGE_MASTER_KEY
    /// (64 hex digits) is set, which several instances sharing one PostgreSQL database need
    /// [default: <data-dir>/master.key].
    #[arg(long, env = "PARKBRIDGE_MASTER_KEY_FILE")]
    pub(crate) master_key_file: Option<PathBuf>,
}

impl KeyArgs {
    /// The variable, else the file (given, or the default one in `data_dir`).
    pub(crate) fn source(&self, data_dir: &Path) -> KeySource {
        KeySource::from_env(self.file(data_dir))
    }

    fn file(&self, data_dir: &Path) -> PathBuf {
        self.master_key_file
            .clone()
            .unwrap_or_else(|| data_dir.join("master.key"))
    }

    /// Where the key comes from and how that was set, for people (never the key itself).
    pub(crate) fn origin(&self, data_dir: &Path) -> String {
        let source = self.source(data_dir);
        if source.env_value.is_some() {
            return source.describe();
        }
        let how = match &self.master_key_file {
            None => "the default, inside --data-dir",
            Some(given)
                if std::env::var_os("PARKBRIDGE_MASTER_KEY_FILE")
                    .is_some_and(|v| Path::new(&v) == given) =>
            {
                "set by PARKBRIDGE_MASTER_KEY_FILE"
            }
            Some(_) => "set by --master-key-file",
        };
        format!("{} ({how})", source.describe())
    }
}
