//! §1.5's checks in order, with the spec's vectors and DOC's official examples (§2.4).
use super::*;
use crate::ledger::DiscountKind;
use crate::pyun_carpark::reply::ReplyHead;

const KEY: &str = "pb-demo-key-2025";
const V1: &str = r#"{"service":"service.parking.payment.billing","version":"1.0","charset":"UTF-8","park_uuid":"3bad72c0-6204-4b65-90aa-4323ddd1fb5a","plate":"粤B660PP","sign":"46DA4B3E5334F0C5F0FC770C7C0C92E0"}"#;

fn refused(body: &str, key: Option<&str>) -> Rejected {
    *receive(body.as_bytes(), key).unwrap_err()
}

/// The rejection's body read back: its head, and whether it verifies with `KEY`.
fn head(r: &Rejected) -> (ReplyHead, bool) {
    let m = Members::parse(r.body.as_bytes()).unwrap();
    let signed = down_sign::verify(&m, KEY).is_ok();
    (ReplyHead::from_members(&m).unwrap(), signed)
}

#[test]
fn v1_is_accepted_as_a_billing_call() {
    let a = receive(V1.as_bytes(), Some(KEY)).unwrap();
    assert_eq!(a.envelope.service, Service::PaymentBilling);
    assert_eq!(a.envelope.park_uuid, "3bad72c0-6204-4b65-90aa-4323ddd1fb5a");
    assert!(a.envelope.is_standard());
    let DownlinkRequest::Billing(b) = a.request else {
        panic!("not billing: {:?}", a.request)
    };
    assert_eq!(b.plate().map(|p| p.as_str()), Some("粤B660PP"));
}

#[test]
fn v1_neg_gets_1401_with_its_plaintext_as_hint_signed() {
    let r = refused(&V1.replace("粤B660PP", "粤B660PQ"), Some(KEY));
    assert_eq!(r.result_code(), ResultCode::Unauthorized);
    let (head, signed) = head(&r);
    assert!(signed);
    assert_eq!(head.message, "签名错误");
    assert_eq!(
        head.hint.as_deref(),
        Some(
            "charset=UTF-8&park_uuid=3bad72c0-6204-4b65-90aa-4323ddd1fb5a&plate=粤B660PQ&service=service.parking.payment.billing&version=1.0"
        )
    );
    assert!(!r.body.contains(KEY));
}

#[test]
fn v3_and_v4_are_accepted_and_decoded() {
    let v3 = r#"{"service":"service.parking.payment.result","version":"1.0","charset":"UTF-8","park_uuid":"3bad72c0-6204-4b65-90aa-4323ddd1fb5a","parking_serial":"PS20250102093000001","parking_order":"PO20250102153012000001","plate":"粤B660PP","pay_serial":"20250102153105075500112137","pay_time":"20250102153105","value":"2000","free_value":"1000","pay_value":"2000","pay_origin":"8","pay_origin_desc":"微信","pay_source":"微信","sign":"6BBB75D9F597A6B41805920073FC8B5B"}"#;
    let a = receive(v3.as_bytes(), Some(KEY)).unwrap();
    assert!(matches!(a.request, DownlinkRequest::PaymentResult(ref n) if n.value == 2000));
    let v4 = r#"{"service":"service.parking.discount.create","version":"1.0","charset":"UTF-8","park_uuid":"3bad72c0-6204-4b65-90aa-4323ddd1fb5a","parking_serial":"PS20250102093000001","plate":"粤B660PP","grant_serial":"G2025010215000001","type":"2","value":"120","reason":"购物满300","store_name":"肯德基","store_code":"4911419421","coupon_name":"2小时停车券","coupon_code":"7cb7cc3e4e27b8a","expire_time":"20250102235959","sign":"6572C408F401A95D1489597DCAC4CF5F"}"#;
    let a = receive(v4.as_bytes(), Some(KEY)).unwrap();
    assert!(
        matches!(a.request, DownlinkRequest::DiscountCreate(ref g) if g.kind == DiscountKind::Minutes(120))
    );
}

/// Signs a request body the way P云 does (empty members kept), for the cases below.
fn signed(members: &[(&str, &str)]) -> String {
    let sign = down_sign::sign_plaintext(&down_sign::plaintext(members.iter().copied(), true), KEY);
    let mut obj = serde_json::Map::new();
    for (k, v) in members {
        obj.insert((*k).to_owned(), (*v).into());
    }
    obj.insert("sign".into(), sign.into());
    serde_json::Value::Object(obj).to_string()
}

const PARK: (&str, &str) = ("park_uuid", "3bad72c0-6204-4b65-90aa-4323ddd1fb5a");

#[test]
fn type_4_coupon_is_1403_signed() {
    let body = signed(&[
        ("service", "service.parking.discount.create"),
        PARK,
        ("grant_serial", "G1"),
        ("type", "4"),
        ("value", "3"),
    ]);
    let r = refused(&body, Some(KEY));
    assert_eq!(r.result_code(), ResultCode::Refused);
    let (head, signed) = head(&r);
    assert!(signed);
    assert_eq!(head.code, "1403");
    assert_eq!(
        head.service.as_deref(),
        Some("service.parking.discount.create")
    );
}

#[test]
fn unknown_service_is_1503_after_the_signature() {
    let body = signed(&[
        ("service", "service.parking.vip.query"),
        PARK,
        ("plate", "粤A9T58H"),
    ]);
    let r = refused(&body, Some(KEY));
    assert_eq!(r.result_code(), ResultCode::NotImplemented);
    let (head, signed) = head(&r);
    assert!(signed);
    assert_eq!(head.hint.as_deref(), Some("service.parking.vip.query"));
    // With a bad signature the signature is reported first, as P云's gateway does.
    let forged = body.replace("粤A9T58H", "粤A9T58J");
    assert_eq!(
        refused(&forged, Some(KEY)).result_code(),
        ResultCode::Unauthorized
    );
}

#[test]
fn unknown_park_is_1401_unsigned() {
    let r = refused(V1, None);
    assert_eq!(r.result_code(), ResultCode::Unauthorized);
    let (head, signed) = head(&r);
    assert!(!signed && !r.body.contains("\"sign\""));
    assert_eq!(head.message, "未知车场");
}

#[test]
fn missing_members_are_1400_naming_the_member() {
    for (name, body) in [
        (
            "service",
            V1.replace(
                r#""service":"service.parking.payment.billing""#,
                r#""service":"""#,
            ),
        ),
        ("sign", V1.replace("46DA4B3E5334F0C5F0FC770C7C0C92E0", " ")),
        (
            "park_uuid",
            V1.replace(r#""park_uuid":"3bad72c0-6204-4b65-90aa-4323ddd1fb5a","#, ""),
        ),
    ] {
        let r = refused(&body, Some(KEY));
        assert_eq!(r.error, GatewayError::Missing(name));
        assert_eq!(r.result_code(), ResultCode::BadRequest);
        assert_eq!(head(&r).0.hint, Some(format!("请求参数`{name}`缺失!")));
    }
}

#[test]
fn bodies_that_are_not_objects_are_1400_unsigned() {
    for body in [&b"[]"[..], b"", b"{", b"\xff", b"null"] {
        let r = *receive(body, Some(KEY)).unwrap_err();
        assert_eq!(r.result_code(), ResultCode::BadRequest);
        assert!(!r.body.contains("\"sign\""), "{}", r.body);
        assert!(Members::parse(r.body.as_bytes()).is_ok());
    }
}

#[test]
fn bad_business_fields_are_1400_signed() {
    let body = signed(&[
        ("service", "service.parking.payment.result"),
        PARK,
        ("parking_order", "O"),
    ]);
    let r = refused(&body, Some(KEY));
    assert!(matches!(
        r.error,
        GatewayError::Field(RequestError::Missing("pay_serial"))
    ));
    assert!(head(&r).1);
}

#[test]
fn other_services_decode() {
    let destroy = signed(&[
        ("service", "service.parking.discount.destroy"),
        PARK,
        ("grant_serial", "G1"),
    ]);
    let a = receive(destroy.as_bytes(), Some(KEY)).unwrap();
    assert_eq!(
        a.request,
        DownlinkRequest::DiscountDestroy(DiscountRevocation {
            grant_serial: "G1".into()
        })
    );
    let realtime = signed(&[
        ("service", "service.parking.realtime"),
        PARK,
        ("version", "2.0"),
    ]);
    let a = receive(realtime.as_bytes(), Some(KEY)).unwrap();
    assert_eq!(a.request, DownlinkRequest::Realtime);
    assert!(!a.envelope.is_standard());
    // P云's http.md example: empty gate_id kept by a KeepEmpty signer.
    let kept = signed(&[
        ("service", "service.parking.payment.billing"),
        PARK,
        ("plate", "粤B660PP"),
        ("gate_id", ""),
    ]);
    let a = receive(kept.as_bytes(), Some(KEY)).unwrap();
    assert_eq!(a.envelope.convention, Convention::KeepEmpty);
}

#[test]
fn official_requests_do_not_verify_with_the_keys_tried() {
    // §2.4: no DOC example publishes its key. The keys the spec tried must still fail here,
    // cleanly, with the plaintext P云 would have signed.
    let http_md = r#"{
  "service" : "service.parking.payment.billing",
  "charset" : "UTF-8",
  "plate" : "粤TSXXXXX",
  "version" : "1.0",
  "park_uuid" : "UIDDDDDDDD123",
  "sign" : "612BB8F6B7BFF82F60B04AEB8955E156",
  "gate_id" : ""
}"#;
    let realtime_md = r#"{"charset" : "UTF-8","sign" : "B2B6A0FC5816B5174572172A777E8DD3","park_uuid" : "10315","service" : "service.parking.realtime","version" : "1.0"}"#;
    let notify_md = r#"{"charset":"UTF-8","park_uuid":"3bad72c0-6204-4b65-90aa-4323ddd1fb5a","parking_order":"201811301049350025","parking_serial":"8c598afd-2cb8-4cec-8f73-4fd4391d2fc6","pay_origin":"4","pay_origin_desc":"支付宝","pay_source": "支付宝","pay_serial":"20181130105240075500112137","pay_time":"20181130105250","service":"service.parking.payment.result","sign":"E7D7371549C2B4E3AE38C3A028973020","value":"500","version":"1.0"}"#;
    let prepay_md = r#"{"charset" : "UTF-8","sign" : "5DDE645BDCD7C54D805258B4A40A13D7","park_uuid" : "1239","plate" : "粤A9T58H","service" : "service.parking.vip.query","version" : "1.0"}"#;
    for body in [http_md, realtime_md, notify_md, prepay_md] {
        let inbound = Inbound::parse(body.as_bytes()).unwrap();
        let park = inbound.park_uuid().unwrap().to_owned();
        for key in ["DEMO", "22D42dSdae2", "", park.as_str()] {
            let r = *Inbound::parse(body.as_bytes())
                .unwrap()
                .open(Some(key))
                .unwrap_err();
            assert!(
                matches!(
                    r.error,
                    GatewayError::Signature(DownSignError::Mismatch { .. })
                ),
                "{key}: {:?}",
                r.error
            );
        }
    }
    let r = refused(http_md, Some("DEMO"));
    let GatewayError::Signature(DownSignError::Mismatch {
        plaintext,
        plaintext_nonempty,
        received,
    }) = r.error
    else {
        panic!("{:?}", r.error)
    };
    assert_eq!(
        plaintext,
        "charset=UTF-8&gate_id=&park_uuid=UIDDDDDDDD123&plate=粤TSXXXXX&service=service.parking.payment.billing&version=1.0"
    );
    assert_eq!(
        plaintext_nonempty,
        "charset=UTF-8&park_uuid=UIDDDDDDDD123&plate=粤TSXXXXX&service=service.parking.payment.billing&version=1.0"
    );
    assert_eq!(received, "612BB8F6B7BFF82F60B04AEB8955E156");
}

#[test]
fn official_replies_do_not_verify_with_the_keys_tried() {
    // §2.4's three reply rows, bodies from DOC at 19d424d: payment-billing.md, payment-notify.md,
    // sdk-cplus.md. Each is read without error; none verifies with a key the spec tried.
    let billing_md = r#"{"buffer_time":"1320","charset":"UTF-8","enter_free_time":"1860","enter_time":"20181130100904","free_value":"0","paid_value":"0","parking_order":"2018113010535820181130100904034792608","parking_serial":"20181130100904034792608","parking_time":"2694","pay_value":"500","plate":"粤B660PP","result_code":"1001","service":"service.parking.payment.billing","sign":"73DF19DA361CB673DD3FEFC7A6135BE6","total_value":"500","version":"1.0"}"#;
    let notify_md = r#"{"charset":"UTF-8","message":"订单支付成功","result_code":"1001","service":"service.parking.payment.result","sign":"F97B3D16E739C82C1DED0450775905CF","version":"1.0"}"#;
    let sdk_md = r#"{"service":"service.parking.detail","version":"1.0","charset":"UTF-8","result_code":"1001","message":"处理OK","sign":"722059C5CC1B3FF5CDF8F8A4CF3B31CC"}"#;
    for body in [billing_md, notify_md, sdk_md] {
        let m = Members::parse(body.as_bytes()).unwrap();
        assert_eq!(ReplyHead::from_members(&m).unwrap().code, "1001");
        for key in ["DEMO", "22D42dSdae2", ""] {
            assert!(
                matches!(
                    down_sign::verify(&m, key),
                    Err(DownSignError::Mismatch { .. })
                ),
                "{key}"
            );
        }
    }
}
