//! Helpers shared by the end-to-end tests: the real `parkbridge` binary on a loopback port, and
//! Debian's headless Chromium driven through chromedriver.

pub mod browser;
pub mod coupon_site;
pub mod server;
