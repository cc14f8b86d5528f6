//! `realtime` (pyun-carpark.md §3.5): spaces and the tariff, polled by P云 at a fixed rate, so
//! one indexed count and the tariff already in hand.

use protocol::pyun_carpark::RealtimeReply;
use protocol::tariff::depict;

use super::GatewayFailure;
use super::park::GatewayPark;
use crate::parking::spaces::inside_now;
use crate::storage::Db;

/// Answers `realtime`: `total` spaces (0 when not configured) and the cars `parking` now —
/// at most `total` when configured, so `total − parking` equals the uploads' free spaces.
pub async fn realtime(db: &Db, park: &GatewayPark) -> Result<RealtimeReply, GatewayFailure> {
    let inside = inside_now(db, park.id).await?;
    let (total, parking) = match park.total_spaces {
        Some(total) => (total, inside.min(total)),
        None => (0, inside),
    };
    Ok(RealtimeReply {
        total,
        parking,
        charge_json: depict::charge_json(&park.tariff),
        charge_depict: depict::depict(&park.tariff),
    })
}
