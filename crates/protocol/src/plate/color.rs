//! Plate colours and P云's integer codes for them (`plate_color`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::PlateKind;

/// Plate colour with P云's integer codes, as `plate_color` carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlateColor {
    /// 1, ordinary small cars.
    Blue,
    /// 2, large vehicles, coaches, trailers.
    Yellow,
    /// 3, police and military.
    White,
    /// 4, Hong Kong/Macau, embassy and consulate vehicles.
    Black,
    /// 5, new-energy vehicles.
    Green,
    /// -1, not known.
    Unknown,
}

impl PlateColor {
    /// P云's integer code.
    pub fn code(self) -> i32 {
        match self {
            PlateColor::Blue => 1,
            PlateColor::Yellow => 2,
            PlateColor::White => 3,
            PlateColor::Black => 4,
            PlateColor::Green => 5,
            PlateColor::Unknown => -1,
        }
    }

    /// The colour for a P云 code; `None` for a code P云 does not define.
    pub fn from_code(code: i32) -> Option<PlateColor> {
        Some(match code {
            1 => PlateColor::Blue,
            2 => PlateColor::Yellow,
            3 => PlateColor::White,
            4 => PlateColor::Black,
            5 => PlateColor::Green,
            -1 => PlateColor::Unknown,
            _ => return None,
        })
    }

    /// The colour a plate of this kind normally has, for when no camera reported one.
    pub fn default_for(kind: PlateKind) -> PlateColor {
        match kind {
            PlateKind::Ordinary => PlateColor::Blue,
            PlateKind::NewEnergy => PlateColor::Green,
            PlateKind::Coach | PlateKind::Trailer => PlateColor::Yellow,
            PlateKind::Police => PlateColor::White,
            PlateKind::HongKong | PlateKind::Macau | PlateKind::Consulate | PlateKind::Embassy => {
                PlateColor::Black
            }
        }
    }
}

impl Serialize for PlateColor {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(self.code())
    }
}

impl<'de> Deserialize<'de> for PlateColor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // P云's own example sends `"1"`: a numeric string is accepted as well as a number.
        let code = crate::pyun::lenient::int_from(serde_json::Value::deserialize(d)?)
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| serde::de::Error::custom("plate_color must be an integer code"))?;
        PlateColor::from_code(code).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "plate_color {code} is not one of 1, 2, 3, 4, 5, -1"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plate::Plate;

    fn kind(s: &str) -> PlateKind {
        Plate::parse(s).unwrap().kind()
    }

    #[test]
    fn colours_travel_as_pyun_codes() {
        for code in [1, 2, 3, 4, 5, -1] {
            let c = PlateColor::from_code(code).unwrap();
            assert_eq!(c.code(), code);
            assert_eq!(serde_json::to_string(&c).unwrap(), code.to_string());
        }
        assert_eq!(PlateColor::from_code(0), None);
        assert_eq!(
            serde_json::from_str::<PlateColor>("\"5\"").unwrap(),
            PlateColor::Green
        );
        assert!(serde_json::from_str::<PlateColor>("7").is_err());
        assert_eq!(
            PlateColor::default_for(kind("粤BD07627")),
            PlateColor::Green
        );
        assert_eq!(PlateColor::default_for(kind("沪A68688")), PlateColor::Blue);
    }
}
