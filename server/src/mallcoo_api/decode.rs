//! Mallcoo request bodies into the protocol crate's types, with a Chinese `resMsg` that names
//! the faulty field: Mallcoo shows `resMsg` to its operators, who read the seed's field names.

use protocol::mallcoo::MallcooError;
use serde::de::DeserializeOwned;

use super::Refusal;

/// Amount fields (fen): non-negative whole numbers.
const AMOUNT_FIELDS: [&str; 5] = [
    "amount",
    "deductionAmount",
    "unPayAmount",
    "freeAmount",
    "Amount",
];
/// Time fields in `yyyy-MM-dd HH:mm:ss` (Asia/Shanghai).
const TIME_FIELDS: [&str; 3] = ["payTime", "startTime", "endTime"];
/// Integer fields that are not money.
const COUNT_FIELDS: [&str; 2] = ["freeMinutes", "Minutes"];

/// Decodes `body` as `T`; any failure is a `Refusal::Refused` naming the field.
pub fn body<T: DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    // serde would read a struct from an array too (fields by position): only an object is a request.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Refusal::Refused(
            match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                Ok(_) => "请求体必须是 JSON 对象".to_owned(),
                Err(e) => format!("请求体不是有效的 JSON：{}", plain(&e)),
            },
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| {
        let path = e.path().to_string();
        Refusal::Refused(field_message(&path, e.inner()))
    })?;
    de.end()
        .map_err(|e| Refusal::Refused(format!("请求体不是有效的 JSON：{}", plain(&e))))?;
    Ok(value)
}

/// serde_json's message without its " at line 1 column 7" tail.
fn plain(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

fn field_message(path: &str, e: &serde_json::Error) -> String {
    if e.is_syntax() || e.is_eof() || e.is_io() {
        return format!("请求体不是有效的 JSON：{}", plain(e));
    }
    let detail = plain(e);
    if let Some(rest) = detail.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or(rest);
        return format!("缺少必填字段 {field}");
    }
    // The last segment names the field: `deductionDetails[0].Amount` → `Amount`.
    let leaf = path.rsplit('.').next().unwrap_or(path);
    let leaf = leaf.split('[').next().unwrap_or(leaf);
    if path == "." || path.is_empty() {
        return format!("请求体必须是 JSON 对象：{detail}");
    }
    if AMOUNT_FIELDS.contains(&leaf) {
        if detail.contains("negative") {
            return format!("{path} 不能为负数（单位：分）：{detail}");
        }
        return format!("{path} 必须是非负整数（单位：分，不能有小数）：{detail}");
    }
    if TIME_FIELDS.contains(&leaf) {
        return format!("{path} 时间格式错误，应为 yyyy-MM-dd HH:mm:ss：{detail}");
    }
    if COUNT_FIELDS.contains(&leaf) {
        return format!("{path} 必须是非负整数（分钟）：{detail}");
    }
    format!("字段 {path} 无效：{detail}")
}

/// The `resMsg` of a request that decoded but breaks a rule of the interface.
pub fn rule_message(e: &MallcooError) -> String {
    match e {
        MallcooError::MissingField(f) => format!("缺少必填字段 {f}"),
        MallcooError::NegativeAmount { field, value } => {
            format!("{field} 不能为负数（收到 {value} 分）")
        }
        MallcooError::NoVehicle => "plateNo 与 barcode 必须提供其中一个".to_owned(),
        MallcooError::BothVehicles => "plateNo 与 barcode 只能提供其中一个".to_owned(),
        MallcooError::ZeroPaymentWithAmount(a) => {
            format!("payType 为 0（0 元支付）时 amount 必须为 0（收到 {a} 分）")
        }
        MallcooError::EmptyTimeWindow { start, end } => {
            format!("startTime（{start}）必须早于 endTime（{end}）")
        }
    }
}

#[cfg(test)]
mod tests {
    use protocol::mallcoo::{PayFeeRequest, PaymentInfoRequest, TrafficRequest};

    use super::*;

    fn msg<T: DeserializeOwned + std::fmt::Debug>(json: &str) -> String {
        match body::<T>(json.as_bytes()).unwrap_err() {
            Refusal::Refused(m) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn messages_name_the_field() {
        assert!(msg::<PaymentInfoRequest>("{").starts_with("请求体不是有效的 JSON"));
        assert!(msg::<PaymentInfoRequest>("{} x").starts_with("请求体不是有效的 JSON"));
        assert!(msg::<PaymentInfoRequest>("[]").starts_with("请求体必须是 JSON 对象"));
        assert!(
            msg::<PaymentInfoRequest>(r#"["P1","沪A12345"]"#).starts_with("请求体必须是 JSON 对象")
        );
        assert!(msg::<PaymentInfoRequest>("").starts_with("请求体不是有效的 JSON"));
        let m = msg::<PaymentInfoRequest>(r#"{"plateNo":"沪A12345","freeAmount":1.5}"#);
        assert!(m.starts_with("freeAmount 必须是非负整数"), "{m}");
        let m = msg::<PaymentInfoRequest>(r#"{"plateNo":"沪A12345","freeAmount":-1}"#);
        assert!(m.starts_with("freeAmount 不能为负数"), "{m}");
        let m = msg::<PaymentInfoRequest>(r#"{"plateNo":"沪A12345","freeMinutes":-1}"#);
        assert!(m.starts_with("freeMinutes 必须是非负整数"), "{m}");
        let m = msg::<TrafficRequest>(r#"{"startTime":"2026/11/24","endTime":"x"}"#);
        assert!(m.starts_with("startTime 时间格式错误"), "{m}");
        let m = msg::<TrafficRequest>(r#"{"startTime":"2026-11-24 00:00:00"}"#);
        assert_eq!(m, "缺少必填字段 endTime");
        let m = msg::<PayFeeRequest>(
            r#"{"feeId":"f","orderNo":"o","payTime":"2026-11-24 00:00:00","unPayAmount":1,
                "amount":1,"deductionDetails":[{"Type":2,"Amount":0.5}],"payChannel":0,"payType":1}"#,
        );
        assert!(
            m.starts_with("deductionDetails[0].Amount 必须是非负整数"),
            "{m}"
        );
    }
}
