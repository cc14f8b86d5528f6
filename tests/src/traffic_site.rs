//! Car park traffic for the dashboard tests: a fixed set of visits over two Shanghai days, fed
//! through the real gate API, and the figures they must produce — computed here from the visits
//! alone, so the API test, the browser test and a GetTraffic comparison share one expectation.

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use protocol::mallcoo::{PayChannel, PayFeeRequest, PayType, PaymentInfoRequest};
use reqwest::{Client, Method};
use sandbox::mallcoo::client::{ClientKeys, MallcooClient};
use serde_json::{Value, json};

use crate::coupon_site::send;
use crate::server::TestServer;
use crate::vip_site::VipSite;

/// How a visit ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaves {
    /// An exit event at this instant.
    At(DateTime<Utc>),
    /// Still inside.
    Open,
    /// The camera missed the exit: the plate's next entry closes it as `no_exit_seen`.
    Missed,
}

/// One stay of a car.
#[derive(Debug, Clone)]
pub struct Visit {
    /// The plate.
    pub plate: String,
    /// Entry instant.
    pub entry: DateTime<Utc>,
    /// How it ends.
    pub leaves: Leaves,
}

/// The first of the two days: four days before today in Shanghai, so every event is in the past.
pub fn first_day() -> NaiveDate {
    protocol::time::to_shanghai(Utc::now()).date_naive() - Days::new(4)
}

/// The instant `hour:minute` Shanghai time on `day`.
pub fn at(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let local = day.and_hms_opt(hour, minute, 0).expect("valid time");
    local.and_utc() - TimeDelta::hours(8)
}

/// The visits: busy mornings and evenings on both days, a stay across midnight, a car that
/// entered the day before and left on the first day, one that leaves after the second day,
/// cars still inside, and a missed exit.
pub fn two_days() -> Vec<Visit> {
    let d1 = first_day();
    let d0 = d1 - Days::new(1);
    let d2 = d1 + Days::new(1);
    let d3 = d2 + Days::new(1);
    let v = |n: u32, entry: DateTime<Utc>, leaves: Leaves| Visit {
        plate: format!("沪A{:05}", 10000 + n),
        entry,
        leaves,
    };
    let mut visits = vec![
        // Entered the evening before the range, left in its first morning.
        v(1, at(d0, 22, 10), Leaves::At(at(d1, 8, 5))),
        v(2, at(d1, 8, 0), Leaves::At(at(d1, 9, 30))),
        v(3, at(d1, 8, 20), Leaves::At(at(d1, 8, 55))),
        v(4, at(d1, 8, 59), Leaves::At(at(d1, 12, 0))),
        v(5, at(d1, 9, 0), Leaves::At(at(d1, 18, 45))),
        v(6, at(d1, 13, 15), Leaves::At(at(d1, 13, 40))),
        // Across midnight into the second day.
        v(7, at(d1, 19, 30), Leaves::At(at(d2, 1, 10))),
        v(8, at(d1, 23, 59), Leaves::At(at(d2, 0, 0))),
        v(9, at(d2, 7, 45), Leaves::At(at(d2, 10, 15))),
        v(10, at(d2, 8, 10), Leaves::At(at(d2, 8, 40))),
        v(11, at(d2, 8, 30), Leaves::Open),
        v(12, at(d2, 12, 0), Leaves::At(at(d2, 14, 0))),
        // Leaves the morning after the range: inside at its end.
        v(13, at(d2, 20, 0), Leaves::At(at(d3, 9, 0))),
        v(14, at(d2, 23, 30), Leaves::Open),
        // Exit missed; the same car comes back in the evening and stays.
        v(15, at(d2, 9, 5), Leaves::Missed),
        v(15, at(d2, 17, 20), Leaves::Open),
    ];
    visits.sort_by_key(|v| v.entry);
    visits
}

/// What the dashboard must show for the two days of `two_days()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// First instant of the range.
    pub start: DateTime<Utc>,
    /// Entries per hour (48).
    pub entries: Vec<i64>,
    /// Exits per hour (48).
    pub exits: Vec<i64>,
    /// Cars inside at the end of each hour (48); missed exits are never counted inside.
    pub occupancy: Vec<i64>,
    /// Entries in the range: GetTraffic's `inNum` for the same range.
    pub total_in: i64,
    /// Exits in the range: GetTraffic's `outNum`.
    pub total_out: i64,
    /// Open sessions now.
    pub inside_now: i64,
}

impl Expected {
    /// Counts `visits` over the 48 hours from `first_day()` 00:00 Shanghai.
    pub fn of(visits: &[Visit]) -> Expected {
        let start = at(first_day(), 0, 0);
        let hour = |i: usize| start + TimeDelta::hours(i as i64);
        let within = |t: DateTime<Utc>, i: usize| hour(i) <= t && t < hour(i + 1);
        let mut e = Expected {
            start,
            entries: vec![0; 48],
            exits: vec![0; 48],
            occupancy: vec![0; 48],
            total_in: 0,
            total_out: 0,
            inside_now: visits.iter().filter(|v| v.leaves == Leaves::Open).count() as i64,
        };
        for i in 0..48 {
            let end = hour(i + 1);
            for v in visits {
                e.entries[i] += i64::from(within(v.entry, i));
                let inside = match v.leaves {
                    Leaves::At(t) => {
                        e.exits[i] += i64::from(within(t, i));
                        v.entry < end && t >= end
                    }
                    Leaves::Open => v.entry < end,
                    Leaves::Missed => false,
                };
                e.occupancy[i] += i64::from(inside);
            }
        }
        e.total_in = e.entries.iter().sum();
        e.total_out = e.exits.iter().sum();
        e
    }

    /// The range as the dashboard takes it: `from` and `to` days, `YYYY-MM-DD`.
    pub fn days() -> (String, String) {
        let d1 = first_day();
        (d1.to_string(), (d1 + Days::new(1)).to_string())
    }
}

/// Sends every entry and exit of `visits` in time order through the gate API of car park
/// `park_code`, with a `gate` key.
pub async fn feed(server: &TestServer, gate: &Client, park_code: &str, visits: &[Visit]) {
    let mut events: Vec<(DateTime<Utc>, bool, &str)> = Vec::new();
    for v in visits {
        events.push((v.entry, true, &v.plate));
        if let Leaves::At(t) = v.leaves {
            events.push((t, false, &v.plate));
        }
    }
    // At one instant an exit goes first: the car leaving frees its place before the next enters.
    events.sort_by_key(|(t, is_entry, _)| (*t, *is_entry));
    for (t, is_entry, plate) in events {
        let path = if is_entry { "entries" } else { "exits" };
        let (status, body) = send(
            gate,
            Method::POST,
            &server.url(&format!("/api/v1/gate/{path}")),
            Some(json!({"park": park_code, "plate": plate, "time": t.to_rfc3339()})),
        )
        .await;
        assert!(
            status.is_success(),
            "{path} {plate} at {t}: {status} {body}"
        );
        if !is_entry {
            assert_eq!(body["anomaly"], false, "exit of {plate}: {body}");
        }
    }
}

/// The password of the people `add_person` creates.
pub const PERSON_PASSWORD: &str = "traffic-password-1";

/// Adds a person `name` with `role` who may act on car parks `parks` (through the admin API),
/// for browser tests that sign in by name.
pub async fn add_person(site: &VipSite, name: &str, role: &str, parks: &[i64]) {
    site.server.add_user(name, role, PERSON_PASSWORD);
    let (status, users) = send(
        &site.admin,
        Method::GET,
        &site.server.url("/api/v1/users"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{users}");
    let id = users
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["username"] == name)
        .and_then(|u| u["id"].as_i64())
        .expect("the new user");
    let (status, body) = send(
        &site.admin,
        Method::PUT,
        &site.server.url(&format!("/api/v1/users/{id}")),
        Some(json!({ "parks": parks })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// Issues a Mallcoo inbound key pair for car park `park_id` of `site`, gives the car park
/// Mallcoo's `parkId` `mallcoo_park_id` (its other settings kept), and returns a V1.4 client
/// signing with those keys — so payments and traffic reach the gateway as Mallcoo sends them.
pub async fn mallcoo_client(site: &VipSite, park_id: i64, mallcoo_park_id: &str) -> MallcooClient {
    let (status, created) = send(
        &site.admin,
        Method::POST,
        &site.server.url("/api/v1/credentials"),
        Some(json!({"name": format!("mallcoo-in-{park_id}"), "kind": "mallcoo_inbound"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let issued = &created["issued"];
    let text = |v: &Value| v.as_str().expect("issued key").to_owned();
    let keys = ClientKeys {
        app_id: text(&issued["app_id"]),
        public_key: text(&issued["public_key"]),
        private_key: text(&issued["private_key"]),
    };
    let url = site.server.url(&format!("/api/v1/parks/{park_id}"));
    let (status, park) = send(&site.admin, Method::GET, &url, None).await;
    assert_eq!(status, 200, "{park}");
    let mut body = json!({
        "mallcoo_park_id": mallcoo_park_id,
        "mallcoo_in_credential_id": created["credential"]["id"],
    });
    for field in [
        "code",
        "name",
        "pyun_park_uuid",
        "pyun_api_store_code",
        "pyun_merchant",
        "mallcoo_park_code",
        "tariff",
        "pyun_credential_id",
        "mallcoo_out_credential_id",
    ] {
        if !park[field].is_null() {
            body[field] = park[field].clone();
        }
    }
    let (status, updated) = send(&site.admin, Method::PUT, &url, Some(body)).await;
    assert_eq!(status, 200, "{updated}");
    MallcooClient::new(
        &site.server.base_url,
        keys,
        Some(mallcoo_park_id.to_owned()),
    )
}

/// Quotes `plate` with `free_amount` fen of benefits and pays the rest through PayParkingFee
/// as order `order` by `(channel, pay_type)`; returns `(amount, deduction)` paid, in fen.
pub async fn pay(
    client: &MallcooClient,
    plate: &str,
    order: &str,
    free_amount: i64,
    (channel, pay_type): (PayChannel, PayType),
) -> (i64, i64) {
    let quoted = client
        .payment_info(&PaymentInfoRequest {
            park_id: None,
            plate_no: Some(plate.to_owned()),
            barcode: None,
            free_minutes: 0,
            free_amount,
        })
        .await
        .expect("GetParkingPaymentInfo answered");
    let quote = quoted
        .answer
        .and_then(|a| a.quote)
        .unwrap_or_else(|| panic!("no quote for {plate}: {}", quoted.body));
    let paid = client
        .pay_fee(&PayFeeRequest {
            park_id: None,
            fee_id: quote.fee_id,
            order_no: order.to_owned(),
            third_trade_no: Some(format!("t-{order}")),
            plate_no: Some(plate.to_owned()),
            barcode: None,
            pay_time: Utc::now(),
            un_pay_amount: quote.un_pay_amount,
            // §2.2 as corrected: what is paid and what Mallcoo deducts settle `unPayAmount`.
            amount: quote.un_pay_amount - quote.deduction_amount,
            deduction_amount: quote.deduction_amount,
            deduction_details: Vec::new(),
            pay_channel: channel,
            pay_type,
            member_info: None,
        })
        .await
        .expect("PayParkingFee answered");
    assert!(
        paid.answer.as_ref().is_some_and(|a| a.is_ok()),
        "{plate}: {}",
        paid.body
    );
    (
        quote.un_pay_amount - quote.deduction_amount,
        quote.deduction_amount,
    )
}

/// Gives car park `park_id` of `site` `spaces` parking spaces (`None`: not configured), its other
/// settings kept: `PUT /api/v1/parks/{id}` replaces every field, so the car park is read first.
pub async fn set_total_spaces(site: &VipSite, park_id: i64, spaces: Option<i64>) -> Value {
    let url = site.server.url(&format!("/api/v1/parks/{park_id}"));
    let (status, mut park) = send(&site.admin, Method::GET, &url, None).await;
    assert_eq!(status, 200, "{park}");
    let fields = park.as_object_mut().expect("a car park");
    for answer_only in ["id", "created_at", "updated_at"] {
        fields.remove(answer_only);
    }
    fields.insert("total_spaces".into(), json!(spaces));
    let (status, saved) = send(&site.admin, Method::PUT, &url, Some(park)).await;
    assert_eq!(status, 200, "{saved}");
    saved
}

/// A row of `parking_discounts` as the dashboard test writes it: the API that grants discounts
/// is another part of the server, so the rows go straight into the database.
pub struct DiscountRow<'a> {
    /// The car park.
    pub park_id: i64,
    /// The stay it belongs to; `None` makes it a plate's free window (of `沪A00000`).
    pub session_id: Option<i64>,
    /// `api`, `waiver`, `pyun` or `shop`.
    pub source: &'a str,
    /// `active`, `used` or `revoked`.
    pub state: &'a str,
    /// When it was granted.
    pub granted_at: DateTime<Utc>,
    /// What it was worth when used.
    pub worth_fen: Option<i64>,
}

/// Inserts `rows` into `server`'s database (its own key per row).
pub async fn insert_discounts(server: &TestServer, rows: &[DiscountRow<'_>]) {
    let db = parkbridge::storage::Db::connect(&server.database_url())
        .await
        .expect("the test's database");
    for (n, r) in rows.iter().enumerate() {
        let ms = r.granted_at.timestamp_millis();
        let (kind, plate) = match r.session_id {
            Some(_) => ("amount", None),
            None => ("free_window", Some("沪A00000")),
        };
        sqlx::query(
            "INSERT INTO parking_discounts (park_id, session_id, plate, source, source_key, kind, \
             value, label, created_by, state, granted_at, used_at, revoked_at, worth_fen, \
             request_digest, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 500, '商户减免', 'test', $7, $8, $9, $10, $11, \
             'digest', $8, $8)",
        )
        .bind(r.park_id)
        .bind(r.session_id)
        .bind(plate)
        .bind(r.source)
        .bind(format!("test-{n}"))
        .bind(kind)
        .bind(r.state)
        .bind(ms)
        .bind((r.state == "used").then_some(ms + 60_000))
        .bind((r.state == "revoked").then_some(ms + 60_000))
        .bind(r.worth_fen)
        .execute(&db.pool)
        .await
        .expect("insert a discount");
    }
}
