//! `parkbridge demo`: a demo car park and one user per role with fresh passwords, printed, then serve.

use protocol::tariff::Tariff;

use super::serve::{ServeArgs, serve};
use crate::accounts::{Role, password, sessions, users};
use crate::parks::{self, ParkFields};
use crate::storage::Db;
use crate::tokens;

/// Prepares the demo data and serves.
pub(crate) async fn run(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let db = args.db.open().await?;
    let park_id = ensure_park(&db).await?;
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
    banner.push_str(&format!("Car park: {DEMO_PARK} (示例停车场)\n"));
    banner.push_str(&format!("Data: {}", args.db.data_dir.display()));
    serve(args, Some((db, banner))).await
}

/// The code of the demo car park.
const DEMO_PARK: &str = "demo";

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
        None => Ok((users::create(db, username, &hash, role).await?, pw)),
    }
}
