//! Sealing values with the master key: XChaCha20-Poly1305 with a random nonce per value.
//!
//! The stored form is `version (1 byte) ‖ nonce (24 bytes) ‖ ciphertext ‖ tag (16 bytes)`. The
//! 24-byte nonce is large enough to draw at random for every value without ever tracking a
//! counter (which several instances sharing one database could not coordinate). The associated
//! data names what a value is (e.g. the credential kind), so a sealed value moved into another
//! role fails to open. The version byte leaves room for a future key rotation.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use super::MasterKey;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// Why a sealed value did not open.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Too short or an unknown format version.
    #[error("sealed value is malformed")]
    Malformed,
    /// Wrong key, wrong associated data, or the bytes were altered.
    #[error("sealed value does not open with this master key (wrong key or tampered data)")]
    Rejected,
}

/// Seals and opens values with the master key; its `Debug` shows no key material.
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

impl SecretBox {
    /// A box keyed with `key`.
    pub fn new(key: &MasterKey) -> SecretBox {
        SecretBox {
            cipher: XChaCha20Poly1305::new(key.bytes().into()),
        }
    }

    /// Encrypts and authenticates `plaintext`, bound to `context`, with a fresh random nonce.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the operating system provides randomness");
        let ciphertext = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encrypts any message that fits in memory");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Decrypts `sealed` if it was sealed by this key for `context` and not altered since.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < 1 + NONCE_LEN + TAG_LEN || sealed[0] != VERSION {
            return Err(OpenError::Malformed);
        }
        let (nonce, ciphertext) = sealed[1..].split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| OpenError::Malformed)?;
        self.cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| OpenError::Rejected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> MasterKey {
        MasterKey::from_bytes([byte; 32])
    }

    #[test]
    fn a_sealed_value_opens_back_and_does_not_contain_the_plaintext() {
        let b = SecretBox::new(&key(7));
        let sealed = b.seal("credential:pyun", b"e9ae5402dbabc68c1c4");
        assert!(!sealed.windows(b"e9ae5402".len()).any(|w| w == b"e9ae5402"));
        assert_eq!(
            b.open("credential:pyun", &sealed).unwrap(),
            b"e9ae5402dbabc68c1c4"
        );
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let b = SecretBox::new(&key(7));
        assert_ne!(b.seal("c", b"same"), b.seal("c", b"same"));
    }

    #[test]
    fn tampering_wrong_context_and_wrong_key_are_rejected() {
        let b = SecretBox::new(&key(7));
        let sealed = b.seal("credential:pyun", b"secret");
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(b.open("credential:pyun", &bad).is_err(), "flipped byte {i}");
        }
        assert!(matches!(
            b.open("credential:mallcoo_outbound", &sealed),
            Err(OpenError::Rejected)
        ));
        assert!(matches!(
            SecretBox::new(&key(8)).open("credential:pyun", &sealed),
            Err(OpenError::Rejected)
        ));
        assert!(matches!(
            b.open("credential:pyun", &sealed[..20]),
            Err(OpenError::Malformed)
        ));
    }

    #[test]
    fn debug_shows_no_key() {
        assert_eq!(format!("{:?}", SecretBox::new(&key(7))), "SecretBox(***)");
    }
}
