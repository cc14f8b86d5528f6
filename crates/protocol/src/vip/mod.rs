//! VIP cards: the period a renewal buys (Chinese convention) and the records CSV import/export.
//!
//! Both halves are pure like the rest of the crate: `at` is a parameter, and the CSV functions
//! take and return text or bytes, so the server, the sandbox and the wasm UI share one reading.

pub mod csv;
pub mod renewal;

pub use self::csv::{
    CsvEncoding, CsvError, EncodingChoice, ParsedRecords, RechargeLine, RecordRow, RowError,
    decode, encode_gbk, format_yuan, parse_records, parse_yuan, write_recharges, write_records,
};
pub use renewal::{Period, RenewalError, months_per_unit, renewal_period};
