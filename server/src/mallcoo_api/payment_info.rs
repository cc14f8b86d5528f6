//! GetParkingPaymentInfo (PROTOCOLS.md §2.2, corrected reading): what a parked car owes now,
//! from the stay's one figure (`protocol::ledger`, §5.1). The hot path: reads only — the open
//! stay with its plate's VIP record, its payments and discounts (`parking::stay`) — and writes
//! nothing, so it never waits for a payment's lock (SQLite WAL readers and PostgreSQL MVCC reads
//! do not block on writers).

use chrono::{DateTime, Utc};
use protocol::ledger::{MallcooAmounts, mallcoo_amounts};
use protocol::mallcoo::{PaymentInfoRequest, PaymentQuote, VehicleKey};
use protocol::plate::Plate;

use super::Refusal;
use super::auth::MallcooPark;
use super::decode::rule_message;
use super::fee_id::FeeId;
use crate::parking::SessionKey;
use crate::parking::stay::{StayRecord, open_stay};
use crate::storage::Db;

/// The car a request names, normalised: a plate per §4, or a barcode as sent (trimmed).
pub fn vehicle(key: VehicleKey) -> Result<VehicleKey, Refusal> {
    match key {
        VehicleKey::Plate(raw) => Plate::parse(&raw)
            .map(|p| VehicleKey::Plate(p.into_string()))
            .map_err(|e| Refusal::refused(format!("plateNo 车牌号无效：{e}"))),
        VehicleKey::Barcode(b) => Ok(VehicleKey::Barcode(b.trim().to_owned())),
    }
}

/// The car a Mallcoo request names, as the sessions store finds it.
pub fn session_key(key: VehicleKey) -> SessionKey {
    match key {
        VehicleKey::Plate(p) => SessionKey::Plate(p),
        VehicleKey::Barcode(b) => SessionKey::Barcode(b),
    }
}

/// Prices `stay` at `now` with Mallcoo's free minutes and amount. An entry stamped after `now`
/// (a gate clock ahead) is quoted at entry.
pub fn price(
    park: &MallcooPark,
    stay: &StayRecord,
    now: DateTime<Utc>,
    free_minutes: u32,
    free_amount: i64,
) -> Result<MallcooAmounts, Refusal> {
    mallcoo_amounts(
        &stay.ledger(&park.tariff),
        now.max(stay.entry),
        free_minutes,
        free_amount,
    )
    .map_err(|e| Refusal::Internal(format!("car park {}: quote: {e}", park.park_id)))
}

/// Answers a fee query: the quote of the car's open session, or a refusal.
pub async fn answer(
    db: &Db,
    park: &MallcooPark,
    req: &PaymentInfoRequest,
    now: DateTime<Utc>,
) -> Result<PaymentQuote, Refusal> {
    let key = vehicle(
        req.validate()
            .map_err(|e| Refusal::refused(rule_message(&e)))?,
    )?;
    let Some(session) = open_stay(db, park.park_id, &session_key(key)).await? else {
        return Err(Refusal::refused(protocol::mallcoo::NO_PARKING_RECORD));
    };
    let q = price(park, &session, now, req.free_minutes, req.free_amount)?;
    let fee_id = FeeId::of_quote(session.id, now, &q);
    tracing::debug!(
        park = park.park_id,
        session = session.id,
        total = q.total,
        paid = q.paid,
        deduction = q.deduction,
        unpaid = q.unpaid,
        "Mallcoo fee query answered"
    );
    Ok(PaymentQuote {
        fee_id: fee_id.encode(),
        entry_time: session.entry,
        parking_minutes: u32::try_from(q.figure.parking_minutes.max(0)).unwrap_or(u32::MAX),
        total_amount: q.total,
        un_pay_amount: q.unpaid,
        deduction_amount: q.deduction,
        paid_amount: q.paid,
        offline_deduction: q.offline_deduction,
    })
}
