//! VIP CSV uploads: any bytes, in any encoding choice, decode and parse to rows and row errors,
//! never a panic; every row and error names a line of the file after the header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::vip::{EncodingChoice, decode, parse_records, write_records};

fuzz_target!(|input: (u8, &[u8])| {
    let (choice, bytes) = input;
    let choice = match choice % 3 {
        0 => EncodingChoice::Auto,
        1 => EncodingChoice::Utf8,
        _ => EncodingChoice::Gbk,
    };
    let Ok((text, _)) = decode(bytes, choice) else {
        return;
    };
    let Ok(parsed) = parse_records(&text) else {
        return;
    };
    for (line, _) in &parsed.rows {
        assert!(*line >= 2, "a data row on line {line}");
    }
    for e in &parsed.errors {
        assert!(e.line >= 1, "{e:?}");
    }
    // What we read, we can write (the export path).
    let rows: Vec<_> = parsed.rows.iter().map(|(_, r)| r.clone()).collect();
    let _ = write_records(&rows);
});
