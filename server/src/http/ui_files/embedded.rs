//! The UI built into a release binary: build.rs copied `frontend/dist` into `OUT_DIR/ui/raw/`,
//! with the Brotli and gzip copies worth having under `br/` and `gzip/`.

use std::borrow::Cow;

use axum::body::Bytes;

use super::{Content, Entry};

#[derive(rust_embed::RustEmbed)]
#[folder = "$OUT_DIR/ui"]
struct Ui;

/// The embedded file `rel`, tagged by the first half of its SHA-256 (computed at compile time).
pub(super) fn find(rel: &str) -> Option<Entry> {
    let raw = Ui::get(&format!("raw/{rel}"))?;
    let tag = hex::encode(&raw.metadata.sha256_hash()[..16]);
    let copy = |dir: &str| Ui::get(&format!("{dir}/{rel}")).map(|f| bytes(f.data));
    Some(Entry {
        tag,
        content: Content::Embedded {
            raw: bytes(raw.data),
            br: copy("br"),
            gzip: copy("gzip"),
        },
    })
}

fn bytes(data: Cow<'static, [u8]>) -> Bytes {
    match data {
        Cow::Borrowed(b) => Bytes::from_static(b),
        Cow::Owned(v) => Bytes::from(v),
    }
}
