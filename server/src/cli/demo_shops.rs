//! The demo's two shops (issue 17), each with a merchant whose password is new at every start:
//! a café that gives a local discount (120 minutes free, 50 a day) and a bookshop that gives the
//! demo's P云 coupon product (the car park is on P云 car-park access, so its coupons and QR codes
//! come back as `discount.create`). Shops and offers are made once; a restart finds them.

use chrono::Utc;
use protocol::ledger::DiscountKind;

use crate::accounts::{Role, password, sessions, users};
use crate::coupons::config;
use crate::shops::store::{self, Gives, NewOffer};
use crate::storage::Db;
use crate::tokens;

/// A demo shop: its name, its merchant's username, its offer's name, quotas and what it gives.
struct DemoShop {
    name: &'static str,
    merchant: &'static str,
    offer: &'static str,
    daily_quota: i64,
    monthly_quota: Option<i64>,
    /// `None`: the demo's P云 coupon product.
    discount: Option<DiscountKind>,
}

const SHOPS: [DemoShop; 2] = [
    DemoShop {
        name: "示例咖啡",
        merchant: "cafe",
        offer: "免费停车2小时",
        daily_quota: 50,
        monthly_quota: None,
        discount: Some(DiscountKind::Minutes(120)),
    },
    DemoShop {
        name: "示例书店",
        merchant: "books",
        offer: "P云停车券",
        daily_quota: 30,
        monthly_quota: Some(600),
        discount: None,
    },
];

/// Makes the shops and offers that are missing and resets their merchants; returns each
/// merchant's username and new password, for the banner.
pub(super) async fn ensure(
    db: &Db,
    park_id: i64,
) -> Result<Vec<(&'static str, String)>, Box<dyn std::error::Error>> {
    let product = config::products(db, park_id)
        .await?
        .into_iter()
        .find(|p| !p.archived);
    let existing = store::shops_of_park(db, park_id).await?;
    let mut merchants = Vec::new();
    for s in &SHOPS {
        let gives = match (s.discount, &product) {
            (Some(kind), _) => Gives::Discount(kind),
            (None, Some(p)) => Gives::Product(p.id),
            // Archived through the admin UI: the bookshop waits for a product.
            (None, None) => continue,
        };
        let shop_id = match existing.iter().find(|e| e.name == s.name) {
            Some(shop) => shop.id,
            None => {
                let now = Utc::now();
                let mut tx = db.pool.begin().await?;
                let id = store::create_shop(&mut tx, park_id, s.name, None, now).await?;
                let offer = NewOffer {
                    name: s.offer.to_owned(),
                    gives,
                    daily_quota: s.daily_quota,
                    monthly_quota: s.monthly_quota,
                };
                store::create_offer(&mut tx, id, &offer, now).await?;
                tx.commit().await?;
                id
            }
        };
        let pw = ensure_merchant(db, s.merchant, shop_id).await?;
        merchants.push((s.merchant, pw));
    }
    Ok(merchants)
}

/// Creates or resets merchant `username` of shop `shop_id` with a new random password.
async fn ensure_merchant(db: &Db, username: &str, shop_id: i64) -> Result<String, sqlx::Error> {
    let pw = tokens::random_hex(6);
    let hash = password::hash(pw.clone()).await;
    match users::find_by_username(db, username).await? {
        // A merchant stays bound to the shop it was made for; only its password is new.
        Some(user) => {
            users::set_password_hash(db, user.view.id, &hash).await?;
            users::set_disabled(db, user.view.id, false).await?;
            sessions::revoke_all(db, user.view.id).await?;
        }
        None => {
            users::create_in_shop(db, username, &hash, Role::Merchant, &[], Some(shop_id)).await?;
        }
    }
    Ok(pw)
}
