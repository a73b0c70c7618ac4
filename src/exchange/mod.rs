//! The information exchange: requests between members of a case, all-or-nothing responses, and shares inside an
//! open meeting. Every item is judged by the decision point ([`Facts::decide`]) when it is offered and again when
//! it is read. Content is sealed under the case's data key; it leaves the gateway only from [`Exchange::release`]
//! (`release.rs`), which has the log commit one `disclosure` record per source organisation and hands back the
//! [`Released`] body the log made for exactly those records. May use `types`, `crypto`, `store`, `log`,
//! `covenant`, `orgs` and `cases`.
mod file;
pub(crate) mod read_cache;
mod release;
mod requests;
mod shares;
pub(crate) mod views;

use ring::digest;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use time::OffsetDateTime;

use crate::cases::facts::{Facts, Recorded, Setting};
use crate::covenant::decision::{Decision, Refusal, Side};
use crate::covenant::Covenant;
use crate::crypto::envelope::{DataKey, Keyring, SealError};
use crate::log::actor::Actor;
use crate::log::chain::{Entry, Kind};
pub use crate::log::Read;
use crate::log::{Log, LogError};
use crate::orgs::registry::Snapshot;
use crate::store::{AttendeeRow, CaseRow, ItemRow, MeetingRow, Store, StoreError};
use crate::types::{CaseId, CaseStatus, Instant, ItemId, MeetingId, Oin, RequestId};
pub use file::NewFileItems;
use read_cache::RequestCache;
pub use views::{
    Addressee, AddresseeView, ItemView, Items, NewItem, NewRequest, NewResponse, NewShare, RequestRead, RequestView,
    ScopedAddressee, Withheld,
};

/// Encryption of case content at rest, and the size of what may be offered: `[content]` of the configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContentConfig {
    /// The master key (64 hex digits) that wraps every case's data key; `serve` refuses to start without it.
    pub master_key_file: Option<PathBuf>,
    /// Earlier master keys, still needed to unwrap data keys until `doelpoort content rewrap` has re-wrapped them.
    pub retired_master_key_files: Vec<PathBuf>,
    /// Largest item of content (its JSON text), in bytes.
    pub max_item_bytes: usize,
    /// Most items in one response or share.
    pub max_items: usize,
    /// How often `serve` purges cases whose retention has ended.
    pub purge_interval_secs: u64,
}

impl ContentConfig {
    /// The master keys these settings name.
    ///
    /// # Errors
    /// As [`Keyring::from_files`].
    pub fn keyring(&self) -> Result<Keyring, crate::crypto::KeyError> {
        Keyring::from_files(self.master_key_file.as_deref(), &self.retired_master_key_files)
    }
}

impl Default for ContentConfig {
    fn default() -> Self {
        ContentConfig {
            master_key_file: None,
            retired_master_key_files: Vec::new(),
            max_item_bytes: 64 * 1024,
            max_items: 100,
            purge_interval_secs: 3600,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("the case's content has been purged at the end of its retention period")]
    Purged,
    #[error("the case is closed")]
    CaseClosed,
    #[error("{0}")]
    Conflict(String),
    /// The decision point refused (recorded); the refusal names the item and the rule.
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored content does not open")]
    Seal(#[from] SealError),
}

fn invalid<T>(message: impl Into<String>) -> Result<T, ExchangeError> {
    Err(ExchangeError::Validation(message.into()))
}

/// What the exchange needs from the gateway, for one call.
pub struct Exchange<'a> {
    pub store: &'a Store,
    pub log: &'a Log,
    /// The master keys in force when the call started (a reload does not change them half-way).
    pub keys: Arc<Keyring>,
    pub registry: &'a Snapshot,
    pub covenant: &'a Covenant,
    pub limits: &'a ContentConfig,
    pub cache: &'a RequestCache,
    pub now: OffsetDateTime,
}

/// Whether there is content to judge: the case is not purged (410 otherwise) and there are items.
fn releasable(case: &CaseRow, items: &[ItemRow]) -> Result<bool, ExchangeError> {
    if case.status == CaseStatus::Purged {
        return Err(ExchangeError::Purged);
    }
    Ok(!items.is_empty())
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, bytes))
}

/// Where offered items go: the case and meeting, and the request they answer (none for a share).
struct Offer<'a> {
    case: &'a CaseRow,
    meeting: &'a MeetingRow,
    request: Option<&'a RequestId>,
    purpose: &'a str,
}

impl Exchange<'_> {
    fn instant(&self) -> Instant {
        Instant::from(self.now)
    }

    async fn case(&self, id: &CaseId) -> Result<CaseRow, ExchangeError> {
        self.store.case(id).await?.ok_or(ExchangeError::NotFound("case"))
    }

    async fn meeting(&self, id: &MeetingId) -> Result<MeetingRow, ExchangeError> {
        self.store.meeting(id).await?.ok_or(ExchangeError::NotFound("meeting"))
    }

    /// What is recorded about the case in the meeting, now.
    async fn recorded(&self, case: &CaseRow, meeting: &MeetingRow) -> Result<Recorded, ExchangeError> {
        Ok(Recorded::load(self.store, case.clone(), meeting.clone(), self.now).await?)
    }

    fn flow(&self, recorded: &Recorded, source: &Oin, recipient: &Oin, setting: Setting) -> Facts {
        recorded.flow(self.registry, self.covenant, source, recipient, setting)
    }

    /// A case whose content may still be offered: not purged, not closed.
    fn open_case(case: &CaseRow) -> Result<(), ExchangeError> {
        match case.status {
            CaseStatus::Purged => Err(ExchangeError::Purged),
            CaseStatus::Open => Ok(()),
            CaseStatus::Closed => Err(ExchangeError::CaseClosed),
        }
    }

    fn data_key(&self, case: &CaseRow) -> Result<DataKey, ExchangeError> {
        crate::cases::texts::data_key(&self.keys, case).map_err(|e| match e {
            crate::cases::CaseError::Seal(inner) => ExchangeError::Seal(inner),
            _ => ExchangeError::Purged,
        })
    }

    /// The record of a refusal by the decision point of `category` flowing from `source` (to `recipient`).
    fn refusal(
        &self,
        actor: &Actor,
        offer: &Offer<'_>,
        (source, recipient): (&Oin, Option<&Oin>),
        category: &str,
        decision: &Decision,
    ) -> Entry {
        actor.stamp(Entry {
            source_oin: Some(source.to_string()),
            recipient_oin: recipient.map(Oin::to_string),
            actor_oin: Some(actor.oin.to_string()),
            actor_sub: Some(actor.sub.clone()),
            case_id: Some(offer.case.id.to_string()),
            subject: Some(offer.case.subject.clone()),
            meeting_id: Some(offer.meeting.id.to_string()),
            meeting_type: Some(offer.meeting.meeting_type.clone()),
            purpose: Some(offer.purpose.to_owned()),
            categories: vec![category.to_owned()],
            covenant_version: Some(decision.covenant_version.clone()),
            article: decision.articles.first().cloned(),
            reason: Some(format!("{}: {}", decision.code(), decision.reason)),
            ..Entry::new(Kind::Refusal)
        })
    }

    /// Records a refusal and turns it into the caller's error.
    async fn refuse(&self, entry: Entry, what: String, decision: &Decision) -> ExchangeError {
        if let Err(e) = self.log.append(entry).await {
            return e.into();
        }
        match decision.refusal(&what) {
            Some(refusal) => refusal.into(),
            None => ExchangeError::Log(LogError::Uncovered),
        }
    }

    /// The meeting's attendees, if the actor is one of them: only they share (`side` source) or read (recipient)
    /// in it. Anyone else is refused — recorded, with the case named in the call when it exists — and told there is
    /// no such meeting, as `GET /v1/meetings/{id}` tells it, so the answer does not say whether the meeting exists.
    async fn attending(
        &self,
        actor: &Actor,
        meeting: &MeetingRow,
        case_id: &CaseId,
        side: Side,
    ) -> Result<Vec<AttendeeRow>, ExchangeError> {
        let attendees = self.store.meeting_attendees(&meeting.id).await?;
        let decision = self
            .covenant
            .decide_attendance(side, attendees.iter().any(|a| a.oin == actor.oin));
        if decision.allowed() {
            return Ok(attendees);
        }
        let case = self.store.case(case_id).await?;
        let me = Some(actor.oin.to_string());
        let (source_oin, recipient_oin) = match side {
            Side::Source => (me, None),
            Side::Recipient => (None, me),
        };
        let entry = actor.stamp(Entry {
            source_oin,
            recipient_oin,
            actor_oin: Some(actor.oin.to_string()),
            actor_sub: Some(actor.sub.clone()),
            case_id: case.as_ref().map(|c| c.id.to_string()),
            subject: case.map(|c| c.subject),
            meeting_id: Some(meeting.id.to_string()),
            meeting_type: Some(meeting.meeting_type.clone()),
            covenant_version: Some(decision.covenant_version.clone()),
            reason: Some(format!("{}: {}", decision.code(), decision.reason)),
            ..Entry::new(Kind::Refusal)
        });
        match self.refuse(entry, "meeting".into(), &decision).await {
            ExchangeError::Refused(_) => Err(ExchangeError::NotFound("meeting")),
            other => Err(other),
        }
    }

    /// Checks the shape of offered items: count, size, content type and category.
    fn check_items(&self, items: &[NewItem], allowed: Option<&[String]>) -> Result<Vec<Vec<u8>>, ExchangeError> {
        if items.is_empty() {
            return invalid("items: at least one item is required");
        }
        if items.len() > self.limits.max_items {
            return Err(ExchangeError::TooLarge(format!(
                "items: at most {} items at once",
                self.limits.max_items
            )));
        }
        let mut texts = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if self.covenant.category(&item.category).is_none() {
                return invalid(format!("items[{i}].category: unknown category `{}`", item.category));
            }
            if allowed.is_some_and(|a| !a.contains(&item.category)) {
                return invalid(format!("items[{i}].category: `{}` was not requested", item.category));
            }
            let text = match &item.content {
                serde_json::Value::String(s) if s.trim().is_empty() => {
                    return invalid(format!("items[{i}].content: must not be empty"))
                }
                c @ (serde_json::Value::String(_) | serde_json::Value::Object(_)) => {
                    serde_json::to_vec(c).map_err(|_| ExchangeError::Validation(format!("items[{i}].content")))?
                }
                _ => return invalid(format!("items[{i}].content: must be a JSON string or object")),
            };
            if text.len() > self.limits.max_item_bytes {
                return Err(ExchangeError::TooLarge(format!(
                    "items[{i}].content: larger than {} bytes",
                    self.limits.max_item_bytes
                )));
            }
            texts.push(text);
        }
        Ok(texts)
    }

    /// Seals offered items under the case's data key.
    fn seal(
        &self,
        actor: &Actor,
        offer: &Offer<'_>,
        items: &[NewItem],
        texts: Vec<Vec<u8>>,
    ) -> Result<Vec<ItemRow>, ExchangeError> {
        let key = self.data_key(offer.case)?;
        items
            .iter()
            .zip(texts)
            .zip(0..)
            .map(|((item, text), position)| {
                let id = ItemId::generate();
                Ok(ItemRow {
                    sealed: Some(key.seal(offer.case.id.as_str(), id.as_str(), &text)?),
                    digest: sha256_hex(&text),
                    id,
                    case_id: offer.case.id.clone(),
                    request_id: offer.request.cloned(),
                    meeting_id: offer.meeting.id.clone(),
                    purpose: offer.purpose.to_owned(),
                    source_oin: actor.oin.clone(),
                    source_sub: actor.sub.clone(),
                    category: item.category.clone(),
                    position,
                    created_at: self.instant(),
                })
            })
            .collect()
    }
}
