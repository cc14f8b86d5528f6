//! Writing the records and recharges exports: Chinese header, CRLF rows, Shanghai times.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::cells::{color_name, format_yuan, pay_type_name, vip_type_name};
use super::{COLUMNS, RECHARGE_HEADER, RechargeLine, RecordRow};
use crate::time::to_shanghai;

/// Writes a records CSV with the Chinese header, readable back by `parse_records` (round trip).
pub fn write_records(rows: &[RecordRow]) -> String {
    let mut out = Out::new(COLUMNS.map(|c| c.1));
    for r in rows {
        out.field(r.plate.as_str());
        out.field(color_name(r.plate_color));
        out.opt(r.card_no.as_deref());
        out.opt(r.card_id.as_deref());
        out.field(&r.charge_type);
        out.field(vip_type_name(r.vip_type));
        out.time(r.valid_from);
        out.time(r.valid_to);
        out.opt(r.pay_partner.as_deref());
        out.field(&r.quantity.to_string());
        out.field(pay_type_name(r.pay_type));
        out.field(&format_yuan(r.pay_value_fen));
        out.time(r.pay_time);
        out.opt(r.operator.as_deref());
        out.end_row();
    }
    out.finish()
}

/// Writes the recharges export with its Chinese header; dates as `yyyy-MM-dd HH:mm:ss` Shanghai.
pub fn write_recharges(rows: &[RechargeLine]) -> String {
    let mut out = Out::new(RECHARGE_HEADER);
    for r in rows {
        out.field(r.plate.as_str());
        out.field(color_name(r.plate_color));
        out.field(vip_type_name(r.vip_type));
        out.field(&r.charge_type);
        out.field(&r.pay_partner);
        out.field(&r.quantity.to_string());
        out.field(pay_type_name(r.pay_type));
        out.opt(r.value.as_deref());
        out.time(Some(r.pay_time));
        out.time(r.renewal_start);
        out.time(r.renewal_end);
        out.field(&format_yuan(r.pay_value_fen));
        out.opt(r.operator.as_deref());
        out.field(&r.sync_state);
        out.end_row();
    }
    out.finish()
}

/// Writes any table the way the VIP exports are written (Chinese header, CRLF rows), for other
/// downloads that must open the same way in Excel (the shops' statements).
pub fn write_table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut out = Out::new(header);
    for row in rows {
        for cell in row {
            out.field(cell);
        }
        out.end_row();
    }
    out.finish()
}

/// A CSV writer into memory, where writing cannot fail: errors are impossible, not ignored.
struct Out {
    csv: ::csv::Writer<Vec<u8>>,
    /// Reused for formatted times, the bulk of an export's formatting work.
    scratch: String,
}

impl Out {
    fn new<const N: usize>(header: [&str; N]) -> Out {
        let mut out = Out {
            csv: ::csv::WriterBuilder::new()
                // Excel and Windows tools expect CRLF rows.
                .terminator(::csv::Terminator::CRLF)
                .from_writer(Vec::new()),
            scratch: String::new(),
        };
        for h in header {
            out.field(h);
        }
        out.end_row();
        out
    }

    fn field(&mut self, s: &str) {
        // Writing into a Vec has no I/O error, and csv raises no other for plain fields.
        let _ = self.csv.write_field(s);
    }

    fn opt(&mut self, s: Option<&str>) {
        self.field(s.unwrap_or_default());
    }

    /// `yyyy-MM-dd HH:mm:ss` Shanghai, as `time::format_mallcoo` writes it, without chrono's
    /// format-string interpreter: three of these per row dominate a 100k-row export.
    fn time(&mut self, t: Option<DateTime<Utc>>) {
        let Some(t) = t else {
            return self.field("");
        };
        let t = to_shanghai(t);
        self.scratch.clear();
        let _ = write!(
            self.scratch,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        let _ = self.csv.write_field(&self.scratch);
    }

    fn end_row(&mut self) {
        let _ = self.csv.write_record(None::<&[u8]>);
    }

    fn finish(self) -> String {
        let bytes = self.csv.into_inner().unwrap_or_default();
        // Every field was a &str, so the bytes are UTF-8.
        String::from_utf8(bytes).unwrap_or_default()
    }
}
