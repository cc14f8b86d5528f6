//! The published vectors and §5's worked examples, run on wasm32 under `wasm-bindgen-test-runner`
//! (node), because the browser runs this crate too. On the host the unit tests cover the same.
#![cfg(target_arch = "wasm32")]

use chrono::{DateTime, TimeDelta, Utc};
use protocol::plate::Plate;
use protocol::quote::{Payment, Session, quote};
use protocol::tariff::Tariff;
use protocol::{fee, mallcoo, pyun};
use wasm_bindgen_test::wasm_bindgen_test;

fn at(minutes: i64) -> DateTime<Utc> {
    protocol::time::parse_pyun_iso("2026-11-23T02:00:00Z").unwrap() + TimeDelta::minutes(minutes)
}

#[wasm_bindgen_test]
fn pyun_form_vector() {
    let fields = [
        ("app_id", "op74061a7d244f7b7"),
        ("coupon_code", "7cb7cc3e4e27b8a"),
        ("merchant", "62626601"),
        ("plate", "粤BA1471"),
        ("quantity", "1"),
        ("reason", "测试派发"),
        ("store_code", "4911419421"),
    ];
    assert_eq!(
        pyun::sign_form(&fields, "e9ae5402dbabc68c1c4xxxx"),
        "756E3F88FBDB2B82E0A6C37C5EE060E5"
    );
}

#[wasm_bindgen_test]
fn pyun_json_vector() {
    let body = r#"{"reason":"接口测试退款","pay_serial":"20220721102644066066610031","app_id":"op00961963581daa7","value":"1"}"#;
    assert_eq!(
        pyun::sign_json(body.as_bytes(), "6409292d66625a2a0912acfc61ed956c"),
        "55D9BC675B3B042A015895FA9F9D037B"
    );
}

#[wasm_bindgen_test]
fn mallcoo_vector() {
    let body =
        r#"{"ParkCode":"P001","PlateNo":"沪A68688","InTime":"2026-11-24 02:00:00","TradeID":"E1"}"#;
    assert_eq!(
        mallcoo::sign::sign("PK_demo_0001", "20261123180000", body, "SK_demo_secret"),
        "9A363837500D7089"
    );
}

#[wasm_bindgen_test]
fn section_5_examples() {
    let t = Tariff::example();
    for (minutes, expected) in [
        (15, 0),
        (16, 1000),
        (60, 1000),
        (61, 1300),
        (90, 1300),
        (91, 1600),
        (23 * 60, 5000),
        (24 * 60 + 10, 6000),
    ] {
        assert_eq!(
            fee::fee(&t, at(0), at(minutes)).unwrap(),
            expected,
            "stay of {minutes} min"
        );
    }
    let paid = [Payment {
        at: at(70),
        amount: 1300,
    }];
    let session = Session {
        entry: at(0),
        tariff: &t,
    };
    assert_eq!(
        quote(&session, &paid, None, at(84), 0, 0).unwrap().unpaid,
        0
    );
    assert_eq!(
        quote(&session, &paid, None, at(100), 0, 0).unwrap().unpaid,
        300
    );
}

#[wasm_bindgen_test]
fn section_5_1_worked_example() {
    use protocol::ledger::{Discount, DiscountKind, Stay, mallcoo_amounts};
    let t = Tariff::example();
    let discounts: Vec<Discount> = [
        DiscountKind::Minutes(60),
        DiscountKind::Percent(500),
        DiscountKind::Amount(300),
    ]
    .into_iter()
    .map(|kind| Discount {
        kind,
        granted_at: at(10),
        source_label: "商户减免".to_owned(),
    })
    .collect();
    let stay = Stay {
        entry: at(0),
        tariff: &t,
        vip: None,
        discounts: &discounts,
        payments: &[],
    };
    let m = mallcoo_amounts(&stay, at(100), 0, 0).unwrap();
    assert_eq!(
        (m.total, m.paid, m.unpaid, m.deduction),
        (1600, 1400, 200, 0)
    );
    assert_eq!(m.figure.owed, 200);
}

#[wasm_bindgen_test]
fn plates_normalise() {
    assert_eq!(
        Plate::parse(" 粤ｂａ１４７１ ").unwrap().as_str(),
        "粤BA1471"
    );
    assert!(Plate::parse("沪A1234").is_err());
}

#[wasm_bindgen_test]
fn pyun_carpark_downlink_vectors() {
    use protocol::pyun_carpark::{DownlinkRequest, RealtimeReply, receive};
    let v1 = r#"{"service":"service.parking.payment.billing","version":"1.0","charset":"UTF-8","park_uuid":"3bad72c0-6204-4b65-90aa-4323ddd1fb5a","plate":"粤B660PP","sign":"46DA4B3E5334F0C5F0FC770C7C0C92E0"}"#;
    let accepted = receive(v1.as_bytes(), Some("pb-demo-key-2025")).unwrap();
    assert!(matches!(accepted.request, DownlinkRequest::Billing(_)));
    let v5 = RealtimeReply {
        total: 500,
        parking: 377,
        charge_json: r#"{"free_time":15,"max":3000,"more":{"price":300,"unit":60},"type":1}"#
            .into(),
        charge_depict: "入场15分钟免费,3元/小时,每日封顶30元".into(),
    };
    assert!(
        v5.reply()
            .to_json(Some("pb-demo-key-2025"))
            .ends_with(r#""sign":"AFC56E7863F8CFAB878DA70776103EA5"}"#)
    );
}

#[wasm_bindgen_test]
fn pyun_carpark_upload_vector() {
    use protocol::plate::{Plate, PlateColor};
    use protocol::pyun_carpark::{CarType, Entry, image_hash};
    let gif: [u8; 35] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x05, 0x04,
        0x04, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02,
        0x02, 0x44, 0x01, 0x00, 0x3B,
    ];
    assert_eq!(image_hash(&gif), "DF16D33739DEFE9BDA1F4C45D36FD7A7");
    let u1 = Entry {
        park_uuid: "3bad72c0-6204-4b65-90aa-4323ddd1fb5a".into(),
        parking_serial: "PS20250102093000001".into(),
        plate: Some(Plate::parse("粤B660PP").unwrap()),
        plate_color: PlateColor::Blue,
        plate_type: None,
        card_no: None,
        card_id: None,
        enter_time: protocol::time::from_epoch_ms(1_735_781_400_000).unwrap(),
        enter_image: None,
        enter_image_file: Some(gif.to_vec()),
        enter_gate: Some("东门入口".into()),
        enter_security: None,
        car_type: CarType::Temporary,
        car_desc: "临停车".into(),
        car_color: None,
        charge_type: "1".into(),
        vehicle_type: None,
        enter_release_reason: None,
        total_parking_space: Some(500),
        remain_parking_space: Some(123),
    };
    let form = u1.to_form("pb-upload-secret-2025").unwrap();
    assert_eq!(form.sign(), "F2053E6429605B6F82FA96871AC2E1AC");
}
