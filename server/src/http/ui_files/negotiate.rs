//! What a browser's request headers ask of a UI file: the content coding it accepts
//! (`Accept-Encoding`), whether its copy is still current (`If-None-Match`), and how long it may
//! keep a file of a given name.

/// A content coding we can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    Brotli,
    Gzip,
}

impl Coding {
    /// The `Content-Encoding` token.
    pub(crate) fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
        }
    }

    /// Appended to the file's tag: each coding is a representation of its own (RFC 9110
    /// §8.8.3.3), so a cache never answers a gzip request with Brotli bytes.
    fn tag_suffix(self) -> &'static str {
        match self {
            Coding::Brotli => "-br",
            Coding::Gzip => "-gz",
        }
    }
}

/// The codings the browser accepts, best first: Brotli (smaller) before gzip, each only if its
/// quality value is above zero, named or through `*`.
pub(crate) fn accepted(accept_encoding: Option<&str>) -> Vec<Coding> {
    let Some(header) = accept_encoding else {
        return Vec::new();
    };
    let mut star = None;
    let (mut br, mut gzip) = (None, None);
    for item in header.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
            .find_map(|v| v.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match name.as_str() {
            "br" => br = Some(q),
            "gzip" | "x-gzip" => gzip = Some(q),
            "*" => star = Some(q),
            _ => {}
        }
    }
    [(Coding::Brotli, br), (Coding::Gzip, gzip)]
        .into_iter()
        .filter(|(_, q)| q.or(star).is_some_and(|q| q > 0.0))
        .map(|(c, _)| c)
        .collect()
}

/// The quoted `ETag` of a file's representation: its tag, plus the coding's suffix.
pub(crate) fn etag(tag: &str, coding: Option<Coding>) -> String {
    format!("\"{tag}{}\"", coding.map_or("", Coding::tag_suffix))
}

/// Whether `If-None-Match` names any representation of the file tagged `tag` (a weak
/// comparison, as RFC 9110 §13.1.2 asks): then the browser's copy is current, whichever coding
/// it was sent in.
pub(crate) fn still_current(if_none_match: Option<&str>, tag: &str) -> bool {
    let Some(header) = if_none_match else {
        return false;
    };
    header.split(',').any(|item| {
        let item = item.trim();
        if item == "*" {
            return true;
        }
        let quoted = item.strip_prefix("W/").unwrap_or(item);
        let Some(inner) = quoted.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
            return false;
        };
        let base = inner
            .strip_suffix(Coding::Brotli.tag_suffix())
            .or_else(|| inner.strip_suffix(Coding::Gzip.tag_suffix()))
            .unwrap_or(inner);
        base == tag
    })
}

/// A year, the longest `max-age` browsers honour: for names that change with their content.
const HASHED: &str = "public, max-age=31536000, immutable";
/// Revalidate every time (a 304 when unchanged).
const PLAIN: &str = "no-cache";

/// `Cache-Control` for the file at `path`. Only a name carrying a content hash may be kept
/// without asking: Trunk's `filehash` is off (the page chunks' loader imports `frontend.js` by
/// name), so today every file has a plain name, and a browser that kept one across an upgrade
/// would mix old and new parts of the app.
pub(crate) fn cache_control(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    // Trunk's hashed names read `frontend-<16 hex digits>_bg.wasm`.
    let hashed = name
        .split(['-', '_', '.'])
        .any(|part| part.len() >= 16 && part.bytes().all(|b| b.is_ascii_hexdigit()));
    if hashed { HASHED } else { PLAIN }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brotli_comes_first_and_a_zero_quality_refuses_a_coding() {
        let chrome = Some("gzip, deflate, br, zstd");
        assert_eq!(accepted(chrome), [Coding::Brotli, Coding::Gzip]);
        assert_eq!(accepted(Some("gzip")), [Coding::Gzip]);
        assert_eq!(accepted(Some("br;q=0, gzip;q=0.5")), [Coding::Gzip]);
        assert_eq!(accepted(Some("*;q=0.1, gzip;q=0")), [Coding::Brotli]);
        assert_eq!(accepted(Some("identity")), []);
        assert_eq!(accepted(None), []);
    }

    #[test]
    fn any_coding_of_the_same_file_is_current_and_another_file_is_not() {
        assert!(still_current(Some("\"abc\""), "abc"));
        assert!(still_current(Some("\"x\", W/\"abc-br\""), "abc"));
        assert!(still_current(Some("\"abc-gz\""), "abc"));
        assert!(still_current(Some("*"), "abc"));
        assert!(!still_current(Some("\"abd\""), "abc"));
        assert!(
            !still_current(Some("abc"), "abc"),
            "an unquoted tag is malformed"
        );
        assert!(!still_current(None, "abc"));
        assert_eq!(etag("abc", Some(Coding::Brotli)), "\"abc-br\"");
    }

    #[test]
    fn only_names_with_a_content_hash_are_cached_for_long() {
        for plain in [
            "index.html",
            "frontend.js",
            "frontend_bg.wasm",
            "wasm-split/__wasm_split.js",
            "wasm-split/split_vip_pages.wasm",
        ] {
            assert_eq!(cache_control(plain), "no-cache", "{plain}");
        }
        assert_eq!(
            cache_control("frontend-3f2a9c0d1e4b5a6f_bg.wasm"),
            "public, max-age=31536000, immutable"
        );
    }
}
