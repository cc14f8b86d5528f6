//! Helpers shared by the end-to-end tests: the real `parkbridge` binary on a loopback port, and
//! Debian's headless Chromium driven through chromedriver.

pub mod alert_site;
pub mod browser;
pub mod cluster;
pub mod coupon_site;
pub mod machine;
pub mod mallcoo_site;
pub mod mallcoo_v14_site;
pub mod page_checks;
pub mod pg_proxy;
pub mod pyun_cloud_site;
pub mod pyun_gateway_site;
pub mod server;
pub mod shop_site;
pub mod traffic_site;
pub mod vip_site;

/// Declares each `name => scenario;` as a module with two tests, `sqlite` and `postgres`, that run
/// `scenario(backend)`; multi-threaded, because an in-process sandbox must answer while a test
/// blocks on the gateway.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident => $scenario:ident;)*) => {$(
        mod $name {
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$scenario($crate::server::Backend::Sqlite).await;
            }
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$scenario($crate::server::Backend::Postgres).await;
            }
        }
    )*};
}
