//! The demo car park on P云 car-park access: a `pyun_carpark` credential with keys new at every
//! start, the embedded P云 sandbox told the car park's `park_uuid` and keys (so it verifies the
//! uploads of every entry and exit), and once serving, a show-case of both loops — a coupon P云
//! issues for a parked car (`discount.create`) lowering its fee, and a driver paying in P云's app
//! (`payment.billing` → `payment.result`) so the gate lets the car out at 0 — plus `realtime`
//! polled every minute as P云 does.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::Utc;
use sandbox::pyun::{CarParkRegistration, DriverPays, PyunSandbox, ServiceCall};
use serde_json::json;

use crate::credentials::{self, CarparkKeys, CredentialKind, PublicParts};
use crate::parking::{self, NewEntry, SessionKey};
use crate::parks;
use crate::secrets::SecretBox;
use crate::storage::Db;
use crate::tokens;

/// The name of the stored car-park credential.
const CREDENTIAL: &str = "demo-pyun-carpark";
/// The demo car park's `park_uuid` (shared with the third-party side, `demo_pyun`).
const PARK_UUID: &str = super::demo_pyun::PARK_UUID;
/// The car that gets a P云 coupon.
const COUPON_CAR: &str = "粤B60001";
/// The car whose driver pays in P云's app.
const PAYING_CAR: &str = "粤B60002";

/// Fresh keys for this start (never printed; the sandbox and, sealed, the credential hold them).
pub(super) fn keys() -> CarparkKeys {
    CarparkKeys {
        upload_secret: tokens::random_hex(16),
        downlink_key: tokens::random_hex(16),
    }
}

/// Stores (or re-seals) the credential and switches car park `park_id` onto access.
pub(super) async fn configure(
    db: &Db,
    secrets: &SecretBox,
    park_id: i64,
    keys: &CarparkKeys,
) -> Result<(), Box<dyn std::error::Error>> {
    let public = PublicParts {
        app_id: String::new(),
        public_key: None,
    };
    let kind = CredentialKind::PyunCarpark;
    let existing = credentials::list(db)
        .await?
        .into_iter()
        .find(|c| c.name == CREDENTIAL);
    let id = match existing {
        Some(c) if c.kind == kind => {
            credentials::replace(db, secrets, c.id, kind, &public, &keys.to_secret()).await?;
            c.id
        }
        Some(_) => {
            return Err(format!("credential `{CREDENTIAL}` exists and is of another kind").into());
        }
        None => {
            credentials::create(db, secrets, CREDENTIAL, kind, &public, &keys.to_secret()).await?
        }
    };
    let mut park = parks::get(db, park_id)
        .await?
        .ok_or("the demo car park vanished")?;
    park.fields.pyun_carpark_credential_id = Some(id);
    parks::update(db, park_id, &park.fields).await?;
    Ok(())
}

/// Tells the sandbox the car park; `gateway` is where it calls us (`None` before we listen: the
/// uploads need only the keys).
pub(super) fn register(
    sandbox: &PyunSandbox,
    keys: &CarparkKeys,
    gateway: Option<SocketAddr>,
) -> Result<(), String> {
    // Nothing listens on the discard port: no downlink call is made before we listen.
    let addr = gateway.map_or_else(|| "127.0.0.1:9".to_owned(), |a| a.to_string());
    sandbox.register_carpark(CarParkRegistration {
        park_uuid: PARK_UUID.to_owned(),
        gateway_url: format!("http://{addr}/pyun/v1/gateway"),
        downlink_key: keys.downlink_key.clone(),
        upload_secret: keys.upload_secret.clone(),
        // Coupon events and grants keep the third-party demo's behaviour (any plate parked).
        api_store_code: None,
        merchant: None,
    })
}

/// Once serving at `addr`: the sandbox calls the real gateway, polls `realtime`, and plays the
/// two loops once on cars parked for the purpose (entered again only when not inside).
pub(super) async fn show_case(
    db: Db,
    park_id: i64,
    sandbox: PyunSandbox,
    keys: CarparkKeys,
    addr: SocketAddr,
) {
    if let Err(e) = register(&sandbox, &keys, Some(addr)) {
        tracing::warn!(error = %e, "demo: the P云 sandbox refused the car park");
        return;
    }
    let _poll = sandbox.poll_realtime_every(Duration::from_secs(60));
    for (plate, minutes) in [(COUPON_CAR, 95), (PAYING_CAR, 80)] {
        let key = SessionKey::Plate(plate.to_owned());
        match parking::find_open(&db, park_id, &key).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                let entry = NewEntry {
                    plate: Some(plate.to_owned()),
                    plate_color: Some(1),
                    barcode: None,
                    at: Utc::now() - chrono::TimeDelta::minutes(minutes),
                    gate: Some("东门入口".to_owned()),
                };
                if let Err(e) = parking::enter(&db, park_id, entry).await {
                    tracing::warn!(plate, error = %e, "demo: show-case car not entered");
                }
            }
            Err(e) => tracing::warn!(plate, error = %e, "demo: show-case car not found"),
        }
    }
    // A 60-minute coupon from a shop, as P云 sends it after issuing one for a parked car.
    let coupon = ServiceCall {
        park_uuid: PARK_UUID.to_owned(),
        service: "service.parking.discount.create".to_owned(),
        fields: json!({"plate": COUPON_CAR, "grant_serial": format!("DEMO-{}", Utc::now().format("%Y%m%d")),
                       "type": 2, "value": 60, "store_name": "示例商户", "store_code": "demo-shop",
                       "coupon_name": "停车券1小时", "coupon_code": "DEMO-1H", "reason": "购物满200元"})
        .as_object()
        .cloned()
        .unwrap_or_default(),
        sign: None,
    };
    if let Err(e) = sandbox.call_service(&coupon).await {
        tracing::warn!(error = %e, "demo: P云 coupon show-case failed");
    }
    let pays = DriverPays {
        park_uuid: PARK_UUID.to_owned(),
        plate: PAYING_CAR.to_owned(),
        pay_origin: None,
        twice: true,
        value_override: None,
    };
    if let Err(e) = sandbox.driver_pays(&pays).await {
        tracing::warn!(error = %e, "demo: P云 payment show-case failed");
    }
    // Keeps polling for as long as the demo serves.
    std::future::pending::<()>().await;
}
