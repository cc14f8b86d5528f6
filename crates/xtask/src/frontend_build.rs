//! Building the Leptos frontend with Trunk, offline, into `frontend/dist`, its pages split into
//! lazily loaded groups.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::cmd::{command, run};
use crate::tools;

/// `cargo fetch --locked`, the split step, then `trunk build --release --offline` with the
/// top-level Trunk.toml; checks that the page chunks reached `frontend/dist`.
pub(crate) fn build() -> Result<(), String> {
    check_trunk_pin()?;
    run(command("cargo", &["fetch", "--locked"]))?;
    let shims = split_step_shims()?;
    let mut trunk = command("trunk", &["build", "--release", "--offline"]);
    // Its update check calls an unreachable API; the answer would only be noise.
    trunk.env("TRUNK_SKIP_VERSION_CHECK", "true");
    trunk.env("PATH", prepend_path(&shims));
    run(trunk)?;
    check_split_output()
}

/// Builds `wasm-bindgen-split` and links it, as `wasm-bindgen` and under its own name, into a
/// folder that goes first on Trunk's `PATH` (see `src/bin/wasm_bindgen_split.rs`).
fn split_step_shims() -> Result<PathBuf, String> {
    run(command(
        "cargo",
        &[
            "build",
            "--locked",
            "-p",
            "xtask",
            "--features",
            "split",
            "--bin",
            "wasm-bindgen-split",
        ],
    ))?;
    let root = crate::cmd::root();
    let binary = root.join("target/debug/wasm-bindgen-split");
    let shims = root.join("target/tools/split-shim");
    std::fs::create_dir_all(&shims)
        .map_err(|e| format!("cannot create {}: {e}", shims.display()))?;
    for name in ["wasm-bindgen", "wasm-bindgen-split"] {
        let link = shims.join(name);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&binary, &link)
            .map_err(|e| format!("cannot link {}: {e}", link.display()))?;
    }
    Ok(shims)
}

fn prepend_path(dir: &Path) -> OsString {
    let mut dirs = vec![dir.to_path_buf()];
    dirs.extend(std::env::split_paths(&tools::path_with_local_tools()));
    std::env::join_paths(dirs).unwrap_or_default()
}

/// The loader must sit in `dist/wasm-split/` and import the main JS by the name Trunk gave it.
fn check_split_output() -> Result<(), String> {
    let dist = crate::cmd::root().join("frontend/dist");
    let loader = dist.join("wasm-split/__wasm_split.js");
    let text = std::fs::read_to_string(&loader)
        .map_err(|e| format!("the split step left no {}: {e}", loader.display()))?;
    if !dist.join("frontend.js").is_file() || !text.contains("\"../frontend.js\"") {
        return Err(format!(
            "{} does not import dist/frontend.js (is Trunk's filehash off?)",
            loader.display()
        ));
    }
    Ok(())
}

/// Trunk.toml's wasm-bindgen pin must equal Cargo.lock's, or Trunk would try to download one.
fn check_trunk_pin() -> Result<(), String> {
    let locked = tools::locked_wasm_bindgen_version()?;
    let trunk_toml = std::fs::read_to_string(crate::cmd::root().join("Trunk.toml"))
        .map_err(|e| format!("cannot read Trunk.toml: {e}"))?;
    let pinned = trunk_toml
        .lines()
        .find_map(|l| l.trim().strip_prefix("wasm_bindgen"))
        .map(|rest| {
            rest.trim_start_matches([' ', '='])
                .trim()
                .trim_matches('"')
                .to_owned()
        });
    match pinned {
        Some(p) if p == locked => Ok(()),
        Some(p) => Err(format!(
            "Trunk.toml pins wasm-bindgen {p} but Cargo.lock has {locked}; make them equal"
        )),
        None => Err("Trunk.toml has no [tools] wasm_bindgen pin".to_owned()),
    }
}
