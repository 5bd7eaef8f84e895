//! Sealing private note bodies with XChaCha20-Poly1305: a random 24-byte nonce per write, and
//! the note's id as associated data, so a sealed body cannot be moved onto another note.

use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, Generate, KeyInit, Payload},
};
use secrecy::{ExposeSecret, SecretBox};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

const NONCE_LEN: usize = 24;

pub fn seal(key: &SecretBox<[u8; 32]>, note_id: Uuid, plaintext: &str) -> AppResult<Vec<u8>> {
    let cipher = XChaCha20Poly1305::new(key.expose_secret().into());
    let nonce = XNonce::generate();
    let ciphertext = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext.as_bytes(),
                aad: note_id.as_bytes(),
            },
        )
        .map_err(|_| AppError::internal("could not seal a note"))?;
    let mut sealed = nonce.to_vec();
    sealed.extend_from_slice(&ciphertext);
    Ok(sealed)
}

pub fn open(key: &SecretBox<[u8; 32]>, note_id: Uuid, sealed: &[u8]) -> AppResult<String> {
    if sealed.len() < NONCE_LEN {
        return Err(AppError::internal("a sealed note is truncated"));
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let cipher = XChaCha20Poly1305::new(key.expose_secret().into());
    let nonce = XNonce::try_from(nonce).map_err(|_| AppError::internal("bad nonce"))?;
    let plaintext = cipher
        .decrypt(
            &nonce,
            Payload {
                msg: ciphertext,
                aad: note_id.as_bytes(),
            },
        )
        .map_err(|_| AppError::internal("a sealed note does not open with this key"))?;
    String::from_utf8(plaintext).map_err(|_| AppError::internal("a sealed note is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretBox<[u8; 32]> {
        SecretBox::new(Box::new([byte; 32]))
    }

    #[test]
    fn seals_and_opens() {
        let id = Uuid::now_v7();
        let sealed = seal(&key(1), id, "my private thought").unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"private"));
        assert_eq!(open(&key(1), id, &sealed).unwrap(), "my private thought");
        // A fresh nonce each time.
        assert_ne!(sealed, seal(&key(1), id, "my private thought").unwrap());
    }

    #[test]
    fn refuses_another_key_or_another_note() {
        let id = Uuid::now_v7();
        let sealed = seal(&key(1), id, "text").unwrap();
        assert!(open(&key(2), id, &sealed).is_err());
        assert!(open(&key(1), Uuid::now_v7(), &sealed).is_err());
        assert!(open(&key(1), id, &sealed[..10]).is_err());
    }
}
