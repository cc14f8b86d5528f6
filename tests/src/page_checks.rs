//! Checks every page must pass, whatever it shows: on a phone-sized window it does not scroll
//! sideways, and its dates read `2026-12-06` in any browser locale; and screenshots of a page
//! for a person to look at.

use std::path::PathBuf;

use serde_json::Value;

use crate::browser::Browser;
use crate::server::workspace_root;

/// The viewport the phone checks use, in CSS pixels: an iPhone 12–15's.
pub const PHONE: (u32, u32) = (390, 844);
/// The laptop viewport of the screenshots, in CSS pixels.
pub const DESKTOP: (u32, u32) = (1366, 860);

/// Saves a screenshot of the whole page (the window grown to the page's height) as
/// `target/screenshots/<file>.png`, then puts the viewport back to `size`.
pub async fn screenshot(browser: &Browser, size: (u32, u32), file: &str) {
    let height = browser
        .client
        .execute("return document.documentElement.scrollHeight;", vec![])
        .await
        .expect("page height")
        .as_u64()
        .unwrap_or(u64::from(size.1)) as u32;
    set_viewport(browser, size.0, height.clamp(size.1, 6000)).await;
    let png = browser.client.screenshot().await.expect("screenshot");
    let dir: PathBuf = workspace_root().join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    std::fs::write(dir.join(format!("{file}.png")), png).expect("write screenshot");
    set_viewport(browser, size.0, size.1).await;
}

/// Resizes the window until the page's viewport (`innerWidth`×`innerHeight`) is
/// `width`×`height`, and checks that it is: a window's outer size includes its frame, and the
/// page sees a new size a moment after the window has it.
pub async fn set_viewport(browser: &Browser, width: u32, height: u32) {
    let want = (width, height);
    let mut outer = want;
    for _ in 0..3 {
        browser
            .client
            .set_window_size(outer.0, outer.1)
            .await
            .expect("set the window size");
        let mut inner = inner_size(browser).await;
        for _ in 0..40 {
            if inner == want {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            inner = inner_size(browser).await;
        }
        outer = (
            (outer.0 + width).saturating_sub(inner.0),
            (outer.1 + height).saturating_sub(inner.1),
        );
    }
    let inner = inner_size(browser).await;
    panic!("the viewport is {inner:?}, not {width}×{height}");
}

async fn inner_size(browser: &Browser) -> (u32, u32) {
    let v = browser
        .client
        .execute("return [window.innerWidth, window.innerHeight];", vec![])
        .await
        .expect("read the viewport");
    let n = |i: usize| v[i].as_u64().unwrap_or(0) as u32;
    (n(0), n(1))
}

/// What keeps the page from fitting the viewport, if anything: the page scrolls sideways
/// (`scrollWidth > innerWidth`), or something sticks out past the left or right edge — even
/// inside a box that scrolls by itself (a wide table in an `overflow-x: auto` wrapper is cut off
/// on a phone however the page scrolls). Hidden elements (a card table's 1 px heading row) and
/// those an ancestor clips are skipped. The answer names what sticks out.
pub async fn overflow(browser: &Browser) -> Option<String> {
    let v: Value = browser
        .client
        .execute(
            "const w = window.innerWidth; \
             const hidden = e => { \
               for (let a = e; a; a = a.parentElement) { \
                 const r = a.getBoundingClientRect(), s = getComputedStyle(a); \
                 if (r.width <= 1 || r.height <= 1 || s.visibility === 'hidden') return true; \
               } \
               return false; }; \
             const clipped = e => { \
               for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) { \
                 const o = getComputedStyle(p).overflowX; \
                 if (o === 'hidden' || o === 'clip') return true; \
               } \
               return false; }; \
             const name = e => e.tagName.toLowerCase() \
               + (e.dataset && e.dataset.testid ? `[${e.dataset.testid}]` : '') \
               + (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/ +/).join('.') : ''); \
             const out = [...document.querySelectorAll('body *')] \
               .filter(e => { const r = e.getBoundingClientRect(); \
                 return (r.right > w + 0.5 || r.left < -1) && !hidden(e) && !clipped(e); }) \
               .slice(0, 8) \
               .map(e => `${name(e)} ${Math.round(e.getBoundingClientRect().left)}..${Math.round(e.getBoundingClientRect().right)}`); \
             return [document.documentElement.scrollWidth, w, out];",
            vec![],
        )
        .await
        .expect("measure the page");
    let scroll = v[0].as_u64().unwrap_or(u64::MAX);
    let inner = v[1].as_u64().unwrap_or(0);
    let out = v[2].as_array().cloned().unwrap_or_default();
    (scroll > inner || !out.is_empty())
        .then(|| format!("{scroll} px wide in a {inner} px viewport; sticking out: {out:?}"))
}

/// Asserts that the page fits the viewport (see [`overflow`]).
pub async fn assert_fits_width(browser: &Browser, page: &str) {
    if let Some(why) = overflow(browser).await {
        panic!("{page} does not fit: {why}");
    }
}

/// Asserts that the date input `test_id` shows `want` (`YYYY-MM-DD`) as its text: a plain text
/// input holding it, not a native date picker, which an en-US browser shows as `12/06/2026`.
pub async fn assert_date_shown(browser: &Browser, test_id: &str, want: &str) {
    let kind = browser.attr_of(test_id, "type").await;
    assert_ne!(
        kind.as_deref(),
        Some("date"),
        "{test_id} is a native date input, shown in the browser's locale"
    );
    let shown = browser.value_of(test_id).await;
    assert_eq!(shown, want, "{test_id} shows {shown:?}");
}
