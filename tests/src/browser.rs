//! Headless Debian Chromium driven over WebDriver (fantoccini + chromedriver), no browser download.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A chromedriver process and a WebDriver session on it; both end when dropped.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium session.
    pub async fn start() -> Browser {
        for tool in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(tool).is_file(),
                "{tool} is missing: run `cargo xtask test`, which installs Debian's chromium and chromium-driver"
            );
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("temp profile dir");
        let mut caps = Capabilities::new();
        caps.insert(
            "goog:chromeOptions".to_owned(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    // Without these Chromium keeps dialling Google, which this network refuses.
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                // chromedriver takes a moment to listen.
                Err(e) if started.elapsed() < Duration::from_secs(20) => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot open a WebDriver session on chromedriver: {e}"),
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Waits (up to 20 s) until the element with `data-testid` exists, and returns its text.
    pub async fn text_of(&self, test_id: &str) -> String {
        let css = format!("[data-testid='{test_id}']");
        let el = self
            .client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(&css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"));
        el.text().await.expect("element text")
    }

    /// Waits until the text of `test_id` satisfies `pred`, returning it; panics with the last text.
    pub async fn wait_for_text(&self, test_id: &str, pred: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let text = self.text_of(test_id).await;
            if pred(&text) {
                return text;
            }
            if started.elapsed() > Duration::from_secs(20) {
                panic!("[data-testid='{test_id}'] still reads {text:?} after 20 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Replaces the content of the input with `data-testid` by typing `text`.
    pub async fn type_into(&self, test_id: &str, text: &str) {
        let css = format!("[data-testid='{test_id}']");
        let el = self
            .client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(&css))
            .await
            .unwrap_or_else(|e| panic!("no input {css}: {e}"));
        el.clear().await.expect("clear input");
        el.send_keys(text).await.expect("type into input");
    }

    /// Waits (up to 20 s) for the element with `data-testid`.
    pub async fn element(&self, test_id: &str) -> Element {
        let css = format!("[data-testid='{test_id}']");
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(&css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Waits for the element with `data-testid` and clicks it. A link of a closed navigation
    /// menu (the admin's "系统") is reached as a person reaches it: the menu's button first.
    pub async fn click(&self, test_id: &str) {
        let el = self.element(test_id).await;
        let opened = self
            .client
            .execute(
                "const e = document.querySelector(`[data-testid='${arguments[0]}']`); \
                 const group = e && e.closest('.nav-group'); \
                 const toggle = group && group.querySelector('.nav-group-toggle'); \
                 if (toggle && e.getBoundingClientRect().width === 0 \
                     && toggle.getBoundingClientRect().width > 0) { toggle.click(); return true; } \
                 return false;",
                vec![test_id.into()],
            )
            .await
            .expect("open the link's menu");
        if opened == serde_json::Value::Bool(true) {
            // The menu shows on the next render.
            for _ in 0..20 {
                let width = el.rectangle().await.map_or(0.0, |(_, _, width, _)| width);
                if width > 0.0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        el.click()
            .await
            .unwrap_or_else(|e| panic!("click [data-testid='{test_id}']: {e}"));
    }

    /// Chooses the `<option value=…>` of the `<select>` with `data-testid`.
    pub async fn select(&self, test_id: &str, value: &str) {
        self.element(test_id)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value:?} in [data-testid='{test_id}']: {e}"));
    }

    /// The current `value` of the input with `data-testid`.
    pub async fn value_of(&self, test_id: &str) -> String {
        self.element(test_id)
            .await
            .prop("value")
            .await
            .expect("value property")
            .unwrap_or_default()
    }

    /// Signs out with the layout's button and waits for the sign-in form.
    pub async fn sign_out(&self) {
        self.click("sign-out").await;
        self.element("login-form").await;
    }

    /// Whether an element with `data-testid` is on the page right now (no waiting).
    pub async fn exists(&self, test_id: &str) -> bool {
        let css = format!("[data-testid='{test_id}']");
        !self
            .client
            .find_all(Locator::Css(&css))
            .await
            .expect("find elements")
            .is_empty()
    }

    /// Waits (up to 20 s) until no element with `data-testid` is on the page.
    pub async fn wait_gone(&self, test_id: &str) {
        let started = Instant::now();
        while self.exists(test_id).await {
            if started.elapsed() > Duration::from_secs(20) {
                panic!("[data-testid='{test_id}'] is still there after 20 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// How many elements match `css` now, read in one script so a re-render cannot make an
    /// element stale half-way (pages that refresh themselves replace their rows).
    pub async fn count(&self, css: &str) -> usize {
        let n = self
            .client
            .execute(
                "return document.querySelectorAll(arguments[0]).length;",
                vec![css.into()],
            )
            .await
            .expect("count elements");
        n.as_u64().map_or(0, |n| n as usize)
    }

    /// The attribute `name` of the element with `data-testid` now (`None` when either is
    /// missing), read in one script for the same reason as `count`.
    pub async fn attr_of(&self, test_id: &str, name: &str) -> Option<String> {
        let v = self
            .client
            .execute(
                "const e = document.querySelector(`[data-testid='${arguments[0]}']`); \
                 return e ? e.getAttribute(arguments[1]) : null;",
                vec![test_id.into(), name.into()],
            )
            .await
            .expect("read attribute");
        v.as_str().map(str::to_owned)
    }

    /// The paths of every file the page has fetched so far (the browser's resource timing).
    pub async fn fetched_paths(&self) -> Vec<String> {
        let v = self
            .client
            .execute(
                "return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname);",
                vec![],
            )
            .await
            .expect("read resource timing");
        serde_json::from_value(v).expect("a list of paths")
    }

    /// Waits (up to 20 s) until a fetched path contains `part`; returns all fetched paths.
    pub async fn wait_for_fetch(&self, part: &str) -> Vec<String> {
        let started = Instant::now();
        loop {
            let paths = self.fetched_paths().await;
            if paths.iter().any(|p| p.contains(part)) {
                return paths;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "nothing matching {part} was fetched; fetched: {paths:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The `data-testid`s on the page that start with `prefix`, in document order.
    pub async fn test_ids_with_prefix(&self, prefix: &str) -> Vec<String> {
        let css = format!("[data-testid^='{prefix}']");
        let mut ids = Vec::new();
        for el in self
            .client
            .find_all(Locator::Css(&css))
            .await
            .expect("find elements")
        {
            if let Some(id) = el.attr("data-testid").await.expect("attribute") {
                ids.push(id);
            }
        }
        ids
    }

    /// The whole page's visible text.
    pub async fn page_text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .expect("body")
            .text()
            .await
            .expect("body text")
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// Signs in through the UI's `/login` page of the server at `base_url` and waits for the
    /// navigation of the signed-in layout.
    pub async fn sign_in(&self, base_url: &str, username: &str, password: &str) {
        self.goto(&format!("{base_url}/login")).await;
        self.type_into("login-username", username).await;
        self.type_into("login-password", password).await;
        self.click("login-submit").await;
        self.element("current-user").await;
        self.wait_for_text("current-user", |t| t.starts_with(username))
            .await;
    }

    /// Ends the WebDriver session (chromedriver is killed on drop).
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}
