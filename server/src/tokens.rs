//! Random tokens and their stored digests (session cookies, API keys).
//!
//! The tokens carry 256 bits of OS randomness, so a plain SHA-256 is a sufficient one-way
//! digest for storage (a slow KDF protects low-entropy passwords, which these are not).

use sha2::{Digest, Sha256};

/// `bytes` of OS randomness as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system provides randomness");
    hex::encode(buf)
}

/// The hex SHA-256 of a token: what the database keeps instead of the token.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
