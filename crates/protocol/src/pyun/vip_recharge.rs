//! The VIP recharge sync, `internal/vip/recharge` (digest §1.5): batches, the `complete` flag, and the signed JSON body.
//!
//! `complete = 1` makes P云 delete every VIP record of the car park before adding the rows, so
//! only the first batch of a deliberate full sync may carry it; [`batches`] is the one place
//! that sets it.

use std::collections::HashSet;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::fields::{MAX_ID_CHARS, RequestError, required};
use super::sign::sign_json;
use super::vip_row::ParkingVip;

/// Path of the endpoint under P云's base URL.
pub const VIP_RECHARGE_PATH: &str = "/gate/1.0/parking/internal/vip/recharge";

/// Rows per batch unless a car park is configured otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 200;

/// Most rows one batch may hold; P云 documents no limit, so this keeps a body well under 1 MB.
pub const MAX_BATCH_ROWS: usize = 1000;

/// One request of the sync: `{"park_uuid", "complete", "row": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VipRechargeBatch {
    /// The car park's UUID at P云.
    pub park_uuid: String,
    /// Whether P云 deletes all of the car park's VIP records first; sent as `0`/`1`.
    #[serde(default, with = "flag")]
    pub complete: bool,
    /// The recharges.
    #[serde(rename = "row")]
    pub rows: Vec<ParkingVip>,
}

impl VipRechargeBatch {
    /// Checks `park_uuid`, the batch size, every row, and that no `pay_partner` repeats.
    pub fn validate(&self) -> Result<(), RequestError> {
        required("park_uuid", &self.park_uuid, MAX_ID_CHARS)?;
        if self.rows.is_empty() || self.rows.len() > MAX_BATCH_ROWS {
            return Err(RequestError::BatchSize {
                len: self.rows.len(),
                max: MAX_BATCH_ROWS,
            });
        }
        validate_rows(&self.rows)
    }

    /// Validates, serialises once and signs those exact bytes: `(body, Authorization value)`.
    pub fn to_signed_body(&self, secret: &str) -> Result<(Vec<u8>, String), RequestError> {
        self.validate()?;
        let body = serde_json::to_vec(self).map_err(|e| RequestError::Invalid {
            field: "row",
            reason: e.to_string(),
        })?;
        let authorization = sign_json(&body, secret);
        Ok((body, authorization))
    }

    /// Reads a received body (signature already verified with `verify_json`), validated.
    pub fn from_json(body: &[u8]) -> Result<VipRechargeBatch, RequestError> {
        let batch: VipRechargeBatch =
            serde_json::from_slice(body).map_err(|e| RequestError::Invalid {
                field: "body",
                reason: e.to_string(),
            })?;
        batch.validate()?;
        Ok(batch)
    }
}

/// Splits rows into batches; with `full_sync` only the first batch carries `complete = 1`.
///
/// No rows gives no batches: the seed requires `row`, so "delete everything and add nothing"
/// cannot be expressed and is not attempted.
pub fn batches(
    park_uuid: &str,
    rows: Vec<ParkingVip>,
    batch_size: usize,
    full_sync: bool,
) -> Result<Vec<VipRechargeBatch>, RequestError> {
    if batch_size == 0 || batch_size > MAX_BATCH_ROWS {
        return Err(RequestError::Invalid {
            field: "batch_size",
            reason: format!("{batch_size} is not between 1 and {MAX_BATCH_ROWS}"),
        });
    }
    required("park_uuid", park_uuid, MAX_ID_CHARS)?;
    // Across the whole sync, not per batch: P云 keys recharges on `pay_partner`, so a repeat in a
    // later batch would silently replace an earlier row.
    validate_rows(&rows)?;
    let mut out = Vec::with_capacity(rows.len().div_ceil(batch_size));
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        out.push(VipRechargeBatch {
            park_uuid: park_uuid.to_owned(),
            complete: full_sync && out.is_empty(),
            rows: rows.by_ref().take(batch_size).collect(),
        });
    }
    Ok(out)
}

fn validate_rows(rows: &[ParkingVip]) -> Result<(), RequestError> {
    let mut seen = HashSet::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let in_row = |e| RequestError::Row {
            index,
            source: Box::new(e),
        };
        row.validate().map_err(in_row)?;
        if !seen.insert(row.pay_partner.as_str()) {
            return Err(in_row(RequestError::DuplicatePayPartner(
                row.pay_partner.clone(),
            )));
        }
    }
    Ok(())
}

/// `complete` as P云's integer `0`/`1`; read from a number, a string or a boolean.
mod flag {
    use super::*;

    pub(super) fn serialize<S: Serializer>(v: &bool, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(u8::from(*v))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        if let Some(b) = v.as_bool() {
            return Ok(b);
        }
        match super::super::lenient::int_from(v) {
            Some(0) => Ok(false),
            Some(1) => Ok(true),
            _ => Err(serde::de::Error::custom("complete must be 0 or 1")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyun::sign::verify_json;
    use crate::pyun::vip_row::tests::row;

    fn rows(n: usize) -> Vec<ParkingVip> {
        (0..n).map(|i| row(&format!("order-{i}"))).collect()
    }

    #[test]
    fn body_is_signed_exactly_as_sent() {
        let batch = VipRechargeBatch {
            park_uuid: "49f0cc52-e8c7-41e3-b54d-af666b8cc11a".into(),
            complete: false,
            rows: rows(1),
        };
        let (body, authorization) = batch.to_signed_body("12323232323").unwrap();
        assert_eq!(sign_json(&body, "12323232323"), authorization);
        assert_eq!(verify_json(&body, "12323232323", &authorization), Ok(()));
        let text = std::str::from_utf8(&body).unwrap();
        assert!(
            text.starts_with(
                r#"{"park_uuid":"49f0cc52-e8c7-41e3-b54d-af666b8cc11a","complete":0,"row":[{"plate":"粤X33333","plate_color":1,"#
            ),
            "{text}"
        );
        assert_eq!(VipRechargeBatch::from_json(&body).unwrap(), batch);
    }

    #[test]
    fn only_the_first_batch_of_a_full_sync_deletes() {
        let all = batches("park", rows(450), DEFAULT_BATCH_SIZE, true).unwrap();
        let sizes: Vec<usize> = all.iter().map(|b| b.rows.len()).collect();
        assert_eq!(sizes, [200, 200, 50]);
        assert!(all[0].complete);
        assert!(all[1..].iter().all(|b| !b.complete));
        let incremental = batches("park", rows(3), 2, false).unwrap();
        assert!(incremental.iter().all(|b| !b.complete));
        assert!(batches("park", Vec::new(), 2, true).unwrap().is_empty());
    }

    #[test]
    fn a_later_batch_never_carries_complete() {
        for n in 1..30 {
            for size in 1..8 {
                let all = batches("park", rows(n), size, true).unwrap();
                assert_eq!(all.len(), n.div_ceil(size));
                assert_eq!(all.iter().filter(|b| b.complete).count(), 1);
                assert!(all.iter().skip(1).all(|b| !b.complete));
                let body = serde_json::to_string(&all[all.len() - 1]).unwrap();
                assert_eq!(body.contains("\"complete\":1"), all.len() == 1);
            }
        }
    }

    #[test]
    fn bad_batches_are_refused() {
        let mut dup = rows(3);
        dup[2].pay_partner = "order-0".into();
        assert_eq!(
            batches("park", dup, 2, false),
            Err(RequestError::Row {
                index: 2,
                source: Box::new(RequestError::DuplicatePayPartner("order-0".into())),
            })
        );
        assert!(batches("park", rows(3), 0, false).is_err());
        assert!(batches("park", rows(3), MAX_BATCH_ROWS + 1, false).is_err());
        assert_eq!(
            batches(" ", rows(3), 2, false),
            Err(RequestError::Missing("park_uuid"))
        );
        let empty = VipRechargeBatch {
            park_uuid: "park".into(),
            complete: false,
            rows: Vec::new(),
        };
        assert_eq!(
            empty.to_signed_body("s"),
            Err(RequestError::BatchSize {
                len: 0,
                max: MAX_BATCH_ROWS
            })
        );
        let mut bad = rows(2);
        bad[1].pay_partner.clear();
        let err = batches("park", bad, 5, false).unwrap_err();
        assert_eq!(err.to_string(), "row 1: `pay_partner` is required");
    }

    #[test]
    fn received_bodies_accept_the_seed_style() {
        let body = r#"{"complete":"1","park_uuid":"p","row":[{"plate":"粤X33333","plate_color":"1",
            "charge_type":"101","vip_type":1,"quantity":"1","pay_partner":1234567890,"pay_type":"2"}]}"#;
        let batch = VipRechargeBatch::from_json(body.as_bytes()).unwrap();
        assert!(batch.complete);
        assert_eq!(batch.rows[0].pay_partner, "1234567890");
        let no_flag = r#"{"park_uuid":"p","row":[]}"#;
        assert!(matches!(
            VipRechargeBatch::from_json(no_flag.as_bytes()),
            Err(RequestError::BatchSize { len: 0, .. })
        ));
        assert!(matches!(
            VipRechargeBatch::from_json(b"<html>"),
            Err(RequestError::Invalid { field: "body", .. })
        ));
    }
}
