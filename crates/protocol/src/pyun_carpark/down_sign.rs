//! S-DOWN, the signature on P云's calls to the car park and on our replies (pyun-carpark.md §2.1): sorted `k=v`, `&key=`, MD5, upper hex.
//!
//! P云's reference gateway keeps empty values (`k=`) while its older spec drops them, and we
//! cannot tell which one P云 runs before integration (D1). So a request is accepted under either
//! convention, and a reply never carries an empty member, which makes both give the same string.

use md5::{Digest, Md5};

use super::members::Members;

/// Name of the member that carries the signature.
pub const SIGN_MEMBER: &str = "sign";

/// What joins the plaintext and the key; S-DOWN uses `&key=`, unlike the uploads' `&app_secret=`.
pub const KEY_SEPARATOR: &str = "&key=";

/// Which empty-value convention a verified request was signed under, worth logging until P云's is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Convention {
    /// No member was empty, so both conventions gave the same plaintext.
    Indistinct,
    /// Empty members signed as `k=` (P云's reference gateway, `4pyun-api-http`).
    KeepEmpty,
    /// Empty members left out (the legacy car-park spec, appendix C2.3).
    DropEmpty,
}

/// Why a request's S-DOWN signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DownSignError {
    /// No `sign`, or a blank one.
    #[error("the request carries no signature")]
    MissingSign,
    /// The signature matches neither convention.
    #[error("the signature does not match; plaintext `{plaintext}`")]
    Mismatch {
        /// Our plaintext with empty members kept, without the key: the reply's `hint` (§1.5 step 5).
        plaintext: String,
        /// Our plaintext with empty members dropped, for the log.
        plaintext_nonempty: String,
        /// The signature received.
        received: String,
    },
}

/// The plaintext of `(name, text)` pairs without the key: byte order of the name, `sign` left out.
///
/// `keep_empty` chooses the convention: `k=` for an empty text, or no pair at all.
pub fn plaintext<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    keep_empty: bool,
) -> String {
    let mut pairs: Vec<(&str, &str)> = pairs
        .into_iter()
        .filter(|(k, v)| *k != SIGN_MEMBER && (keep_empty || !v.is_empty()))
        .collect();
    // By name only, stably: a repeated name (which a parsed body never has) keeps its order.
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    // Sized once: a billing reply's plaintext is some 700 bytes, grown by doubling it was copied
    // seven times.
    let len = pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut text = String::with_capacity(len);
    for (i, (k, v)) in pairs.into_iter().enumerate() {
        if i > 0 {
            text.push('&');
        }
        text.push_str(k);
        text.push('=');
        text.push_str(v);
    }
    text
}

/// `UPPER(HEX(MD5(UTF8(plaintext + "&key=" + key))))`.
pub fn sign_plaintext(plaintext: &str, key: &str) -> String {
    let mut h = Md5::new();
    h.update(plaintext.as_bytes());
    h.update(KEY_SEPARATOR.as_bytes());
    h.update(key.as_bytes());
    hex::encode_upper(h.finalize())
}

/// Signs a reply's members: empty ones are left out, so the sign is the same under both conventions.
///
/// ```
/// use protocol::pyun_carpark::down_sign::sign;
/// let members = [
///     ("service", "service.parking.payment.result"),
///     ("version", "1.0"),
///     ("charset", "UTF-8"),
///     ("result_code", "1001"),
///     ("message", "成功"),
/// ];
/// assert_eq!(sign(members, "pb-demo-key-2025"), "9AE5E4C4061CC235AAA17F185C100CAF");
/// ```
pub fn sign<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>, key: &str) -> String {
    sign_plaintext(&plaintext(pairs, false), key)
}

/// Verifies a received object's `sign` under both conventions, ignoring the case of the hex.
pub fn verify(members: &Members, key: &str) -> Result<Convention, DownSignError> {
    let received = members
        .text(SIGN_MEMBER)
        .filter(|s| !s.trim().is_empty())
        .ok_or(DownSignError::MissingSign)?;
    let pairs = || members.iter().map(|(k, m)| (k, m.text.as_str()));
    let all = plaintext(pairs(), true);
    // Both are computed and compared whenever they differ, so the time taken does not say which
    // one was close; when no member is empty they are one string, built and signed once (which
    // the request itself shows, so skipping the copy tells a prober nothing).
    let same = !members
        .iter()
        .any(|(k, m)| k != SIGN_MEMBER && m.text.is_empty());
    let nonempty = (!same).then(|| plaintext(pairs(), false));
    let keep = same_hex(received, &sign_plaintext(&all, key));
    let drop = match &nonempty {
        None => keep,
        Some(nonempty) => same_hex(received, &sign_plaintext(nonempty, key)),
    };
    match (same, keep, drop) {
        (true, true, _) => Ok(Convention::Indistinct),
        (false, true, _) => Ok(Convention::KeepEmpty),
        (false, false, true) => Ok(Convention::DropEmpty),
        _ => Err(DownSignError::Mismatch {
            plaintext_nonempty: nonempty.unwrap_or_else(|| all.clone()),
            plaintext: all,
            received: received.to_owned(),
        }),
    }
}

/// Compares ignoring ASCII case (P云's `equalsIgnoreCase`) without an early exit, so timing does
/// not reveal how much of a forged signature was right.
fn same_hex(received: &str, expected: &str) -> bool {
    let (a, b) = (received.as_bytes(), expected.as_bytes());
    let diff = a
        .iter()
        .zip(b)
        .fold(u8::from(a.len() != b.len()), |acc, (x, y)| {
            acc | (x.to_ascii_uppercase() ^ y.to_ascii_uppercase())
        });
    diff == 0
}

#[cfg(test)]
mod tests {
    //! pyun-carpark.md §2.3: every vector with the exact strings of the spec.
    use super::*;

    pub(super) const KEY: &str = "pb-demo-key-2025";

    const V1: &str = r#"{"service":"service.parking.payment.billing","version":"1.0","charset":"UTF-8","park_uuid":"3bad72c0-6204-4b65-90aa-4323ddd1fb5a","plate":"粤B660PP","sign":"46DA4B3E5334F0C5F0FC770C7C0C92E0"}"#;
    const V1_PLAIN: &str = "charset=UTF-8&park_uuid=3bad72c0-6204-4b65-90aa-4323ddd1fb5a&plate=粤B660PP&service=service.parking.payment.billing&version=1.0";
    const V1_SIGN: &str = "46DA4B3E5334F0C5F0FC770C7C0C92E0";

    fn members(body: &str) -> Members {
        Members::parse(body.as_bytes()).unwrap()
    }

    fn plain_of(body: &str, keep_empty: bool) -> String {
        let m = members(body);
        plaintext(m.iter().map(|(k, m)| (k, m.text.as_str())), keep_empty)
    }

    #[test]
    fn v1_billing_request() {
        assert_eq!(plain_of(V1, true), V1_PLAIN);
        assert_eq!(sign_plaintext(V1_PLAIN, KEY), V1_SIGN);
        assert_eq!(verify(&members(V1), KEY), Ok(Convention::Indistinct));
    }

    #[test]
    fn v1_member_order_does_not_matter() {
        let shuffled = r#"{"sign":"46DA4B3E5334F0C5F0FC770C7C0C92E0","plate":"粤B660PP","version":"1.0","park_uuid":"3bad72c0-6204-4b65-90aa-4323ddd1fb5a","charset":"UTF-8","service":"service.parking.payment.billing"}"#;
        assert_eq!(verify(&members(shuffled), KEY), Ok(Convention::Indistinct));
    }

    #[test]
    fn v1_neg_is_refused_with_its_plaintext() {
        let body = V1.replace("粤B660PP", "粤B660PQ");
        let plain = V1_PLAIN.replace("粤B660PP", "粤B660PQ");
        assert_eq!(
            sign_plaintext(&plain, KEY),
            "3C3E1A503707357BAD052BACAC0F62FB"
        );
        assert_eq!(
            verify(&members(&body), KEY),
            Err(DownSignError::Mismatch {
                plaintext: plain.clone(),
                plaintext_nonempty: plain,
                received: V1_SIGN.to_owned(),
            })
        );
    }

    #[test]
    fn v1_case_lower_case_sign_is_accepted() {
        let body = V1.replace(V1_SIGN, "46da4b3e5334f0c5f0fc770c7c0c92e0");
        assert_eq!(verify(&members(&body), KEY), Ok(Convention::Indistinct));
    }

    #[test]
    fn v1b_empty_gate_id_under_both_conventions() {
        let keep = "charset=UTF-8&gate_id=&park_uuid=3bad72c0-6204-4b65-90aa-4323ddd1fb5a&plate=粤B660PP&service=service.parking.payment.billing&version=1.0";
        assert_eq!(
            sign_plaintext(keep, KEY),
            "D1DB088943555EF922F7E6CC8F481BB5"
        );
        let body = V1.replace(r#""plate""#, r#""gate_id":"","plate""#);
        assert_eq!(plain_of(&body, true), keep);
        assert_eq!(plain_of(&body, false), V1_PLAIN);
        assert_eq!(verify(&members(&body), KEY), Ok(Convention::DropEmpty));
        let http = body.replace(V1_SIGN, "D1DB088943555EF922F7E6CC8F481BB5");
        assert_eq!(verify(&members(&http), KEY), Ok(Convention::KeepEmpty));
        // `null` is `""` to P云 (Jackson's TreeMap<String,String>), so it signs the same.
        let null = http.replace(r#""gate_id":"""#, r#""gate_id":null"#);
        assert_eq!(verify(&members(&null), KEY), Ok(Convention::KeepEmpty));
    }

    #[test]
    fn v2_billing_response() {
        let plain = "buffer_time=900&car_desc=临停车&car_type=1&charset=UTF-8&enter_free_time=900&enter_time=20250102093000&free_value=1000&message=成功&paid_value=0&parking_order=PO20250102153012000001&parking_serial=PS20250102093000001&parking_time=21612&pay_value=2000&plate=粤B660PP&result_code=1001&service=service.parking.payment.billing&total_value=3000&version=1.0";
        let body = r#"{"service":"service.parking.payment.billing","version":"1.0","charset":"UTF-8","result_code":"1001","message":"成功","plate":"粤B660PP","parking_serial":"PS20250102093000001","parking_order":"PO20250102153012000001","enter_time":"20250102093000","parking_time":21612,"total_value":3000,"free_value":1000,"paid_value":0,"pay_value":2000,"enter_free_time":900,"buffer_time":900,"car_type":1,"car_desc":"临停车","sign":"FC24D7B6611235050B4560927C452D5C"}"#;
        assert_eq!(plain_of(body, true), plain);
        assert_eq!(
            sign_plaintext(plain, KEY),
            "FC24D7B6611235050B4560927C452D5C"
        );
        assert_eq!(verify(&members(body), KEY), Ok(Convention::Indistinct));
        // Numbers sent as strings sign the same.
        let strings = body
            .replace(":21612", r#":"21612""#)
            .replace(":3000", r#":"3000""#)
            .replace(":900", r#":"900""#)
            .replace(":0,", r#":"0","#);
        assert_ne!(strings, body);
        assert_eq!(plain_of(&strings, true), plain);
    }

    #[test]
    fn v3_payment_result_request_and_its_two_replies() {
        let body = r#"{"service":"service.parking.payment.result","version":"1.0","charset":"UTF-8","park_uuid":"3bad72c0-6204-4b65-90aa-4323ddd1fb5a","parking_serial":"PS20250102093000001","parking_order":"PO20250102153012000001","plate":"粤B660PP","pay_serial":"20250102153105075500112137","pay_time":"20250102153105","value":"2000","free_value":"1000","pay_value":"2000","pay_origin":"8","pay_origin_desc":"微信","pay_source":"微信","sign":"6BBB75D9F597A6B41805920073FC8B5B"}"#;
        let plain = "charset=UTF-8&free_value=1000&park_uuid=3bad72c0-6204-4b65-90aa-4323ddd1fb5a&parking_order=PO20250102153012000001&parking_serial=PS20250102093000001&pay_origin=8&pay_origin_desc=微信&pay_serial=20250102153105075500112137&pay_source=微信&pay_time=20250102153105&pay_value=2000&plate=粤B660PP&service=service.parking.payment.result&value=2000&version=1.0";
        assert_eq!(plain_of(body, true), plain);
        assert_eq!(
            sign_plaintext(plain, KEY),
            "6BBB75D9F597A6B41805920073FC8B5B"
        );
        assert_eq!(verify(&members(body), KEY), Ok(Convention::Indistinct));

        let ok = "charset=UTF-8&message=成功&result_code=1001&service=service.parking.payment.result&version=1.0";
        assert_eq!(sign_plaintext(ok, KEY), "9AE5E4C4061CC235AAA17F185C100CAF");
        let revoked = "charset=UTF-8&message=订单已撤销&result_code=1403&service=service.parking.payment.result&version=1.0";
        assert_eq!(
            sign_plaintext(revoked, KEY),
            "500C5443EA2131B74DB3C0BE16E9263B"
        );
    }

    #[test]
    fn v4_discount_create_request() {
        let body = r#"{"service":"service.parking.discount.create","version":"1.0","charset":"UTF-8","park_uuid":"3bad72c0-6204-4b65-90aa-4323ddd1fb5a","parking_serial":"PS20250102093000001","plate":"粤B660PP","grant_serial":"G2025010215000001","type":"2","value":"120","reason":"购物满300","store_name":"肯德基","store_code":"4911419421","coupon_name":"2小时停车券","coupon_code":"7cb7cc3e4e27b8a","expire_time":"20250102235959","sign":"6572C408F401A95D1489597DCAC4CF5F"}"#;
        let plain = "charset=UTF-8&coupon_code=7cb7cc3e4e27b8a&coupon_name=2小时停车券&expire_time=20250102235959&grant_serial=G2025010215000001&park_uuid=3bad72c0-6204-4b65-90aa-4323ddd1fb5a&parking_serial=PS20250102093000001&plate=粤B660PP&reason=购物满300&service=service.parking.discount.create&store_code=4911419421&store_name=肯德基&type=2&value=120&version=1.0";
        assert_eq!(plain_of(body, true), plain);
        assert_eq!(
            sign_plaintext(plain, KEY),
            "6572C408F401A95D1489597DCAC4CF5F"
        );
        assert_eq!(verify(&members(body), KEY), Ok(Convention::Indistinct));
    }

    #[test]
    fn v5_json_in_a_string_is_signed_decoded() {
        let body = r#"{"service":"service.parking.realtime","version":"1.0","charset":"UTF-8","result_code":"1001","message":"成功","total":500,"parking":377,"charge_json":"{\"free_time\":15,\"max\":3000,\"more\":{\"price\":300,\"unit\":60},\"type\":1}","charge_depict":"入场15分钟免费,3元/小时,每日封顶30元","sign":"AFC56E7863F8CFAB878DA70776103EA5"}"#;
        let plain = r#"charge_depict=入场15分钟免费,3元/小时,每日封顶30元&charge_json={"free_time":15,"max":3000,"more":{"price":300,"unit":60},"type":1}&charset=UTF-8&message=成功&parking=377&result_code=1001&service=service.parking.realtime&total=500&version=1.0"#;
        assert_eq!(plain_of(body, true), plain);
        assert_eq!(
            sign_plaintext(plain, KEY),
            "AFC56E7863F8CFAB878DA70776103EA5"
        );
        assert_eq!(verify(&members(body), KEY), Ok(Convention::Indistinct));
    }

    #[test]
    fn missing_or_blank_sign() {
        let unsigned = V1.replace(r#","sign":"46DA4B3E5334F0C5F0FC770C7C0C92E0""#, "");
        for body in [
            unsigned.clone(),
            V1.replace(V1_SIGN, ""),
            V1.replace(V1_SIGN, "  "),
            V1.replace(&format!("\"{V1_SIGN}\""), "null"),
        ] {
            assert_eq!(
                verify(&members(&body), KEY),
                Err(DownSignError::MissingSign)
            );
        }
    }

    #[test]
    fn wrong_key_truncated_or_padded_signs_are_refused() {
        assert!(verify(&members(V1), "other").is_err());
        for sign in [
            &V1_SIGN[..31],
            &format!("{V1_SIGN}0"),
            &format!(" {V1_SIGN}"),
        ] {
            let body = V1.replace(V1_SIGN, sign);
            assert!(verify(&members(&body), KEY).is_err(), "{sign}");
        }
    }

    #[test]
    fn values_with_separators_go_in_raw() {
        // §2.1: never URL-encoded; `&`, `=` and `"` appear as they are.
        let text = plaintext([("b", "x&y=z"), ("a", r#"say "hi""#), ("sign", "S")], true);
        assert_eq!(text, r#"a=say "hi"&b=x&y=z"#);
    }
}
