//! `parkbridge demo`: one user per role with fresh passwords, printed, then serve.

use super::serve::{ServeArgs, serve};
use crate::accounts::{Role, password, sessions, users};
use crate::storage::Db;
use crate::tokens;

/// Prepares the demo data and serves.
pub(crate) async fn run(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let db = args.db.open().await?;
    let mut banner = String::from("Demo sign-in (passwords are new at every start):\n");
    for (username, role) in [
        ("admin", Role::Admin),
        ("manager", Role::PropertyManager),
        ("staff", Role::MallStaff),
    ] {
        let pw = ensure_user(&db, username, role).await?;
        banner.push_str(&format!("  {:<18} {username:<8} / {pw}\n", role.as_str()));
    }
    banner.push_str(&format!("Data: {}", args.db.data_dir.display()));
    serve(args, Some((db, banner))).await
}

/// Creates or resets `username` with `role` and a new random password, which it returns.
async fn ensure_user(db: &Db, username: &str, role: Role) -> Result<String, sqlx::Error> {
    let pw = tokens::random_hex(6);
    let hash = password::hash(pw.clone()).await;
    match users::find_by_username(db, username).await? {
        Some(user) => {
            users::set_password_hash(db, user.view.id, &hash).await?;
            users::set_role(db, user.view.id, role).await?;
            users::set_disabled(db, user.view.id, false).await?;
            sessions::revoke_all(db, user.view.id).await?;
        }
        None => {
            users::create(db, username, &hash, role, &[]).await?;
        }
    }
    Ok(pw)
}
