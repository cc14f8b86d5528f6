//! `parkbridge user add`: bootstrapping the first admin (and any user) from the shell.

use std::io::BufRead;

use clap::Subcommand;
use serde_json::json;

use super::DbArgs;
use crate::accounts::{Role, password, users};
use crate::audit;
use crate::storage::unique_violation;

/// User commands.
#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Create a user; the password is asked for, or read from stdin with --password-stdin.
    Add {
        /// Sign-in name.
        #[arg(long)]
        username: String,
        /// admin, property_manager or mall_staff.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the password from the first line of stdin instead of prompting.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    match Role::parse(s) {
        // A merchant is bound to a shop: an admin creates it with `POST /api/v1/users`.
        Some(Role::Merchant) | None => Err(
            "expected admin, property_manager or mall_staff (a merchant is created for its shop with the API)"
                .to_owned(),
        ),
        Some(role) => Ok(role),
    }
}

/// Runs a user command.
pub(crate) async fn run(cmd: UserCommand) -> Result<(), Box<dyn std::error::Error>> {
    match cmd {
        UserCommand::Add {
            username,
            role,
            password_stdin,
            db,
        } => {
            let pw = if password_stdin {
                read_stdin_line()?
            } else {
                prompt_twice()?
            };
            if pw.chars().count() < password::MIN_LEN {
                return Err(format!("password: at least {} characters", password::MIN_LEN).into());
            }
            let db = db.open().await?;
            let hash = password::hash(pw).await;
            users::create(&db, &username, &hash, role, &[])
                .await
                .map_err(|e| -> Box<dyn std::error::Error> {
                    if unique_violation(&e).is_some() {
                        format!("username {username} is already taken").into()
                    } else {
                        e.into()
                    }
                })?;
            audit::record(
                &db,
                "cli",
                "user.create",
                &format!("user:{username}"),
                json!({ "role": role }),
            )
            .await?;
            println!("created {} {username}", role.as_str());
            Ok(())
        }
    }
}

fn read_stdin_line() -> Result<String, Box<dyn std::error::Error>> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn prompt_twice() -> Result<String, Box<dyn std::error::Error>> {
    let first = rpassword::prompt_password("Password: ").map_err(|e| {
        format!("cannot read a password from the terminal ({e}); use --password-stdin")
    })?;
    let second = rpassword::prompt_password("Again: ")?;
    if first != second {
        return Err("the two passwords differ".into());
    }
    Ok(first)
}
