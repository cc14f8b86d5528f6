//! P云's verdict on one entry or leave upload (pyun-carpark.md §4.1, §4.4), from its parts
//! alone: which car park, required fields, the S-FORM signature over the text parts with each
//! image standing in through its hash, and the answer that goes with each refusal.
//!
//! Order of the checks: car park named (`400`) → registered (`403`) → the park's "sign hint"
//! fault → required fields (`400`) → signature (`200` + hint, P云's real behaviour, note 6) →
//! formats (`400`).

use protocol::pyun::sign::SIGN_FIELD;
use protocol::pyun::verify_form;
use protocol::pyun_carpark::image_hash;

use super::carparks::CarParks;
use super::plate_key;
use super::uploads::UploadPath;

/// Required on both uploads (DOC `parking-enter.md`; `charge_type` per D19), in the order checked.
const REQUIRED: [&str; 6] = [
    "parking_serial",
    "plate_color",
    "enter_time",
    "car_type",
    "car_desc",
    "charge_type",
];

/// The parts of a `multipart/form-data` upload: text parts are signed, file parts are not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Parts {
    pub(crate) texts: Vec<(String, String)>,
    pub(crate) files: Vec<(String, Vec<u8>)>,
}

impl Parts {
    /// A text part's value; empty counts as absent, as P云 does not sign empties.
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.texts
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    }
}

/// What P云 makes of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// `400` with this hint.
    Invalid(String),
    /// `403`: no car park by this name.
    UnknownPark(String),
    /// `200` + `已忽略当前请求` + this hint: the signature "failed".
    SignHint(String),
    /// Accepted (`200`); what the stays need.
    Accepted(Accepted),
}

/// An accepted upload's stay fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Accepted {
    pub(crate) park_uuid: String,
    pub(crate) parking_serial: String,
    /// Normalised.
    pub(crate) plate: Option<String>,
    pub(crate) enter_time: i64,
    /// Leave uploads only.
    pub(crate) leave_time: Option<i64>,
}

/// The verdict with what was learned on the way, for the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checked {
    pub(crate) verdict: Verdict,
    /// The car park, once identified.
    pub(crate) park_uuid: Option<String>,
    /// `None`: not checked (refused earlier, or no `sign`).
    pub(crate) sign_ok: Option<bool>,
    /// `None`: no image file; else whether every `*_image_hash` equals its file's MD5.
    pub(crate) image_hash_ok: Option<bool>,
}

/// `参数`X`未传递`, P云's wording for a missing field (DOC `parking-enter.md`).
fn missing(field: &str) -> Verdict {
    Verdict::Invalid(format!("参数`{field}`未传递"))
}

/// Judges one upload.
pub(crate) fn check(path: UploadPath, parts: &Parts, carparks: &CarParks) -> Checked {
    let mut out = Checked {
        verdict: Verdict::Invalid(String::new()),
        park_uuid: None,
        sign_ok: None,
        image_hash_ok: None,
    };
    let mut names: Vec<&str> = parts.texts.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        out.verdict = Verdict::Invalid(format!("参数`{}`重复传递", w[0]));
        return out;
    }
    // `merchant` may stand for `park_uuid` (DOC: "merchant / park_uuid 二选一").
    let park = match (parts.text("park_uuid"), parts.text("merchant")) {
        (Some(uuid), _) => carparks.get(uuid).ok_or(uuid),
        (None, Some(merchant)) => carparks.by_merchant(merchant).ok_or(merchant),
        (None, None) => {
            out.verdict = missing("park_uuid");
            return out;
        }
    };
    let park = match park {
        Ok(p) => p,
        Err(name) => {
            out.verdict = Verdict::UnknownPark(name.to_owned());
            return out;
        }
    };
    out.park_uuid = Some(park.reg.park_uuid.clone());
    let (signed, hashes_ok) = signed_fields(parts);
    out.image_hash_ok = hashes_ok;
    if parts.text(SIGN_FIELD).is_some() {
        out.sign_ok = Some(verify_form(&signed, &park.reg.upload_secret).is_ok());
    }
    let hint = || format!("签名验证不通过[{}]", masked_plaintext(&signed));
    if park.sign_hint {
        out.verdict = Verdict::SignHint(hint());
        return out;
    }
    let leave_required = (path == UploadPath::Leave).then_some("leave_time");
    for field in REQUIRED
        .into_iter()
        .chain(leave_required)
        .chain([SIGN_FIELD])
    {
        if parts.text(field).is_none() {
            out.verdict = missing(field);
            return out;
        }
    }
    if out.sign_ok != Some(true) {
        out.verdict = Verdict::SignHint(hint());
        return out;
    }
    out.verdict = match accepted(path, parts, &park.reg.park_uuid) {
        Ok(a) => Verdict::Accepted(a),
        Err(field) => Verdict::Invalid(format!("参数`{field}`格式错误")),
    };
    out
}

/// The text parts as P云 signs them: each image file stands in through the MD5 P云 computes
/// from it as `*_image_hash`, whatever hash was sent ("文件流只参与计算得出`enter_image_hash`的值").
/// Also whether the hashes sent matched the files (`None` without files).
fn signed_fields(parts: &Parts) -> (Vec<(String, String)>, Option<bool>) {
    let mut signed = parts.texts.clone();
    let mut all_match = None;
    for (name, bytes) in &parts.files {
        let Some(stem) = name.strip_suffix("_file") else {
            // Not an `*_image_file`: P云 reads nothing from it.
            continue;
        };
        let hash_name = format!("{stem}_hash");
        let computed = image_hash(bytes);
        let matches = parts.text(&hash_name) == Some(computed.as_str());
        all_match = Some(all_match.unwrap_or(true) && matches);
        match signed.iter_mut().find(|(k, _)| *k == hash_name) {
            Some(slot) => slot.1 = computed,
            None => signed.push((hash_name, computed)),
        }
    }
    (signed, all_match)
}

/// P云's plaintext as its hint echoes it: sorted non-empty `k=v&…`, then `app_secret=***`.
fn masked_plaintext(fields: &[(String, String)]) -> String {
    let mut pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .filter(|(k, v)| *k != SIGN_FIELD && !v.is_empty())
        .collect();
    pairs.sort_unstable();
    let mut text: String = pairs.iter().map(|(k, v)| format!("{k}={v}&")).collect();
    text.push_str("app_secret=***");
    text
}

/// The stay fields of a signed upload, or the first field whose format is wrong.
fn accepted(path: UploadPath, parts: &Parts, park_uuid: &str) -> Result<Accepted, &'static str> {
    let ms = |field: &'static str| -> Result<i64, &'static str> {
        parts
            .text(field)
            .and_then(|t| t.trim().parse::<i64>().ok())
            .filter(|n| *n > 0)
            .ok_or(field)
    };
    let leave_time = match path {
        UploadPath::Enter => None,
        UploadPath::Leave => Some(ms("leave_time")?),
    };
    Ok(Accepted {
        park_uuid: park_uuid.to_owned(),
        parking_serial: parts.text("parking_serial").unwrap_or_default().to_owned(),
        plate: parts.text("plate").map(plate_key),
        enter_time: ms("enter_time")?,
        leave_time,
    })
}

#[cfg(test)]
mod tests {
    //! The spec's vector U1 (pyun-carpark.md §4.5) through the sandbox's checks.
    use super::*;
    use crate::pyun::carparks::CarParkRegistration;
    use protocol::plate::{Plate, PlateColor};
    use protocol::pyun_carpark::{CarType, Entry};
    use protocol::time::from_epoch_ms;

    const SECRET: &str = "pb-upload-secret-2025";
    const PARK: &str = "3bad72c0-6204-4b65-90aa-4323ddd1fb5a";
    const U1_MASKED: &str = "car_desc=临停车&car_type=1&charge_type=1&enter_gate=东门入口&enter_image_hash=DF16D33739DEFE9BDA1F4C45D36FD7A7&enter_time=1735781400000&park_uuid=3bad72c0-6204-4b65-90aa-4323ddd1fb5a&parking_serial=PS20250102093000001&plate=粤B660PP&plate_color=1&remain_parking_space=123&total_parking_space=500&app_secret=***";
    const GIF: [u8; 35] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x05, 0x04,
        0x04, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02,
        0x02, 0x44, 0x01, 0x00, 0x3B,
    ];

    fn parks() -> CarParks {
        let mut p = CarParks::default();
        p.register(CarParkRegistration {
            park_uuid: PARK.into(),
            gateway_url: "http://127.0.0.1:1/gw".into(),
            downlink_key: "k".into(),
            upload_secret: SECRET.into(),
            api_store_code: None,
            merchant: Some("m-1".into()),
        });
        p
    }

    fn u1(secret: &str) -> Parts {
        let entry = Entry {
            park_uuid: PARK.into(),
            parking_serial: "PS20250102093000001".into(),
            plate: Some(Plate::parse("粤B660PP").unwrap()),
            plate_color: PlateColor::Blue,
            plate_type: None,
            card_no: None,
            card_id: None,
            enter_time: from_epoch_ms(1_735_781_400_000).unwrap(),
            enter_image: None,
            enter_image_file: Some(GIF.to_vec()),
            enter_gate: Some("东门入口".into()),
            enter_security: None,
            car_type: CarType::Temporary,
            car_desc: "临停车".into(),
            car_color: None,
            charge_type: "1".into(),
            vehicle_type: None,
            enter_release_reason: None,
            total_parking_space: Some(500),
            remain_parking_space: Some(123),
        };
        let form = entry.to_form(secret).unwrap();
        Parts {
            texts: form.fields().to_vec(),
            files: vec![("enter_image_file".into(), GIF.to_vec())],
        }
    }

    #[test]
    fn u1_is_accepted() {
        let c = check(UploadPath::Enter, &u1(SECRET), &parks());
        assert_eq!((c.sign_ok, c.image_hash_ok), (Some(true), Some(true)));
        let Verdict::Accepted(a) = c.verdict else {
            panic!("{:?}", c.verdict)
        };
        assert_eq!(a.parking_serial, "PS20250102093000001");
        assert_eq!(a.plate.as_deref(), Some("粤B660PP"));
        assert_eq!(a.enter_time, 1_735_781_400_000);
    }

    #[test]
    fn a_wrong_secret_gets_the_hint_with_p_yun_s_plaintext() {
        let c = check(UploadPath::Enter, &u1("wrong"), &parks());
        assert_eq!(c.sign_ok, Some(false));
        assert_eq!(
            c.verdict,
            Verdict::SignHint(format!("签名验证不通过[{U1_MASKED}]"))
        );
    }

    #[test]
    fn another_image_than_the_hash_says_fails_the_signature() {
        let mut parts = u1(SECRET);
        parts.files[0].1.push(0);
        let c = check(UploadPath::Enter, &parts, &parks());
        assert_eq!((c.sign_ok, c.image_hash_ok), (Some(false), Some(false)));
        let Verdict::SignHint(hint) = c.verdict else {
            panic!()
        };
        assert!(!hint.contains("DF16D33739DEFE9BDA1F4C45D36FD7A7"), "{hint}");
    }

    #[test]
    fn refusals_in_order() {
        let mut parts = u1(SECRET);
        parts.texts.retain(|(k, _)| k != "park_uuid");
        let c = check(UploadPath::Enter, &parts, &parks());
        assert_eq!(c.verdict, missing("park_uuid"));
        parts.texts.push(("merchant".into(), "m-9".into()));
        assert_eq!(
            check(UploadPath::Enter, &parts, &parks()).verdict,
            Verdict::UnknownPark("m-9".into())
        );
        parts.texts.last_mut().unwrap().1 = "m-1".into();
        // Found by merchant; the signature no longer matches without `park_uuid`.
        let c = check(UploadPath::Enter, &parts, &parks());
        assert_eq!(c.park_uuid.as_deref(), Some(PARK));
        assert!(matches!(c.verdict, Verdict::SignHint(_)));

        let mut parts = u1(SECRET);
        parts.texts.retain(|(k, _)| k != "car_desc");
        assert_eq!(
            check(UploadPath::Enter, &parts, &parks()).verdict,
            missing("car_desc")
        );
        // A leave needs `leave_time`, checked after the entry's fields.
        assert_eq!(
            check(UploadPath::Leave, &u1(SECRET), &parks()).verdict,
            missing("leave_time")
        );
        let mut parts = u1(SECRET);
        parts.texts.push(("plate".into(), "x".into()));
        assert_eq!(
            check(UploadPath::Enter, &parts, &parks()).verdict,
            Verdict::Invalid("参数`plate`重复传递".into())
        );
        let mut parts = u1(SECRET);
        parts.texts.retain(|(k, _)| k != "sign");
        let c = check(UploadPath::Enter, &parts, &parks());
        assert_eq!((c.verdict, c.sign_ok), (missing("sign"), None));
    }

    #[test]
    fn sign_hint_mode_answers_every_upload_with_the_hint() {
        let mut p = parks();
        p.get_mut(PARK).unwrap().sign_hint = true;
        let c = check(UploadPath::Enter, &u1(SECRET), &p);
        assert_eq!(c.sign_ok, Some(true));
        assert_eq!(
            c.verdict,
            Verdict::SignHint(format!("签名验证不通过[{U1_MASKED}]"))
        );
    }

    #[test]
    fn a_signed_but_malformed_time_is_400() {
        let fields = [
            ("park_uuid", PARK),
            ("parking_serial", "S1"),
            ("plate_color", "1"),
            ("enter_time", "yesterday"),
            ("car_type", "1"),
            ("car_desc", "临停"),
            ("charge_type", "1"),
        ];
        let form = protocol::pyun::SignedForm::new(fields, SECRET);
        let parts = Parts {
            texts: form.fields().to_vec(),
            files: Vec::new(),
        };
        let c = check(UploadPath::Enter, &parts, &parks());
        assert_eq!(c.image_hash_ok, None);
        assert_eq!(
            c.verdict,
            Verdict::Invalid("参数`enter_time`格式错误".into())
        );
    }
}
