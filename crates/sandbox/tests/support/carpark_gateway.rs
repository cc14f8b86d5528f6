//! A tiny car-park gateway on loopback standing in for ParkBridge's: it verifies every call with
//! the protocol crate's `gateway::receive` (so `1401`/`1503`/`1400` are the real refusals),
//! keeps what it received, and answers from a script the test sets.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Router, routing::post};
use protocol::plate::Plate;
use protocol::pyun_carpark::billing::BillingOrder;
use protocol::pyun_carpark::{
    DownlinkRequest, Members, RealtimeReply, Reply, ResultCode, Service, receive,
};
use tokio::task::JoinHandle;

/// The key the gateway and the sandbox share.
pub(crate) const KEY: &str = "pb-demo-key-2025";

/// How the gateway signs its replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signing {
    /// With `KEY`.
    Key,
    /// With another key: the sandbox must say `sign_ok: false`.
    WrongKey,
    /// No `sign` at all: `sign_ok: null`.
    Unsigned,
}

/// The open order billing answers with; `None` makes billing answer `1002`.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub(crate) parking_serial: String,
    pub(crate) parking_order: String,
    pub(crate) total: i64,
    pub(crate) free: i64,
}

/// What the gateway answers.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    pub(crate) order: Option<Order>,
    pub(crate) signing: Signing,
    pub(crate) http_status: u16,
}

impl Default for Script {
    fn default() -> Script {
        Script {
            order: None,
            signing: Signing::Key,
            http_status: 200,
        }
    }
}

/// One call as received.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) content_type: Option<String>,
    pub(crate) body: String,
    /// Each member's text; every value must have arrived as a JSON string.
    pub(crate) members: BTreeMap<String, String>,
    pub(crate) all_strings: bool,
    /// The code the gateway answered.
    pub(crate) code: String,
}

impl Received {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.members.get(name).map(String::as_str)
    }
}

#[derive(Default)]
struct Inner {
    script: Script,
    received: Vec<Received>,
}

/// The gateway, served until dropped.
pub(crate) struct Gateway {
    pub(crate) url: String,
    inner: Arc<Mutex<Inner>>,
    task: JoinHandle<()>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Gateway {
    pub(crate) async fn start() -> Gateway {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/pyun/gateway", post(handle))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Gateway {
            url: format!("http://{addr}/pyun/gateway"),
            inner,
            task,
        }
    }

    pub(crate) fn script(&self, f: impl FnOnce(&mut Script)) {
        f(&mut self.inner.lock().unwrap().script);
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// Waits (bounded) until `n` calls arrived.
    pub(crate) async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the gateway got {} calls, not {n}", self.received().len());
    }
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let script = inner.lock().unwrap().script.clone();
    let reply = match receive(&body, Some(KEY)) {
        Err(rejected) => rejected.reply,
        Ok(accepted) => match accepted.request {
            DownlinkRequest::Billing(_) => match &script.order {
                Some(o) => order(o).reply(),
                None => Reply::of(
                    Service::PaymentBilling,
                    ResultCode::NotFound,
                    "未查询到停车信息",
                ),
            },
            DownlinkRequest::PaymentResult(_) => {
                Reply::of(Service::PaymentResult, ResultCode::Ok, "成功")
            }
            DownlinkRequest::DiscountCreate(_) => {
                Reply::of(Service::DiscountCreate, ResultCode::Ok, "成功")
            }
            DownlinkRequest::DiscountDestroy(_) => Reply::of(
                Service::DiscountDestroy,
                ResultCode::NotFound,
                "派发信息未找到",
            ),
            DownlinkRequest::Realtime => RealtimeReply {
                total: 500,
                parking: 3,
                charge_json: r#"{"type":1}"#.into(),
                charge_depict: "3元/小时".into(),
            }
            .reply(),
        },
    };
    let key = match script.signing {
        Signing::Key => Some(KEY),
        Signing::WrongKey => Some("another key"),
        Signing::Unsigned => None,
    };
    let text = String::from_utf8_lossy(&body).into_owned();
    let (members, all_strings) = match Members::parse(&body) {
        Ok(m) => (
            m.iter()
                .map(|(k, v)| (k.to_owned(), v.text.clone()))
                .collect(),
            m.iter()
                .all(|(_, v)| v.kind == protocol::pyun_carpark::members::JsonKind::String),
        ),
        Err(_) => (BTreeMap::new(), false),
    };
    inner.lock().unwrap().received.push(Received {
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: text,
        members,
        all_strings,
        code: reply.code().as_str().to_owned(),
    });
    let status = StatusCode::from_u16(script.http_status).unwrap();
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        reply.to_json(key),
    )
        .into_response()
}

fn order(o: &Order) -> BillingOrder {
    let enter = chrono::Utc::now() - chrono::Duration::hours(2);
    BillingOrder {
        plate: Some(Plate::parse("粤B660PP").unwrap()),
        card_id: None,
        parking_serial: o.parking_serial.clone(),
        parking_order: o.parking_order.clone(),
        enter_time: enter,
        parking_time: 7200,
        total_value: o.total,
        free_value: o.free,
        paid_value: 0,
        pay_value: (o.total - o.free).max(0),
        enter_free_time: None,
        buffer_time: Some(900),
        parking_number: None,
        car_type: Some(1),
        car_desc: Some("临停车".into()),
        plate_type: None,
        plate_color: None,
        recharge_expire_days: None,
        next_time: None,
        next_value: None,
    }
}
