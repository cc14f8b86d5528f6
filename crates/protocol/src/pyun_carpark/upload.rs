//! The entry and leave uploads, `internal/enter` and `internal/leave` (pyun-carpark.md §4): fields, S-FORM signature, image hash, multipart body, and what P云's answer means.
//!
//! The signature is P云's form signature (`pyun::sign_form`: sorted non-empty `k=v`,
//! `&app_secret=`), over the text parts only; an image is signed through its hash.

use chrono::{DateTime, Utc};
use md5::{Digest, Md5};

use super::billing::MAX_DOWN_ID_CHARS;
use super::multipart::{self, FilePart, Multipart, MultipartError};
use crate::plate::{Plate, PlateColor};
use crate::pyun::fields::{MAX_ID_CHARS, MAX_TEXT_CHARS, optional, required};
use crate::pyun::{RequestError, SignedForm};

/// Path of the entry upload under P云's base URL.
pub const ENTER_PATH: &str = "/gate/1.0/parking/internal/enter";

/// Path of the leave upload under P云's base URL.
pub const LEAVE_PATH: &str = "/gate/1.0/parking/internal/leave";

/// Longest image URL sent.
const MAX_URL_CHARS: usize = 1024;

/// `UPPER(HEX(MD5(bytes)))`: the `*_image_hash` that stands for the image in the signature.
pub fn image_hash(bytes: &[u8]) -> String {
    hex::encode_upper(Md5::digest(bytes))
}

/// The car's class (`car_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CarType {
    /// `0`.
    Unknown,
    /// `1`: a temporary car, which pays per stay.
    Temporary,
    /// `2`: a monthly card.
    Monthly,
    /// `3`: VIP or free.
    Vip,
    /// `4`: a stored-value card.
    StoredValue,
}

impl CarType {
    /// P云's code.
    pub fn code(self) -> i64 {
        match self {
            CarType::Unknown => 0,
            CarType::Temporary => 1,
            CarType::Monthly => 2,
            CarType::Vip => 3,
            CarType::StoredValue => 4,
        }
    }
}

/// An entry as uploaded; the leave repeats it (note 9: `enter_time` must be the same).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The park at P云.
    pub park_uuid: String,
    /// The stay's ID: P云's dedupe key, equal to billing's `parking_serial`.
    pub parking_serial: String,
    /// The plate, if read.
    pub plate: Option<Plate>,
    /// The plate's colour (required; `Unknown` is `-1`).
    pub plate_color: PlateColor,
    /// `0` mainland, `1` foreign or HK/Macau, `2` two-wheeler.
    pub plate_type: Option<i64>,
    /// Logical card number.
    pub card_no: Option<String>,
    /// Physical card ID.
    pub card_id: Option<String>,
    /// Entry, sent as epoch ms.
    pub enter_time: DateTime<Utc>,
    /// A reachable image URL; P云 ignores it when a file is sent.
    pub enter_image: Option<String>,
    /// The entry image; sent as a file part, signed through `enter_image_hash`.
    pub enter_image_file: Option<Vec<u8>>,
    /// The entrance's name, e.g. `东门入口`.
    pub enter_gate: Option<String>,
    /// The guard on duty.
    pub enter_security: Option<String>,
    /// The car's class.
    pub car_type: CarType,
    /// The car's class in words, e.g. `临停车`.
    pub car_desc: String,
    /// `1`–`8` or `-1` (blue … orange, unknown).
    pub car_color: Option<i64>,
    /// The tariff ID; DOC's sample omits it but marks it required, so it is always sent (D19).
    pub charge_type: String,
    /// `1` small, `2` large, `3` e-bike/motorbike, `-1` unknown.
    pub vehicle_type: Option<i64>,
    /// Why the barrier was opened by hand.
    pub enter_release_reason: Option<String>,
    /// Total spaces; send with `remain_parking_space` on every upload (DOC note 5).
    pub total_parking_space: Option<i64>,
    /// Free spaces after this event.
    pub remain_parking_space: Option<i64>,
}

impl Entry {
    /// Checks required fields, codes and lengths.
    pub fn validate(&self) -> Result<(), RequestError> {
        required("park_uuid", &self.park_uuid, MAX_DOWN_ID_CHARS)?;
        required("parking_serial", &self.parking_serial, MAX_ID_CHARS)?;
        required("car_desc", &self.car_desc, MAX_TEXT_CHARS)?;
        required("charge_type", &self.charge_type, MAX_ID_CHARS)?;
        one_of("plate_type", self.plate_type, &[0, 1, 2])?;
        one_of("car_color", self.car_color, &[1, 2, 3, 4, 5, 6, 7, 8, -1])?;
        one_of("vehicle_type", self.vehicle_type, &[1, 2, 3, -1])?;
        for (field, v, max) in [
            ("card_no", &self.card_no, MAX_ID_CHARS),
            ("card_id", &self.card_id, MAX_ID_CHARS),
            ("enter_image", &self.enter_image, MAX_URL_CHARS),
            ("enter_gate", &self.enter_gate, MAX_TEXT_CHARS),
            ("enter_security", &self.enter_security, MAX_TEXT_CHARS),
            (
                "enter_release_reason",
                &self.enter_release_reason,
                MAX_TEXT_CHARS,
            ),
        ] {
            optional(field, v.as_deref(), max)?;
        }
        image("enter_image_file", self.enter_image_file.as_deref())?;
        non_negative("total_parking_space", self.total_parking_space)?;
        non_negative("remain_parking_space", self.remain_parking_space)?;
        if self.total_parking_space.is_some() != self.remain_parking_space.is_some() {
            return Err(RequestError::Invalid {
                field: "remain_parking_space",
                reason: "send total_parking_space and remain_parking_space together".to_owned(),
            });
        }
        Ok(())
    }

    /// The text fields (empty ones are dropped when signing).
    fn text_fields(&self) -> Vec<(&'static str, String)> {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        vec![
            ("park_uuid", self.park_uuid.clone()),
            ("parking_serial", self.parking_serial.clone()),
            (
                "plate",
                self.plate
                    .as_ref()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_default(),
            ),
            ("plate_color", self.plate_color.code().to_string()),
            ("plate_type", num(self.plate_type)),
            ("card_no", opt(&self.card_no)),
            ("card_id", opt(&self.card_id)),
            (
                "enter_time",
                crate::time::epoch_ms(self.enter_time).to_string(),
            ),
            ("enter_image", opt(&self.enter_image)),
            (
                "enter_image_hash",
                self.enter_image_file
                    .as_deref()
                    .map(image_hash)
                    .unwrap_or_default(),
            ),
            ("enter_gate", opt(&self.enter_gate)),
            ("enter_security", opt(&self.enter_security)),
            ("car_type", self.car_type.code().to_string()),
            ("car_desc", self.car_desc.clone()),
            ("car_color", num(self.car_color)),
            ("charge_type", self.charge_type.clone()),
            ("vehicle_type", num(self.vehicle_type)),
            ("enter_release_reason", opt(&self.enter_release_reason)),
            ("total_parking_space", num(self.total_parking_space)),
            ("remain_parking_space", num(self.remain_parking_space)),
        ]
    }

    fn files(&self) -> Vec<FilePart> {
        self.enter_image_file
            .iter()
            .map(|bytes| FilePart {
                name: "enter_image_file",
                bytes: bytes.clone(),
            })
            .collect()
    }

    /// Validates and signs the `internal/enter` upload.
    pub fn to_form(&self, app_secret: &str) -> Result<UploadForm, RequestError> {
        self.validate()?;
        Ok(UploadForm::new(
            self.text_fields(),
            self.files(),
            app_secret,
        ))
    }
}

/// A signed upload: text fields sorted with `sign` last, and the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadForm {
    form: SignedForm,
    files: Vec<FilePart>,
}

impl UploadForm {
    fn new(fields: Vec<(&'static str, String)>, files: Vec<FilePart>, secret: &str) -> UploadForm {
        UploadForm {
            form: SignedForm::new(fields, secret),
            files,
        }
    }

    /// The text fields as sent, `sign` last.
    pub fn fields(&self) -> &[(String, String)] {
        self.form.fields()
    }

    /// The signature.
    pub fn sign(&self) -> &str {
        self.form.sign()
    }

    /// The file parts.
    pub fn files(&self) -> &[FilePart] {
        &self.files
    }

    /// The signed plaintext with the secret masked, as P云 echoes it in a "200 + hint" reply
    /// (`签名验证不通过[…&app_secret=***]`), so the two can be diffed in the log
    /// ([`super::upload_outcome::hint_plaintext`]).
    pub fn plaintext_masked(&self) -> String {
        let mut text: String = self
            .fields()
            .iter()
            .filter(|(k, _)| k != crate::pyun::sign::SIGN_FIELD)
            .map(|(k, v)| format!("{k}={v}&"))
            .collect();
        text.push_str("app_secret=***");
        text
    }

    /// The `multipart/form-data` body with the caller's boundary (fresh and random per request in the server).
    pub fn multipart(&self, boundary: &str) -> Result<Multipart, MultipartError> {
        multipart::build(boundary, self.fields(), &self.files)
    }
}

fn one_of(field: &'static str, v: Option<i64>, allowed: &[i64]) -> Result<(), RequestError> {
    match v {
        Some(n) if !allowed.contains(&n) => Err(RequestError::Invalid {
            field,
            reason: format!("{n} is not one of {allowed:?}"),
        }),
        _ => Ok(()),
    }
}

fn non_negative(field: &'static str, v: Option<i64>) -> Result<(), RequestError> {
    match v {
        Some(n) if n < 0 => Err(RequestError::Invalid {
            field,
            reason: format!("{n} is negative"),
        }),
        _ => Ok(()),
    }
}

/// An empty file would be signed by the hash of nothing; it is a caller's mistake, not an image.
fn image(field: &'static str, bytes: Option<&[u8]>) -> Result<(), RequestError> {
    match bytes {
        Some([]) => Err(RequestError::Invalid {
            field,
            reason: "the image is empty".to_owned(),
        }),
        _ => Ok(()),
    }
}

mod leave;

pub use leave::{Leave, LeavePayType, LeavePayment};

#[cfg(test)]
mod tests;
