//! `parkbridge demo`: a demo car park and one user per role with fresh passwords, printed (two
//! shops with a merchant each among them), a P云 sandbox in the same process that the car park's
//! coupons go to, a Mallcoo sandbox that its entries are notified to, fixed cars and coupon requests of every outcome (seeded once),
//! a robots stand-in receiving the alerts, and a simulation of cars coming, paying and going;
//! then serve.

use protocol::tariff::Tariff;

use super::serve::{ServeArgs, serve};
use super::{
    demo_alerts, demo_mallcoo, demo_pyun, demo_pyun_carpark, demo_seed, demo_shops, demo_traffic,
};
use crate::accounts::{Role, password, sessions, users};
use crate::parks::{self, ParkFields};
use crate::storage::Db;
use crate::tokens;

/// Prepares the demo data and serves.
pub(crate) async fn run(mut args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let db = args.db.open().await?;
    let park_id = ensure_park(&db).await?;
    // The credential is sealed with the key serve will open it with, loaded the same way.
    let secrets = args.secrets(&db).await?;
    // Kept until serve returns: dropping it stops the sandbox.
    let (sandbox, pyun, app_secret) = demo_pyun::start_sandbox()
        .await
        .map_err(|e| format!("cannot start the P云 sandbox: {e}"))?;
    demo_pyun::configure(&db, &secrets, park_id, &app_secret).await?;
    let carpark = demo_pyun_carpark::keys();
    demo_pyun_carpark::configure(&db, &secrets, park_id, &carpark).await?;
    demo_pyun_carpark::register(&pyun, &carpark, None)
        .map_err(|e| format!("cannot register the demo car park with the P云 sandbox: {e}"))?;
    // Delivered once serving starts, by the real batcher and dispatcher.
    demo_seed::seed(&db, park_id, &pyun, chrono::Utc::now())
        .await
        .map_err(|e| format!("cannot seed the demo's fixed cars and coupons: {e}"))?;
    args.pyun_base_url.clone_from(&sandbox.base_url);
    let (mallcoo, out_keys) = demo_mallcoo::start_sandbox()
        .await
        .map_err(|e| format!("cannot start the Mallcoo sandbox: {e}"))?;
    let inbound = demo_mallcoo::configure(&db, &secrets, park_id, &out_keys).await?;
    args.mallcoo_base_url.clone_from(&mallcoo.base_url);
    let (_robots, robots_running) = demo_alerts::start(&db, &secrets)
        .await
        .map_err(|e| format!("cannot start the alert robots' stand-in: {e}"))?;
    let tariff = parks::get(&db, park_id)
        .await?
        .ok_or("the demo car park vanished")?
        .fields
        .tariff;
    let (listening_tx, listening) = tokio::sync::oneshot::channel();
    // The P云 show-case starts once the simulation has seeded the history and serving began.
    let (seeded_tx, seeded) = tokio::sync::oneshot::channel();
    let show_case = {
        let (db, pyun) = (db.clone(), pyun.clone());
        tokio::spawn(async move {
            let Ok(addr) = seeded.await else { return };
            demo_pyun_carpark::show_case(db, park_id, pyun, carpark, addr).await;
        })
    };
    let simulation = demo_traffic::spawn(
        db.clone(),
        park_id,
        tariff,
        inbound,
        demo_mallcoo::MALLCOO_PARK_ID,
        listening,
        seeded_tx,
    );
    let mut banner = String::from("Demo sign-in (passwords are new at every start):\n");
    for (username, role) in [
        ("admin", Role::Admin),
        ("manager", Role::PropertyManager),
        ("staff", Role::MallStaff),
    ] {
        let (id, pw) = ensure_user(&db, username, role).await?;
        if role != Role::Admin {
            users::set_parks(&db, id, &[park_id]).await?;
        }
        banner.push_str(&format!("  {:<18} {username:<8} / {pw}\n", role.as_str()));
    }
    let merchants = demo_shops::ensure(&db, park_id)
        .await
        .map_err(|e| format!("cannot set up the demo's shops: {e}"))?;
    for (username, pw) in merchants {
        banner.push_str(&format!(
            "  {:<18} {username:<8} / {pw}\n",
            Role::Merchant.as_str()
        ));
    }
    banner.push_str(&format!("Car park: {DEMO_PARK} (示例停车场)\n"));
    // The scripts and tests that start the demo read the sandbox's URL from this line.
    banner.push_str(&format!(
        "P云 sandbox: {} (inspect: /_sandbox/coupons)\n",
        sandbox.base_url
    ));
    banner.push_str(&format!(
        "Mallcoo sandbox: {} (inspect: /_sandbox/mallcoo/notices)\n",
        mallcoo.base_url
    ));
    banner.push_str(&format!(
        "Alert robots sandbox: {}/_sandbox/robots (the demo's DingTalk group)\n",
        robots_running.base_url
    ));
    banner.push_str(&format!("Data: {}", args.db.data_dir.display()));
    let served = serve(args, Some((db, banner)), Some(listening_tx)).await;
    simulation.abort();
    show_case.abort();
    drop(sandbox);
    drop(mallcoo);
    drop(robots_running);
    served
}

/// The code of the demo car park.
const DEMO_PARK: &str = "demo";
/// The demo car park's spaces.
const DEMO_SPACES: i64 = 60;

/// Creates the demo car park unless it exists; returns its id.
async fn ensure_park(db: &Db) -> Result<i64, sqlx::Error> {
    if let Some(park) = parks::find_by_code(db, DEMO_PARK).await? {
        return Ok(park.id);
    }
    parks::create(
        db,
        &ParkFields {
            code: DEMO_PARK.to_owned(),
            name: "示例停车场".to_owned(),
            pyun_park_uuid: None,
            pyun_api_store_code: None,
            pyun_merchant: None,
            mallcoo_park_id: None,
            mallcoo_park_code: None,
            tariff: Tariff::example(),
            pyun_credential_id: None,
            mallcoo_out_credential_id: None,
            mallcoo_in_credential_id: None,
            // The demo traffic keeps up to 40 cars inside (`demo_traffic::MAX_INSIDE`), so the 余位
            // and occupancy figures move.
            total_spaces: Some(DEMO_SPACES),
            pyun_carpark_credential_id: None,
        },
    )
    .await
}

/// Creates or resets `username` with `role` and a new random password; returns its id and the password.
async fn ensure_user(db: &Db, username: &str, role: Role) -> Result<(i64, String), sqlx::Error> {
    let pw = tokens::random_hex(6);
    let hash = password::hash(pw.clone()).await;
    match users::find_by_username(db, username).await? {
        Some(user) => {
            users::set_password_hash(db, user.view.id, &hash).await?;
            users::set_role(db, user.view.id, role).await?;
            users::set_disabled(db, user.view.id, false).await?;
            sessions::revoke_all(db, user.view.id).await?;
            Ok((user.view.id, pw))
        }
        None => Ok((users::create(db, username, &hash, role, &[]).await?, pw)),
    }
}
