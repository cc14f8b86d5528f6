//! Building the Leptos frontend with Trunk, offline, into `frontend/dist`.

use crate::cmd::{command, run};
use crate::tools;

/// `cargo fetch --locked` then `trunk build --release --offline` with the top-level Trunk.toml.
pub(crate) fn build() -> Result<(), String> {
    check_trunk_pin()?;
    run(command("cargo", &["fetch", "--locked"]))?;
    let mut trunk = command("trunk", &["build", "--release", "--offline"]);
    // Its update check calls an unreachable API; the answer would only be noise.
    trunk.env("TRUNK_SKIP_VERSION_CHECK", "true");
    run(trunk)
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
