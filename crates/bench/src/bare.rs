//! The baseline of the Mallcoo scenario: a bare axum JSON endpoint in a process of its own
//! (`pb-bench --serve-bare`), measured with the same load tool in the same run as the gateway's
//! GetParkingPaymentInfo.
//!
//! It decodes the same request type and answers a quote-sized JSON: no signature check, no
//! database. A separate process, like the gateway: served from the load tool's own runtime it
//! would compete with the load tasks for the same threads, and its figure moved by a factor of
//! two from run to run.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use axum::Json;
use axum::routing::post;
use protocol::mallcoo::PaymentInfoRequest;
use serde_json::{Value, json};

/// The path the baseline serves.
pub const PATH: &str = "/json";

/// What `pb-bench --serve-bare` prints first, followed by its base URL.
const LISTENING: &str = "bare listening on ";

async fn answer(Json(req): Json<PaymentInfoRequest>) -> Json<Value> {
    Json(json!({
        "resCode": 0, "resMsg": "", "feeId": "v2-1-1764000000000-1300-0-0-1300",
        "entryTime": "2026-11-24 10:00:00", "parkingMinutes": 75, "totalAmount": 1300,
        "unPayAmount": 1300, "deductionAmount": 0, "paidAmount": 0, "plateNo": req.plate_no
    }))
}

/// Serves the baseline on a free loopback port until the process is killed.
pub async fn serve() -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot bind the bare endpoint: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("{LISTENING}http://{addr}");
    let app = axum::Router::new().route(PATH, post(answer));
    axum::serve(listener, app)
        .await
        .map_err(|e| format!("bare endpoint: {e}"))
}

/// The baseline running as a child process; killed on drop.
#[derive(Debug)]
pub struct BareServer {
    child: Child,
    /// The endpoint's URL.
    pub url: String,
}

impl BareServer {
    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts `pb-bench --serve-bare` (this executable) and reads its address.
    pub fn start() -> Result<BareServer, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find pb-bench: {e}"))?;
        let mut child = Command::new(exe)
            .arg("--serve-bare")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the bare endpoint: {e}"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| "bare endpoint: no stdout".to_owned())?;
        let mut line = String::new();
        // Set-up, before anything is measured: blocking here costs nothing.
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| format!("bare endpoint: {e}"))?;
        let base = line
            .trim()
            .strip_prefix(LISTENING)
            .ok_or_else(|| format!("bare endpoint printed {line:?}"))?;
        Ok(BareServer {
            url: format!("{base}{PATH}"),
            child,
        })
    }
}

impl Drop for BareServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
