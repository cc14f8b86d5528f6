//! `parkbridge apikey create | revoke`: machine clients' keys from the shell, for bootstrapping a
//! gate controller before anyone has signed in.

use clap::Subcommand;
use serde_json::json;

use super::DbArgs;
use crate::api_keys::{self, NewKey, Scope};
use crate::audit;

/// API key commands.
#[derive(Debug, Subcommand)]
pub(crate) enum ApiKeyCommand {
    /// Create a key and print it once on stdout (only its hash is stored).
    Create {
        /// What the key is for, e.g. "north gate controller".
        #[arg(long)]
        name: String,
        /// Comma-separated scopes: gate, coupons, vip, discounts.
        #[arg(long, value_delimiter = ',', required = true, value_parser = parse_scope)]
        scopes: Vec<Scope>,
        /// Code of the one car park the key may act on; all car parks when absent.
        #[arg(long)]
        park: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a key; requests with it are refused from then on.
    Revoke {
        /// The key's public prefix (`pbk_<prefix>_…`, as listed), with or without `pbk_`.
        #[arg(long)]
        prefix: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

fn parse_scope(s: &str) -> Result<Scope, String> {
    Scope::parse(s.trim())
        .ok_or_else(|| format!("unknown scope {s:?}; expected gate, coupons or vip"))
}

/// Runs an API key command.
pub(crate) async fn run(cmd: ApiKeyCommand) -> Result<(), Box<dyn std::error::Error>> {
    match cmd {
        ApiKeyCommand::Create {
            name,
            scopes,
            park,
            db,
        } => {
            let name = name.trim();
            api_keys::validate(name, &scopes)?;
            let db = db.open().await?;
            let park_id = match &park {
                Some(code) => Some(
                    api_keys::park_id_by_code(&db, code)
                        .await?
                        .ok_or_else(|| format!("no car park with code {code:?}"))?,
                ),
                None => None,
            };
            let (key, view) = api_keys::create(
                &db,
                NewKey {
                    name,
                    scopes: &scopes,
                    park_id,
                    created_by: None,
                },
            )
            .await?;
            audit::record(
                &db,
                "cli",
                "api_key.create",
                &format!("apikey:{}", view.prefix),
                json!({ "name": view.name, "scopes": view.scopes, "park_id": view.park_id }),
            )
            .await?;
            // stdout carries the key alone, so scripts can capture it; the rest goes to stderr.
            println!("{key}");
            eprintln!(
                "created API key {:?} (prefix {}); store it now, it is not shown again",
                view.name, view.prefix
            );
            Ok(())
        }
        ApiKeyCommand::Revoke { prefix, db } => {
            let db = db.open().await?;
            let found = api_keys::find_by_prefix(&db, &prefix)
                .await?
                .ok_or_else(|| format!("no API key with prefix {prefix:?}"))?;
            let view = api_keys::revoke(&db, found.id)
                .await?
                .ok_or_else(|| format!("no API key with prefix {prefix:?}"))?;
            audit::record(
                &db,
                "cli",
                "api_key.revoke",
                &format!("apikey:{}", view.prefix),
                json!({ "name": view.name }),
            )
            .await?;
            println!("revoked API key {} ({})", view.prefix, view.name);
            Ok(())
        }
    }
}
