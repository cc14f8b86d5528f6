//! `Secret`: a string that cannot reach a log line or a response by accident.
//!
//! It has no `Display` and no `Serialize`, and its `Debug` is redacted, so `?value` in a log
//! macro or a derived `Debug` of a request body prints `Secret(***)`. It can be deserialised,
//! because request bodies carry secrets in; getting the text out takes an explicit `expose()`.

use serde::{Deserialize, Deserializer};
use zeroize::Zeroize;

/// A secret string (P云 `app_secret`, a Mallcoo private key); wiped from memory on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The secret text: only for sealing it or feeding a signer, never for output.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2-very-secret".to_owned());
        assert_eq!(format!("{s:?}"), "Secret(***)");
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Body {
            secret: Secret,
        }
        let body = Body { secret: s };
        assert!(!format!("{body:?}").contains("hunter2"));
        assert!(!format!("{body:#?}").contains("hunter2"));
    }
}
