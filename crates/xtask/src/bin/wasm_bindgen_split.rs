//! `wasm-bindgen-split`: Trunk's wasm-bindgen step, with the admin UI's page groups split out.
//!
//! Trunk runs `wasm-bindgen` on the module cargo built and copies the result into `dist`; it
//! has no place for splitting a module. So `cargo xtask` puts this program first on Trunk's
//! `PATH`, once under the name `wasm-bindgen`. Called as wasm-bindgen, it cuts the module at
//! the frontend's split points (`frontend/src/lazy_pages.rs`) with `wasm_split_cli_support`, the
//! splitter cargo-leptos uses, runs the real wasm-bindgen on the main part with the linker's
//! exports kept (the chunks link against them), and leaves the chunks, `wasm-opt`ed, with their
//! loader in `wasm-split/` beside wasm-bindgen's output. Trunk.toml's post-build hook then calls
//! it as `wasm-bindgen-split --install-chunks` to copy that folder into the build. Anything else
//! (`--version`, a call without a module) goes to the real wasm-bindgen unchanged.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The folder of the chunks and their loader, beside the main JS both in wasm-bindgen's output
/// and in `dist`.
const SPLIT_DIR: &str = "wasm-split";
/// The loader module the main wasm imports its chunk loaders from.
const LOADER: &str = "__wasm_split.js";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.first().is_some_and(|a| a == "--install-chunks") {
        install_chunks()
    } else {
        bindgen(&args)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wasm-bindgen-split: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Split, bind the main part, optimise the chunks.
fn bindgen(args: &[String]) -> Result<(), String> {
    let real = real_wasm_bindgen()?;
    let Some(call) = BindgenCall::parse(args) else {
        return run(Command::new(&real).args(args), "wasm-bindgen");
    };
    let input = std::fs::read(&call.input)
        .map_err(|e| format!("cannot read {}: {e}", call.input.display()))?;
    // The splitter writes the loader at `link_name` below its output folder but the chunks
    // in that folder itself; a work folder laid out like `dist` gathers both in `SPLIT_DIR`.
    let work_dir = call.out_dir.join("split-work");
    let split_dir = call.out_dir.join(SPLIT_DIR);
    // Chunks of an earlier build must not linger: the whole folder is installed.
    for dir in [&work_dir, &split_dir] {
        let _ = std::fs::remove_dir_all(dir);
    }
    for dir in [&work_dir.join(SPLIT_DIR), &split_dir] {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let main_wasm = work_dir.join("main.wasm");
    let link_name = format!("./{SPLIT_DIR}/{LOADER}");
    // The loader must import the very module the page loaded: the main JS one folder up, under
    // its plain name (Trunk.toml turns file hashing off).
    let main_module = format!("../{}.js", call.out_name);
    let split = wasm_split_cli_support::transform({
        let mut opts = wasm_split_cli_support::Options::new(&input);
        opts.output_dir = &work_dir;
        opts.main_out_path = &main_wasm;
        opts.link_name = &link_name;
        opts.main_module = &main_module;
        opts
    })
    .map_err(|e| format!("splitting {} failed: {e:#}", call.input.display()))?;

    let mut bind = Command::new(&real);
    bind.args(call.with_input(&main_wasm))
        .arg("--keep-lld-exports");
    run(&mut bind, "wasm-bindgen")?;

    // Trunk optimises the main module only; the chunks get the same `-Oz` here. wasm-opt warns
    // about every chunk's name section (which it drops anyway): its output is shown on failure.
    for chunk in &split.split_modules {
        let name = chunk.file_name().ok_or("a chunk without a file name")?;
        let out = Command::new("wasm-opt")
            .arg("-Oz")
            .arg(chunk)
            .arg("-o")
            .arg(split_dir.join(name))
            .output()
            .map_err(|e| format!("cannot start wasm-opt: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "wasm-opt failed on {} ({}): {}",
                chunk.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    let loader = work_dir.join(SPLIT_DIR).join(LOADER);
    std::fs::rename(&loader, split_dir.join(LOADER))
        .map_err(|e| format!("cannot move {}: {e}", loader.display()))?;
    let _ = std::fs::remove_dir_all(&work_dir);
    println!(
        "wasm-bindgen-split: {} chunk(s) in {}",
        split.split_modules.len(),
        split_dir.display()
    );
    Ok(())
}

/// Trunk's post-build hook: copy the chunks and loader into the staged `dist`.
fn install_chunks() -> Result<(), String> {
    let staging = std::env::var_os("TRUNK_STAGING_DIR")
        .map(PathBuf::from)
        .ok_or("--install-chunks runs as Trunk's post_build hook (no TRUNK_STAGING_DIR)")?;
    let profile = std::env::var("TRUNK_PROFILE").unwrap_or_else(|_| "release".to_owned());
    // This program is `<target>/debug/wasm-bindgen-split`; Trunk binds into
    // `<target>/wasm-bindgen/<profile>`.
    let me = std::env::current_exe().map_err(|e| format!("cannot locate myself: {e}"))?;
    let target = me
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot find the cargo target folder")?;
    let from = target.join("wasm-bindgen").join(&profile).join(SPLIT_DIR);
    let to = staging.join(SPLIT_DIR);
    std::fs::create_dir_all(&to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let entries =
        std::fs::read_dir(&from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    let mut copied = 0;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        std::fs::copy(entry.path(), to.join(entry.file_name()))
            .map_err(|e| format!("cannot copy {}: {e}", entry.path().display()))?;
        copied += 1;
    }
    if !to.join(LOADER).is_file() {
        return Err(format!(
            "{} has no {LOADER}: was the split step run?",
            from.display()
        ));
    }
    println!(
        "wasm-bindgen-split: {copied} file(s) installed in {}",
        to.display()
    );
    Ok(())
}

/// A wasm-bindgen invocation as Trunk makes it: options, `--out-dir`, `--out-name`, one input.
struct BindgenCall {
    args: Vec<String>,
    input: PathBuf,
    out_dir: PathBuf,
    out_name: String,
}

impl BindgenCall {
    /// `None` when this is not a module to bind (e.g. `--version`).
    fn parse(args: &[String]) -> Option<Self> {
        let input = args
            .iter()
            .find(|a| !a.starts_with('-') && a.ends_with(".wasm"))?;
        let value = |flag: &str| {
            let with_eq = format!("{flag}=");
            args.iter().enumerate().find_map(|(i, a)| {
                a.strip_prefix(&with_eq)
                    .map(str::to_owned)
                    .or_else(|| (a == flag).then(|| args.get(i + 1).cloned()).flatten())
            })
        };
        Some(Self {
            args: args.to_vec(),
            input: PathBuf::from(input),
            out_dir: PathBuf::from(value("--out-dir")?),
            out_name: value("--out-name")?,
        })
    }

    /// The same arguments with the input module replaced.
    fn with_input(&self, wasm: &Path) -> Vec<String> {
        let input = self.input.to_string_lossy();
        self.args
            .iter()
            .map(|a| {
                if *a == input {
                    wasm.to_string_lossy().into_owned()
                } else {
                    a.clone()
                }
            })
            .collect()
    }
}

/// The first `wasm-bindgen` on `PATH` that is not this program under a borrowed name.
fn real_wasm_bindgen() -> Result<PathBuf, String> {
    let me = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| format!("cannot locate myself: {e}"))?;
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("wasm-bindgen"))
        .find(|candidate| {
            candidate.is_file()
                && std::fs::canonicalize(candidate).is_ok_and(|resolved| resolved != me)
        })
        .ok_or_else(|| "no wasm-bindgen on PATH besides this shim".to_owned())
}

/// Runs `cmd` to completion, failing with `name` and its exit status.
fn run(cmd: &mut Command, name: &str) -> Result<(), String> {
    let s = cmd
        .status()
        .map_err(|e| format!("cannot start {name}: {e}"))?;
    if s.success() {
        Ok(())
    } else {
        Err(format!("{name} failed ({s})"))
    }
}
