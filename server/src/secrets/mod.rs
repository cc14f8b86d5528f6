//! Secrets at rest: the master key, sealing with an AEAD, and the `Secret` wrapper that keeps a
//! secret out of logs and responses.

mod master_key;
mod sealed;
mod secret;

pub use master_key::{
    KeyCheck, KeyError, KeySource, MasterKey, check_recorded, opens_key_check, verify_instance,
};
pub use sealed::{OpenError, SecretBox};
pub use secret::Secret;
