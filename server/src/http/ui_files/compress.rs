//! Which UI files are worth compressing, and compressing them. Shared with `build.rs`, which
//! compresses the embedded copy once at the best ratio; a `--static-dir` copy is compressed per
//! request at a quick setting.

use std::io::Write;

/// Whether a file of this name is text or WebAssembly, which shrink several times over; images
/// and fonts are compressed already.
pub(crate) fn worth_compressing(name: &str) -> bool {
    let ext = name.rsplit_once('.').map_or("", |(_, ext)| ext);
    matches!(
        ext.to_ascii_lowercase().as_str(),
        "html" | "js" | "mjs" | "css" | "wasm" | "json" | "svg" | "txt" | "map" | "xml" | "ico"
    )
}

/// Brotli at `quality` (0–11), with a window large enough for the whole wasm module; `None` when
/// the result would not be smaller.
pub(crate) fn brotli(data: &[u8], quality: u32) -> Option<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: i32::try_from(quality.min(11)).unwrap_or(11),
        lgwin: 22,
        ..Default::default()
    };
    let mut out = Vec::with_capacity(data.len() / 3);
    brotli::BrotliCompress(&mut &data[..], &mut out, &params).ok()?;
    smaller(out, data)
}

/// gzip at `level` (0–9); `None` when the result would not be smaller.
pub(crate) fn gzip(data: &[u8], level: u32) -> Option<Vec<u8>> {
    let mut w = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 3),
        flate2::Compression::new(level.min(9)),
    );
    w.write_all(data).ok()?;
    smaller(w.finish().ok()?, data)
}

fn smaller(compressed: Vec<u8>, raw: &[u8]) -> Option<Vec<u8>> {
    (compressed.len() < raw.len()).then_some(compressed)
}
