//! The demo's P云: a sandbox served inside the demo process, and the demo car park wired to it
//! (credential, P云 identifiers, event settings, one coupon product), so that coupons can be
//! tried end to end without P云 and without any set-up by hand.
//!
//! Everything here is idempotent: the demo restarts on the same data directory, finds what the
//! last start created and only refreshes the credential's secret (the sandbox is new each start).

use std::net::{Ipv4Addr, SocketAddr};

use sandbox::pyun::{PyunSandbox, RunningSandbox};

use crate::coupons::config::{self, EventSettings, MetadataKey, ProductFields};
use crate::credentials::{self, CredentialKind, PublicParts};
use crate::parks;
use crate::secrets::{Secret, SecretBox};
use crate::storage::Db;
use crate::tokens;

/// The demo's P云 app id.
const APP_ID: &str = "demo-app";
/// The event `api_type` the sandbox knows and the demo car park uses.
const API_TYPE: &str = "demo-ev-charging";
/// The coupon product the sandbox knows.
const COUPON_CODE: &str = "DEMO-PARK-2H";
/// The name of the stored P云 credential.
const CREDENTIAL: &str = "demo-pyun";
/// The demo car park's P云 `park_uuid` (VIP sync).
pub(super) const PARK_UUID: &str = "demo-park-uuid";
/// The demo coupon product's name.
const PRODUCT: &str = "停车券2小时";

/// Starts the sandbox on a free loopback port with a fresh app secret and every plate parked;
/// returns it served, its handle (the seeding injects P云's answers through it) and the secret.
///
/// The secret lives only in this process (the sandbox and, sealed, the credential): it is
/// never printed, so a new one is made at each start.
pub(super) async fn start_sandbox() -> std::io::Result<(RunningSandbox, PyunSandbox, Secret)> {
    let app_secret = Secret::new(tokens::random_hex(16));
    let sandbox = PyunSandbox::new();
    sandbox.add_app(APP_ID, app_secret.expose());
    sandbox.add_api_type(API_TYPE);
    sandbox.add_coupon_code(COUPON_CODE);
    // The demo car park's fixed cars sync to the sandbox too (its `park_uuid`, set below).
    sandbox.add_vip_park(PARK_UUID, APP_ID);
    // Visitors of the demo type any plate; P云 would refuse a plate not in the car park.
    sandbox.set_any_plate_parked(true);
    // Loopback only: the sandbox's control API has no authentication.
    let running = sandbox
        .start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await?;
    Ok((running, sandbox, app_secret))
}

/// Stores (or re-seals) the demo credential and points car park `park_id` at the sandbox's app.
pub(super) async fn configure(
    db: &Db,
    secrets: &SecretBox,
    park_id: i64,
    app_secret: &Secret,
) -> Result<(), Box<dyn std::error::Error>> {
    let credential_id = ensure_credential(db, secrets, app_secret).await?;
    let mut park = parks::get(db, park_id)
        .await?
        .ok_or("the demo car park vanished")?;
    park.fields.pyun_api_store_code = Some("demo-store".to_owned());
    park.fields.pyun_merchant = Some("demo-merchant".to_owned());
    park.fields.pyun_park_uuid = Some(PARK_UUID.to_owned());
    park.fields.pyun_credential_id = Some(credential_id);
    parks::update(db, park_id, &park.fields).await?;
    config::set_event_settings(
        db,
        park_id,
        &EventSettings {
            api_type: Some(API_TYPE.to_owned()),
            metadata_keys: vec![MetadataKey {
                key: "charge_kwh".to_owned(),
                name: "充电度数".to_owned(),
            }],
        },
    )
    .await?;
    // An existing product, archived or edited through the admin UI, is left as it is.
    let exists = config::products(db, park_id)
        .await?
        .iter()
        .any(|p| p.name == PRODUCT);
    if !exists {
        config::create_product(
            db,
            park_id,
            &ProductFields {
                name: PRODUCT.to_owned(),
                coupon_code: COUPON_CODE.to_owned(),
                store_code: "demo-shop".to_owned(),
                quantity: 1,
                reason: None,
            },
        )
        .await?;
    }
    Ok(())
}

/// Creates the `demo-pyun` credential, or replaces its secret with this start's; returns its id.
async fn ensure_credential(
    db: &Db,
    secrets: &SecretBox,
    app_secret: &Secret,
) -> Result<i64, Box<dyn std::error::Error>> {
    let public = PublicParts {
        app_id: APP_ID.to_owned(),
        public_key: None,
    };
    let existing = credentials::list(db)
        .await?
        .into_iter()
        .find(|c| c.name == CREDENTIAL);
    match existing {
        Some(c) if c.kind == CredentialKind::Pyun => {
            credentials::replace(db, secrets, c.id, CredentialKind::Pyun, &public, app_secret)
                .await?;
            Ok(c.id)
        }
        // Not ours to overwrite: someone named another kind of credential like the demo's.
        Some(_) => {
            Err(format!("credential `{CREDENTIAL}` exists and is not a P云 credential").into())
        }
        None => Ok(credentials::create(
            db,
            secrets,
            CREDENTIAL,
            CredentialKind::Pyun,
            &public,
            app_secret,
        )
        .await?),
    }
}
