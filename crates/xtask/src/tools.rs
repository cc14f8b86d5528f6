//! Installing what the build needs, only when missing or of the wrong version.
//!
//! Versions are those of `../shared/TOOLCHAIN.md`; nothing is downloaded from outside the
//! package registries (crates.io, npm, Debian), and nothing is downloaded at build time.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::cmd::{self, command, output, run};

/// Trunk 0.22 needs a newer rustc than the machine's; 0.21.14 is the verified release.
const TRUNK_VERSION: &str = "0.21.14";
/// wasm-opt from npm's binaryen package; Debian's binaryen 108 breaks the wasm (blank page).
const BINARYEN_VERSION: &str = "132.0.0";
const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// `cargo xtask dist`'s packager and cross-linker, and the zig that links for glibc 2.17.
const CARGO_DEB_VERSION: &str = "3.8.0";
const CARGO_ZIGBUILD_VERSION: &str = "0.24.1";
const ZIG_VERSION: &str = "0.15.2";

/// Directory of the npm-installed wasm-opt, inside `target/` so a clean clone ignores it.
fn binaryen_bin() -> PathBuf {
    cmd::root().join("target/tools/binaryen/node_modules/.bin")
}

/// `PATH` with our local tool directories first.
pub(crate) fn path_with_local_tools() -> OsString {
    let mut dirs = vec![binaryen_bin()];
    if let Some(home) = std::env::var_os("CARGO_HOME").or_else(|| {
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo").into_os_string())
    }) {
        dirs.push(PathBuf::from(home).join("bin"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// The wasm-bindgen version pinned in `Cargo.lock`, which the CLI must match exactly.
pub(crate) fn locked_wasm_bindgen_version() -> Result<String, String> {
    let lock = std::fs::read_to_string(cmd::root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\""
            && let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = "))
        {
            return Ok(v.trim_matches('"').to_owned());
        }
    }
    Err("Cargo.lock names no wasm-bindgen package".to_owned())
}

fn version_of(program: &str) -> Option<String> {
    output(command(program, &["--version"]))
}

/// Everything needed to build the frontend: the wasm32 target, trunk, wasm-bindgen, wasm-opt.
pub(crate) fn ensure_frontend_tools() -> Result<(), String> {
    ensure_wasm_target()?;
    ensure_trunk()?;
    ensure_wasm_bindgen()?;
    ensure_wasm_opt()
}

fn ensure_wasm_target() -> Result<(), String> {
    let installed =
        output(command("rustup", &["target", "list", "--installed"])).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        println!("wasm32 target: present");
        return Ok(());
    }
    run(command("rustup", &["target", "add", WASM_TARGET]))
}

fn ensure_trunk() -> Result<(), String> {
    let want = format!("trunk {TRUNK_VERSION}");
    if version_of("trunk").is_some_and(|v| v == want) {
        println!("{want}: present");
        return Ok(());
    }
    println!("installing {want} from crates.io (about 7 minutes on 2 cores)…");
    run(command(
        "cargo",
        &["install", "--locked", "trunk", "--version", TRUNK_VERSION],
    ))
}

fn ensure_wasm_bindgen() -> Result<(), String> {
    let version = locked_wasm_bindgen_version()?;
    let want = format!("wasm-bindgen {version}");
    if version_of("wasm-bindgen").is_some_and(|v| v == want) {
        println!("{want}: present");
        return Ok(());
    }
    println!("installing wasm-bindgen-cli {version} (about 3 minutes)…");
    // Not `--locked`: the CLI's own lockfile wants a webpki-roots the registry mirror lacks.
    run(command(
        "cargo",
        &[
            "install",
            "wasm-bindgen-cli",
            "--version",
            &version,
            "--force",
        ],
    ))
}

fn ensure_wasm_opt() -> Result<(), String> {
    let wasm_opt = binaryen_bin().join("wasm-opt");
    let ok = output(command(&wasm_opt.to_string_lossy(), &["--version"]))
        .is_some_and(|v| v.contains("version 132"));
    if ok {
        println!("wasm-opt 132: present");
        return Ok(());
    }
    let prefix = cmd::root().join("target/tools/binaryen");
    std::fs::create_dir_all(&prefix)
        .map_err(|e| format!("cannot create {}: {e}", prefix.display()))?;
    let spec = format!("binaryen@{BINARYEN_VERSION}");
    let prefix = prefix.to_string_lossy().into_owned();
    run(command(
        "npm",
        &[
            "install",
            "--no-audit",
            "--no-fund",
            "--prefix",
            &prefix,
            &spec,
        ],
    ))
}

/// Debian's Chromium, ChromeDriver and a Chinese font (fonts-wqy-microhei) for the browser
/// tests, installed with apt-get as root.
pub(crate) fn ensure_chromium() -> Result<(), String> {
    // A Chinese font too: without one the UI's screenshots show boxes for every character.
    ensure_debian_packages(
        "chromium + chromedriver + a Chinese font",
        &[
            "/usr/bin/chromium",
            "/usr/bin/chromedriver",
            "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        ],
        &["chromium", "chromium-driver", "fonts-wqy-microhei"],
        "the browser tests need Debian's chromium, chromium-driver and fonts-wqy-microhei",
    )
}

/// debootstrap and systemd-nspawn (systemd-container) for tests/tests/readme_install.rs, which
/// boots a fresh Debian under systemd to run README.md's install blocks; apt-get, as root.
pub(crate) fn ensure_machine_tools() -> Result<(), String> {
    ensure_debian_packages(
        "debootstrap + systemd-nspawn",
        &["/usr/sbin/debootstrap", "/usr/bin/systemd-nspawn"],
        &["debootstrap", "systemd-container"],
        "the README install test needs root, debootstrap and systemd-nspawn",
    )
}

/// Installs Debian `packages` with apt-get (as root) unless every file of `files` is present;
/// not root, it says `why` and the command to run.
fn ensure_debian_packages(
    what: &str,
    files: &[&str],
    packages: &[&str],
    why: &str,
) -> Result<(), String> {
    if files.iter().all(|f| std::path::Path::new(f).is_file()) {
        println!("{what}: present");
        return Ok(());
    }
    let is_root = output(command("id", &["-u"])).is_some_and(|u| u == "0");
    if !is_root {
        return Err(format!(
            "{why}; install them with `sudo apt-get install -y {}` and run again as root",
            packages.join(" ")
        ));
    }
    let install = || {
        let mut c = command("apt-get", &["install", "-y", "--no-install-recommends"]);
        c.args(packages);
        c.env("DEBIAN_FRONTEND", "noninteractive");
        run(c)
    };
    if install().is_ok() {
        return Ok(());
    }
    // A fresh machine may have an empty package list.
    run(command("apt-get", &["update"]))?;
    install()
}

/// cargo-deb, cargo-zigbuild and zig (PyPI's `ziglang`, in a venv under `target/tools`);
/// returns the venv's Python, which cargo-zigbuild runs zig through.
pub(crate) fn ensure_packaging_tools() -> Result<PathBuf, String> {
    ensure_cargo_tool("cargo-deb", CARGO_DEB_VERSION, "about 3 minutes")?;
    ensure_cargo_tool("cargo-zigbuild", CARGO_ZIGBUILD_VERSION, "about 3 minutes")?;
    ensure_zig()
}

/// `cargo install --locked NAME --version VERSION` unless `NAME --version` already says it.
fn ensure_cargo_tool(name: &str, version: &str, takes: &str) -> Result<(), String> {
    let want = format!("{name} {version}");
    if version_of(name).is_some_and(|v| v == want) {
        println!("{want}: present");
        return Ok(());
    }
    println!("installing {want} from crates.io ({takes} on 2 cores)…");
    run(command(
        "cargo",
        &["install", "--locked", name, "--version", version],
    ))
}

fn ensure_zig() -> Result<PathBuf, String> {
    let venv = cmd::root().join("target/tools/zig");
    let python = venv.join("bin/python3");
    let python_s = python.to_string_lossy().into_owned();
    if output(command(&python_s, &["-m", "ziglang", "version"])).is_some_and(|v| v == ZIG_VERSION) {
        println!("zig {ZIG_VERSION} (PyPI ziglang): present");
        return Ok(python);
    }
    run(command("python3", &["-m", "venv", &venv.to_string_lossy()]))?;
    run(command(
        &python_s,
        &[
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("ziglang=={ZIG_VERSION}"),
        ],
    ))?;
    Ok(python)
}
