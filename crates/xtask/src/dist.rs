//! `cargo xtask dist`: the release binary, admin UI inside, built once for glibc 2.17 with
//! cargo-zigbuild and zig from PyPI, then packaged into `target/dist/` as a `.deb` (cargo-deb)
//! and a `.tar.gz`, each with the systemd unit and the environment file of `server/debian/`.

use std::path::{Path, PathBuf};

use crate::cmd::{self, command, output, step};
use crate::{frontend_build, tools};

/// The target the binary is built for: the glibc version suffix is cargo-zigbuild's, and
/// 2.17 is CentOS 7's, the oldest glibc still met on car park servers.
const ZIG_TARGET: &str = "x86_64-unknown-linux-gnu.2.17";
/// Where cargo puts that build (cargo-zigbuild drops the glibc suffix).
const TARGET: &str = "x86_64-unknown-linux-gnu";
/// The newest glibc symbol version the binary may need.
const GLIBC_FLOOR: (u32, u32) = (2, 17);

/// `cargo xtask dist [--ui-built]`: tools, the UI (unless `--ui-built`: the one in
/// `frontend/dist`), then the packages.
pub(crate) fn run(extra: &[String]) -> Result<(), String> {
    let ui_built = match extra {
        [] => false,
        [flag] if flag == "--ui-built" => true,
        _ => return Err("usage: cargo xtask dist [--ui-built]".to_owned()),
    };
    let started = std::time::Instant::now();
    if !ui_built {
        step("tools", tools::ensure_frontend_tools)?;
        step("frontend (trunk build)", frontend_build::build)?;
    }
    package()?;
    println!(
        "\npackages written to target/dist/ in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The release binary and both packages, from the UI already in `frontend/dist` (`xtask test`
/// builds it in an earlier step; the release build refuses to start without it).
pub(crate) fn package() -> Result<(), String> {
    let python = step_value("packaging tools", tools::ensure_packaging_tools)?;
    step("release binary (glibc 2.17, UI inside)", || build(&python))?;
    let root = cmd::root();
    let binary = root.join("target").join(TARGET).join("release/parkbridge");
    step("glibc floor", || {
        let floor = glibc_floor(&binary)?;
        println!("{} needs glibc {}.{}", binary.display(), floor.0, floor.1);
        if floor > GLIBC_FLOOR {
            return Err(format!(
                "the binary needs glibc {}.{}, newer than {}.{}",
                floor.0, floor.1, GLIBC_FLOOR.0, GLIBC_FLOOR.1
            ));
        }
        Ok(())
    })?;
    let out = root.join("target/dist");
    // Only this build's packages: the tests read whatever is here.
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    step(".deb (cargo-deb)", || deb(&out))?;
    step(".tar.gz", || tarball(&binary, &out))?;
    for entry in std::fs::read_dir(&out).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        println!("{} ({:.1} MiB)", path.display(), size as f64 / 1048576.0);
    }
    Ok(())
}

/// Like `step`, for a step that yields a value.
fn step_value<T>(name: &str, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    let mut value = None;
    step(name, || {
        value = Some(f()?);
        Ok(())
    })?;
    value.ok_or_else(|| format!("{name} produced nothing"))
}

/// `cargo zigbuild --release` for the glibc-suffixed target, with zig from the venv's Python.
fn build(python: &Path) -> Result<(), String> {
    let mut c = command(
        "cargo",
        &[
            "zigbuild",
            "--locked",
            "--release",
            "-p",
            "parkbridge",
            "--bin",
            "parkbridge",
            "--target",
            ZIG_TARGET,
        ],
    );
    // cargo-zigbuild runs `python3 -m ziglang`: the venv's, where ziglang is installed.
    c.env("CARGO_ZIGBUILD_PYTHON_PATH", python);
    cmd::run(c)
}

/// The newest `GLIBC_x.y` symbol version among the binary's dynamic symbols (`objdump -T`).
fn glibc_floor(binary: &Path) -> Result<(u32, u32), String> {
    let mut objdump = command("objdump", &["-T"]);
    objdump.arg(binary);
    let symbols = output(objdump)
        .ok_or_else(|| format!("`objdump -T {}` failed (binutils)", binary.display()))?;
    symbols
        .split("GLIBC_")
        .skip(1)
        .filter_map(|rest| {
            let v: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
            Some((parts.next()??, parts.next().flatten().unwrap_or(0)))
        })
        .max()
        .ok_or_else(|| format!("{} names no glibc symbol version", binary.display()))
}

/// `cargo deb --no-build` over the binary just built (not stripped again, so the `.deb` and the
/// tarball carry the same bytes).
fn deb(out: &Path) -> Result<(), String> {
    let mut c = command(
        "cargo",
        &[
            "deb",
            "-p",
            "parkbridge",
            "--no-build",
            "--no-strip",
            "--target",
            TARGET,
            "--output",
        ],
    );
    c.arg(out.join(""));
    cmd::run(c)
}

/// `parkbridge-<version>-x86_64-linux-gnu.tar.gz`: the binary, the unit (naming
/// `/usr/local/bin`, where a binary from outside the package manager belongs) and the
/// environment file, in one top-level folder.
fn tarball(binary: &Path, out: &Path) -> Result<(), String> {
    let root = cmd::root();
    let name = format!("parkbridge-{}-x86_64-linux-gnu", server_version()?);
    let stage = root.join("target/dist-stage");
    let _ = std::fs::remove_dir_all(&stage);
    let dir = stage.join(&name);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let debian = root.join("server/debian");
    let unit = std::fs::read_to_string(debian.join("parkbridge.service"))
        .map_err(|e| format!("cannot read the unit: {e}"))?;
    let unit = unit.replace(
        "ExecStart=/usr/bin/parkbridge",
        "ExecStart=/usr/local/bin/parkbridge",
    );
    put(&dir.join("parkbridge"), &read(binary)?, 0o755)?;
    put(&dir.join("parkbridge.service"), unit.as_bytes(), 0o644)?;
    put(
        &dir.join("parkbridge.env"),
        &read(&debian.join("parkbridge.env"))?,
        0o640,
    )?;
    let archive: PathBuf = out.join(format!("{name}.tar.gz"));
    let mut tar = command(
        "tar",
        &["--owner=0", "--group=0", "--numeric-owner", "-czf"],
    );
    tar.arg(&archive).arg("-C").arg(&stage).arg(&name);
    cmd::run(tar)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn put(path: &Path, bytes: &[u8], mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("cannot set the mode of {}: {e}", path.display()))
}

/// The `version` of server/Cargo.toml (the package's version).
fn server_version() -> Result<String, String> {
    let manifest = std::fs::read_to_string(cmd::root().join("server/Cargo.toml"))
        .map_err(|e| format!("cannot read server/Cargo.toml: {e}"))?;
    manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("version = "))
        .map(|v| v.trim_matches('"').to_owned())
        .ok_or_else(|| "server/Cargo.toml has no version".to_owned())
}
