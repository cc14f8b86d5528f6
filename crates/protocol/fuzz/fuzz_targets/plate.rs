//! Plates as cameras and people type them: any text normalises to a plate or an error, never a
//! panic, and normalising is idempotent (a plate parses to itself).
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::plate::Plate;

fuzz_target!(|text: &str| {
    if let Ok(plate) = Plate::parse(text) {
        let again = Plate::parse(plate.as_str()).expect("a normalised plate is valid");
        assert_eq!(again, plate);
        let _ = plate.kind();
    }
});
