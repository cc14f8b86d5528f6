//! Field rules shared by P云 requests: required text, length limits, and reading a received form.
//!
//! Limits are ours, not P云's (it documents none): generous for real identifiers and
//! descriptions, small enough that a runaway value is refused here rather than by P云 with a
//! `400` after a network round trip. Lengths count characters, not bytes.

use crate::plate::{Plate, PlateError};

/// Limit for identifiers and codes (`event_id`, `merchant`, `pay_partner`, ...).
pub const MAX_ID_CHARS: usize = 64;

/// Limit for human descriptions (`subject`, `reason`).
pub const MAX_TEXT_CHARS: usize = 256;

/// Why a P云 request is refused before it is sent, or when the sandbox receives it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// A required field is empty or absent.
    #[error("`{0}` is required")]
    Missing(&'static str),
    /// A field exceeds its length limit.
    #[error("`{field}` has {len} characters, at most {max} are allowed")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A field's value is not acceptable.
    #[error("`{field}` is invalid: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The plate is not a plate.
    #[error("`plate`: {0}")]
    Plate(#[from] PlateError),
    /// A received form names a field twice.
    #[error("field `{0}` appears more than once")]
    DuplicateField(String),
    /// Two VIP rows of one sync share an order number, so P云 would keep only one.
    #[error("`pay_partner` `{0}` appears in more than one row")]
    DuplicatePayPartner(String),
    /// One row of a VIP sync is refused; the index lets the caller point at it.
    #[error("row {index}: {source}")]
    Row {
        /// 0-based position of the row in the list checked.
        index: usize,
        /// What is wrong with the row.
        source: Box<RequestError>,
    },
    /// A VIP batch is empty or larger than allowed.
    #[error("a batch must hold 1 to {max} rows, not {len}")]
    BatchSize {
        /// Rows in the batch.
        len: usize,
        /// The largest batch allowed.
        max: usize,
    },
}

/// Checks a required text field: not blank, not longer than `max`.
pub(crate) fn required(field: &'static str, value: &str, max: usize) -> Result<(), RequestError> {
    if value.trim().is_empty() {
        return Err(RequestError::Missing(field));
    }
    limit(field, value, max)
}

/// Checks an optional text field's length; a blank value is simply not sent.
pub(crate) fn optional(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<(), RequestError> {
    value.map_or(Ok(()), |v| limit(field, v, max))
}

/// Checks a count that P云 takes as text (`quantity`): zero asks for nothing, so it is refused.
pub(crate) fn at_least_one(field: &'static str, value: u32) -> Result<(), RequestError> {
    if value == 0 {
        return Err(RequestError::Invalid {
            field,
            reason: "must be at least 1".into(),
        });
    }
    Ok(())
}

fn limit(field: &'static str, value: &str, max: usize) -> Result<(), RequestError> {
    let len = value.chars().count();
    if len > max {
        return Err(RequestError::TooLong { field, len, max });
    }
    Ok(())
}

/// A received form, looked up by name; fields we do not know (`sign`, `timestamp`) are ignored.
pub(crate) struct Received<'a, K, V> {
    fields: &'a [(K, V)],
}

impl<'a, K: AsRef<str>, V: AsRef<str>> Received<'a, K, V> {
    /// Refuses a form that names any field twice: which value counts would be a guess.
    pub(crate) fn new(fields: &'a [(K, V)]) -> Result<Self, RequestError> {
        let mut names: Vec<&str> = fields.iter().map(|(k, _)| k.as_ref()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(RequestError::DuplicateField(w[0].to_owned()));
        }
        Ok(Received { fields })
    }

    /// A field's value; empty counts as absent, as it is never sent.
    pub(crate) fn optional(&self, name: &str) -> Option<&'a str> {
        self.fields
            .iter()
            .find(|(k, _)| k.as_ref() == name)
            .map(|(_, v)| v.as_ref())
            .filter(|v| !v.is_empty())
    }

    /// A required field's value.
    pub(crate) fn required(&self, name: &'static str) -> Result<&'a str, RequestError> {
        self.optional(name).ok_or(RequestError::Missing(name))
    }

    /// A required whole number sent as text (`quantity`).
    pub(crate) fn whole_number(&self, name: &'static str) -> Result<u32, RequestError> {
        let text = self.required(name)?;
        text.parse::<u32>().map_err(|_| RequestError::Invalid {
            field: name,
            reason: format!("`{text}` is not a whole number"),
        })
    }

    /// The required `plate`, normalised.
    pub(crate) fn plate(&self) -> Result<Plate, RequestError> {
        Ok(Plate::parse(self.required("plate")?)?)
    }
}
