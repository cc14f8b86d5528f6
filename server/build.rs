//! A release build carries the admin UI: this copies `frontend/dist` into `OUT_DIR/ui/raw/`, with
//! a Brotli and a gzip copy of each file worth compressing under `br/` and `gzip/`, for
//! `src/http/ui_files/embedded.rs` to embed. Compressing here, once and at the best ratio, costs
//! the server no CPU per request. Debug builds read the UI from disk and skip all this.

use std::path::{Path, PathBuf};

#[path = "src/http/ui_files/compress.rs"]
mod compress;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(embed_ui)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/http/ui_files/compress.rs");
    if std::env::var("PROFILE").as_deref() != Ok("release") {
        return;
    }
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let dist = manifest
        .parent()
        .expect("server/ sits in the workspace")
        .join("frontend/dist");
    // A directory: cargo reruns this when any file under it changes (or while it is missing).
    println!("cargo::rerun-if-changed={}", dist.display());
    if !dist.join("index.html").is_file() {
        println!(
            "cargo::error=a release build of parkbridge carries the admin UI, but {} holds no \
             index.html. Build the UI first with `cargo xtask ui` (or build the packages with \
             `cargo xtask dist`, which does both).",
            dist.display()
        );
        return;
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("ui");
    // Files of an earlier UI must not stay embedded.
    let _ = std::fs::remove_dir_all(&out);
    let mut files = Vec::new();
    walk(&dist, &mut files);
    for file in files {
        let rel = file.strip_prefix(&dist).expect("walked from dist");
        let data = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        write(&out.join("raw").join(rel), &data);
        if compress::worth_compressing(&rel.to_string_lossy()) {
            if let Some(br) = compress::brotli(&data, 11) {
                write(&out.join("br").join(rel), &br);
            }
            if let Some(gz) = compress::gzip(&data, 9) {
                write(&out.join("gzip").join(rel), &gz);
            }
        }
    }
    println!("cargo::rustc-cfg=embed_ui");
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a readable directory entry").path();
        if path.is_dir() {
            walk(&path, files);
        } else {
            files.push(path);
        }
    }
}

fn write(path: &Path, data: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{}: {e}", parent.display()));
    }
    std::fs::write(path, data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
