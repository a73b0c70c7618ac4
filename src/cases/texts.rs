//! Free text that users type about a case (reasons, notes) can hold personal data, so it never enters the hash
//! chain: it is sealed under the case's data key (destroyed by the purge) and the chain holds its id and SHA-256
//! digest, which still proves what was written while the text exists.
use ring::digest;

use super::CaseError;
use crate::crypto::envelope::{DataKey, Keyring, WrappedKey};
use crate::store::{CaseRow, Tx};
use crate::types::{Instant, TextId};

/// A text sealed with its case, not yet stored.
pub struct SealedText {
    pub id: TextId,
    pub digest: String,
    field: &'static str,
    sealed: Vec<u8>,
}

/// The case's data key, unwrapped: the one place a case's key is opened.
///
/// # Errors
/// The case was purged (its key destroyed), or no master key in `keys` unwraps its data key.
pub fn data_key(keys: &Keyring, case: &CaseRow) -> Result<DataKey, CaseError> {
    let (Some(master_id), Some(blob)) = (case.master_key_id.clone(), case.data_key.clone()) else {
        return Err(CaseError::Purged);
    };
    Ok(keys.unwrap(case.id.as_str(), &WrappedKey { master_id, blob })?)
}

/// Seals `text` (the value of `field`) with its case.
///
/// # Errors
/// The case's data key cannot be had, or sealing failed.
pub fn seal(keys: &Keyring, case: &CaseRow, field: &'static str, text: &str) -> Result<SealedText, CaseError> {
    let key = data_key(keys, case)?;
    let id = TextId::generate();
    Ok(SealedText {
        sealed: key.seal(case.id.as_str(), id.as_str(), text.as_bytes())?,
        digest: digest(text),
        field,
        id,
    })
}

/// The SHA-256 of a text, in hex.
pub fn digest(text: &str) -> String {
    hex::encode(digest::digest(&digest::SHA256, text.as_bytes()))
}

/// Seals an optional text.
///
/// # Errors
/// As [`seal`].
pub fn seal_opt(
    keys: &Keyring,
    case: &CaseRow,
    field: &'static str,
    text: Option<&str>,
) -> Result<Option<SealedText>, CaseError> {
    text.map(|t| seal(keys, case, field, t)).transpose()
}

impl SealedText {
    /// What the chain holds of the text: its id and digest.
    pub fn reference(&self) -> serde_json::Value {
        serde_json::json!({"text": self.id, "sha256": self.digest})
    }

    /// Stores the sealed text in the change's transaction.
    ///
    /// # Errors
    /// The database refused.
    pub async fn store(&self, tx: &mut Tx, case: &CaseRow, at: Instant) -> Result<(), CaseError> {
        tx.insert_case_text((&self.id, &case.id), self.field, (&self.digest, &self.sealed), at)
            .await?;
        Ok(())
    }
}

/// The reference of an optional text, `null` when there is none.
pub fn reference(text: Option<&SealedText>) -> serde_json::Value {
    text.map_or(serde_json::Value::Null, SealedText::reference)
}
