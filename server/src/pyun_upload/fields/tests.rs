//! An entry and a leave built from a stay: the leave's money is the ledger's figure at exit, and
//! what is stored signs into the upload P云 receives.

use chrono::TimeDelta;
use protocol::ledger::{self, Discount, DiscountKind};
use protocol::pyun::verify_form;
use protocol::quote::Payment;
use protocol::tariff::Tariff;

use super::*;

const SECRET: &str = "pb-upload-secret-2025";
const PARK_UUID: &str = "3bad72c0-6204-4b65-90aa-4323ddd1fb5a";

fn at(hh_mm: &str) -> DateTime<Utc> {
    format!("2026-11-24T{hh_mm}:00Z").parse().unwrap()
}

fn session() -> SessionView {
    SessionView {
        id: 7,
        plate: Some("粤B660PP".into()),
        plate_color: Some(1),
        barcode: None,
        entry_at: at("02:00"),
        entry_gate: Some("东门入口".into()),
        exit_at: None,
        exit_gate: None,
        state: "open".into(),
        fee_due_fen: None,
        vip: false,
    }
}

fn field<'a>(form: &'a protocol::pyun_carpark::UploadForm, name: &str) -> Option<&'a str> {
    form.fields()
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn an_entry_is_stored_with_p_yun_names_and_signs_as_sent() {
    let fields = enter_fields(&session(), false, PARK_UUID, Some(Spaces::of(Some(100), 3)));
    let stored = serde_json::to_string(&fields).unwrap();
    assert_eq!(
        stored,
        r#"{"park_uuid":"3bad72c0-6204-4b65-90aa-4323ddd1fb5a","parking_serial":"PB7","plate":"粤B660PP","plate_color":1,"enter_time":1795485600000,"enter_gate":"东门入口","car_type":1,"car_desc":"临停车","charge_type":"1","total_parking_space":100,"remain_parking_space":97}"#
    );
    let back: EnterFields = serde_json::from_str(&stored).unwrap();
    assert_eq!(back, fields);
    let form = back.to_entry().unwrap().to_form(SECRET).unwrap();
    assert_eq!(
        form.plaintext_masked(),
        "car_desc=临停车&car_type=1&charge_type=1&enter_gate=东门入口&enter_time=1795485600000&park_uuid=3bad72c0-6204-4b65-90aa-4323ddd1fb5a&parking_serial=PB7&plate=粤B660PP&plate_color=1&remain_parking_space=97&total_parking_space=100&app_secret=***"
    );
    assert!(verify_form(form.fields(), SECRET).is_ok());
    assert!(verify_form(form.fields(), "another secret").is_err());
}

#[test]
fn a_plateless_vip_entry_without_spaces_says_what_is_known() {
    let s = SessionView {
        plate: None,
        plate_color: None,
        barcode: Some("T1795485600ABC".into()),
        entry_gate: None,
        ..session()
    };
    let fields = enter_fields(&s, true, PARK_UUID, None);
    assert_eq!(
        (
            fields.plate_color,
            fields.car_type,
            fields.car_desc.as_str()
        ),
        (-1, 3, "VIP")
    );
    let form = fields.to_entry().unwrap().to_form(SECRET).unwrap();
    for absent in [
        "plate",
        "enter_gate",
        "total_parking_space",
        "remain_parking_space",
    ] {
        assert_eq!(field(&form, absent), None, "{absent}");
    }
    // More cars than spaces: P云 is told the car park is full, never a negative count.
    let full = enter_fields(&s, false, PARK_UUID, Some(Spaces::of(Some(2), 5)));
    assert_eq!(full.remain_parking_space, Some(0));
}

#[test]
fn a_leave_carries_the_ledgers_figure_at_exit_and_one_item_per_payment() {
    let tariff = Tariff::example();
    // A shop's ¥5 off, a Mallcoo payment with benefits at 03:00, P云's payment of the rest at
    // 04:30, and the exit within the grace period after it.
    let discounts = vec![Discount {
        kind: DiscountKind::Amount(500),
        granted_at: at("02:30"),
        source_label: "商户减免".into(),
    }];
    let payments = vec![
        StoredPayment {
            order_no: "MC20261124001".into(),
            channel: "mallcoo".into(),
            pay_type: 3,
            pay_origin: None,
            pay_origin_desc: None,
            pay_time: at("03:00"),
            amount: 300,
            deduction: 200,
        },
        StoredPayment {
            order_no: "PO20261124043000001".into(),
            channel: "pyun".into(),
            pay_type: 3,
            pay_origin: Some(8),
            pay_origin_desc: Some("微信".into()),
            pay_time: at("04:30"),
            amount: 900,
            deduction: 0,
        },
    ];
    let ledger_payments: Vec<Payment> = payments
        .iter()
        .map(|p| Payment {
            at: p.pay_time,
            amount: p.settled(),
        })
        .collect();
    let exit = at("04:40");
    let figure = ledger::figure(
        &ledger::Stay {
            entry: at("02:00"),
            tariff: &tariff,
            vip: None,
            discounts: &discounts,
            payments: &ledger_payments,
        },
        exit,
    )
    .unwrap();
    // PROTOCOLS.md §5's example tariff priced to the P云 payment (grace): 150 min = 1000 + 3 × 300.
    assert_eq!(
        (
            figure.charge,
            figure.discount_worth,
            figure.paid,
            figure.owed
        ),
        (1900, 500, 1400, 0)
    );
    let closed = SessionView {
        exit_at: Some(exit),
        exit_gate: Some("西门出口".into()),
        state: "closed".into(),
        fee_due_fen: Some(figure.owed),
        ..session()
    };
    let spaces = Some(Spaces::of(Some(100), 2));
    let fields = leave_fields(&closed, exit, PARK_UUID, spaces, &figure, &payments);
    assert_eq!(
        (fields.total_value, fields.free_value, fields.online_value),
        (figure.charge, figure.discount_worth, figure.paid)
    );
    let items: i64 = fields
        .payment_list
        .iter()
        .map(|p| p.value + p.free_value.unwrap_or(0))
        .sum();
    assert_eq!(items, fields.online_value);
    // The entry's fields again, `enter_time` to the millisecond.
    assert_eq!(
        fields.entry,
        enter_fields(&session(), false, PARK_UUID, spaces)
    );

    let stored = serde_json::to_string(&fields).unwrap();
    let back: LeaveFields = serde_json::from_str(&stored).unwrap();
    assert_eq!(back, fields);
    let leave = back.to_leave().unwrap();
    assert_eq!(
        leave.payment_list_json(),
        r#"[{"pay_type":"2","pay_origin_desc":"猫酷-微信","pay_time":"1795489200000","value":300,"free_value":200,"parking_order":"MC20261124001"},{"pay_type":"2","pay_origin_desc":"微信","pay_time":"1795494600000","value":900,"parking_order":"PO20261124043000001"}]"#
    );
    let form = leave.to_form(SECRET).unwrap();
    for (name, value) in [
        ("enter_time", "1795485600000"),
        ("leave_time", "1795495200000"),
        ("leave_gate", "西门出口"),
        ("total_value", "1900"),
        ("free_value", "500"),
        ("online_value", "1400"),
        ("parking_serial", "PB7"),
        ("remain_parking_space", "98"),
    ] {
        assert_eq!(field(&form, name), Some(value), "{name}");
    }
    assert!(verify_form(form.fields(), SECRET).is_ok());
}

#[test]
fn payment_origins_are_named_by_channel() {
    let p = |channel: &str, pay_type, pay_origin, desc: Option<&str>| StoredPayment {
        order_no: "o".into(),
        channel: channel.into(),
        pay_type,
        pay_origin,
        pay_origin_desc: desc.map(str::to_owned),
        pay_time: at("03:00") + TimeDelta::seconds(1),
        amount: 1,
        deduction: 0,
    };
    for (payment, desc) in [
        (p("pyun", 0, Some(4), None), "支付宝"),
        (p("pyun", 0, Some(8), Some(" ")), "微信"),
        (p("pyun", 0, Some(0), None), "P云"),
        (p("pyun", 0, None, Some("云闪付")), "云闪付"),
        (p("mallcoo", 1, None, None), "猫酷-支付宝"),
        (p("mallcoo", 2, None, None), "猫酷-银联"),
        (p("mallcoo", 0, None, None), "猫酷"),
    ] {
        let item = payment.fields();
        assert_eq!(item.pay_origin_desc.as_deref(), Some(desc));
        assert_eq!((item.pay_type, item.free_value), (2, None));
    }
}

#[test]
fn a_stored_field_p_yun_does_not_define_is_refused_not_sent() {
    let mut fields = enter_fields(&session(), false, PARK_UUID, None);
    fields.car_type = 9;
    assert!(fields.to_entry().unwrap_err().contains("car_type"));
    fields.car_type = 1;
    fields.plate_color = 7;
    assert!(fields.to_entry().unwrap_err().contains("plate_color"));
}
