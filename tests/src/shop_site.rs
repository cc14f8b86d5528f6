//! Shops for the end-to-end tests (issue 17): a shop, its offers and its merchant through the
//! API, and a shop whose P云 coupon product P云 issues through QR codes at car park A of a
//! [`PyunCloud`] (the sandbox registered with its store, so a scan sends `discount.create`).

use reqwest::{Client, Method};
use sandbox::pyun::{CouponDiscount, UploadPath};
use serde_json::{Value, json};

use crate::coupon_site::{COUPON_CODE, PRODUCT, send};
use crate::mallcoo_v14_site::ago;
use crate::pyun_cloud_site::{PyunCloud, accepted_of};
use crate::pyun_gateway_site::PARK_UUID;
use crate::server::{Backend, TestServer};
use crate::vip_site::PARK_A;

/// Every merchant's password in the tests.
pub const MERCHANT_PW: &str = "merchant-password-1";
/// The QR shop's name and P云 store code.
pub const QR_SHOP: (&str, &str) = ("咖啡店", "cafe-88");

/// Creates shop `name` at `park` as `by`; its id.
pub async fn shop(
    server: &TestServer,
    by: &Client,
    park: i64,
    name: &str,
    store_code: Option<&str>,
) -> i64 {
    let url = server.url(&format!("/api/v1/parks/{park}/shops"));
    let body = json!({"name": name, "store_code": store_code});
    let (s, shop) = send(by, Method::POST, &url, Some(body)).await;
    assert_eq!(s, 201, "{shop}");
    shop["id"].as_i64().expect("shop id")
}

/// Creates an offer (`body` as the API takes it) at shop `shop` as `by`; its id.
pub async fn offer(server: &TestServer, by: &Client, shop: i64, body: Value) -> i64 {
    let url = server.url(&format!("/api/v1/shops/{shop}/offers"));
    let (s, offer) = send(by, Method::POST, &url, Some(body)).await;
    assert_eq!(s, 201, "{offer}");
    offer["id"].as_i64().expect("offer id")
}

/// Creates merchant `username` of `shop` (as admin `admin`) and signs it in.
pub async fn merchant(server: &TestServer, admin: &Client, username: &str, shop: i64) -> Client {
    let body = json!({"username": username, "password": MERCHANT_PW, "role": "merchant",
                      "shop_id": shop});
    let (s, user) = send(
        admin,
        Method::POST,
        &server.url("/api/v1/users"),
        Some(body),
    )
    .await;
    assert_eq!(s, 201, "{user}");
    assert_eq!(user["shop_id"], shop, "{user}");
    server.signed_in(username, MERCHANT_PW).await
}

/// P云 and car park A, with shop [`QR_SHOP`] whose offer grants the P云 coupon product
/// [`PRODUCT`] — worth 60 minutes when P云 applies it at car park A.
pub struct QrShop {
    /// P云 and the site.
    pub cloud: PyunCloud,
    /// The shop.
    pub shop_id: i64,
    /// Its offer of the P云 coupon product.
    pub product_offer: i64,
    /// The car park's coupon product that offer gives.
    pub product_id: i64,
}

impl QrShop {
    /// Sets it up on `backend`; the product offer allows `daily_quota` a day.
    pub async fn start(backend: Backend, daily_quota: i64) -> QrShop {
        let cloud = PyunCloud::start(backend, false).await;
        cloud.send_coupons_too().await;
        cloud.pyun.set_coupon_discount(
            COUPON_CODE,
            CouponDiscount {
                discount_type: Some(2),
                discount_value: Some(60),
                coupon_name: None,
                store_name: Some(QR_SHOP.0.into()),
            },
        );
        let vip = &cloud.p.site.vip;
        let (server, admin, park) = (&vip.server, &vip.admin, vip.park_a);
        let shop_id = shop(server, admin, park, QR_SHOP.0, Some(QR_SHOP.1)).await;
        cloud
            .pyun
            .add_carpark_store(PARK_UUID, QR_SHOP.1)
            .expect("registered");
        let url = server.url(&format!("/api/v1/parks/{park}/coupon-config"));
        let (_, config) = send(admin, Method::GET, &url, None).await;
        let product = config["products"]
            .as_array()
            .and_then(|all| all.iter().find(|p| p["name"] == PRODUCT))
            .unwrap_or_else(|| panic!("{config}"))["id"]
            .clone();
        let product_offer = offer(
            server,
            admin,
            shop_id,
            json!({"name": "停车券", "product_id": product, "daily_quota": daily_quota}),
        )
        .await;
        QrShop {
            cloud,
            shop_id,
            product_offer,
            product_id: product.as_i64().expect("a product id"),
        }
    }

    /// The server.
    pub fn server(&self) -> &TestServer {
        &self.cloud.p.site.vip.server
    }

    /// The admin's client.
    pub fn admin(&self) -> &Client {
        &self.cloud.p.site.vip.admin
    }

    /// `plate` enters car park A `minutes` ago and P云 has accepted its entry (so a coupon
    /// P云 issues to it is sent to the car park); its session.
    pub async fn park(&self, plate: &str, minutes: i64) -> Value {
        let session = self
            .cloud
            .p
            .site
            .enter(PARK_A, Some(plate), ago(minutes))
            .await;
        self.cloud
            .wait(&format!("PB{}", session["id"]), |u| {
                accepted_of(u, UploadPath::Enter).is_some()
            })
            .await;
        session
    }

    /// What `plate` owes now, in fen, by Mallcoo's fee query (`unPayAmount`).
    pub async fn owed(&self, plate: &str) -> i64 {
        let quote = self.cloud.p.site.query(plate, 0, 0).await;
        quote["unPayAmount"]
            .as_i64()
            .unwrap_or_else(|| panic!("a quote for {plate}: {quote}"))
    }
}
