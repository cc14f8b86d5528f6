//! Starting the real `parkbridge` binary on a free loopback port with a fresh data directory.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// The server binary: `PARKBRIDGE_BIN` (set by `cargo xtask test`), else built here with cargo.
pub fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("PARKBRIDGE_BIN") {
        return PathBuf::from(bin);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "parkbridge",
            "--bin",
            "parkbridge",
        ])
        .current_dir(workspace_root())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building parkbridge failed");
    workspace_root().join("target/debug/parkbridge")
}

/// The built frontend: `PARKBRIDGE_STATIC_DIR`, else `frontend/dist` (built by `cargo xtask test`).
pub fn static_dir() -> PathBuf {
    std::env::var_os("PARKBRIDGE_STATIC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("frontend/dist"))
}

/// A running `parkbridge serve`, killed when dropped.
pub struct TestServer {
    child: Child,
    /// `http://127.0.0.1:<port>` without a trailing slash.
    pub base_url: String,
    /// The server's data directory (holds the SQLite file).
    pub data_dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts `parkbridge serve` on port 0 and waits for the line announcing its address.
    pub fn start() -> TestServer {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new(binary())
            .args(["serve", "--addr", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(data_dir.path())
            .arg("--static-dir")
            .arg(static_dir())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("parkbridge starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("ParkBridge listening on ") {
                    let _ = tx.send(url.trim_end_matches('/').to_owned());
                }
            }
        });
        let base_url = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!("parkbridge did not announce its address within 30 s");
            }
        };
        TestServer {
            child,
            base_url,
            data_dir,
        }
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
