//! Schemas of the values several operations share, stated once so that the document describes
//! exactly what the validators accept.

use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;

/// What `protocol::plate::Plate::parse` accepts in its canonical spelling: province, issuing
/// letter and serial (ordinary, special, new-energy) or an embassy plate (ASCII letters in either
/// case; the server also drops spaces and middle dots and folds full-width forms).
pub(crate) const PLATE_PATTERN: &str = "^(?:[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Za-hj-np-z](?:[0-9A-HJ-NP-Za-hj-np-z]{4}[0-9A-HJ-NP-Za-hj-np-z学警港澳挂领]|[DFdf][0-9A-HJ-NP-Za-hj-np-z][0-9]{4}|[0-9]{5}[DFdf])|使[0-9]{6})$";

/// A licence plate (`invalid_plate` otherwise).
pub(crate) fn plate() -> RefOr<Schema> {
    plate_of(Type::String.into())
}

/// A licence plate, or `null`.
pub(crate) fn optional_plate() -> RefOr<Schema> {
    plate_of(SchemaType::from_iter([Type::String, Type::Null]))
}

fn plate_of(schema_type: SchemaType) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(schema_type)
        .pattern(Some(PLATE_PATTERN))
        .description(Some("A Chinese licence plate, e.g. `沪A68688`, `粤BD07627`, `使014578`."))
        .examples([serde_json::json!("沪A68688")])
        .into()
}

/// A car park's code as machine clients name it.
pub(crate) fn park_code() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[a-z0-9_-]{1,32}$"))
        .description(Some("The car park's code."))
        .into()
}
