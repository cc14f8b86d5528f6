//! Which car a Mallcoo request is about: a plate or a barcode, never both.

use super::MallcooError;

/// The one key a request names the car by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VehicleKey {
    /// `plateNo`, as received (normalised later by the plate module, §4).
    Plate(String),
    /// `barcode` from a parking ticket, as received.
    Barcode(String),
}

impl VehicleKey {
    /// Picks the key from `plateNo` and `barcode`, which the decoders already turned blank into `None`.
    pub fn from_fields(
        plate_no: Option<&str>,
        barcode: Option<&str>,
    ) -> Result<Self, MallcooError> {
        // Blank is re-checked here so that hand-built requests follow the same rule.
        let present = |s: Option<&str>| s.filter(|s| !s.trim().is_empty()).map(str::to_owned);
        match (present(plate_no), present(barcode)) {
            (Some(plate), None) => Ok(Self::Plate(plate)),
            (None, Some(code)) => Ok(Self::Barcode(code)),
            (None, None) => Err(MallcooError::NoVehicle),
            (Some(_), Some(_)) => Err(MallcooError::BothVehicles),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_key_is_required() {
        assert_eq!(
            VehicleKey::from_fields(Some("沪A68688"), None),
            Ok(VehicleKey::Plate("沪A68688".into()))
        );
        assert_eq!(
            VehicleKey::from_fields(Some(" "), Some("B1")),
            Ok(VehicleKey::Barcode("B1".into()))
        );
        assert_eq!(
            VehicleKey::from_fields(None, Some("")),
            Err(MallcooError::NoVehicle)
        );
        assert_eq!(
            VehicleKey::from_fields(Some("沪A68688"), Some("B1")),
            Err(MallcooError::BothVehicles)
        );
    }
}
