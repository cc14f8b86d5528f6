//! Schemas of the values several operations share, stated once so that the document describes
//! exactly what the validators accept.

use serde_json::{Value, json};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder,
    Schema, SchemaFormat, SchemaType, Type,
};

/// What `protocol::plate::Plate::parse` accepts in its canonical spelling: province, issuing
/// letter and serial (ordinary, special, new-energy) or an embassy plate (ASCII letters in either
/// case; the server also drops spaces and middle dots and folds full-width forms).
pub(crate) const PLATE_PATTERN: &str = "^(?:[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Za-hj-np-z](?:[0-9A-HJ-NP-Za-hj-np-z]{4}[0-9A-HJ-NP-Za-hj-np-z学警港澳挂领]|[DFdf][0-9A-HJ-NP-Za-hj-np-z][0-9]{4}|[0-9]{5}[DFdf])|使[0-9]{6})$";

/// A licence plate (`invalid_plate` otherwise).
pub(crate) fn plate() -> RefOr<Schema> {
    plate_of(Type::String.into())
}

/// A plate to filter by, or nothing (empty or blank).
pub(crate) fn plate_filter() -> RefOr<Schema> {
    let body = PLATE_PATTERN.trim_start_matches('^').trim_end_matches('$');
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^(?:\\s*|{body})$")))
        .into()
}

/// A licence plate, or `null`.
pub(crate) fn optional_plate() -> RefOr<Schema> {
    plate_of(SchemaType::from_iter([Type::String, Type::Null]))
}

fn plate_of(schema_type: SchemaType) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(schema_type)
        .pattern(Some(PLATE_PATTERN))
        .description(Some(
            "A Chinese licence plate, e.g. `沪A68688`, `粤BD07627`, `使014578`.",
        ))
        .examples([serde_json::json!("沪A68688")])
        .into()
}

/// P云's plate colour code, or `null`.
pub(crate) fn optional_plate_color() -> RefOr<Schema> {
    from_json(&json!({
        "type": ["integer", "null"],
        "enum": [1, 2, 3, 4, 5, -1, null],
        "description": "P云's plate colour code: 1 blue, 2 yellow, 3 white, 4 black, 5 green, -1 unknown.",
    }))
}

/// A car park's code as machine clients name it.
pub(crate) fn park_code() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[a-z0-9_-]{1,32}$"))
        .description(Some("The car park's code."))
        .into()
}

/// A tariff (PROTOCOLS.md §5) as the server reads it; `protocol::tariff::Tariff` carries no
/// OpenAPI derive (the protocol crate has no HTTP concerns), so its schema is written here.
/// What no schema can say (periods tiling the day once, a first price without a first block) is
/// a 422 `invalid_tariff`.
pub(crate) struct TariffSchema;

impl utoipa::PartialSchema for TariffSchema {
    fn schema() -> RefOr<Schema> {
        let u32_min = |min: u32| json!({"type": "integer", "minimum": min, "maximum": u32::MAX});
        let fen = json!({"type": "integer", "format": "int64", "minimum": 0});
        let fen_or_null = json!({"type": ["integer", "null"], "format": "int64", "minimum": 0});
        let day_time = json!({
            "type": "string",
            "pattern": "^(?:[01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$",
            "description": "`HH:MM`, Asia/Shanghai wall clock; `24:00` ends the day",
        });
        let simple = json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["kind", "first_minutes", "first_price", "unit_minutes", "unit_price"],
            "properties": {
                "kind": {"type": "string", "enum": ["simple"]},
                "first_minutes": u32_min(0),
                "first_price": fen,
                "unit_minutes": u32_min(1),
                "unit_price": fen,
            },
        });
        let time_of_day = json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["kind", "periods"],
            "properties": {
                "kind": {"type": "string", "enum": ["time_of_day"]},
                "first": {"oneOf": [{"type": "null"}, {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["minutes", "price"],
                    "properties": {"minutes": u32_min(1), "price": fen},
                }]},
                "periods": {"type": "array", "minItems": 1, "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["start", "end", "unit_minutes", "unit_price"],
                    "properties": {
                        "start": day_time,
                        "end": day_time,
                        "unit_minutes": u32_min(1),
                        "unit_price": fen,
                        "period_cap": fen_or_null,
                    },
                }},
            },
        });
        let tariff = json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["pricing"],
            "description": "Free minutes, the grace after a payment (default 15), a cap per 24 h cycle (fen, or null) and the pricing: `simple` or `time_of_day`.",
            "properties": {
                "free_minutes": u32_min(0),
                "grace_minutes": u32_min(0),
                "cycle_cap": fen_or_null,
                "pricing": {"oneOf": [simple, time_of_day]},
            },
        });
        from_json(&tariff)
    }
}

impl utoipa::ToSchema for TariffSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        "Tariff".into()
    }
}

/// The gate exit body: a car park code and exactly one of a plate and a (non-blank) barcode.
/// Written out because the "exactly one" is a `oneOf` no derive states.
pub(crate) struct ExitBodySchema;

impl utoipa::PartialSchema for ExitBodySchema {
    fn schema() -> RefOr<Schema> {
        let printable = r"^[^\x00-\x1F\x7F-\x9F]*$";
        let filled = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$";
        let schema = json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["park"],
            "description": "A car leaving: exactly one of `plate` and `barcode` (a blank barcode counts as none).",
            "properties": {
                "park": serde_json::to_value(park_code()).expect("serialisable"),
                "plate": serde_json::to_value(optional_plate()).expect("serialisable"),
                "barcode": {"type": ["string", "null"], "maxLength": 64, "pattern": printable,
                    "description": "The ticket number of a plate-less car."},
                "time": {"type": ["string", "null"], "format": "date-time",
                    "description": "When the car left, RFC 3339; default now; at most 5 minutes ahead (422 `invalid_time`)."},
                "gate": {"type": ["string", "null"], "maxLength": 64, "pattern": printable,
                    "description": "The gate's name."},
            },
            "oneOf": [
                {"required": ["plate"], "properties": {
                    "plate": {"type": "string"},
                    "barcode": {"type": ["string", "null"], "pattern": r"^\s*$"},
                }},
                {"required": ["barcode"], "properties": {
                    "barcode": {"type": "string", "pattern": filled},
                    "plate": {"type": "null"},
                }},
            ],
        });
        from_json(&schema)
    }
}

impl utoipa::ToSchema for ExitBodySchema {
    fn name() -> std::borrow::Cow<'static, str> {
        "ExitBody".into()
    }
}

/// Builds a schema from JSON Schema text. utoipa's own deserializer cannot be used for this: its
/// `Schema` is an untagged enum that reads any JSON as a plain object, silently dropping `oneOf`
/// and `items`. This reads the keywords our hand-written schemas use, and panics on no other.
pub(crate) fn from_json(v: &Value) -> RefOr<Schema> {
    let description = v.get("description").and_then(Value::as_str);
    if let Some(options) = v.get("oneOf").and_then(Value::as_array) {
        let mut one = OneOfBuilder::new().description(description);
        for option in options {
            one = one.item(from_json(option));
        }
        if v.get("properties").is_none() {
            return one.into();
        }
        // An object whose alternatives narrow its properties: both must hold.
        let mut base = v.clone();
        if let Some(fields) = base.as_object_mut() {
            fields.remove("oneOf");
        }
        return AllOfBuilder::new().item(from_json(&base)).item(one).into();
    }
    let types: Vec<Type> = match v.get("type") {
        Some(Value::String(t)) => vec![type_named(t)],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(type_named)
            .collect(),
        _ => Vec::new(),
    };
    let usize_of = |key: &str| v.get(key).and_then(Value::as_u64).map(|n| n as usize);
    if types == [Type::Array] {
        return ArrayBuilder::new()
            .items(from_json(&v["items"]))
            .min_items(usize_of("minItems"))
            .max_items(usize_of("maxItems"))
            .description(description)
            .into();
    }
    let mut o = ObjectBuilder::new().description(description);
    if !types.is_empty() {
        o = o.schema_type(SchemaType::from_iter(types));
    }
    for (name, property) in v
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        o = o.property(name, from_json(property));
    }
    for name in v
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        o = o.required(name.as_str().unwrap_or_default());
    }
    if v.get("additionalProperties") == Some(&Value::Bool(false)) {
        o = o.additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)));
    }
    if let Some(values) = v.get("enum").and_then(Value::as_array) {
        o = o.enum_values(Some(values.clone()));
    }
    o = o
        .minimum(v.get("minimum").and_then(Value::as_i64))
        .maximum(v.get("maximum").and_then(Value::as_i64))
        .min_length(usize_of("minLength"))
        .max_length(usize_of("maxLength"))
        .pattern(v.get("pattern").and_then(Value::as_str));
    let format = match v.get("format").and_then(Value::as_str) {
        Some("date-time") => Some(KnownFormat::DateTime),
        Some("date") => Some(KnownFormat::Date),
        Some("int64") => Some(KnownFormat::Int64),
        Some("int32") => Some(KnownFormat::Int32),
        Some(other) => panic!("format {other} is not handled here"),
        None => None,
    };
    o.format(format.map(SchemaFormat::KnownFormat)).into()
}

fn type_named(name: &str) -> Type {
    match name {
        "object" => Type::Object,
        "string" => Type::String,
        "integer" => Type::Integer,
        "number" => Type::Number,
        "boolean" => Type::Boolean,
        "array" => Type::Array,
        "null" => Type::Null,
        other => panic!("type {other} is not a JSON Schema type"),
    }
}

/// A P云 integer code as its documents send it: a number, or the same number as decimal text.
fn lenient_int(min: i64, max: i64, digits: usize) -> Value {
    json!({"oneOf": [
        {"type": "integer", "minimum": min, "maximum": max},
        {"type": "string", "pattern": format!(r"^\s*\+?[0-9]{{1,{digits}}}\s*$")},
    ]})
}

/// A P云 code from a fixed list, as a number or as decimal text.
fn lenient_code(codes: &[i64]) -> Value {
    let alternatives = codes
        .iter()
        .map(|&c| {
            if c < 0 {
                format!("-0*{}", -c)
            } else {
                format!(r"\+?0*{c}")
            }
        })
        .collect::<Vec<_>>()
        .join("|");
    json!({"oneOf": [
        {"type": "integer", "enum": codes},
        {"type": "string", "pattern": format!(r"^\s*(?:{alternatives})\s*$")},
    ]})
}

/// One P云 `ParkingVip` row of `POST /api/v1/vip/recharges` (PROTOCOLS.md §1.5), read as the
/// protocol crate reads it: numbers or decimal text where P云's documents disagree. Lengths,
/// `pay_value ≥ 0` and a period that ends before it starts are checked after decoding (422).
pub(crate) struct ParkingVipSchema;

impl utoipa::PartialSchema for ParkingVipSchema {
    fn schema() -> RefOr<Schema> {
        let text = json!({"type": ["string", "number"]});
        let optional_text = json!({"type": ["string", "number", "null"]});
        let iso = json!({"oneOf": [
            {"type": "null"},
            {"type": "string", "maxLength": 0},
            {"type": "string", "format": "date-time"},
        ]});
        let row = json!({
            "type": "object",
            "description": "A P云 `ParkingVip` row (PROTOCOLS.md §1.5 field names).",
            "required": ["plate", "plate_color", "charge_type", "vip_type", "quantity", "pay_partner", "pay_type"],
            "properties": {
                "plate": serde_json::to_value(plate()).expect("serialisable"),
                "plate_color": lenient_code(&[1, 2, 3, 4, 5, -1]),
                "card_no": optional_text,
                "card_id": optional_text,
                "charge_type": text,
                "vip_type": lenient_code(&[0, 1, 2, 3, 4, 5, 6, 7]),
                "quantity": lenient_int(0, i64::from(u32::MAX), 9),
                "pay_partner": text,
                "pay_type": lenient_code(&[1, 2]),
                "value": optional_text,
                "pay_time": {"oneOf": [{"type": "null"}, lenient_int(0, 8_000_000_000_000_000, 15)],
                    "description": "Epoch milliseconds."},
                "renewal_start_time": iso,
                "renewal_end_time": iso,
                "pay_value": {"oneOf": [{"type": "null"}, lenient_int(0, i64::MAX, 18)],
                    "description": "Fen."},
                "operator": optional_text,
            },
        });
        from_json(&row)
    }
}

impl utoipa::ToSchema for ParkingVipSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        "ParkingVip".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::PartialSchema;

    #[test]
    fn hand_written_schemas_keep_their_alternatives() {
        // utoipa's own deserializer would have dropped `oneOf` and `items` without a word.
        let tariff = serde_json::to_value(TariffSchema::schema()).unwrap();
        assert_eq!(tariff["required"], json!(["pricing"]));
        assert_eq!(
            tariff["properties"]["pricing"]["oneOf"]
                .as_array()
                .map(Vec::len),
            Some(2)
        );
        let periods = &tariff["properties"]["pricing"]["oneOf"][1]["properties"]["periods"];
        assert_eq!(periods["items"]["required"][0], "start");
        let exit = serde_json::to_value(ExitBodySchema::schema()).unwrap();
        assert_eq!(exit["allOf"][1]["oneOf"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn the_plate_pattern_is_the_parser_s_canonical_language() {
        let pattern = regex::Regex::new(PLATE_PATTERN).expect("a valid pattern");
        let re = |text: &str| pattern.is_match(text);
        for plate in [
            "沪A68688",
            "粤BD07627",
            "沪A12345D",
            "京A1234学",
            "使014578",
            "沪a68688",
        ] {
            assert!(re(plate), "{plate} should match");
            assert!(
                protocol::plate::Plate::parse(plate).is_ok(),
                "{plate} should parse"
            );
        }
        for text in ["沪I68688", "沪A6868", "A68688", "使01457"] {
            assert!(!re(text), "{text} should not match");
            assert!(
                protocol::plate::Plate::parse(text).is_err(),
                "{text} should not parse"
            );
        }
    }
}
