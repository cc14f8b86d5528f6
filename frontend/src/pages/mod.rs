//! One module per page or page part.

pub mod fee_preview;
pub mod health;
