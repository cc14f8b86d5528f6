//! A car park's spaces end to end on SQLite and PostgreSQL: `total_spaces` set, changed and
//! cleared through the car park API (bad values refused as the OpenAPI document says), and the
//! 余位 sign's `GET /api/v1/parks/{code}/spaces` following cars that enter and leave through the
//! real gate API, for `gate` keys of this car park or of all only.

use e2e::coupon_site::{bearer_client, send};
use e2e::server::Backend;
use e2e::traffic_site::set_total_spaces;
use e2e::vip_site::{PARK_A, PARK_B, VipSite};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

e2e::on_both_engines! {
    total_spaces_round_trips_and_bad_values_are_refused => round_trip;
    free_spaces_follow_the_cars_through_the_gates => follow_the_gates;
    only_gate_keys_of_the_car_park_read_its_spaces => refusals;
}

async fn call(
    site: &VipSite,
    client: &Client,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    send(client, method, &site.server.url(path), body).await
}

async fn round_trip(backend: Backend) {
    let site = VipSite::start(backend).await;
    // Created with spaces, read back by GET one and GET all.
    let (status, park) = call(
        &site,
        &site.admin,
        Method::POST,
        "/api/v1/parks",
        Some(json!({"code": "spaces-c", "name": "丙广场", "total_spaces": 350})),
    )
    .await;
    assert_eq!(status, 201, "{park}");
    assert_eq!(park["total_spaces"], 350);
    let id = park["id"].as_i64().unwrap();
    let one = format!("/api/v1/parks/{id}");
    let (_, got) = call(&site, &site.admin, Method::GET, &one, None).await;
    assert_eq!(got["total_spaces"], 350, "{got}");
    let (_, all) = call(&site, &site.staff, Method::GET, "/api/v1/parks", None).await;
    let a = all
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == PARK_A)
        .unwrap();
    assert_eq!(
        a["total_spaces"],
        Value::Null,
        "created without: not configured"
    );

    // Changed, to the bounds, and cleared by null and by leaving it out (PUT replaces all).
    let put = |spaces: Option<Value>| {
        let mut body = json!({"code": "spaces-c", "name": "丙广场"});
        if let Some(v) = spaces {
            body["total_spaces"] = v;
        }
        body
    };
    for (sent, stored) in [
        (Some(json!(0)), json!(0)),
        (Some(json!(100_000)), json!(100_000)),
        // JSON has one number type: a whole float is that integer.
        (Some(json!(12.0)), json!(12)),
        (Some(Value::Null), Value::Null),
        (Some(json!(7)), json!(7)),
        (None, Value::Null),
    ] {
        let (status, saved) = call(
            &site,
            &site.admin,
            Method::PUT,
            &one,
            Some(put(sent.clone())),
        )
        .await;
        assert_eq!(status, 200, "{sent:?}: {saved}");
        assert_eq!(saved["total_spaces"], stored, "{sent:?}");
        let (_, got) = call(&site, &site.admin, Method::GET, &one, None).await;
        assert_eq!(got["total_spaces"], stored, "{sent:?} read back");
    }

    // Outside 0–100000, or not an integer: 400, on creation and on change, nothing stored.
    set_total_spaces(&site, site.park_a, Some(40)).await;
    for (bad, code) in [
        (json!(-1), "invalid_field"),
        (json!(100_001), "invalid_field"),
        (json!(i64::MAX), "invalid_field"),
        (json!(1.5), "invalid_body"),
        (json!("12"), "invalid_body"),
        (json!(true), "invalid_body"),
    ] {
        let (status, body) = call(
            &site,
            &site.admin,
            Method::POST,
            "/api/v1/parks",
            Some(json!({"code": "spaces-d", "name": "丁广场", "total_spaces": bad})),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "POST {bad}: {body}"
        );
        let (status, body) = call(
            &site,
            &site.admin,
            Method::PUT,
            &format!("/api/v1/parks/{}", site.park_a),
            Some(json!({"code": PARK_A, "name": "甲广场", "total_spaces": bad})),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "PUT {bad}: {body}"
        );
    }
    let (_, all) = call(&site, &site.admin, Method::GET, "/api/v1/parks", None).await;
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|p| p["code"] != "spaces-d"),
        "{all}"
    );
    let a = all
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == PARK_A)
        .unwrap();
    assert_eq!(a["total_spaces"], 40, "a refused change changed nothing");
    // Only admins set it.
    let (status, _) = call(
        &site,
        &site.manager,
        Method::PUT,
        &one,
        Some(put(Some(json!(5)))),
    )
    .await;
    assert_eq!(status, 403);

    // The document states the rule the server enforces, and the answer's field.
    let (_, doc) = call(
        &site,
        &Client::new(),
        Method::GET,
        "/api/openapi.json",
        None,
    )
    .await;
    let input = &doc["components"]["schemas"]["ParkInput"]["properties"]["total_spaces"];
    assert_eq!(
        (input["minimum"].as_i64(), input["maximum"].as_i64()),
        (Some(0), Some(100_000)),
        "{input}"
    );
    assert!(
        input["type"]
            .as_array()
            .is_some_and(|t| t.contains(&json!("null"))),
        "nullable: {input}"
    );
    let shown = &doc["components"]["schemas"]["ParkFields"]["properties"]["total_spaces"];
    assert!(shown.is_object(), "the answer documents total_spaces");
}

async fn spaces(site: &VipSite, client: &Client, code: &str) -> Value {
    let (status, body) = call(
        site,
        client,
        Method::GET,
        &format!("/api/v1/parks/{code}/spaces"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{code}: {body}");
    body
}

async fn gate(site: &VipSite, client: &Client, path: &str, body: Value) -> Value {
    let (status, answer) = call(
        site,
        client,
        Method::POST,
        &format!("/api/v1/gate/{path}"),
        Some(body.clone()),
    )
    .await;
    assert!(status.is_success(), "{path} {body}: {status} {answer}");
    answer
}

async fn follow_the_gates(backend: Backend) {
    let site = VipSite::start(backend).await;
    let key = bearer_client(&site.server.api_key("gate", "gate", None));
    set_total_spaces(&site, site.park_a, Some(3)).await;
    assert_eq!(
        spaces(&site, &key, PARK_A).await,
        json!({"total": 3, "inside": 0, "free": 3})
    );

    let enter = |plate: &str| json!({"park": PARK_A, "plate": plate});
    gate(&site, &key, "entries", enter("沪A30001")).await;
    assert_eq!(
        spaces(&site, &key, PARK_A).await,
        json!({"total": 3, "inside": 1, "free": 2})
    );
    // The same plate again without an exit: its earlier stay closes as `no_exit_seen`, one car.
    let again = gate(&site, &key, "entries", enter("沪A30001")).await;
    assert_eq!(again["closed_previous"]["state"], "no_exit_seen", "{again}");
    assert_eq!(
        spaces(&site, &key, PARK_A).await,
        json!({"total": 3, "inside": 1, "free": 2})
    );
    gate(&site, &key, "entries", enter("沪A30002")).await;
    // A plate-less car with the gate's ticket counts too.
    gate(
        &site,
        &key,
        "entries",
        json!({"park": PARK_A, "barcode": "T-0001"}),
    )
    .await;
    assert_eq!(
        spaces(&site, &key, PARK_A).await,
        json!({"total": 3, "inside": 3, "free": 0})
    );
    // One car more than spaces: full, never negative.
    gate(&site, &key, "entries", enter("沪A30003")).await;
    assert_eq!(
        spaces(&site, &key, PARK_A).await,
        json!({"total": 3, "inside": 4, "free": 0})
    );
    // The other car park saw none of them, and has no spaces configured.
    assert_eq!(
        spaces(&site, &key, PARK_B).await,
        json!({"total": null, "inside": 0, "free": null})
    );

    for plate in ["沪A30001", "沪A30003"] {
        gate(
            &site,
            &key,
            "exits",
            json!({"park": PARK_A, "plate": plate}),
        )
        .await;
    }
    gate(
        &site,
        &key,
        "exits",
        json!({"park": PARK_A, "barcode": "T-0001"}),
    )
    .await;
    assert_eq!(
        spaces(&site, &key, PARK_A).await,
        json!({"total": 3, "inside": 1, "free": 2})
    );
    // An exit that matches no stay is an anomaly and frees nothing.
    let stray = gate(
        &site,
        &key,
        "exits",
        json!({"park": PARK_A, "plate": "沪A39999"}),
    )
    .await;
    assert_eq!(stray["anomaly"], true, "{stray}");
    assert_eq!(
        spaces(&site, &key, PARK_A).await,
        json!({"total": 3, "inside": 1, "free": 2})
    );

    // Spaces changed by an admin show at once on this instance; cleared, only cars are counted.
    set_total_spaces(&site, site.park_a, Some(10)).await;
    assert_eq!(
        spaces(&site, &key, PARK_A).await,
        json!({"total": 10, "inside": 1, "free": 9})
    );
    set_total_spaces(&site, site.park_a, None).await;
    assert_eq!(
        spaces(&site, &key, PARK_A).await,
        json!({"total": null, "inside": 1, "free": null})
    );
}

/// The status and error code of asking `client` for car park `code`'s spaces.
async fn refused(site: &VipSite, client: &Client, code: &str) -> (u16, String) {
    let (status, body) = call(
        site,
        client,
        Method::GET,
        &format!("/api/v1/parks/{code}/spaces"),
        None,
    )
    .await;
    (
        status.as_u16(),
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

async fn refusals(backend: Backend) {
    let site = VipSite::start(backend).await;
    set_total_spaces(&site, site.park_a, Some(5)).await;
    let key = |scopes: &str, park: Option<&str>| {
        bearer_client(&site.server.api_key("sign", scopes, park))
    };
    let forbidden = (403, "forbidden".to_owned());

    // A gate key of this car park, or of all, reads it.
    assert_eq!(
        spaces(&site, &key("gate", Some(PARK_A)), PARK_A).await["total"],
        5
    );
    assert_eq!(
        spaces(&site, &key("gate,coupons", None), PARK_A).await["free"],
        5
    );
    // Other scopes, people and nobody do not.
    assert_eq!(
        refused(&site, &key("coupons", None), PARK_A).await,
        forbidden
    );
    assert_eq!(
        refused(&site, &key("vip,coupons", Some(PARK_A)), PARK_A).await,
        forbidden
    );
    assert_eq!(
        refused(&site, &site.admin, PARK_A).await,
        (401, "unauthorized".into())
    );
    assert_eq!(
        refused(&site, &Client::new(), PARK_A).await,
        (401, "unauthorized".into())
    );
    // A key bound to another car park: 403, whether the code exists or not (it learns nothing).
    let other = key("gate", Some(PARK_B));
    assert_eq!(refused(&site, &other, PARK_A).await, forbidden);
    assert_eq!(refused(&site, &other, "no-such-park").await, forbidden);
    // An all-parks key naming no car park: 422; the numeric id is not the code.
    let all = key("gate", None);
    assert_eq!(
        refused(&site, &all, "no-such-park").await,
        (422, "unknown_park".into())
    );
    assert_eq!(
        refused(&site, &all, &site.park_a.to_string()).await,
        (422, "unknown_park".into())
    );

    // The document says so: the segment is the code, and every answer above is listed.
    let (_, doc) = call(
        &site,
        &Client::new(),
        Method::GET,
        "/api/openapi.json",
        None,
    )
    .await;
    let op = &doc["paths"]["/api/v1/parks/{code}/spaces"]["get"];
    assert_eq!(op["security"], json!([{"api_key": []}]), "{op}");
    let param = &op["parameters"][0];
    assert_eq!(
        (param["name"].as_str(), param["in"].as_str()),
        (Some("code"), Some("path")),
        "{param}"
    );
    assert!(
        param["description"]
            .as_str()
            .unwrap_or_default()
            .contains("code"),
        "{param}"
    );
    let responses = op["responses"].as_object().expect("responses");
    for status in ["200", "401", "403", "422", "503"] {
        assert!(responses.contains_key(status), "{status} missing: {op}");
    }
    assert!(
        responses["422"]["description"]
            .as_str()
            .unwrap()
            .contains("`unknown_park`")
    );
    assert!(
        responses["403"]["description"]
            .as_str()
            .unwrap()
            .contains("`forbidden`")
    );
    let total = &doc["components"]["schemas"]["Spaces"]["properties"]["total"];
    assert!(
        total["type"]
            .as_array()
            .is_some_and(|t| t.contains(&json!("null"))),
        "{total}"
    );
}
