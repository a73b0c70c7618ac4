//! Encryption at rest (envelope encryption, ring's AES-256-GCM): content is sealed under a per-case data key; the
//! data key is stored only wrapped by the master key read from a file. The associated data binds a sealed item to
//! its case and item id, and a wrapped key to its case, so ciphertext cannot be moved between cases or items.
//! Rotating the master key re-wraps the data keys without touching content; destroying a case's wrapped data key
//! makes its content unreadable (retention).
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use std::path::Path;

use super::{read_secret, KeyError};

/// First byte of every sealed item and wrapped key: the format version.
const FORMAT: u8 = 1;
const CONTENT_CONTEXT: &[u8] = b"doelpoort-content-v1";
const WRAP_CONTEXT: &[u8] = b"doelpoort-data-key-v1";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the system's random number generator failed")]
    Random,
    #[error("the key must be 32 bytes")]
    KeyLength,
    /// Wrong key, wrong case or item, or altered bytes; deliberately not told apart.
    #[error("the sealed data does not open")]
    Open,
}

/// The master key: wraps data keys. `id` is a fingerprint (not secret) stored with each wrapped key, so a
/// rotation can tell which keys it still has to re-wrap.
pub struct MasterKey {
    id: String,
    key: LessSafeKey,
}

/// A case's data key, unwrapped; lives in memory only.
pub struct DataKey {
    bytes: [u8; 32],
    key: LessSafeKey,
}

/// A data key as stored: the master key's id and `FORMAT ‖ nonce ‖ ciphertext ‖ tag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub master_id: String,
    pub blob: Vec<u8>,
}

fn aead_key(bytes: &[u8]) -> Result<LessSafeKey, SealError> {
    let unbound = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| SealError::KeyLength)?;
    Ok(LessSafeKey::new(unbound))
}

/// Length-prefixed parts, so that ("ab", "c") and ("a", "bc") give different associated data.
fn associated(context: &[u8], parts: &[&str]) -> Vec<u8> {
    let mut out = context.to_vec();
    for p in parts {
        out.extend_from_slice(&(p.len() as u32).to_be_bytes());
        out.extend_from_slice(p.as_bytes());
    }
    out
}

fn seal_with(key: &LessSafeKey, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new().fill(&mut nonce).map_err(|_| SealError::Random)?;
    let mut in_out = plaintext.to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut in_out)
        .map_err(|_| SealError::Random)?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
    out.push(FORMAT);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&in_out);
    Ok(out)
}

fn open_with(key: &LessSafeKey, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SealError> {
    let (&format, rest) = sealed.split_first().ok_or(SealError::Open)?;
    if format != FORMAT || rest.len() < NONCE_LEN {
        return Err(SealError::Open);
    }
    let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Open)?;
    let mut in_out = ciphertext.to_vec();
    let plain = key
        .open_in_place(nonce, Aad::from(aad), &mut in_out)
        .map_err(|_| SealError::Open)?;
    Ok(plain.to_vec())
}

impl MasterKey {
    /// A master key from 32 secret bytes (see [`super::read_secret`]; longer secrets are refused).
    ///
    /// # Errors
    /// The secret is not 32 bytes.
    pub fn new(secret: &[u8]) -> Result<MasterKey, SealError> {
        let fingerprint = digest::digest(&digest::SHA256, secret);
        Ok(MasterKey {
            id: hex::encode(fingerprint.as_ref().get(..8).unwrap_or_default()),
            key: aead_key(secret)?,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Wraps `data` for `case_id`.
    ///
    /// # Errors
    /// The random number generator failed.
    pub fn wrap(&self, case_id: &str, data: &DataKey) -> Result<WrappedKey, SealError> {
        Ok(WrappedKey {
            master_id: self.id.clone(),
            blob: seal_with(&self.key, &associated(WRAP_CONTEXT, &[case_id]), &data.bytes)?,
        })
    }

    /// Unwraps the data key of `case_id`.
    ///
    /// # Errors
    /// [`SealError::Open`] for another master key, another case, or altered bytes.
    pub fn unwrap(&self, case_id: &str, wrapped: &WrappedKey) -> Result<DataKey, SealError> {
        if wrapped.master_id != self.id {
            return Err(SealError::Open);
        }
        let bytes = open_with(&self.key, &associated(WRAP_CONTEXT, &[case_id]), &wrapped.blob)?;
        DataKey::from_bytes(&bytes)
    }

    /// Re-wraps a data key wrapped by `old` under this key (master-key rotation; content stays as it is).
    ///
    /// # Errors
    /// The key does not unwrap under `old`.
    pub fn rewrap(&self, old: &MasterKey, case_id: &str, wrapped: &WrappedKey) -> Result<WrappedKey, SealError> {
        self.wrap(case_id, &old.unwrap(case_id, wrapped)?)
    }
}

/// The master key in use and the retired ones still needed to unwrap data keys that are not re-wrapped yet. New
/// keys are always wrapped under the current key.
pub struct Keyring {
    current: MasterKey,
    retired: Vec<MasterKey>,
}

impl Keyring {
    pub fn new(current: MasterKey, retired: Vec<MasterKey>) -> Keyring {
        Keyring { current, retired }
    }

    /// The keys in the files `content.master_key_file` (`current`) and `content.retired_master_key_files` name.
    ///
    /// # Errors
    /// No current key is configured, or a key file is unreadable or does not hold exactly 32 bytes.
    pub fn from_files(current: Option<&Path>, retired: &[std::path::PathBuf]) -> Result<Keyring, KeyError> {
        let current = current.ok_or(KeyError::Missing("content.master_key_file"))?;
        let read = |path: &Path| {
            MasterKey::new(&read_secret(path)?).map_err(|_| KeyError::Invalid {
                path: path.to_owned(),
                problem: "must hold exactly 32 bytes (64 hex digits)",
            })
        };
        let retired = retired.iter().map(|p| read(p)).collect::<Result<Vec<_>, _>>()?;
        Ok(Keyring::new(read(current)?, retired))
    }

    /// The ids of the retired keys.
    pub fn retired_ids(&self) -> Vec<&str> {
        self.retired.iter().map(MasterKey::id).collect()
    }

    /// Whether a key wrapped under master key `id` can be unwrapped.
    pub fn holds(&self, id: &str) -> bool {
        self.current.id == id || self.retired.iter().any(|k| k.id == id)
    }

    pub fn current(&self) -> &MasterKey {
        &self.current
    }

    /// Wraps `data` for `case_id` under the current key.
    ///
    /// # Errors
    /// The random number generator failed.
    pub fn wrap(&self, case_id: &str, data: &DataKey) -> Result<WrappedKey, SealError> {
        self.current.wrap(case_id, data)
    }

    /// Unwraps with whichever key of the ring wrapped it.
    ///
    /// # Errors
    /// [`SealError::Open`] when no key of the ring wrapped it, for another case, or for altered bytes.
    pub fn unwrap(&self, case_id: &str, wrapped: &WrappedKey) -> Result<DataKey, SealError> {
        std::iter::once(&self.current)
            .chain(&self.retired)
            .find(|k| k.id == wrapped.master_id)
            .ok_or(SealError::Open)?
            .unwrap(case_id, wrapped)
    }

    /// The key re-wrapped under the current key, or `None` when it is wrapped under it already.
    ///
    /// # Errors
    /// The key does not unwrap under any key of the ring.
    pub fn rewrap(&self, case_id: &str, wrapped: &WrappedKey) -> Result<Option<WrappedKey>, SealError> {
        if wrapped.master_id == self.current.id {
            return Ok(None);
        }
        self.wrap(case_id, &self.unwrap(case_id, wrapped)?).map(Some)
    }
}

impl DataKey {
    /// A fresh random data key for a new case.
    ///
    /// # Errors
    /// The random number generator failed.
    pub fn generate() -> Result<DataKey, SealError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new().fill(&mut bytes).map_err(|_| SealError::Random)?;
        DataKey::from_bytes(&bytes)
    }

    fn from_bytes(bytes: &[u8]) -> Result<DataKey, SealError> {
        let array: [u8; 32] = bytes.try_into().map_err(|_| SealError::KeyLength)?;
        Ok(DataKey {
            key: aead_key(&array)?,
            bytes: array,
        })
    }

    /// Seals `plaintext` as item `item_id` of case `case_id`.
    ///
    /// # Errors
    /// The random number generator failed.
    pub fn seal(&self, case_id: &str, item_id: &str, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        seal_with(&self.key, &associated(CONTENT_CONTEXT, &[case_id, item_id]), plaintext)
    }

    /// Opens item `item_id` of case `case_id`.
    ///
    /// # Errors
    /// [`SealError::Open`] for another case, item or key, or altered bytes.
    pub fn open(&self, case_id: &str, item_id: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        open_with(&self.key, &associated(CONTENT_CONTEXT, &[case_id, item_id]), sealed)
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_opens_only_in_its_own_case_and_item() {
        let key = DataKey::generate().unwrap();
        let sealed = key.seal("case-1", "item-1", b"{\"woonsituatie\":\"dakloos\"}").unwrap();
        assert_eq!(
            key.open("case-1", "item-1", &sealed).unwrap(),
            b"{\"woonsituatie\":\"dakloos\"}"
        );
        assert!(
            !sealed.windows(8).any(|w| w == b"dakloos\""),
            "ciphertext, not plaintext"
        );
        assert_eq!(
            key.open("case-2", "item-1", &sealed),
            Err(SealError::Open),
            "moved to another case"
        );
        assert_eq!(
            key.open("case-1", "item-2", &sealed),
            Err(SealError::Open),
            "moved to another item"
        );
        assert_eq!(
            key.open("case-1it", "em-1", &sealed),
            Err(SealError::Open),
            "boundaries count"
        );
        let mut altered = sealed.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert_eq!(key.open("case-1", "item-1", &altered), Err(SealError::Open));
        assert_eq!(key.open("case-1", "item-1", &sealed[..5]), Err(SealError::Open));
        let other = DataKey::generate().unwrap();
        assert_eq!(other.open("case-1", "item-1", &sealed), Err(SealError::Open));
        assert_ne!(
            sealed,
            key.seal("case-1", "item-1", b"{\"woonsituatie\":\"dakloos\"}").unwrap(),
            "fresh nonce"
        );
    }

    #[test]
    fn master_key_rotation_rewraps_without_touching_content() {
        let old = MasterKey::new(&[1u8; 32]).unwrap();
        let new = MasterKey::new(&[2u8; 32]).unwrap();
        assert_ne!(old.id(), new.id());
        let data = DataKey::generate().unwrap();
        let sealed = data.seal("case-1", "bsn", b"123456782").unwrap();
        let wrapped = old.wrap("case-1", &data).unwrap();
        assert!(
            old.unwrap("case-2", &wrapped).is_err(),
            "a wrapped key belongs to its case"
        );
        assert!(new.unwrap("case-1", &wrapped).is_err(), "and to its master key");
        let rewrapped = new.rewrap(&old, "case-1", &wrapped).unwrap();
        assert_eq!(rewrapped.master_id, new.id());
        let reopened = new.unwrap("case-1", &rewrapped).unwrap();
        assert_eq!(reopened.open("case-1", "bsn", &sealed).unwrap(), b"123456782");
        assert!(MasterKey::new(&[1u8; 31]).is_err());
        assert_eq!(format!("{reopened:?}"), "DataKey(redacted)");
    }
}
