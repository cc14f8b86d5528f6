//! Fixed cars (VIP, PROTOCOLS.md §1.5): the records and recharges a car park keeps (`records`),
//! their CSV `import` and `export`, and their delivery to P云 (`sync`: batches of every recharge
//! through the outbox, and full syncs).

pub mod export;
pub mod import;
pub mod records;
pub mod sync;

use protocol::plate::{Plate, PlateColor};
use protocol::pyun::VipType;

/// A record's stored plate, colour code and VIP type code back to their types; `Err` names the
/// bad one (only valid values are written, so it means a hand-edited database).
pub(crate) fn stored_codes(
    plate: &str,
    color: i64,
    vip_type: i64,
) -> Result<(Plate, PlateColor, VipType), String> {
    let plate = Plate::parse(plate).map_err(|e| format!("an invalid plate: {e}"))?;
    let color = i32::try_from(color)
        .ok()
        .and_then(PlateColor::from_code)
        .ok_or_else(|| format!("an unknown plate colour {color}"))?;
    let vip_type =
        VipType::from_code(vip_type).ok_or_else(|| format!("an unknown vip_type {vip_type}"))?;
    Ok((plate, color, vip_type))
}
