//! Properties of P云's car-park gateway (pyun-carpark.md §1.5, §2.1) and uploads (§4.1): nothing
//! P云 or an attacker can send makes it panic; whatever P云 signs under either convention verifies;
//! what we sign reads back.
#![cfg(not(target_arch = "wasm32"))] // proptest needs OS randomness, absent on wasm32.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;
use protocol::plate::{Plate, PlateColor};
use protocol::pyun_carpark::down_sign::{self, Convention};
use protocol::pyun_carpark::multipart::MultipartError;
use protocol::pyun_carpark::{
    BillingOrder, CarType, DownlinkRequest, Entry, Members, RealtimeReply, ReplyHead, receive,
};

/// A scalar JSON value as P云 may send it, with the text P云 signs it as.
#[derive(Debug, Clone)]
enum Scalar {
    Str(String),
    /// A number token, kept verbatim (`1.50`, `-0`, `2E+3`).
    Num(String),
    Bool(bool),
    Null,
}

impl Scalar {
    fn json(&self) -> String {
        match self {
            Scalar::Str(s) => serde_json::Value::String(s.clone()).to_string(),
            Scalar::Num(t) => t.clone(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Null => "null".to_owned(),
        }
    }

    /// §2.1 step 2, written out again here so the property does not check the code against itself.
    fn signed_text(&self) -> String {
        match self {
            Scalar::Str(s) => s.clone(),
            Scalar::Num(t) => t.clone(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Null => String::new(),
        }
    }
}

fn scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        4 => any::<String>().prop_map(Scalar::Str),
        1 => Just(Scalar::Str(String::new())),
        1 => "[&=\"\\\\ 粤B0-9]{0,8}".prop_map(Scalar::Str),
        2 => "-?(0|[1-9][0-9]{0,15})(\\.[0-9]{1,6})?([eE][+-]?[0-9]{1,3})?".prop_map(Scalar::Num),
        1 => any::<bool>().prop_map(Scalar::Bool),
        1 => Just(Scalar::Null),
    ]
}

/// Members other than `sign`, unique by name (a JSON object P云 builds from a map).
fn members() -> impl Strategy<Value = BTreeMap<String, Scalar>> {
    let name = prop_oneof![any::<String>(), "[a-z_]{1,16}"];
    proptest::collection::btree_map(name, scalar(), 0..12).prop_map(|mut m| {
        m.remove("sign");
        m
    })
}

fn object(members: &BTreeMap<String, Scalar>, sign: Option<&str>) -> String {
    let mut parts: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("{}:{}", serde_json::Value::String(k.clone()), v.json()))
        .collect();
    if let Some(sign) = sign {
        parts.push(format!("\"sign\":\"{sign}\""));
    }
    format!("{{{}}}", parts.join(","))
}

/// P云's plaintext: byte order of the name, `k=v` joined by `&`, empties kept or dropped.
fn plaintext(members: &BTreeMap<String, Scalar>, keep_empty: bool) -> String {
    members
        .iter()
        .map(|(k, v)| (k, v.signed_text()))
        .filter(|(_, v)| keep_empty || !v.is_empty())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn instant(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic_and_are_answered_with_json(body in proptest::collection::vec(any::<u8>(), 0..256), key in any::<String>()) {
        match receive(&body, Some(&key)) {
            Ok(_) => {}
            Err(r) => {
                let head = ReplyHead::from_members(&Members::parse(r.body.as_bytes()).unwrap()).unwrap();
                prop_assert_eq!(head.code.as_str(), r.result_code().as_str());
            }
        }
        let _ = receive(&body, None);
    }

    #[test]
    fn arbitrary_objects_never_panic(m in members(), sign in prop::option::of("[0-9A-Fa-f]{0,34}"), key in prop::option::of(any::<String>())) {
        let body = object(&m, sign.as_deref());
        let parsed = Members::parse(body.as_bytes()).unwrap();
        let _ = down_sign::verify(&parsed, key.as_deref().unwrap_or_default());
        if let Err(r) = receive(body.as_bytes(), key.as_deref()) {
            let head = ReplyHead::from_members(&Members::parse(r.body.as_bytes()).unwrap()).unwrap();
            prop_assert_eq!(head.code.as_str(), r.result_code().as_str());
        }
    }

    #[test]
    fn what_p_yun_signs_under_either_convention_verifies(m in members(), key in any::<String>(), keep_empty in any::<bool>(), lower in any::<bool>()) {
        let mut sign = down_sign::sign_plaintext(&plaintext(&m, keep_empty), &key);
        if lower {
            sign = sign.to_lowercase();
        }
        let parsed = Members::parse(object(&m, Some(&sign)).as_bytes()).unwrap();
        let convention = down_sign::verify(&parsed, &key);
        prop_assert!(convention.is_ok(), "{:?}", convention);
        let indistinct = plaintext(&m, true) == plaintext(&m, false);
        prop_assert_eq!(convention.unwrap() == Convention::Indistinct, indistinct);

        // Any other signature is refused.
        let other = if sign.starts_with('0') { sign.replacen('0', "1", 1) } else { format!("0{}", &sign[1..]) };
        let forged = Members::parse(object(&m, Some(&other)).as_bytes()).unwrap();
        prop_assert!(down_sign::verify(&forged, &key).is_err());
    }

    #[test]
    fn a_signed_call_is_accepted_whatever_else_it_carries(m in members(), key in any::<String>()) {
        let mut m = m;
        m.insert("service".into(), Scalar::Str("service.parking.realtime".into()));
        m.insert("park_uuid".into(), Scalar::Str("3bad72c0-6204-4b65-90aa-4323ddd1fb5a".into()));
        let sign = down_sign::sign_plaintext(&plaintext(&m, true), &key);
        let accepted = receive(object(&m, Some(&sign)).as_bytes(), Some(&key));
        prop_assert!(accepted.is_ok(), "{:?}", accepted.err());
        prop_assert_eq!(accepted.unwrap().request, DownlinkRequest::Realtime);
    }

    #[test]
    fn billing_orders_round_trip_signed(
        total in 0i64..10_000_000, free in 0i64..10_000_000, paid in 0i64..10_000_000,
        entry in 1_500_000_000i64..2_000_000_000, stay in 0i64..10_000_000,
        serial in "[A-Za-z0-9-]{1,64}", order in "[A-Za-z0-9-]{1,64}",
        desc in prop::option::of(any::<String>()), key in any::<String>(),
    ) {
        let enter_time = instant(entry);
        let o = BillingOrder {
            plate: Some(Plate::parse("粤B660PP").unwrap()),
            card_id: None,
            parking_serial: serial,
            parking_order: order,
            enter_time,
            parking_time: stay,
            total_value: total,
            free_value: free,
            paid_value: paid,
            pay_value: (total - free - paid).max(0),
            enter_free_time: Some(900),
            buffer_time: None,
            parking_number: None,
            car_type: Some(1),
            car_desc: desc.filter(|d| !d.is_empty() && d.chars().count() <= 256),
            plate_type: None,
            plate_color: Some(PlateColor::Green),
            recharge_expire_days: None,
            next_time: Some(enter_time + TimeDelta::hours(1)),
            next_value: Some(total),
        };
        prop_assert_eq!(o.validate(), Ok(()));
        let body = o.reply().to_json(Some(&key));
        let m = Members::parse(body.as_bytes()).unwrap();
        prop_assert!(down_sign::verify(&m, &key).is_ok());
        prop_assert_eq!(BillingOrder::from_members(&m), Ok(o));
    }

    #[test]
    fn realtime_replies_round_trip_signed(total in 0i64..1_000_000, parking in 0i64..1_000_000, depict in "[^\\s].{0,40}", key in any::<String>()) {
        let r = RealtimeReply {
            total,
            parking,
            charge_json: serde_json::json!({"free_time": 15, "depict": depict}).to_string(),
            charge_depict: depict,
        };
        let body = r.reply().to_json(Some(&key));
        let m = Members::parse(body.as_bytes()).unwrap();
        prop_assert!(down_sign::verify(&m, &key).is_ok());
        prop_assert_eq!(RealtimeReply::from_members(&m), Ok(r));
    }

    #[test]
    fn uploads_verify_and_build_or_refuse_cleanly(
        desc in "[^\\s].{0,30}", gate in prop::option::of(any::<String>()), image in prop::option::of(proptest::collection::vec(any::<u8>(), 1..64)),
        secret in any::<String>(), boundary in "[A-Za-z0-9'+_.-]{1,12}",
    ) {
        let entry = Entry {
            park_uuid: "3bad72c0-6204-4b65-90aa-4323ddd1fb5a".into(),
            parking_serial: "PS1".into(),
            plate: None,
            plate_color: PlateColor::Unknown,
            plate_type: None,
            card_no: None,
            card_id: None,
            enter_time: instant(1_735_781_400),
            enter_image: None,
            enter_image_file: image,
            enter_gate: gate.filter(|g| g.chars().count() <= 256),
            enter_security: None,
            car_type: CarType::Temporary,
            car_desc: desc,
            car_color: None,
            charge_type: "1".into(),
            vehicle_type: None,
            enter_release_reason: None,
            total_parking_space: None,
            remain_parking_space: None,
        };
        let form = entry.to_form(&secret).unwrap();
        prop_assert_eq!(protocol::pyun::verify_form(form.fields(), &secret), Ok(()));
        match form.multipart(&boundary) {
            Ok(m) => {
                let end = format!("--{boundary}--\r\n");
                prop_assert!(m.body.ends_with(end.as_bytes()));
            }
            Err(e) => prop_assert!(matches!(e, MultipartError::BoundaryInPart(_)), "{}", e),
        }
    }
}
