//! The demo's Mallcoo: a sandbox served inside the demo process that receives the demo car
//! park's entry notices, and the car park wired to it — Mallcoo `ParkCode` and `parkId`, an
//! outbound credential for the notices and an inbound key pair for Mallcoo's V1.4 calls (which
//! the demo's own traffic simulation signs with, see `demo_traffic`).
//!
//! Idempotent like `demo_pyun`: a restart on the same data directory finds the credentials and
//! re-seals this start's keys (the sandbox is new each start and knows only those).

use std::net::{Ipv4Addr, SocketAddr};

use sandbox::mallcoo::client::ClientKeys;
use sandbox::mallcoo::{MallcooSandbox, RunningSandbox};

use crate::credentials::{self, CredentialKind, PublicParts};
use crate::parks;
use crate::secrets::{Secret, SecretBox};
use crate::storage::Db;
use crate::tokens;

/// The demo's Mallcoo open-platform `AppID` (entry notices).
const OUT_APP_ID: &str = "demo-mallcoo-app";
/// The name of the stored outbound credential.
const OUT_CREDENTIAL: &str = "demo-mallcoo-out";
/// The name of the stored inbound key pair.
const IN_CREDENTIAL: &str = "demo-mallcoo-in";
/// The `AppID` of the inbound key pair: fixed, so the demo's Mallcoo client finds it again.
const IN_APP_ID: &str = "demo-mallcoo-in";
/// The demo car park's Mallcoo `ParkCode` (entry notices), known to the sandbox.
pub(super) const PARK_CODE: &str = "DEMO-MALL-P001";
/// The demo car park's Mallcoo `parkId` (V1.4 calls).
pub(super) const MALLCOO_PARK_ID: &str = "demo-mall-park";

/// The outbound key pair of this start: known to the sandbox and sealed in the credential.
pub(super) struct OutKeys {
    public_key: String,
    private_key: Secret,
}

/// Starts the sandbox on a free loopback port, knowing a fresh key pair and the demo ParkCode.
///
/// The private key lives only in this process: it is never printed, so a new one is made at
/// each start.
pub(super) async fn start_sandbox() -> std::io::Result<(RunningSandbox, OutKeys)> {
    let keys = OutKeys {
        public_key: tokens::random_hex(16),
        private_key: Secret::new(tokens::random_hex(32)),
    };
    let sandbox = MallcooSandbox::new();
    sandbox.add_app(OUT_APP_ID, &keys.public_key, keys.private_key.expose());
    sandbox.add_park_code(PARK_CODE);
    // Loopback only: the sandbox's control API has no authentication.
    let running = sandbox
        .start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await?;
    Ok((running, keys))
}

/// Stores (or re-seals) both credentials and points car park `park_id` at them; returns the
/// inbound keys, for the demo's Mallcoo client.
pub(super) async fn configure(
    db: &Db,
    secrets: &SecretBox,
    park_id: i64,
    out: &OutKeys,
) -> Result<ClientKeys, Box<dyn std::error::Error>> {
    let out_id = ensure_credential(
        db,
        secrets,
        OUT_CREDENTIAL,
        CredentialKind::MallcooOutbound,
        &PublicParts {
            app_id: OUT_APP_ID.to_owned(),
            public_key: Some(out.public_key.clone()),
        },
        &out.private_key,
    )
    .await?;
    let issued = credentials::issue_inbound_keys(Some(IN_APP_ID.to_owned()));
    let in_id = ensure_credential(
        db,
        secrets,
        IN_CREDENTIAL,
        CredentialKind::MallcooInbound,
        &PublicParts {
            app_id: issued.app_id.clone(),
            public_key: Some(issued.public_key.clone()),
        },
        &issued.private_key,
    )
    .await?;
    let mut park = parks::get(db, park_id)
        .await?
        .ok_or("the demo car park vanished")?;
    park.fields.mallcoo_park_id = Some(MALLCOO_PARK_ID.to_owned());
    park.fields.mallcoo_park_code = Some(PARK_CODE.to_owned());
    park.fields.mallcoo_out_credential_id = Some(out_id);
    park.fields.mallcoo_in_credential_id = Some(in_id);
    parks::update(db, park_id, &park.fields).await?;
    Ok(ClientKeys {
        app_id: issued.app_id,
        public_key: issued.public_key,
        private_key: issued.private_key.expose().to_owned(),
    })
}

/// Creates credential `name` of `kind`, or replaces its keys with this start's; returns its id.
async fn ensure_credential(
    db: &Db,
    secrets: &SecretBox,
    name: &str,
    kind: CredentialKind,
    public: &PublicParts,
    secret: &Secret,
) -> Result<i64, Box<dyn std::error::Error>> {
    let existing = credentials::list(db)
        .await?
        .into_iter()
        .find(|c| c.name == name);
    match existing {
        Some(c) if c.kind == kind => {
            credentials::replace(db, secrets, c.id, kind, public, secret).await?;
            Ok(c.id)
        }
        // Not ours to overwrite: someone named another kind of credential like the demo's.
        Some(_) => Err(format!("credential `{name}` exists and is not {}", kind.as_str()).into()),
        None => Ok(credentials::create(db, secrets, name, kind, public, secret).await?),
    }
}
