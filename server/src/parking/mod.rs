//! Parking sessions from gate events (PROTOCOLS.md §3): entries open a session, exits close it
//! with the fee due; events that fit no session are recorded as anomalies for staff.

pub mod dashboard;
mod error;
mod fee;
pub mod history;
pub mod payments;
mod sessions;

pub use error::ParkingError;
pub use fee::{ExitFee, exit_fee};
pub use sessions::{
    Anomaly, Entered, Exited, NewEntry, SessionKey, SessionView, enter, exit, find_open,
};
