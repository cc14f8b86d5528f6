//! UI files read from a directory on every request (debug builds, tests, `--static-dir`), so a
//! rebuilt UI is served without a restart, and compressed on the fly.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use axum::body::Bytes;

use super::negotiate::Coding;
use super::{Content, Entry, compress};

/// Quick settings, since this runs per request (the embedded copy gets the best ones once).
const BROTLI_QUALITY: u32 = 4;
const GZIP_LEVEL: u32 = 6;

/// The file `rel` under `dir`, tagged by its size and modification time (nginx's choice: a
/// 304 costs one `stat`, and a rebuilt file gets a new tag).
pub(super) async fn find(dir: &Path, rel: &str) -> Option<Entry> {
    let path: PathBuf = dir.join(rel);
    let meta = tokio::fs::metadata(&path).await.ok()?;
    if !meta.is_file() {
        return None;
    }
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    Some(Entry {
        tag: format!("{:x}-{modified:x}", meta.len()),
        content: Content::Disk(path),
    })
}

/// The file's bytes, compressed in `coding` when that makes them smaller.
pub(super) async fn read(
    path: &Path,
    coding: Option<Coding>,
) -> std::io::Result<(Bytes, Option<Coding>)> {
    let raw = tokio::fs::read(path).await?;
    let Some(coding) = coding else {
        return Ok((raw.into(), None));
    };
    // Compressing the wasm module takes tens of milliseconds: off the async workers.
    tokio::task::spawn_blocking(move || {
        let compressed = match coding {
            Coding::Brotli => compress::brotli(&raw, BROTLI_QUALITY),
            Coding::Gzip => compress::gzip(&raw, GZIP_LEVEL),
        };
        match compressed {
            Some(c) => (c.into(), Some(coding)),
            None => (raw.into(), None),
        }
    })
    .await
    .map_err(std::io::Error::other)
}
