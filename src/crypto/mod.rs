//! Keys read from files, keyed pseudonyms of BSNs, Ed25519 signing of log checkpoints, and envelope encryption
//! of content at rest ([`envelope`]), the gateway's own CA ([`pki`]), and registered token keys ([`jwks`]) — with
//! ring, rcgen and jsonwebtoken, nothing hand-rolled. May use only `types`.
pub mod envelope;
pub mod jwks;
pub mod pki;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::hmac;
use ring::signature::{Ed25519KeyPair, KeyPair as _, UnparsedPublicKey, ED25519};
use rustls_pki_types::pem::PemObject;
use std::path::{Path, PathBuf};

use crate::types::Bsn;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the key file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the key file {path} {problem}")]
    Invalid { path: PathBuf, problem: &'static str },
    #[error("the configuration names no {0}; the gateway needs it")]
    Missing(&'static str),
}

/// Reads a symmetric secret: at least 32 bytes, given as 64+ hex digits (surrounding white space ignored).
///
/// # Errors
/// The file cannot be read or holds fewer than 32 bytes of hex.
pub fn read_secret(path: &Path) -> Result<Vec<u8>, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
        path: path.to_owned(),
        source,
    })?;
    let bytes = hex::decode(text.trim()).map_err(|_| KeyError::Invalid {
        path: path.to_owned(),
        problem: "must hold the key as hexadecimal digits",
    })?;
    if bytes.len() < 32 {
        return Err(KeyError::Invalid {
            path: path.to_owned(),
            problem: "must hold at least 32 bytes (64 hex digits)",
        });
    }
    Ok(bytes)
}

/// Whether two secrets (tags, thumbprints) are equal, in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    a.ct_eq(b).into()
}

/// `N` random bytes as hex (identifiers, trace ids); never all zeros.
pub fn random_hex<const N: usize>() -> String {
    hex::encode(random_bytes::<N>())
}

/// `N` random bytes from the operating system, never all zero (a W3C trace or span id may not be zero).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).is_err() || bytes == [0u8; N] {
        if let Some(last) = bytes.last_mut() {
            *last = 1;
        }
    }
    bytes
}

/// A new random 32-byte secret as hex (for `demo` and key generation).
pub fn new_secret_hex() -> Option<String> {
    let mut b = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).ok()?;
    Some(hex::encode(b))
}

/// Turns a BSN into its keyed pseudonym (HMAC-SHA256, hex). Without the key the pseudonym cannot be reversed
/// or recomputed from a guess.
pub struct Pseudonymiser {
    key: hmac::Key,
    cursor_key: hmac::Key,
}

impl Pseudonymiser {
    pub fn new(secret: &[u8]) -> Pseudonymiser {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
        // A separate key for signing paging cursors, derived so that one file serves both.
        let derived = hmac::sign(&key, b"doelpoort cursor key v1");
        Pseudonymiser {
            key,
            cursor_key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    pub fn pseudonym(&self, bsn: &Bsn) -> String {
        hex::encode(hmac::sign(&self.key, bsn.expose().as_bytes()).as_ref())
    }

    /// The pseudonym of a person without a BSN, over the normalised name and birth date the caller joined into
    /// `identity`; domain-separated, so it never equals a BSN's.
    pub fn pseudonym_without_bsn(&self, identity: &str) -> String {
        let tagged = format!("no-bsn\u{1f}{identity}");
        hex::encode(hmac::sign(&self.key, tagged.as_bytes()).as_ref())
    }

    /// Signs an opaque token (paging cursors): `payload.tag`.
    pub fn seal_token(&self, payload: &str) -> String {
        let tag = hmac::sign(&self.cursor_key, payload.as_bytes());
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(tag.as_ref().get(..16).unwrap_or_default())
        )
    }

    /// Opens a token made by [`Pseudonymiser::seal_token`]; `None` when it was altered.
    pub fn open_token(&self, token: &str) -> Option<String> {
        let (payload, tag) = token.split_once('.')?;
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let expected = hmac::sign(&self.cursor_key, payload.as_bytes());
        let prefix = expected.as_ref().get(..16).unwrap_or_default();
        constant_time_eq(prefix, &tag).then_some(payload)
    }
}

/// The Ed25519 key that signs checkpoints of the disclosure log.
pub struct CheckpointSigner {
    pair: Ed25519KeyPair,
}

impl CheckpointSigner {
    /// Reads a PKCS#8 Ed25519 key in PEM.
    ///
    /// # Errors
    /// Unreadable file or not an Ed25519 PKCS#8 key.
    pub fn from_file(path: &Path) -> Result<CheckpointSigner, KeyError> {
        let text = std::fs::read(path).map_err(|source| KeyError::Read {
            path: path.to_owned(),
            source,
        })?;
        let invalid = || KeyError::Invalid {
            path: path.to_owned(),
            problem: "is not a PKCS#8 Ed25519 key in PEM",
        };
        let der = rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(&text).map_err(|_| invalid())?;
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der.secret_pkcs8_der()).map_err(|_| invalid())?;
        Ok(CheckpointSigner { pair })
    }

    /// The public key, base64url.
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.pair.public_key().as_ref())
    }

    /// The raw 32-byte public key.
    pub fn public_key_bytes(&self) -> Vec<u8> {
        self.pair.public_key().as_ref().to_vec()
    }

    /// The raw 64-byte signature over `message`.
    pub fn sign_bytes(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }
}

/// Checks an Ed25519 signature (both base64url).
pub fn verify_signature(public_key: &str, message: &[u8], signature: &str) -> bool {
    let (Ok(key), Ok(sig)) = (URL_SAFE_NO_PAD.decode(public_key), URL_SAFE_NO_PAD.decode(signature)) else {
        return false;
    };
    UnparsedPublicKey::new(&ED25519, key).verify(message, &sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_keyed_and_cursors_detect_tampering() {
        let bsn: Bsn = "123456782".parse().unwrap();
        let a = Pseudonymiser::new(&[1u8; 32]);
        let b = Pseudonymiser::new(&[2u8; 32]);
        assert_eq!(a.pseudonym(&bsn), a.pseudonym(&bsn));
        assert_ne!(a.pseudonym(&bsn), b.pseudonym(&bsn));
        assert!(!a.pseudonym(&bsn).contains("123456782"));
        let t = a.seal_token("after:42");
        assert_eq!(a.open_token(&t).as_deref(), Some("after:42"));
        assert_eq!(b.open_token(&t), None);
        let forged = format!("{}.{}", URL_SAFE_NO_PAD.encode("after:1"), t.split_once('.').unwrap().1);
        assert_eq!(a.open_token(&forged), None);
    }
}
