//! A tariff told to P云's `realtime` (pyun-carpark.md §3.5): in Chinese words (`charge_depict`)
//! and as a JSON text of our own shape (`charge_json`), both computed from the tariff so they
//! cannot drift from what the fee engine charges.

use serde_json::{Value, json};

use super::{Pricing, Tariff};

/// Fen as yuan with two decimals: `1000` → `10.00`.
fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    format!("{sign}{}.{:02}", fen / 100, fen % 100)
}

/// The tariff in words, e.g. `入场15分钟内免费；首60分钟10.00元，之后每30分钟3.00元；每24小时最高50.00元；缴费后15分钟内离场`.
pub fn depict(t: &Tariff) -> String {
    let mut parts = Vec::new();
    if t.free_minutes > 0 {
        parts.push(format!("入场{}分钟内免费", t.free_minutes));
    }
    match &t.pricing {
        Pricing::Simple(p) => {
            if p.first_minutes > 0 {
                parts.push(format!(
                    "首{}分钟{}元，之后每{}分钟{}元",
                    p.first_minutes,
                    yuan(p.first_price),
                    p.unit_minutes,
                    yuan(p.unit_price)
                ));
            } else {
                parts.push(format!("每{}分钟{}元", p.unit_minutes, yuan(p.unit_price)));
            }
        }
        Pricing::TimeOfDay(p) => {
            if let Some(first) = &p.first {
                parts.push(format!("首{}分钟{}元", first.minutes, yuan(first.price)));
            }
            for period in &p.periods {
                let cap = period
                    .period_cap
                    .map(|c| format!("，该时段最高{}元", yuan(c)))
                    .unwrap_or_default();
                parts.push(format!(
                    "{}–{}每{}分钟{}元{cap}",
                    period.start,
                    period.end,
                    period.unit_minutes,
                    yuan(period.unit_price)
                ));
            }
        }
    }
    if let Some(cap) = t.cycle_cap {
        parts.push(format!("每24小时最高{}元", yuan(cap)));
    }
    if t.grace_minutes > 0 {
        parts.push(format!("缴费后{}分钟内离场", t.grace_minutes));
    }
    parts.join("；")
}

/// The tariff as `charge_json`'s text: DOC's example shape (`free_time`, `type`, `max`, `more`)
/// extended with what our tariffs also have (`grace_time`, `first`, `periods`); fen and minutes.
pub fn charge_json(t: &Tariff) -> String {
    let mut v = json!({
        "free_time": t.free_minutes,
        "grace_time": t.grace_minutes,
    });
    if let Some(cap) = t.cycle_cap {
        v["max"] = json!(cap);
    }
    match &t.pricing {
        Pricing::Simple(p) => {
            v["type"] = json!(1);
            v["first"] = json!({"minutes": p.first_minutes, "price": p.first_price});
            v["more"] = json!({"price": p.unit_price, "unit": p.unit_minutes});
        }
        Pricing::TimeOfDay(p) => {
            v["type"] = json!(2);
            if let Some(first) = &p.first {
                v["first"] = json!({"minutes": first.minutes, "price": first.price});
            }
            let periods: Vec<Value> = p
                .periods
                .iter()
                .map(|period| {
                    let mut x = json!({
                        "start": period.start.to_string(),
                        "end": period.end.to_string(),
                        "price": period.unit_price,
                        "unit": period.unit_minutes,
                    });
                    if let Some(cap) = period.period_cap {
                        x["max"] = json!(cap);
                    }
                    x
                })
                .collect();
            v["periods"] = Value::Array(periods);
        }
    }
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_tariff_in_words_and_json() {
        let t = Tariff::example();
        assert_eq!(
            depict(&t),
            "入场15分钟内免费；首60分钟10.00元，之后每30分钟3.00元；每24小时最高50.00元；缴费后15分钟内离场"
        );
        let v: Value = serde_json::from_str(&charge_json(&t)).unwrap();
        assert_eq!(v["free_time"], 15);
        assert_eq!(v["type"], 1);
        assert_eq!(v["max"], 5000);
        assert_eq!(v["more"], json!({"price": 300, "unit": 30}));
        assert_eq!(v["first"], json!({"minutes": 60, "price": 1000}));
    }
}
