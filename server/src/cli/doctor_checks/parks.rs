//! Per car park: which integrations are configured, and which pieces a half-configured one
//! lacks. An integration with none of its pieces is simply not used there.

use std::collections::HashMap;

use super::{Report, Status};
use crate::coupons::config;
use crate::credentials::{self, CredentialKind, CredentialView};
use crate::parks::{self, Park};
use crate::storage::Db;

/// Which partners some car park talks to (their addresses must then answer).
#[derive(Debug, Clone, Copy)]
pub(in crate::cli) struct Usage {
    /// P云: coupons, VIP sync or car-park uploads.
    pub(in crate::cli) pyun: bool,
    /// Mallcoo: entry notices go out.
    pub(in crate::cli) mallcoo: bool,
}

impl Usage {
    /// What to assume when the car parks cannot be read: every partner matters.
    pub(in crate::cli) fn unknown() -> Usage {
        Usage {
            pyun: true,
            mallcoo: true,
        }
    }
}

/// One integration at one car park: what it has, what it lacks, what is wrong.
#[derive(Default)]
struct Integration {
    has: Vec<String>,
    lacks: Vec<&'static str>,
    broken: Vec<String>,
}

impl Integration {
    fn piece(&mut self, present: Option<String>, name: &'static str) {
        match present {
            Some(p) => self.has.push(p),
            None => self.lacks.push(name),
        }
    }
}

/// Adds a row per car park and per integration in use there; returns which partners are used.
pub(in crate::cli) async fn check(db: &Db, report: &mut Report) -> Usage {
    let (list, creds) = match (parks::list(db).await, credentials::list(db).await) {
        (Ok(l), Ok(c)) => (l, c),
        (Err(e), _) | (_, Err(e)) => {
            report.add("car parks", Status::Fail, format!("cannot read them: {e}"));
            return Usage::unknown();
        }
    };
    let creds: HashMap<i64, CredentialView> = creds.into_iter().map(|c| (c.id, c)).collect();
    if list.is_empty() {
        report.add(
            "car parks",
            Status::Warn,
            "none yet: an admin adds the first one in the UI",
        );
    }
    let mut usage = Usage {
        pyun: false,
        mallcoo: false,
    };
    for park in &list {
        let found = match integrations(db, park, &creds).await {
            Ok(found) => found,
            Err(e) => {
                report.add(
                    format!("park {}", park.fields.code),
                    Status::Fail,
                    e.to_string(),
                );
                continue;
            }
        };
        let used: Vec<&str> = found.iter().map(|(name, _)| *name).collect();
        report.add(
            format!("park {}", park.fields.code),
            Status::Ok,
            format!(
                "{}: {}",
                park.fields.name,
                if used.is_empty() {
                    "no integration configured".to_owned()
                } else {
                    used.join(", ")
                }
            ),
        );
        for (name, i) in found {
            usage.pyun |= name.starts_with("P云");
            usage.mallcoo |= name == MALLCOO_OUT;
            let check = format!("park {} · {name}", park.fields.code);
            let mut detail = i.has.join(", ");
            let status = if !i.broken.is_empty() {
                detail = i.broken.join("; ");
                Status::Fail
            } else if !i.lacks.is_empty() {
                detail = format!("missing: {}; has: {detail}", i.lacks.join(", "));
                Status::Warn
            } else {
                Status::Ok
            };
            report.add(check, status, detail);
        }
    }
    usage
}

const PYUN_COUPONS: &str = "P云 coupons/VIP";
const PYUN_CARPARK: &str = "P云 car-park access";
const MALLCOO_IN: &str = "Mallcoo V1.4";
const MALLCOO_OUT: &str = "Mallcoo entry notices";

/// The integrations a car park uses (has at least one piece of), each with its pieces.
async fn integrations(
    db: &Db,
    park: &Park,
    creds: &HashMap<i64, CredentialView>,
) -> Result<Vec<(&'static str, Integration)>, sqlx::Error> {
    let f = &park.fields;
    let events = config::event_settings(db, park.id).await?;
    let products = config::products(db, park.id).await?;
    let active = products.iter().filter(|p| !p.archived).count();
    let mut out = Vec::new();

    let mut pyun = Integration::default();
    let cred = credential(creds, f.pyun_credential_id, CredentialKind::Pyun, &mut pyun);
    pyun.piece(cred, "P云 credential");
    pyun.piece(
        f.pyun_api_store_code
            .as_ref()
            .map(|_| "api_store_code".into()),
        "api_store_code (event coupons)",
    );
    pyun.piece(
        events
            .api_type
            .as_ref()
            .map(|t| format!("event api_type {t}")),
        "event api_type (event coupons)",
    );
    pyun.piece(
        f.pyun_merchant.as_ref().map(|_| "merchant".into()),
        "merchant number (coupon grants)",
    );
    pyun.piece(
        (active > 0).then(|| format!("{active} coupon code(s)")),
        "coupon codes (coupon grants)",
    );
    pyun.piece(
        f.pyun_park_uuid.as_ref().map(|_| "park_uuid".into()),
        "park_uuid (VIP sync)",
    );
    // park_uuid alone belongs to car-park access as much as to VIP sync: it does not say
    // that this car park sends coupons.
    let uuid_only = pyun.has.len() == usize::from(f.pyun_park_uuid.is_some());
    if !uuid_only || !pyun.broken.is_empty() {
        out.push((PYUN_COUPONS, pyun));
    }

    if f.pyun_carpark_credential_id.is_some() {
        let mut access = Integration::default();
        let cred = credential(
            creds,
            f.pyun_carpark_credential_id,
            CredentialKind::PyunCarpark,
            &mut access,
        );
        access.piece(cred, "car-park key pair");
        access.piece(
            f.pyun_park_uuid.as_ref().map(|u| format!("park_uuid {u}")),
            "park_uuid",
        );
        out.push((PYUN_CARPARK, access));
    }

    if f.mallcoo_park_id.is_some() || f.mallcoo_in_credential_id.is_some() {
        let mut inbound = Integration::default();
        inbound.piece(
            f.mallcoo_park_id.as_ref().map(|p| format!("parkId {p}")),
            "Mallcoo parkId",
        );
        let cred = credential(
            creds,
            f.mallcoo_in_credential_id,
            CredentialKind::MallcooInbound,
            &mut inbound,
        );
        inbound.piece(
            cred,
            "the key pair issued to Mallcoo (its calls are refused 401 without it)",
        );
        out.push((MALLCOO_IN, inbound));
    }

    if f.mallcoo_park_code.is_some() || f.mallcoo_out_credential_id.is_some() {
        let mut notices = Integration::default();
        notices.piece(
            f.mallcoo_park_code
                .as_ref()
                .map(|c| format!("ParkCode {c}")),
            "Mallcoo ParkCode",
        );
        let cred = credential(
            creds,
            f.mallcoo_out_credential_id,
            CredentialKind::MallcooOutbound,
            &mut notices,
        );
        notices.piece(cred, "Mallcoo open-platform credential");
        out.push((MALLCOO_OUT, notices));
    }
    Ok(out)
}

/// The linked credential's name when it is of `kind`; a link to another kind is broken.
fn credential(
    creds: &HashMap<i64, CredentialView>,
    id: Option<i64>,
    kind: CredentialKind,
    into: &mut Integration,
) -> Option<String> {
    let id = id?;
    match creds.get(&id) {
        Some(c) if c.kind == kind => Some(format!("credential '{}'", c.name)),
        Some(c) => {
            into.broken.push(format!(
                "credential '{}' is a {} credential, not {}",
                c.name,
                c.kind.as_str(),
                kind.as_str()
            ));
            None
        }
        None => {
            into.broken.push(format!("credential {id} does not exist"));
            None
        }
    }
}
