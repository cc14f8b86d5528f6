//! Chinese licence plates: normalising what cameras and people type, and rejecting what is not a plate.
//!
//! Normalisation, applied before validation: surrounding and inner whitespace (including the
//! full-width space U+3000) and the middle dot printed on physical plates (`沪A·68688`) are
//! removed; full-width ASCII (U+FF01..U+FF5E) becomes half-width; ASCII letters are upper-cased.
//! Inner separators are dropped because LPR cameras and hand-typed forms both insert them and
//! no valid plate contains one.
//!
//! Accepted forms (GA 36-2018, the forms a car park meets):
//! - ordinary: province, issuing letter, 5 serial characters (letters except I/O, digits);
//! - special: as ordinary with the fifth serial character one of 学 警 港 澳 挂 领;
//! - new-energy: province, issuing letter, 6 serial characters: small cars `[DF]`, a letter or
//!   digit, then 4 digits (`粤BD07627`); large cars 5 digits then `[DF]` (`沪A12345D`);
//! - embassy: `使` followed by 6 digits (`使014578`).
//!
//! The issuing letter excludes I and O as the serial does: neither is issued, and both are what
//! a misread `1`/`0` looks like.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

mod color;

pub use color::PlateColor;

/// Province abbreviations that begin an ordinary plate.
const PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

/// Longest input we look at; anything longer is rejected before normalising so that a hostile
/// megabyte string costs nothing.
const MAX_INPUT_CHARS: usize = 32;

/// Why a text is not a plate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlateError {
    /// Nothing left after trimming.
    #[error("an empty text is not a plate")]
    Empty,
    /// Far longer than any plate; the input is shortened in the message.
    #[error("`{input}…` is not a valid plate: too long")]
    TooLong {
        /// The first characters received.
        input: String,
    },
    /// The first character is neither a province nor `使`.
    #[error("`{input}` is not a valid plate: `{found}` is not a province abbreviation")]
    UnknownProvince {
        /// The normalised input.
        input: String,
        /// The first character.
        found: char,
    },
    /// The second character is not an issuing letter.
    #[error(
        "`{input}` is not a valid plate: the issuing authority must be a letter A-Z other than I and O"
    )]
    BadAuthority {
        /// The normalised input.
        input: String,
    },
    /// The serial has neither 5 (ordinary) nor 6 (new-energy) characters.
    #[error(
        "`{input}` is not a valid plate: {len} characters after the issuing letter, expected 5 or 6"
    )]
    BadLength {
        /// The normalised input.
        input: String,
        /// Characters found after the issuing letter.
        len: usize,
    },
    /// A character not allowed where it stands.
    #[error("`{input}` is not a valid plate: `{found}` is not allowed at position {position}")]
    BadCharacter {
        /// The normalised input.
        input: String,
        /// The offending character.
        found: char,
        /// 1-based character position in the normalised plate.
        position: usize,
    },
    /// Six serial characters that follow neither new-energy layout.
    #[error(
        "`{input}` is not a valid plate: a 6-character serial must be D/F + letter-or-digit + 4 digits, or 5 digits + D/F"
    )]
    BadNewEnergy {
        /// The normalised input.
        input: String,
    },
    /// An embassy plate must be `使` plus 6 digits.
    #[error("`{input}` is not a valid plate: an embassy plate is 使 followed by 6 digits")]
    BadEmbassy {
        /// The normalised input.
        input: String,
    },
}

/// What a plate's shape says about the vehicle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlateKind {
    /// Five-character serial, no suffix.
    Ordinary,
    /// Six-character serial with D/F (green plate).
    NewEnergy,
    /// `学` suffix: driving-school car.
    Coach,
    /// `警` suffix: police.
    Police,
    /// `港` suffix: Hong Kong cross-border vehicle.
    HongKong,
    /// `澳` suffix: Macau cross-border vehicle.
    Macau,
    /// `挂` suffix: trailer.
    Trailer,
    /// `领` suffix: consulate.
    Consulate,
    /// `使` prefix: embassy.
    Embassy,
}

/// A validated, normalised plate such as `沪A68688`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Plate(String);

impl Plate {
    /// Normalises and validates a plate as typed or read by a camera.
    pub fn parse(input: &str) -> Result<Plate, PlateError> {
        let raw = input.trim();
        if raw.chars().nth(MAX_INPUT_CHARS).is_some() {
            return Err(PlateError::TooLong {
                input: raw.chars().take(MAX_INPUT_CHARS).collect(),
            });
        }
        let text = normalise(raw);
        classify(&text)?;
        Ok(Plate(text))
    }

    /// The plate's normalised text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The plate's normalised text, owned.
    pub fn into_string(self) -> String {
        self.0
    }

    /// The kind of plate, read from its shape.
    pub fn kind(&self) -> PlateKind {
        // Only validated text is ever stored, so classification cannot fail; `Ordinary` is a
        // harmless answer for the impossible case and keeps this infallible without a panic.
        classify(&self.0).unwrap_or(PlateKind::Ordinary)
    }
}

/// Whitespace, middle dot, full-width folding and upper-casing; no validation.
fn normalise(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '·' | '•' | '・'))
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A serial character of an ordinary plate: digits and letters other than I and O.
fn is_serial(c: char) -> bool {
    c.is_ascii_digit() || is_letter(c)
}

fn is_letter(c: char) -> bool {
    c.is_ascii_uppercase() && c != 'I' && c != 'O'
}

fn suffix_kind(c: char) -> Option<PlateKind> {
    Some(match c {
        '学' => PlateKind::Coach,
        '警' => PlateKind::Police,
        '港' => PlateKind::HongKong,
        '澳' => PlateKind::Macau,
        '挂' => PlateKind::Trailer,
        '领' => PlateKind::Consulate,
        _ => return None,
    })
}

fn classify(text: &str) -> Result<PlateKind, PlateError> {
    let chars: Vec<char> = text.chars().collect();
    let input = || text.to_owned();
    let Some(&first) = chars.first() else {
        return Err(PlateError::Empty);
    };
    if first == '使' {
        let ok = chars.len() == 7 && chars[1..].iter().all(char::is_ascii_digit);
        return if ok {
            Ok(PlateKind::Embassy)
        } else {
            Err(PlateError::BadEmbassy { input: input() })
        };
    }
    if !PROVINCES.contains(first) {
        return Err(PlateError::UnknownProvince {
            input: input(),
            found: first,
        });
    }
    if !chars.get(1).copied().is_some_and(is_letter) {
        return Err(PlateError::BadAuthority { input: input() });
    }
    let serial = &chars[2..];
    let bad_at = |i: usize| PlateError::BadCharacter {
        input: input(),
        found: serial[i],
        position: i + 3,
    };
    match serial.len() {
        5 => {
            if let Some(i) = serial[..4].iter().position(|&c| !is_serial(c)) {
                return Err(bad_at(i));
            }
            let last = serial[4];
            if is_serial(last) {
                Ok(PlateKind::Ordinary)
            } else {
                suffix_kind(last).ok_or_else(|| bad_at(4))
            }
        }
        6 => {
            if let Some(i) = serial.iter().position(|&c| !is_serial(c)) {
                return Err(bad_at(i));
            }
            let digits = |s: &[char]| s.iter().all(char::is_ascii_digit);
            let df = |c: char| c == 'D' || c == 'F';
            let small = df(serial[0]) && digits(&serial[2..]);
            let large = digits(&serial[..5]) && df(serial[5]);
            if small || large {
                Ok(PlateKind::NewEnergy)
            } else {
                Err(PlateError::BadNewEnergy { input: input() })
            }
        }
        len => Err(PlateError::BadLength {
            input: input(),
            len,
        }),
    }
}

impl fmt::Display for Plate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Plate {
    type Err = PlateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Plate::parse(s)
    }
}

impl AsRef<str> for Plate {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Plate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Plate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Plate::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> PlateKind {
        Plate::parse(s).unwrap().kind()
    }

    #[test]
    fn each_kind_of_plate_is_recognised() {
        assert_eq!(kind("沪A68688"), PlateKind::Ordinary);
        assert_eq!(kind("粤BA1471"), PlateKind::Ordinary);
        assert_eq!(kind("粤BD07627"), PlateKind::NewEnergy);
        assert_eq!(kind("京AFA1234"), PlateKind::NewEnergy);
        assert_eq!(kind("京AD01234"), PlateKind::NewEnergy);
        assert_eq!(kind("沪A12345D"), PlateKind::NewEnergy);
        assert_eq!(kind("京A1234学"), PlateKind::Coach);
        assert_eq!(kind("京A0006警"), PlateKind::Police);
        assert_eq!(kind("粤Z1234港"), PlateKind::HongKong);
        assert_eq!(kind("粤Z1234澳"), PlateKind::Macau);
        assert_eq!(kind("冀B1234挂"), PlateKind::Trailer);
        assert_eq!(kind("沪A1234领"), PlateKind::Consulate);
        assert_eq!(kind("使014578"), PlateKind::Embassy);
    }

    #[test]
    fn input_is_normalised_before_validation() {
        for (input, want) in [
            ("沪a68688", "沪A68688"),
            (" 粤ｂａ１４７１ ", "粤BA1471"),
            ("沪A·68688", "沪A68688"),
            ("沪A 686 88", "沪A68688"),
            ("\u{3000}粤bd07627\t", "粤BD07627"),
        ] {
            assert_eq!(Plate::parse(input).unwrap().as_str(), want, "{input:?}");
        }
    }

    #[test]
    fn non_plates_are_rejected_with_the_reason() {
        assert_eq!(Plate::parse("  "), Err(PlateError::Empty));
        assert!(matches!(
            Plate::parse("X京A12345"),
            Err(PlateError::UnknownProvince { found: 'X', .. })
        ));
        assert!(matches!(
            Plate::parse("沪I68688"),
            Err(PlateError::BadAuthority { .. })
        ));
        assert!(matches!(
            Plate::parse("沪A6868O"),
            Err(PlateError::BadCharacter {
                found: 'O',
                position: 7,
                ..
            })
        ));
        assert!(matches!(
            Plate::parse("沪AI8688"),
            Err(PlateError::BadCharacter { found: 'I', .. })
        ));
        assert!(matches!(
            Plate::parse("沪A1234"),
            Err(PlateError::BadLength { len: 4, .. })
        ));
        assert!(matches!(
            Plate::parse("沪A1234567"),
            Err(PlateError::BadLength { len: 7, .. })
        ));
        assert!(matches!(
            Plate::parse("沪A123456"),
            Err(PlateError::BadNewEnergy { .. })
        ));
        assert!(matches!(
            Plate::parse("沪A学1234"),
            Err(PlateError::BadCharacter { found: '学', .. })
        ));
        assert!(matches!(
            Plate::parse("使01457"),
            Err(PlateError::BadEmbassy { .. })
        ));
        assert!(matches!(
            Plate::parse(&"沪".repeat(1000)),
            Err(PlateError::TooLong { .. })
        ));
        let msg = Plate::parse("沪A1234").unwrap_err().to_string();
        assert!(msg.starts_with("`沪A1234` is not a valid plate"), "{msg}");
    }

    #[test]
    fn plate_is_a_json_string_and_is_validated_on_the_way_in() {
        let p: Plate = serde_json::from_str("\"沪a68688\"").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"沪A68688\"");
        assert!(serde_json::from_str::<Plate>("\"沪A1234\"").is_err());
    }

    // proptest needs OS randomness, absent on wasm32-unknown-unknown: properties run on the host.
    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn serial_char() -> impl Strategy<Value = char> {
            prop::sample::select(
                "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
                    .chars()
                    .collect::<Vec<_>>(),
            )
        }

        fn plate_text() -> impl Strategy<Value = String> {
            let province = prop::sample::select(PROVINCES.chars().collect::<Vec<_>>());
            let letter =
                prop::sample::select("ABCDEFGHJKLMNPQRSTUVWXYZ".chars().collect::<Vec<_>>());
            let ordinary = prop::collection::vec(serial_char(), 5).prop_map(String::from_iter);
            let small =
                ("[DF]", serial_char(), "[0-9]{4}").prop_map(|(a, b, c)| format!("{a}{b}{c}"));
            let large = "[0-9]{5}[DF]";
            let suffixed = ("[0-9]{4}", "[学警港澳挂领]").prop_map(|(a, b)| a + &b);
            let serial = prop_oneof![ordinary, small, large.prop_map(String::from), suffixed];
            (province, letter, serial).prop_map(|(p, l, s)| format!("{p}{l}{s}"))
        }

        /// Lower-cases or widens ASCII characters and pads with spaces, as sloppy input does.
        fn sloppy(text: &str, mask: u64) -> String {
            let mut out = String::from(" ");
            for (i, c) in text.chars().enumerate() {
                out.push(match (mask >> (i % 32)) & 3 {
                    1 if c.is_ascii() => c.to_ascii_lowercase(),
                    2 if c.is_ascii() => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
                    _ => c,
                });
            }
            out.push('\u{3000}');
            out
        }

        proptest! {
            #[test]
            fn parsing_is_idempotent(text in plate_text(), mask in any::<u64>()) {
                let p = Plate::parse(&sloppy(&text, mask)).unwrap();
                prop_assert_eq!(p.as_str(), text.as_str());
                prop_assert_eq!(Plate::parse(p.as_str()).unwrap(), p);
            }

            #[test]
            fn parsing_never_panics(s in "\\PC{0,40}") {
                if let Ok(p) = Plate::parse(&s) {
                    prop_assert_eq!(Plate::parse(p.as_str()).unwrap(), p);
                }
            }
        }
    }
}
