//! Parking sessions from gate events (PROTOCOLS.md §3): entries open a session, exits close it
//! with the fee due; events that fit no session are recorded as anomalies for staff. `stay` loads
//! a stay with everything its figure (PROTOCOLS.md §5.1) depends on; `serial` names a stay to P云.

pub mod dashboard;
pub mod discount_figures;
mod error;
pub mod history;
pub mod serial;
mod sessions;
pub mod spaces;
pub mod stay;

pub use error::ParkingError;
pub use sessions::{
    Anomaly, Entered, Exited, NewEntry, SessionKey, SessionView, enter, exit, find_open,
    session_by_id,
};
