//! pyun-carpark.md §4.5: the image hash and vectors U1, U2 with the exact strings of the spec.

use super::*;
use crate::time::from_epoch_ms;

const SECRET: &str = "pb-upload-secret-2025";

/// The doc sample's one-pixel GIF, base64 `R0lGODlhAQABAIAAAAUEBAAAACwAAAAAAQABAAACAkQBADs=`.
const GIF: [u8; 35] = [
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x05, 0x04, 0x04,
    0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44,
    0x01, 0x00, 0x3B,
];

const U1_PLAIN: &str = "car_desc=临停车&car_type=1&charge_type=1&enter_gate=东门入口&enter_image_hash=DF16D33739DEFE9BDA1F4C45D36FD7A7&enter_time=1735781400000&park_uuid=3bad72c0-6204-4b65-90aa-4323ddd1fb5a&parking_serial=PS20250102093000001&plate=粤B660PP&plate_color=1&remain_parking_space=123&total_parking_space=500&app_secret=pb-upload-secret-2025";

const U2_PLAIN: &str = r#"car_desc=临停车&car_type=1&charge_type=1&enter_time=1735781400000&free_value=1000&leave_gate=西门出口&leave_time=1735803320000&online_value=2000&park_uuid=3bad72c0-6204-4b65-90aa-4323ddd1fb5a&parking_serial=PS20250102093000001&payment_list=[{"pay_type":"2","pay_origin_desc":"微信","pay_time":"1735803065000","value":2000,"free_value":1000,"parking_order":"PO20250102153012000001"}]&plate=粤B660PP&plate_color=1&remain_parking_space=124&total_parking_space=500&total_value=3000&app_secret=pb-upload-secret-2025"#;

fn entry() -> Entry {
    Entry {
        park_uuid: "3bad72c0-6204-4b65-90aa-4323ddd1fb5a".into(),
        parking_serial: "PS20250102093000001".into(),
        plate: Some(Plate::parse("粤B660PP").unwrap()),
        plate_color: PlateColor::Blue,
        plate_type: None,
        card_no: None,
        card_id: None,
        enter_time: from_epoch_ms(1_735_781_400_000).unwrap(),
        enter_image: None,
        enter_image_file: None,
        enter_gate: None,
        enter_security: None,
        car_type: CarType::Temporary,
        car_desc: "临停车".into(),
        car_color: None,
        charge_type: "1".into(),
        vehicle_type: None,
        enter_release_reason: None,
        total_parking_space: Some(500),
        remain_parking_space: Some(123),
    }
}

fn u1() -> Entry {
    Entry {
        enter_gate: Some("东门入口".into()),
        enter_image_file: Some(GIF.to_vec()),
        ..entry()
    }
}

fn u2() -> Leave {
    Leave {
        entry: Entry {
            remain_parking_space: Some(124),
            ..entry()
        },
        leave_time: from_epoch_ms(1_735_803_320_000).unwrap(),
        leave_image: None,
        leave_image_file: None,
        leave_gate: Some("西门出口".into()),
        leave_security: None,
        total_value: Some(3000),
        free_value: Some(1000),
        online_value: Some(2000),
        balance_value: None,
        cash_value: None,
        prepaid_value: None,
        leave_release_reason: None,
        payment_list: vec![LeavePayment {
            pay_type: LeavePayType::Online,
            pay_origin_desc: Some("微信".into()),
            operator: None,
            pay_time: from_epoch_ms(1_735_803_065_000).unwrap(),
            value: 2000,
            free_value: Some(1000),
            parking_order: "PO20250102153012000001".into(),
            change_value: None,
        }],
    }
}

/// The plaintext the form was signed over, with the real secret (the spec's vectors show it).
fn plaintext(form: &UploadForm) -> String {
    form.plaintext_masked()
        .replace("app_secret=***", &format!("app_secret={SECRET}"))
}

#[test]
fn image_hash_of_the_doc_gif() {
    assert_eq!(image_hash(&GIF), "DF16D33739DEFE9BDA1F4C45D36FD7A7");
}

#[test]
fn u1_enter_with_image() {
    let form = u1().to_form(SECRET).unwrap();
    assert_eq!(plaintext(&form), U1_PLAIN);
    assert_eq!(form.sign(), "F2053E6429605B6F82FA96871AC2E1AC");
    assert_eq!(
        crate::pyun::sign_form(form.fields(), SECRET),
        "F2053E6429605B6F82FA96871AC2E1AC"
    );
    assert_eq!(form.files().len(), 1);
    assert_eq!(form.files()[0].name, "enter_image_file");
    assert_eq!(crate::pyun::verify_form(form.fields(), SECRET), Ok(()));
}

#[test]
fn u2_leave_with_payment_list() {
    let leave = u2();
    assert_eq!(
        leave.payment_list_json(),
        r#"[{"pay_type":"2","pay_origin_desc":"微信","pay_time":"1735803065000","value":2000,"free_value":1000,"parking_order":"PO20250102153012000001"}]"#
    );
    let form = leave.to_form(SECRET).unwrap();
    assert_eq!(plaintext(&form), U2_PLAIN);
    assert_eq!(form.sign(), "375706E34F77943C1996CFF586C90A25");
    assert!(form.files().is_empty());
}

#[test]
fn u1_multipart_body_is_deterministic() {
    let form = u1().to_form(SECRET).unwrap();
    let a = form.multipart("pb-boundary-0001").unwrap();
    assert_eq!(a, form.multipart("pb-boundary-0001").unwrap());
    assert_eq!(
        a.content_type,
        "multipart/form-data; boundary=pb-boundary-0001"
    );
    let text = String::from_utf8_lossy(&a.body);
    // Sorted text parts, `sign` last of them, then the image; nothing unsigned but the file.
    let names: Vec<&str> = text
        .split("form-data; name=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert_eq!(
        names,
        [
            "car_desc",
            "car_type",
            "charge_type",
            "enter_gate",
            "enter_image_hash",
            "enter_time",
            "park_uuid",
            "parking_serial",
            "plate",
            "plate_color",
            "remain_parking_space",
            "total_parking_space",
            "sign",
            "enter_image_file"
        ]
    );
    assert!(text.contains(
        "name=\"sign\"\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nF2053E6429605B6F82FA96871AC2E1AC\r\n"
    ));
    let gif_at = a.body.windows(GIF.len()).position(|w| w == GIF).unwrap();
    assert_eq!(
        &a.body[gif_at + GIF.len()..],
        b"\r\n--pb-boundary-0001--\r\n"
    );
    assert!(matches!(
        form.multipart("bad boundary"),
        Err(MultipartError::BadBoundary(_))
    ));
}

#[test]
fn leave_carries_both_images() {
    let mut leave = u2();
    leave.entry.enter_image_file = Some(GIF.to_vec());
    leave.leave_image_file = Some(b"jpeg".to_vec());
    let form = leave.to_form(SECRET).unwrap();
    let names: Vec<&str> = form.files().iter().map(|f| f.name).collect();
    assert_eq!(names, ["enter_image_file", "leave_image_file"]);
    let hash = |name| {
        form.fields()
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(hash("leave_image_hash"), Some(image_hash(b"jpeg")));
    assert_eq!(
        hash("enter_image_hash").as_deref(),
        Some("DF16D33739DEFE9BDA1F4C45D36FD7A7")
    );
}

#[test]
fn invalid_uploads_name_the_field() {
    let field_of = |e: RequestError| match e {
        RequestError::Missing(f) | RequestError::Invalid { field: f, .. } => f.to_owned(),
        RequestError::Row { index, source } => format!("{index}:{source}"),
        other => other.to_string(),
    };
    let cases: Vec<(Entry, &str)> = vec![
        (
            Entry {
                parking_serial: " ".into(),
                ..entry()
            },
            "parking_serial",
        ),
        (
            Entry {
                charge_type: String::new(),
                ..entry()
            },
            "charge_type",
        ),
        (
            Entry {
                car_color: Some(9),
                ..entry()
            },
            "car_color",
        ),
        (
            Entry {
                vehicle_type: Some(0),
                ..entry()
            },
            "vehicle_type",
        ),
        (
            Entry {
                plate_type: Some(3),
                ..entry()
            },
            "plate_type",
        ),
        (
            Entry {
                remain_parking_space: None,
                ..entry()
            },
            "remain_parking_space",
        ),
        (
            Entry {
                total_parking_space: Some(-1),
                ..entry()
            },
            "total_parking_space",
        ),
        (
            Entry {
                enter_image_file: Some(Vec::new()),
                ..entry()
            },
            "enter_image_file",
        ),
    ];
    for (e, field) in cases {
        assert_eq!(field_of(e.to_form(SECRET).unwrap_err()), field);
    }
    let mut leave = u2();
    leave.leave_time = leave.entry.enter_time - chrono::TimeDelta::seconds(1);
    assert_eq!(field_of(leave.to_form(SECRET).unwrap_err()), "leave_time");
    let mut leave = u2();
    leave.cash_value = Some(-5);
    assert_eq!(field_of(leave.to_form(SECRET).unwrap_err()), "cash_value");
    let mut leave = u2();
    leave.payment_list[0].parking_order.clear();
    assert!(field_of(leave.to_form(SECRET).unwrap_err()).starts_with("0:"));
}

#[test]
fn masked_plaintext_is_what_p_yun_echoes() {
    let masked = u1().to_form(SECRET).unwrap().plaintext_masked();
    assert_eq!(masked, U1_PLAIN.replace(SECRET, "***"));
    assert!(!masked.contains(SECRET));
}
