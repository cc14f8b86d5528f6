//! One module per page or page part.

pub(crate) mod fee_preview;
pub(crate) mod health;
