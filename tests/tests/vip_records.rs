//! VIP records end to end (issue 6): the real binary over loopback on SQLite and PostgreSQL —
//! records and renewals with the Chinese period convention, validation, conflicts, list filters,
//! CSV import (preview, confirm, GBK) and export round trips, the machine API, and roles.

use e2e::coupon_site::{bearer_client, send};
use e2e::server::Backend;
use e2e::vip_site::{PARK_A, PARK_B, VipSite};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

e2e::on_both_engines! {
    records_renew_by_the_chinese_convention_and_refuse_bad_input => records_and_renewals;
    the_list_filters_by_plate_validity_type_and_sync => list_filters;
    a_csv_import_previews_then_writes_exactly_the_valid_rows => csv_import;
    exports_round_trip_into_another_car_park_in_utf8_and_gbk => csv_round_trip;
    the_machine_api_records_rows_once_and_refuses_other_content => machine_api;
}

/// A monthly card for `plate` paid at `pay_time`, period computed.
fn monthly(plate: &str, pay_time: &str) -> Value {
    json!({
        "plate": plate, "charge_type": "MON_A", "vip_type": 1, "card_no": "C-1",
        "recharge": {"quantity": 1, "pay_type": 1, "pay_value_fen": 30000, "pay_time": pay_time}
    })
}

/// Renews record `rid` as the manager.
async fn renew(site: &VipSite, rid: i64, body: Value) -> (StatusCode, Value) {
    let path = format!("/api/v1/vip/records/{rid}/recharges");
    site.manager_send(Method::POST, &path, Some(body)).await
}

/// Posts `body` to the machine API with `client`.
async fn post(site: &VipSite, client: &reqwest::Client, body: Value) -> (StatusCode, Value) {
    let url = site.server.url("/api/v1/vip/recharges");
    send(client, Method::POST, &url, Some(body)).await
}

fn recharge_at(pay_time: &str) -> Value {
    json!({"quantity": 1, "pay_type": 2, "pay_value_fen": 30000, "pay_time": pay_time})
}

async fn records_and_renewals(backend: Backend) {
    let site = VipSite::start(backend).await;
    let a = site.park_a;

    // 2026-01-15 12:00 Shanghai → Jan 15 00:00 to Feb 14 23:59:59 Shanghai.
    let (status, created) = site
        .add_record(a, monthly("粤b12345", "2026-01-15T04:00:00Z"))
        .await;
    assert_eq!(status, 201, "{created}");
    let record = &created["record"];
    assert_eq!(record["plate"], "粤B12345");
    assert_eq!(record["plate_color"], 1);
    assert_eq!(record["valid_from"], "2026-01-14T16:00:00Z");
    assert_eq!(record["valid_to"], "2026-02-14T15:59:59Z");
    assert_eq!(record["recharge_count"], 1);
    assert_eq!(record["sync"], "queued");
    assert_eq!(created["recharges"][0]["sync"]["state"], "queued");
    assert_eq!(created["recharges"][0]["source"], "ui");
    assert_eq!(created["recharges"][0]["operator"], "manager");
    assert!(
        created["recharges"][0]["pay_partner"]
            .as_str()
            .is_some_and(|p| p.starts_with("PB")),
        "{created}"
    );
    let rid = record["id"].as_i64().expect("id");

    // Renewed before it expires: continues one second after the old end.
    let (status, detail) = renew(&site, rid, recharge_at("2026-02-10T04:00:00Z")).await;
    assert_eq!(status, 201, "{detail}");
    assert_eq!(
        detail["recharges"][0]["renewal_start"],
        "2026-02-14T16:00:00Z"
    );
    assert_eq!(
        detail["recharges"][0]["renewal_end"],
        "2026-03-14T15:59:59Z"
    );
    assert_eq!(detail["record"]["valid_from"], "2026-01-14T16:00:00Z");
    assert_eq!(detail["record"]["valid_to"], "2026-03-14T15:59:59Z");

    // Renewed after it expired: starts on the renewal day, Shanghai midnight.
    let (status, detail) = renew(&site, rid, recharge_at("2026-05-20T02:00:00Z")).await;
    assert_eq!(status, 201, "{detail}");
    assert_eq!(
        detail["recharges"][0]["renewal_start"],
        "2026-05-19T16:00:00Z"
    );
    assert_eq!(
        detail["recharges"][0]["renewal_end"],
        "2026-06-19T15:59:59Z"
    );
    assert_eq!(detail["record"]["valid_to"], "2026-06-19T15:59:59Z");
    assert_eq!(detail["record"]["recharge_count"], 3);
    assert_eq!(detail["recharges"].as_array().map(Vec::len), Some(3));

    // Month end: Jan 31 + 1 month ends on Feb 28.
    let (status, body) = site
        .add_record(a, monthly("粤B20001", "2026-01-31T02:00:00Z"))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["record"]["valid_to"], "2026-02-28T15:59:59Z");

    // The detail reads back what was written.
    let (status, read) = site
        .manager_send(Method::GET, &format!("/api/v1/vip/records/{rid}"), None)
        .await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["record"]["valid_to"], "2026-06-19T15:59:59Z");
    assert_eq!(
        read["recharges"][2]["renewal_start"],
        "2026-01-14T16:00:00Z"
    );

    // Conflicts answer 409 from the constraints.
    let (status, body) = site
        .add_record(a, monthly("粤B12345", "2026-01-15T04:00:00Z"))
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("vip_exists"))
    );
    let taken = created["recharges"][0]["pay_partner"].clone();
    let mut with_taken = monthly("粤B30001", "2026-01-15T04:00:00Z");
    with_taken["recharge"]["pay_partner"] = taken.clone();
    let (status, body) = site.add_record(a, with_taken.clone()).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("pay_partner_taken")),
        "{body}"
    );
    let mut renewal = recharge_at("2026-07-01T00:00:00Z");
    renewal["pay_partner"] = taken;
    let (status, body) = renew(&site, rid, renewal).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("pay_partner_taken")),
        "{body}"
    );
    // The same plate and order number in another car park are fine.
    let (status, body) = site.add_record(site.park_b, with_taken).await;
    assert_eq!(status, 201, "{body}");

    // Client mistakes are 4xx with a stable code, never a 500.
    let bad = |path: &str, edit: &dyn Fn(&mut Value)| {
        let mut body = monthly("粤B40001", "2026-01-15T04:00:00Z");
        let pointer = path.to_owned();
        edit(body.pointer_mut(&pointer).expect("field"));
        body
    };
    // 400: the body does not decode or breaks what the document states for one field; 422: it
    // decodes, but the record rules (lengths, periods, card types) refuse it.
    let cases: Vec<(Value, u16, &str)> = vec![
        (bad("/plate", &|v| *v = json!("粤Z1")), 400, "invalid_plate"),
        (bad("/vip_type", &|v| *v = json!(9)), 400, "invalid_field"),
        (
            bad("", &|v| v["plate_color"] = json!(7)),
            400,
            "invalid_field",
        ),
        (
            bad("/recharge/pay_type", &|v| *v = json!(3)),
            400,
            "invalid_field",
        ),
        (
            bad("/recharge/pay_value_fen", &|v| *v = json!(-1)),
            422,
            "invalid_field",
        ),
        (
            bad("/recharge/quantity", &|v| *v = json!(0)),
            422,
            "invalid_field",
        ),
        (
            bad("/recharge/quantity", &|v| *v = json!(-1)),
            400,
            "invalid_body",
        ),
        (
            bad("/charge_type", &|v| *v = json!("  ")),
            422,
            "invalid_field",
        ),
        (
            bad("/recharge", &|v| {
                v["start"] = json!("2026-02-01T00:00:00Z");
                v["end"] = json!("2026-01-01T00:00:00Z");
            }),
            422,
            "invalid_field",
        ),
        (
            bad("/recharge", &|v| v["start"] = json!("2026-02-01T00:00:00Z")),
            422,
            "invalid_field",
        ),
        (bad("/vip_type", &|v| *v = json!(0)), 422, "period_required"),
        (
            bad("/recharge/pay_time", &|v| *v = json!("yesterday")),
            400,
            "invalid_body",
        ),
    ];
    for (body, want, code) in cases {
        let (status, answer) = site.add_record(a, body.clone()).await;
        assert_eq!(status, want, "{body} → {answer}");
        assert_eq!(answer["error"]["code"], code, "{body} → {answer}");
    }
    let resp = site
        .manager
        .post(site.server.url(&format!("/api/v1/parks/{a}/vip/records")))
        .header("content-type", "application/json")
        .body("{\"plate\": ")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 400);
    let (status, _) = renew(
        &site,
        rid,
        json!({"quantity": 1, "pay_type": 1, "pay_value_fen": 0, "start": "x"}),
    )
    .await;
    assert_eq!(status, 400);
    // A whitelist entry with its explicit period is fine.
    let mut free = bad("/vip_type", &|v| *v = json!(0));
    free["recharge"]["quantity"] = json!(0);
    free["recharge"]["start"] = json!("2026-01-01T00:00:00Z");
    free["recharge"]["end"] = json!("2026-12-31T15:59:59Z");
    let (status, body) = site.add_record(a, free).await;
    assert_eq!(status, 201, "{body}");

    // Every write is in the audit log.
    let (status, audit) = send(
        &site.admin,
        Method::GET,
        &site.server.url("/api/v1/audit?limit=100"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{audit}");
    let actions: Vec<&str> = audit
        .as_array()
        .or_else(|| audit["entries"].as_array())
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "vip.recharge.add").count(),
        2,
        "{actions:?}"
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "vip.record.create")
            .count(),
        4,
        "{actions:?}"
    );

    // Unknown records and car parks are 404.
    let (status, _) = site
        .manager_send(Method::GET, "/api/v1/vip/records/999999", None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = site
        .add_record(999_999, monthly("粤B50001", "2026-01-15T04:00:00Z"))
        .await;
    assert_eq!(status, 404);

    // Mall staff may not touch any VIP route.
    let routes: Vec<(Method, String)> = vec![
        (Method::GET, format!("/api/v1/parks/{a}/vip/records")),
        (Method::POST, format!("/api/v1/parks/{a}/vip/records")),
        (Method::GET, format!("/api/v1/vip/records/{rid}")),
        (Method::POST, format!("/api/v1/vip/records/{rid}/recharges")),
        (Method::POST, format!("/api/v1/parks/{a}/vip/import")),
        (
            Method::GET,
            format!("/api/v1/parks/{a}/vip/export/records.csv"),
        ),
        (
            Method::GET,
            format!("/api/v1/parks/{a}/vip/export/recharges.csv"),
        ),
    ];
    for (method, path) in routes {
        let (status, body) = send(
            &site.staff,
            method.clone(),
            &site.server.url(&path),
            Some(json!({})),
        )
        .await;
        assert_eq!(status, 403, "{method} {path}: {body}");
    }
}

fn plates(list: &Value) -> Vec<String> {
    let mut plates: Vec<String> = list["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["plate"].as_str().expect("plate").to_owned())
        .collect();
    plates.sort();
    plates
}

async fn list_filters(backend: Backend) {
    let site = VipSite::start(backend).await;
    let a = site.park_a;
    let with_period = |plate: &str, vip_type: u8, start: &str, end: &str| {
        json!({
            "plate": plate, "charge_type": "T1", "vip_type": vip_type,
            "recharge": {"quantity": 1, "pay_type": 1, "pay_value_fen": 100, "start": start, "end": end}
        })
    };
    for body in [
        with_period(
            "粤B10001",
            1,
            "2026-01-01T00:00:00Z",
            "2099-12-31T00:00:00Z",
        ),
        with_period(
            "粤B10002",
            5,
            "2026-01-01T00:00:00Z",
            "2099-12-31T00:00:00Z",
        ),
        with_period(
            "粤B20003",
            1,
            "2020-01-01T00:00:00Z",
            "2020-12-31T00:00:00Z",
        ),
        with_period(
            "沪A10004",
            5,
            "2020-01-01T00:00:00Z",
            "2021-12-31T00:00:00Z",
        ),
    ] {
        let (status, body) = site.add_record(a, body).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = site
        .add_record(
            site.park_b,
            with_period(
                "粤B10009",
                1,
                "2026-01-01T00:00:00Z",
                "2099-12-31T00:00:00Z",
            ),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let all = site.list(a, "").await;
    assert_eq!(all["total"], 4);
    assert_eq!(
        plates(&site.list(a, "plate=b1000").await),
        ["粤B10001", "粤B10002"]
    );
    assert_eq!(
        plates(&site.list(a, "plate=%EF%BC%A2%EF%BC%92").await),
        ["粤B20003"]
    ); // full-width "Ｂ２"
    assert_eq!(plates(&site.list(a, "plate=100").await).len(), 3);
    assert_eq!(plates(&site.list(a, "plate=%25").await).len(), 0);
    assert_eq!(
        plates(&site.list(a, "validity=valid").await),
        ["粤B10001", "粤B10002"]
    );
    assert_eq!(
        plates(&site.list(a, "validity=expired").await),
        ["沪A10004", "粤B20003"]
    );
    assert_eq!(
        plates(&site.list(a, "vip_type=5").await),
        ["沪A10004", "粤B10002"]
    );
    assert_eq!(
        plates(&site.list(a, "vip_type=1&validity=expired").await),
        ["粤B20003"]
    );
    let valid = site.list(a, "validity=valid").await;
    assert!(
        valid["records"]
            .as_array()
            .expect("records")
            .iter()
            .all(|r| r["valid_now"] == true)
    );
    assert_eq!(site.list(a, "sync=queued").await["total"], 4);
    assert_eq!(site.list(a, "sync=delivered").await["total"], 0);
    assert_eq!(site.list(a, "sync=problem").await["total"], 0);
    // Paging: total counts every match, the page holds at most `limit`.
    let page = site.list(a, "limit=3&offset=0").await;
    assert_eq!(
        (
            page["total"].clone(),
            page["records"].as_array().map(Vec::len)
        ),
        (json!(4), Some(3))
    );
    let rest = site.list(a, "limit=3&offset=3").await;
    assert_eq!(rest["records"].as_array().map(Vec::len), Some(1));
    for query in ["validity=soon", "sync=lost", "vip_type=x", "colour=1"] {
        let (status, body) = site
            .manager_send(
                Method::GET,
                &format!("/api/v1/parks/{a}/vip/records?{query}"),
                None,
            )
            .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid_query", "{query}: {body}");
    }
}

const HEADER: &str =
    "车牌号,车牌颜色,卡号,物理卡号,收费类型,VIP类型,开始时间,结束时间,数量,支付方式,金额(元)";

/// A file with three valid rows (lines 2, 8, 9) and one error on each of lines 3 to 7.
fn mixed_csv() -> String {
    [
        HEADER,
        "粤B10001,蓝,K-1,P-1,MON_A,月卡,2026-01-01,2026-12-31,1,现金,300",
        "粤Z1,蓝,,,MON_A,月卡,,,1,现金,300",
        "粤B10003,蓝,,,MON_A,周卡,,,1,现金,300",
        "粤B10004,蓝,,,MON_A,月卡,2026-13-01,2026-12-31,1,现金,300",
        "粤B10001,蓝,,,MON_A,月卡,2026-01-01,2026-12-31,1,现金,300",
        "粤B99999,蓝,,,MON_A,月卡,,,1,现金,300",
        "粤B10008,,K-8,,WL,免费,2026-01-01,2026-12-31,0,,",
        "粤BD12345,,,,MON_A,月卡,,,1,线上,100.5",
    ]
    .join("\r\n")
        + "\r\n"
}

fn error_lines(report: &Value) -> Vec<u64> {
    let mut lines: Vec<u64> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["line"].as_u64().expect("line"))
        .collect();
    lines.dedup();
    lines
}

async fn csv_import(backend: Backend) {
    let site = VipSite::start(backend).await;
    let a = site.park_a;
    let (status, body) = site
        .add_record(a, monthly("粤B99999", "2026-01-15T04:00:00Z"))
        .await;
    assert_eq!(status, 201, "{body}");

    let (status, report) = site.import(a, "", mixed_csv().into_bytes()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["encoding"], "utf-8");
    assert_eq!(report["data_lines"], 8);
    assert_eq!(report["valid"], 3, "{report}");
    assert_eq!(error_lines(&report), [3, 4, 5, 6, 7], "{report}");
    let existing = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .find(|e| e["line"] == 7)
        .expect("line 7");
    assert!(
        existing["message"]
            .as_str()
            .is_some_and(|m| m.contains("已存在")),
        "{existing}"
    );
    assert_eq!(report["written"], false);
    assert_eq!(report["created"], 0);
    let preview: Vec<u64> = report["preview"]
        .as_array()
        .expect("preview")
        .iter()
        .map(|p| p["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(preview, [2, 8, 9]);
    assert_eq!(report["preview"][0]["valid_from"], "2025-12-31T16:00:00Z");
    assert_eq!(report["preview"][0]["valid_to"], "2026-12-31T15:59:59Z");
    assert_eq!(report["preview"][2]["plate_color"], 5);
    // The preview wrote nothing.
    assert_eq!(site.list(a, "").await["total"], 1);

    let (status, report) = site
        .import(a, "confirm=true", mixed_csv().into_bytes())
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["written"].clone(), report["created"].clone()),
        (json!(true), json!(3))
    );
    let list = site.list(a, "").await;
    assert_eq!(
        plates(&list),
        ["粤B10001", "粤B10008", "粤B99999", "粤BD12345"]
    );
    let imported = list["records"]
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["plate"] == "粤B10001")
        .expect("imported");
    assert_eq!(
        (imported["card_no"].clone(), imported["card_id"].clone()),
        (json!("K-1"), json!("P-1"))
    );
    let (_, detail) = site
        .manager_send(
            Method::GET,
            &format!("/api/v1/vip/records/{}", imported["id"]),
            None,
        )
        .await;
    assert_eq!(detail["recharges"][0]["source"], "import");
    assert_eq!(detail["recharges"][0]["pay_value_fen"], 30000);
    // A second import of the same file finds every plate taken.
    let (_, again) = site
        .import(a, "confirm=true", mixed_csv().into_bytes())
        .await;
    assert_eq!(
        (again["valid"].clone(), again["created"].clone()),
        (json!(0), json!(0)),
        "{again}"
    );
    assert_eq!(site.list(a, "").await["total"], 4);

    // GBK, what Excel in China saves: detected, or forced.
    let gbk_file = [
        HEADER,
        "粤C20001,蓝,,,MON_A,年卡,2026-01-01,2026-12-31,1,现金,1200",
    ]
    .join("\n");
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(&gbk_file);
    assert!(!unmappable);
    let (status, report) = site.import(site.park_b, "", bytes.to_vec()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["encoding"].clone(), report["valid"].clone()),
        (json!("gbk"), json!(1)),
        "{report}"
    );
    let (status, report) = site
        .import(site.park_b, "encoding=gbk&confirm=true", bytes.to_vec())
        .await;
    assert_eq!(
        (status, report["created"].clone()),
        (StatusCode::OK, json!(1)),
        "{report}"
    );
    assert_eq!(plates(&site.list(site.park_b, "").await), ["粤C20001"]);
    let (status, report) = site
        .import(site.park_b, "encoding=utf-8", bytes.to_vec())
        .await;
    assert_eq!(
        (status, report["error"]["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("bad_csv")),
        "{report}"
    );
    let (status, report) = site.import(a, "", b"plate_number,colour\n".to_vec()).await;
    assert_eq!(
        (status, report["error"]["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("bad_csv")),
        "{report}"
    );
    let (status, _) = site
        .import(a, "confirm=maybe", mixed_csv().into_bytes())
        .await;
    assert_eq!(status, 400);

    // The route takes files above the global 1 MiB limit, up to 32 MiB.
    let mut big = String::from(HEADER);
    while big.len() < 2 * 1024 * 1024 {
        big.push_str("\n粤B99999,蓝,,,MON_A,月卡,,,1,现金,300");
    }
    let (status, report) = site.import(a, "", big.into_bytes()).await;
    assert_eq!(status, 200, "{report}");
    let (status, _) = site.import(a, "", vec![b'a'; 33 * 1024 * 1024]).await;
    assert_eq!(status, 413);

    let (status, audit) = send(
        &site.admin,
        Method::GET,
        &site.server.url("/api/v1/audit?limit=100"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let imports: Vec<&Value> = audit
        .as_array()
        .or_else(|| audit["entries"].as_array())
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "vip.import")
        .collect();
    assert_eq!(imports.len(), 2, "{audit}");
    assert!(
        imports.iter().any(|e| e["detail"]["created"] == 3),
        "{imports:?}"
    );
}

/// The fields an export must carry across car parks, by plate.
fn comparable(list: &Value) -> Vec<Value> {
    let mut rows: Vec<Value> = list["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            json!([
                r["plate"],
                r["plate_color"],
                r["card_no"],
                r["card_id"],
                r["charge_type"],
                r["vip_type"],
                r["valid_from"],
                r["valid_to"]
            ])
        })
        .collect();
    rows.sort_by_key(|v| v[0].as_str().unwrap_or_default().to_owned());
    rows
}

async fn csv_round_trip(backend: Backend) {
    let site = VipSite::start(backend).await;
    let (a, b) = (site.park_a, site.park_b);
    let (status, report) = site
        .import(a, "confirm=true", mixed_csv().into_bytes())
        .await;
    // Four rows: line 7's plate exists only in the other test's car park.
    assert_eq!(
        (status, report["created"].clone()),
        (StatusCode::OK, json!(4)),
        "{report}"
    );
    let (status, body) = site
        .add_record(a, monthly("粤B77777", "2026-01-15T04:00:00Z"))
        .await;
    assert_eq!(status, 201, "{body}");
    let rid = body["record"]["id"].as_i64().expect("id");
    let (status, _) = site
        .manager_send(
            Method::POST,
            &format!("/api/v1/vip/records/{rid}/recharges"),
            Some(recharge_at("2026-02-10T04:00:00Z")),
        )
        .await;
    assert_eq!(status, 201);

    let (status, headers, bytes) = site.export(a, "records.csv", "").await;
    assert_eq!(status, 200);
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "UTF-8 export starts with a BOM"
    );
    let disposition = headers["content-disposition"].to_str().expect("ascii");
    assert_eq!(
        disposition,
        format!("attachment; filename=\"vip-records-{PARK_A}.csv\"")
    );
    assert!(
        headers["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/csv")
    );

    let (status, report) = site.import(b, "confirm=true", bytes).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["created"].clone(), report["errors"].clone()),
        (json!(5), json!([])),
        "{report}"
    );
    let (from_a, from_b) = (site.list(a, "").await, site.list(b, "").await);
    assert_eq!(comparable(&from_a), comparable(&from_b));

    // GBK export of the same records imports into a third state just as well.
    let (status, headers, gbk) = site.export(b, "records.csv", "encoding=gbk").await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .expect("ascii")
            .contains("gbk")
    );
    assert!(!gbk.starts_with(b"\xEF\xBB\xBF"));
    let (text, _, bad) = encoding_rs::GBK.decode(&gbk);
    assert!(
        !bad && text.contains("粤B77777") && text.contains("月卡"),
        "{text}"
    );
    assert!(
        std::str::from_utf8(&gbk).is_err(),
        "GBK bytes are not UTF-8"
    );
    let (_, preview) = site.import(a, "", gbk).await;
    assert_eq!(
        (preview["encoding"].clone(), preview["data_lines"].clone()),
        (json!("gbk"), json!(5)),
        "{preview}"
    );

    // Every recharge is in the recharges export, with its order number and sync state.
    let (status, headers, bytes) = site.export(a, "recharges.csv", "").await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["content-disposition"].to_str().expect("ascii"),
        format!("attachment; filename=\"vip-recharges-{PARK_A}.csv\"")
    );
    let text = String::from_utf8(bytes).expect("utf-8");
    let lines: Vec<&str> = text
        .trim_start_matches('\u{feff}')
        .lines()
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), 1 + 6, "{text}");
    let (_, detail) = site
        .manager_send(Method::GET, &format!("/api/v1/vip/records/{rid}"), None)
        .await;
    for r in detail["recharges"].as_array().expect("recharges") {
        let partner = r["pay_partner"].as_str().expect("pay_partner");
        let line = lines
            .iter()
            .find(|l| l.contains(partner))
            .unwrap_or_else(|| panic!("{partner} missing: {text}"));
        assert!(line.contains("queued"), "{line}");
    }

    // A character GBK cannot hold is a 400, not a garbled file.
    let (status, body) = site
        .add_record(
            b,
            json!({
                "plate": "粤B66666", "charge_type": "MON_A", "vip_type": 1, "card_no": "🚗",
                "recharge": {"quantity": 1, "pay_type": 1, "pay_value_fen": 0}
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, _, body) = site.export(b, "records.csv", "encoding=gbk").await;
    assert_eq!(status, 422, "{}", String::from_utf8_lossy(&body));
    let (status, _, _) = site.export(b, "records.csv", "encoding=latin1").await;
    assert_eq!(status, 400);
}

fn row(plate: &str, pay_partner: &str, pay_value: i64) -> Value {
    json!({
        "plate": plate, "plate_color": 1, "card_no": "ID000001", "charge_type": "101", "vip_type": "1",
        "quantity": 1, "pay_partner": pay_partner, "pay_type": 1, "value": "30",
        "pay_time": "1763942400000", "renewal_start_time": "2025-11-24T00:00:00Z",
        "renewal_end_time": "2025-12-23T15:59:59Z", "pay_value": pay_value, "operator": "pos-1"
    })
}

async fn machine_api(backend: Backend) {
    let site = VipSite::start(backend).await;
    let vip = bearer_client(&site.server.api_key("vip all", "vip", None));
    let rows = json!({"park": PARK_A, "rows": [row("粤X33333", "pp-1", 3000), row("粤X44444", "pp-2", 3000)]});
    let (status, first) = post(&site, &vip, rows.clone()).await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(
        (first["accepted"].clone(), first["duplicates"].clone()),
        (json!(2), json!(0))
    );
    // The same rows again: duplicates, the same recharges, nothing new.
    let (status, again) = post(&site, &vip, rows).await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(
        (again["accepted"].clone(), again["duplicates"].clone()),
        (json!(0), json!(2))
    );
    assert_eq!(again["recharge_ids"], first["recharge_ids"]);
    // A renewal of the same plate under a new order number joins its record.
    let mut later = row("粤X33333", "pp-3", 3000);
    later["renewal_start_time"] = json!("2025-12-23T16:00:00Z");
    later["renewal_end_time"] = json!("2026-01-23T15:59:59Z");
    let (status, body) = post(&site, &vip, json!({"park": PARK_A, "rows": [later]})).await;
    assert_eq!(
        (status, body["accepted"].clone()),
        (StatusCode::ACCEPTED, json!(1)),
        "{body}"
    );
    let list = site.list(site.park_a, "plate=X33333").await;
    assert_eq!(list["total"], 1);
    let record = &list["records"][0];
    assert_eq!(
        (
            record["recharge_count"].clone(),
            record["valid_from"].clone(),
            record["valid_to"].clone()
        ),
        (
            json!(2),
            json!("2025-11-24T00:00:00Z"),
            json!("2026-01-23T15:59:59Z")
        )
    );
    let (_, detail) = site
        .manager_send(
            Method::GET,
            &format!("/api/v1/vip/records/{}", record["id"]),
            None,
        )
        .await;
    assert_eq!(detail["recharges"][0]["source"], "api");
    assert_eq!(detail["recharges"][0]["operator"], "pos-1");

    // The same order number with other content is refused whole.
    let (status, body) = post(&site, &vip, json!({"park": PARK_A, "rows": [row("粤X55555", "pp-4", 1), row("粤X33333", "pp-1", 9999)]})).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("pay_partner_taken")),
        "{body}"
    );
    assert_eq!(
        site.list(site.park_a, "plate=X55555").await["total"],
        0,
        "nothing of a refused call is kept"
    );

    // Client mistakes are refused: a row the rules refuse is 422, one that does not decode 400.
    let mut negative = row("粤X66666", "pp-6", -5);
    let (status, body) = post(
        &site,
        &vip,
        json!({"park": PARK_A, "rows": [negative.clone()]}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    negative["pay_value"] = json!(5);
    negative["vip_type"] = json!("9");
    let (status, body) = post(
        &site,
        &vip,
        json!({"park": PARK_A, "rows": [negative.clone()]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    negative["vip_type"] = json!("1");
    negative["plate"] = json!("粤Z1");
    let (status, body) = post(&site, &vip, json!({"park": PARK_A, "rows": [negative]})).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = post(&site, &vip, json!({"park": PARK_A, "rows": []})).await;
    assert_eq!(status, 400, "{body}");
    let mut whitelist = row("粤X77777", "pp-7", 0);
    whitelist["vip_type"] = json!(0);
    whitelist["renewal_start_time"] = Value::Null;
    whitelist["renewal_end_time"] = Value::Null;
    let (status, body) = post(&site, &vip, json!({"park": PARK_A, "rows": [whitelist]})).await;
    assert_eq!(status, 422, "{body}");

    // Car parks and scopes.
    let (status, body) = post(
        &site,
        &vip,
        json!({"park": "nowhere", "rows": [row("粤X88888", "pp-8", 1)]}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("unknown_park"))
    );
    let coupons_only = bearer_client(&site.server.api_key("coupons", "coupons", None));
    let (status, _) = post(
        &site,
        &coupons_only,
        json!({"park": PARK_A, "rows": [row("粤X88888", "pp-8", 1)]}),
    )
    .await;
    assert_eq!(status, 403);
    let bound_b = bearer_client(&site.server.api_key("vip b", "vip", Some(PARK_B)));
    let (status, _) = post(
        &site,
        &bound_b,
        json!({"park": PARK_A, "rows": [row("粤X88888", "pp-8", 1)]}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = post(
        &site,
        &bound_b,
        json!({"park": "nowhere", "rows": [row("粤X88888", "pp-8", 1)]}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = post(
        &site,
        &bound_b,
        json!({"park": PARK_B, "rows": [row("粤X88888", "pp-1", 1)]}),
    )
    .await;
    assert_eq!(
        (status, body["accepted"].clone()),
        (StatusCode::ACCEPTED, json!(1)),
        "{body}"
    );
    let (status, _) = send(
        &reqwest::Client::new(),
        Method::POST,
        &site.server.url("/api/v1/vip/recharges"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 401);
}

/// 100k rows through the import route; run against a release binary:
/// `cargo build --release -p parkbridge && PARKBRIDGE_BIN=target/release/parkbridge cargo test -p e2e --test vip_records -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a benchmark: run explicitly against a release build"]
async fn a_100k_row_import_takes_at_most_10_s_on_sqlite() {
    let site = VipSite::start(Backend::Sqlite).await;
    let mut file = String::from(HEADER);
    let letters = "ABCDEFGHJKLMNPQRSTUVWXYZ";
    for i in 0..100_000u32 {
        let letter = letters.as_bytes()[(i % 20) as usize] as char;
        file.push_str(&format!(
            "\n粤{letter}{:05},蓝,K{i},,MON_A,月卡,2026-01-01,2026-12-31,1,现金,300",
            i / 20
        ));
    }
    let started = std::time::Instant::now();
    let (status, report) = site
        .import(site.park_a, "confirm=true", file.into_bytes())
        .await;
    let elapsed = started.elapsed();
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 100_000, "{}", report["errors"][0]);
    println!("100k-row import (preview + write, over HTTP): {elapsed:?}");
    assert!(elapsed.as_secs_f64() <= 10.0, "took {elapsed:?}");
    assert_eq!(site.list(site.park_a, "limit=1").await["total"], 100_000);
}
