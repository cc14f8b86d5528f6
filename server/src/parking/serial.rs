//! The stay's ID towards P云 (`parking_serial`): the same in the uploads and in billing's
//! answers (pyun-carpark.md §3.1, §4.2), derived from the session id so it never needs storing.

/// What every serial starts with.
const PREFIX: &str = "PB";

/// The `parking_serial` of session `session_id`.
pub fn parking_serial(session_id: i64) -> String {
    format!("{PREFIX}{session_id}")
}

/// The session a `parking_serial` of ours names; `None` for anyone else's.
pub fn session_of(serial: &str) -> Option<i64> {
    serial
        .trim()
        .strip_prefix(PREFIX)
        .filter(|digits| digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse().ok())
        .filter(|id: &i64| *id > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_serial_names_its_session_and_nothing_else() {
        assert_eq!(parking_serial(42), "PB42");
        assert_eq!(session_of("PB42"), Some(42));
        for other in ["PS20250102093000001", "PB", "PB-1", "PB0", "PB4x", "42"] {
            assert_eq!(session_of(other), None, "{other}");
        }
    }
}
