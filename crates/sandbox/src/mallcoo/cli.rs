//! `parkbridge sandbox mallcoo`: the Mallcoo sandbox's command-line options, run until Ctrl-C.

use std::net::SocketAddr;
use std::time::Duration;

use super::MallcooSandbox;

/// Options of `parkbridge sandbox mallcoo`.
#[derive(Debug, Clone, clap::Args)]
pub struct MallcooSandboxArgs {
    /// Address to listen on; keep it on loopback, the control API has no authentication.
    #[arg(long, default_value = "127.0.0.1:9401")]
    pub listen: SocketAddr,
    /// A key pair whose signatures are accepted, as APP_ID:PUBLIC_KEY:PRIVATE_KEY (repeatable).
    #[arg(long = "app", value_name = "APP_ID:PUBLIC_KEY:PRIVATE_KEY", value_parser = parse_app)]
    pub apps: Vec<(String, String, String)>,
    /// A ParkCode Mallcoo knows; others are answered Code 1101 (repeatable).
    #[arg(long = "park-code", value_name = "PARK_CODE")]
    pub park_codes: Vec<String>,
    /// Latency added before every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
}

/// Splits `app:public:private` at the first two `:` (the private key may contain more).
fn parse_app(text: &str) -> Result<(String, String, String), String> {
    let mut parts = text.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(p), Some(s)) if !a.is_empty() && !p.is_empty() && !s.is_empty() => {
            Ok((a.to_owned(), p.to_owned(), s.to_owned()))
        }
        // The text may hold a private key: the error does not repeat it.
        _ => Err("expected APP_ID:PUBLIC_KEY:PRIVATE_KEY".to_owned()),
    }
}

/// Configures a sandbox from the arguments and serves it until Ctrl-C.
pub async fn run_cli(args: MallcooSandboxArgs) -> std::io::Result<()> {
    let sandbox = MallcooSandbox::new();
    for (app_id, public_key, private_key) in &args.apps {
        sandbox.add_app(app_id, public_key, private_key);
    }
    for code in &args.park_codes {
        sandbox.add_park_code(code);
    }
    sandbox.set_latency(Duration::from_millis(args.latency_ms));
    let running = sandbox.start(args.listen).await?;
    println!("Mallcoo sandbox listening on {}", running.base_url);
    tokio::signal::ctrl_c().await?;
    drop(running);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: MallcooSandboxArgs,
    }

    #[test]
    fn defaults_and_repeated_options() {
        use clap::Parser;
        let cli = Cli::try_parse_from([
            "mallcoo",
            "--app",
            "a1:PK1:SK:1",
            "--park-code",
            "P001",
            "--park-code",
            "P002",
        ])
        .unwrap();
        assert_eq!(cli.args.listen, "127.0.0.1:9401".parse().unwrap());
        assert_eq!(
            cli.args.apps,
            [("a1".to_owned(), "PK1".to_owned(), "SK:1".to_owned())]
        );
        assert_eq!(cli.args.park_codes, ["P001", "P002"]);
        assert_eq!(cli.args.latency_ms, 0);
        let err = Cli::try_parse_from(["mallcoo", "--app", "a1:PK1"])
            .err()
            .unwrap();
        assert!(!err.to_string().contains("PK1:"), "{err}");
    }
}
