//! `parkbridge sandbox pyun`: the P云 sandbox's command-line options, run until Ctrl-C.

use std::net::SocketAddr;
use std::time::Duration;

use super::{CarParkRegistration, PyunSandbox};

/// Options of `parkbridge sandbox pyun`.
#[derive(Debug, Clone, clap::Args)]
pub struct PyunSandboxArgs {
    /// Address to listen on; keep it on loopback, the control API has no authentication.
    #[arg(long, default_value = "127.0.0.1:9400")]
    pub listen: SocketAddr,
    /// A P云 app whose signatures are accepted, as APP_ID:SECRET (repeatable).
    #[arg(long = "app", value_name = "APP_ID:SECRET", value_parser = parse_pair)]
    pub apps: Vec<(String, String)>,
    /// An event api_type P云 knows (repeatable).
    #[arg(long = "api-type", value_name = "API_TYPE")]
    pub api_types: Vec<String>,
    /// A coupon product P云 knows, for grants (repeatable).
    #[arg(long = "coupon-code", value_name = "COUPON_CODE")]
    pub coupon_codes: Vec<String>,
    /// A car park accepting VIP recharges signed by an app, as PARK_UUID:APP_ID (repeatable).
    #[arg(long = "vip-park", value_name = "PARK_UUID:APP_ID", value_parser = parse_pair)]
    pub vip_parks: Vec<(String, String)>,
    /// Every plate counts as parked (demo, bench).
    #[arg(long)]
    pub any_plate_parked: bool,
    /// Successful coupons per plate before `1003`.
    #[arg(long, default_value_t = 10)]
    pub plate_limit: u32,
    /// A car park having the sandbox as its P云 cloud, as
    /// PARK_UUID,GATEWAY_URL,DOWNLINK_KEY,UPLOAD_SECRET (repeatable; more via the control API).
    #[arg(long = "carpark", value_name = "PARK_UUID,GATEWAY_URL,DOWNLINK_KEY,UPLOAD_SECRET", value_parser = parse_carpark)]
    pub carparks: Vec<CarParkRegistration>,
    /// Calls `service.parking.realtime` on every registered car park every N seconds, as P云
    /// polls; 0 or absent: never.
    #[arg(long, value_name = "N")]
    pub realtime_every_secs: Option<u64>,
}

/// Splits the four comma-separated parts of `--carpark` and checks them as a registration does.
fn parse_carpark(text: &str) -> Result<CarParkRegistration, String> {
    let parts: Vec<&str> = text.splitn(4, ',').collect();
    let [park_uuid, gateway_url, downlink_key, upload_secret] = parts[..] else {
        return Err(format!(
            "`{text}` is not PARK_UUID,GATEWAY_URL,DOWNLINK_KEY,UPLOAD_SECRET"
        ));
    };
    let reg = CarParkRegistration {
        park_uuid: park_uuid.to_owned(),
        gateway_url: gateway_url.to_owned(),
        downlink_key: downlink_key.to_owned(),
        upload_secret: upload_secret.to_owned(),
        api_store_code: None,
        merchant: None,
    };
    reg.validate()?;
    Ok(reg)
}

/// Splits `left:right` at the first `:`; both sides must be non-empty.
fn parse_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once(':') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a.to_owned(), b.to_owned())),
        _ => Err(format!("`{text}` is not of the form LEFT:RIGHT")),
    }
}

/// Configures a sandbox from the arguments and serves it until Ctrl-C.
pub async fn run_cli(args: PyunSandboxArgs) -> std::io::Result<()> {
    let sandbox = PyunSandbox::new();
    for (app_id, secret) in &args.apps {
        sandbox.add_app(app_id, secret);
    }
    for api_type in &args.api_types {
        sandbox.add_api_type(api_type);
    }
    for code in &args.coupon_codes {
        sandbox.add_coupon_code(code);
    }
    for (park_uuid, app_id) in &args.vip_parks {
        sandbox.add_vip_park(park_uuid, app_id);
    }
    sandbox.set_any_plate_parked(args.any_plate_parked);
    sandbox.set_plate_limit(args.plate_limit);
    for reg in args.carparks {
        sandbox
            .register_carpark(reg)
            .map_err(std::io::Error::other)?;
    }
    let running = sandbox.start(args.listen).await?;
    println!("P云 sandbox listening on {}", running.base_url);
    let poll = args
        .realtime_every_secs
        .filter(|n| *n > 0)
        .map(|n| sandbox.poll_realtime_every(Duration::from_secs(n)));
    tokio::signal::ctrl_c().await?;
    if let Some(poll) = poll {
        poll.abort();
    }
    drop(running);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: PyunSandboxArgs,
    }

    #[test]
    fn defaults_and_repeated_options() {
        use clap::Parser;
        let cli = Cli::try_parse_from([
            "pyun",
            "--app",
            "op1:s1",
            "--app",
            "op2:s2",
            "--api-type",
            "EV",
            "--coupon-code",
            "c1",
            "--any-plate-parked",
        ])
        .unwrap();
        assert_eq!(cli.args.listen, "127.0.0.1:9400".parse().unwrap());
        assert_eq!(cli.args.apps.len(), 2);
        assert_eq!(cli.args.apps[1], ("op2".to_owned(), "s2".to_owned()));
        assert_eq!(cli.args.api_types, ["EV"]);
        assert_eq!(cli.args.coupon_codes, ["c1"]);
        assert!(cli.args.any_plate_parked);
        assert_eq!(cli.args.plate_limit, 10);
        assert_eq!(cli.args.realtime_every_secs, None);
        assert!(cli.args.carparks.is_empty());
        assert!(Cli::try_parse_from(["pyun", "--app", "no-secret"]).is_err());
    }

    #[test]
    fn car_parks_and_the_realtime_poll() {
        use clap::Parser;
        let cli = Cli::try_parse_from([
            "pyun",
            "--carpark",
            "P1,http://127.0.0.1:8080/pyun/gateway,key,se,cret",
            "--realtime-every-secs",
            "30",
        ])
        .unwrap();
        assert_eq!(cli.args.realtime_every_secs, Some(30));
        let reg = &cli.args.carparks[0];
        assert_eq!(reg.park_uuid, "P1");
        assert_eq!(reg.gateway_url, "http://127.0.0.1:8080/pyun/gateway");
        assert_eq!(reg.downlink_key, "key");
        assert_eq!(reg.upload_secret, "se,cret", "the secret keeps its commas");
        for bad in [
            "P1,http://x/gw,key",
            "P1,ftp://x,key,secret",
            ",http://x/gw,k,s",
        ] {
            assert!(
                Cli::try_parse_from(["pyun", "--carpark", bad]).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn pairs_split_at_the_first_colon() {
        assert_eq!(
            parse_pair("op1:se:cret"),
            Ok(("op1".to_owned(), "se:cret".to_owned()))
        );
        assert!(parse_pair("op1").is_err());
        assert!(parse_pair(":x").is_err());
    }
}
