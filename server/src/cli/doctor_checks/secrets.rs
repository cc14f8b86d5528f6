//! Does the configured master key open this database's key check and every sealed value? A
//! failure names the value's owner (credential, alert channel), never the value.

use super::{Report, Status};
use crate::alerts::channels;
use crate::cli::serve::ServeArgs;
use crate::credentials::{self, CarparkKeys, CredentialKind, RevealError};
use crate::secrets::{KeyCheck, SecretBox, check_recorded};
use crate::storage::Db;

/// Adds the master key's row and, with a database, one row per sealed value that does not open
/// (or one row saying they all do).
pub(in crate::cli) async fn check(args: &ServeArgs, db: Option<&Db>, report: &mut Report) {
    let origin = args.key.origin(&args.db.data_dir);
    let key = match args.key.source(&args.db.data_dir).load_existing() {
        Ok(key) => key,
        Err(e) => {
            report.add("master key", Status::Fail, format!("from {origin}: {e}"));
            return;
        }
    };
    let secrets = SecretBox::new(&key);
    let Some(db) = db else {
        report.add(
            "master key",
            Status::Warn,
            format!("read from {origin}; not checked against the database (above)"),
        );
        return;
    };
    match check_recorded(db, &secrets).await {
        Ok(KeyCheck::Opens) => report.add(
            "master key",
            Status::Ok,
            format!("from {origin}; it is this database's key"),
        ),
        Ok(KeyCheck::Mismatch) => report.add(
            "master key",
            Status::Fail,
            format!(
                "from {origin}: this database was sealed with another key (the server refuses to start); set the key it was created with"
            ),
        ),
        Ok(KeyCheck::NotRecorded) => report.add(
            "master key",
            Status::Warn,
            format!("from {origin}; no instance has recorded a key check yet (none has started)"),
        ),
        Err(e) => report.add("master key", Status::Fail, format!("cannot read the key check: {e}")),
    }
    sealed_values(db, &secrets, report).await;
}

async fn sealed_values(db: &Db, secrets: &SecretBox, report: &mut Report) {
    let mut opened = (0, 0);
    let before = report.count(Status::Fail);
    match credentials::list(db).await {
        Err(e) => report.add(
            "sealed secrets",
            Status::Fail,
            format!("cannot list credentials: {e}"),
        ),
        Ok(list) => {
            for c in list {
                let owner = format!("credential '{}'", c.name);
                let what = format!("kind {}, id {}", c.kind.as_str(), c.id);
                match credentials::signing_material(db, secrets, c.id).await {
                    Ok(Some(m)) => {
                        if c.kind == CredentialKind::PyunCarpark
                            && CarparkKeys::from_secret(&m.secret).is_none()
                        {
                            report.add(
                                owner,
                                Status::Fail,
                                format!("{what}: opens, but is not a P云 car-park key pair"),
                            );
                        } else {
                            opened.0 += 1;
                        }
                    }
                    Ok(None) => opened.0 += 1,
                    Err(RevealError::Open { .. }) => report.add(
                        owner,
                        Status::Fail,
                        format!("{what}: its secret does not open with this master key"),
                    ),
                    Err(e) => report.add(owner, Status::Fail, format!("{what}: {e}")),
                }
            }
        }
    }
    match channels::list(db).await {
        Err(e) => report.add(
            "sealed secrets",
            Status::Fail,
            format!("cannot list alert channels: {e}"),
        ),
        Ok(list) => {
            for c in list {
                match channels::open(db, secrets, c.id).await {
                    Ok(_) => opened.1 += 1,
                    Err(channels::OpenChannelError::Sealed(_)) => report.add(
                        format!("alert channel '{}'", c.name),
                        Status::Fail,
                        format!(
                            "id {}: its URL or signing secret does not open with this master key",
                            c.id
                        ),
                    ),
                    Err(e) => report.add(
                        format!("alert channel '{}'", c.name),
                        Status::Fail,
                        format!("id {}: {e}", c.id),
                    ),
                }
            }
        }
    }
    if report.count(Status::Fail) == before {
        report.add(
            "sealed secrets",
            Status::Ok,
            format!(
                "all open: {} credential(s), {} alert channel(s)",
                opened.0, opened.1
            ),
        );
    }
}
