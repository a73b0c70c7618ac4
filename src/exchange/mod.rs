//! The information exchange: requests between members of a case, all-or-nothing responses, and shares inside an
//! open meeting. Every item is judged by the decision point ([`Facts::decide`]) when it is offered and again when
//! it is read. Content is sealed under the case's data key; it leaves the gateway only from [`Exchange::release`],
//! which commits one `disclosure` record per source organisation before it hands back a [`Released`] body.
pub mod read_cache;

use ring::digest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::cases::facts::{Facts, Recorded, Setting};
use crate::covenant::decision::{Decision, Denial, Refusal, Side};
use crate::covenant::Covenant;
use crate::crypto::envelope::{DataKey, Keyring, SealError, WrappedKey};
use crate::exchange::read_cache::{CachedRequest, RequestCache};
use crate::log::actor::Actor;
use crate::log::chain::{Entry, Kind};
use crate::log::{self, Appended, Log, LogError, Released};
use crate::orgs::registry::Snapshot;
use crate::store::{AttendeeRow, CaseRow, ItemRow, MeetingRow, RequestRow, RequestRows, Store, StoreError};
use crate::types::clock::{parse_rfc3339, rfc3339};

/// Encryption of case content at rest.
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

/// Longest reason for declining, in characters.
const REASON_MAX: usize = 500;

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

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    pub case_id: String,
    pub meeting_id: String,
    pub purpose: String,
    pub categories: Vec<String>,
    /// OINs of the member organisations asked.
    pub addressees: Vec<String>,
    /// RFC 3339; in the future.
    pub due: String,
}

/// One item of content offered: a category and its content (a JSON string or object).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    pub category: String,
    #[schema(value_type = Object)]
    pub content: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResponse {
    pub items: Vec<NewItem>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShare {
    pub case_id: String,
    /// A purpose of the meeting's type; may be left out when the type has only one.
    pub purpose: Option<String>,
    pub items: Vec<NewItem>,
}

/// A request as its requester or an addressee sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestView {
    pub id: String,
    pub case_id: String,
    pub meeting_id: String,
    pub purpose: String,
    pub categories: Vec<String>,
    pub requester_oin: String,
    pub due: String,
    pub created_at: String,
    pub addressees: Vec<AddresseeView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AddresseeView {
    pub oin: String,
    /// `open`, `answered`, `declined` or `expired`.
    pub status: String,
    pub reason: Option<String>,
    pub changed_at: Option<String>,
}

/// An item released to the reader.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemView {
    pub id: String,
    pub category: String,
    #[schema(value_type = Object)]
    pub content: serde_json::Value,
    pub source_oin: String,
    pub created_at: String,
    /// SHA-256 (hex) of the content's JSON text as offered; the disclosure record's `content_digest` is the SHA-256
    /// of the digests of the items it covers, each followed by a newline, in the order of this list.
    pub digest: String,
}

/// An item the reader may not receive now, and why (no content).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Withheld {
    pub source_oin: String,
    pub category: String,
    pub code: String,
}

/// What a reader gets: the items released to it, and those withheld.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Items {
    pub items: Vec<ItemView>,
    pub withheld: Vec<Withheld>,
}

/// A request read by its requester: the request and the responses it may receive.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestRead {
    #[serde(flatten)]
    pub request: RequestView,
    #[serde(flatten)]
    pub responses: Items,
}

/// A read whose items were released through the log, or one with nothing to release (no record needed).
pub enum Read<T> {
    Released(Released<T>),
    Nothing(T),
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

/// The status of an addressee's answer, with `expired` for an open one past its due date.
fn status(raw: &str, due: &str, now: &str) -> String {
    if raw == "open" && due <= now {
        "expired".into()
    } else {
        raw.to_owned()
    }
}

/// Whether there is content to judge: the case is not purged (410 otherwise) and there are items.
fn releasable(case: &CaseRow, items: &[ItemRow]) -> Result<bool, ExchangeError> {
    if case.status == "purged" {
        return Err(ExchangeError::Purged);
    }
    Ok(!items.is_empty())
}

/// Only the requester reads a request; to anyone else it does not exist (the requester never changes).
fn requested_by(rows: &RequestRows, actor: &Actor) -> Result<(), ExchangeError> {
    if rows.request.requester_oin == actor.oin.as_str() {
        Ok(())
    } else {
        Err(ExchangeError::NotFound("request"))
    }
}

/// A request as its requester reads it, with the responses released to it.
fn request_read(rows: RequestRows, responses: Items, now: &str) -> RequestRead {
    let addressees = rows
        .addressees
        .into_iter()
        .map(|a| AddresseeView {
            status: status(&a.status, &rows.request.due, now),
            oin: a.oin,
            reason: a.reason,
            changed_at: a.changed_at,
        })
        .collect();
    RequestRead {
        request: request_view(rows.request, addressees),
        responses,
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, bytes))
}

impl Exchange<'_> {
    fn now_text(&self) -> String {
        rfc3339(self.now)
    }

    async fn case(&self, id: &str) -> Result<CaseRow, ExchangeError> {
        self.store.case(id).await?.ok_or(ExchangeError::NotFound("case"))
    }

    async fn meeting(&self, id: &str) -> Result<MeetingRow, ExchangeError> {
        self.store.meeting(id).await?.ok_or(ExchangeError::NotFound("meeting"))
    }

    /// What is recorded about the case in the meeting, now.
    async fn recorded(&self, case: &CaseRow, meeting: &MeetingRow) -> Result<Recorded, ExchangeError> {
        Ok(Recorded::load(self.store, case.clone(), meeting.clone(), self.now).await?)
    }

    fn flow(&self, recorded: &Recorded, source: &str, recipient: &str, setting: Setting) -> Facts {
        recorded.flow(self.registry, self.covenant, source, recipient, setting)
    }

    /// A case whose content may still be offered: not purged, not closed.
    fn open_case(case: &CaseRow) -> Result<(), ExchangeError> {
        match case.status.as_str() {
            "purged" => Err(ExchangeError::Purged),
            "open" => Ok(()),
            _ => Err(ExchangeError::CaseClosed),
        }
    }

    fn data_key(&self, case: &CaseRow) -> Result<DataKey, ExchangeError> {
        let (Some(master_id), Some(blob)) = (case.master_key_id.clone(), case.data_key.clone()) else {
            return Err(ExchangeError::Purged);
        };
        Ok(self.keys.unwrap(&case.id, &WrappedKey { master_id, blob })?)
    }

    /// The record of a refusal by the decision point.
    #[allow(clippy::too_many_arguments)]
    fn refusal(
        &self,
        actor: &Actor,
        case: &CaseRow,
        meeting: &MeetingRow,
        purpose: &str,
        source: &str,
        recipient: Option<&str>,
        category: &str,
        decision: &Decision,
    ) -> Entry {
        actor.stamp(Entry {
            source_oin: Some(source.to_owned()),
            recipient_oin: recipient.map(str::to_owned),
            actor_oin: Some(actor.oin.to_string()),
            actor_sub: Some(actor.sub.clone()),
            case_id: Some(case.id.clone()),
            subject: Some(case.subject.clone()),
            meeting_id: Some(meeting.id.clone()),
            meeting_type: Some(meeting.meeting_type.clone()),
            purpose: Some(purpose.to_owned()),
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
    /// in it. Anyone else is refused, and the refusal recorded with the case named in the call when it exists.
    async fn attending(
        &self,
        actor: &Actor,
        meeting: &MeetingRow,
        case_id: &str,
        side: Side,
    ) -> Result<Vec<AttendeeRow>, ExchangeError> {
        let attendees = self.store.meeting_attendees(&meeting.id).await?;
        let decision = self
            .covenant
            .decide_attendance(side, attendees.iter().any(|a| a.oin == actor.oin.as_str()));
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
            case_id: case.as_ref().map(|c| c.id.clone()),
            subject: case.map(|c| c.subject),
            meeting_id: Some(meeting.id.clone()),
            meeting_type: Some(meeting.meeting_type.clone()),
            covenant_version: Some(decision.covenant_version.clone()),
            reason: Some(format!("{}: {}", decision.code(), decision.reason)),
            ..Entry::new(Kind::Refusal)
        });
        Err(self.refuse(entry, "meeting".into(), &decision).await)
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
    #[allow(clippy::too_many_arguments)]
    fn seal(
        &self,
        actor: &Actor,
        case: &CaseRow,
        meeting: &MeetingRow,
        request_id: Option<&str>,
        purpose: &str,
        items: &[NewItem],
        texts: Vec<Vec<u8>>,
    ) -> Result<Vec<ItemRow>, ExchangeError> {
        let key = self.data_key(case)?;
        items
            .iter()
            .zip(texts)
            .zip(0..)
            .map(|((item, text), position)| {
                let id = format!("item-{}", crate::crypto::random_hex::<16>());
                Ok(ItemRow {
                    sealed: Some(key.seal(&case.id, &id, &text)?),
                    digest: sha256_hex(&text),
                    id,
                    case_id: case.id.clone(),
                    request_id: request_id.map(str::to_owned),
                    meeting_id: meeting.id.clone(),
                    purpose: purpose.to_owned(),
                    source_oin: actor.oin.to_string(),
                    source_sub: actor.sub.clone(),
                    category: item.category.clone(),
                    position,
                    created_at: self.now_text(),
                })
            })
            .collect()
    }

    /// Creates an information request. Categories an addressee may not share with the requester (or the
    /// requester may not receive) refuse it whole; a missing consent does not (the answer will wait for it).
    ///
    /// # Errors
    /// Bad input (422), an unknown case or one the requester is not a member of (404), an unknown meeting (422),
    /// a closed case (409), a refusal by the decision point (403/409, recorded), or the log or database failed.
    pub async fn create_request(&self, actor: &Actor, new: &NewRequest) -> Result<String, ExchangeError> {
        let (categories, addressees, due) = self.check_request(actor, new)?;
        let case = self.case(&new.case_id).await?;
        let members = self.store.case_members(&case.id).await?;
        if !members.iter().any(|m| m.oin == actor.oin.as_str()) {
            return Err(ExchangeError::NotFound("case"));
        }
        Self::open_case(&case)?;
        let Some(meeting) = self.store.meeting(&new.meeting_id).await? else {
            return invalid("meeting_id: no such meeting");
        };
        let purposes = self.covenant.meeting_type(&meeting.meeting_type).map(|t| &t.purposes);
        if !purposes.is_some_and(|p| p.iter().any(|p| p.id == new.purpose)) {
            return invalid(format!(
                "purpose: `{}` is not a purpose of meeting type `{}`",
                new.purpose, meeting.meeting_type
            ));
        }
        let recorded = self.recorded(&case, &meeting).await?;
        for addressee in &addressees {
            let facts = self.flow(&recorded, addressee, actor.oin.as_str(), Setting::Request);
            for category in &categories {
                let decision = facts.decide(self.covenant, &new.purpose, category);
                if decision.allowed() || decision.denial == Some(Denial::ConsentRequired) {
                    continue;
                }
                let entry = self.refusal(
                    actor,
                    &case,
                    &meeting,
                    &new.purpose,
                    addressee,
                    Some(actor.oin.as_str()),
                    category,
                    &decision,
                );
                let what = format!("category `{category}` from {addressee}");
                return Err(self.refuse(entry, what, &decision).await);
            }
        }
        let row = RequestRow {
            id: format!("request-{}", crate::crypto::random_hex::<16>()),
            case_id: case.id.clone(),
            meeting_id: meeting.id.clone(),
            purpose: new.purpose.clone(),
            categories,
            requester_oin: actor.oin.to_string(),
            requester_sub: actor.sub.clone(),
            due: rfc3339(due),
            created_at: self.now_text(),
        };
        let detail = serde_json::json!({
            "request": row.id, "meeting": meeting.id, "purpose": row.purpose, "categories": row.categories,
            "addressees": addressees, "due": row.due,
        });
        let entry = actor.case_entry("request.create", &case.id, Some(case.subject.clone()), detail);
        let mut tx = self.store.begin().await?;
        tx.insert_request(&row, &addressees).await?;
        log::commit_with(tx, entry, &row.created_at).await?;
        Ok(row.id)
    }

    fn check_request(
        &self,
        actor: &Actor,
        new: &NewRequest,
    ) -> Result<(Vec<String>, Vec<String>, OffsetDateTime), ExchangeError> {
        if new.categories.is_empty() || new.addressees.is_empty() {
            return invalid("categories, addressees: name at least one of each");
        }
        let mut categories: Vec<String> = Vec::new();
        for (i, c) in new.categories.iter().enumerate() {
            if self.covenant.category(c).is_none() {
                return invalid(format!("categories[{i}]: unknown category `{c}`"));
            }
            if !categories.contains(c) {
                categories.push(c.clone());
            }
        }
        let mut addressees: Vec<String> = Vec::new();
        for (i, a) in new.addressees.iter().enumerate() {
            let oin: crate::types::Oin = a
                .parse()
                .map_err(|_| ExchangeError::Validation(format!("addressees[{i}]: an OIN is exactly 20 digits")))?;
            if oin == actor.oin {
                return invalid(format!("addressees[{i}]: a request is not addressed to its requester"));
            }
            if !addressees.contains(&oin.to_string()) {
                addressees.push(oin.to_string());
            }
        }
        let Some(due) = parse_rfc3339(&new.due) else {
            return invalid("due: not an RFC 3339 date-time");
        };
        if due <= self.now {
            return invalid("due: must lie in the future");
        }
        Ok((categories, addressees, due))
    }

    /// The requests addressed to `oin`, newest first.
    ///
    /// # Errors
    /// The database refused.
    pub async fn inbox(&self, oin: &str) -> Result<Vec<RequestView>, ExchangeError> {
        let now = self.now_text();
        Ok(self
            .store
            .inbox(oin)
            .await?
            .into_iter()
            .map(|(r, a)| {
                let addressee = AddresseeView {
                    status: status(&a.status, &r.due, &now),
                    oin: a.oin,
                    reason: a.reason,
                    changed_at: a.changed_at,
                };
                request_view(r, vec![addressee])
            })
            .collect())
    }

    /// The request and, for an addressee, its answer still open and not past due.
    async fn open_request_for(&self, actor: &Actor, id: &str) -> Result<RequestRows, ExchangeError> {
        let rows = self
            .store
            .request(id)
            .await?
            .ok_or(ExchangeError::NotFound("request"))?;
        let Some(mine) = rows.addressees.iter().find(|a| a.oin == actor.oin.as_str()) else {
            return Err(ExchangeError::NotFound("request"));
        };
        match status(&mine.status, &rows.request.due, &self.now_text()).as_str() {
            "open" => Ok(rows),
            other => Err(ExchangeError::Conflict(format!(
                "the request is {other} for this organisation; it takes no further answer"
            ))),
        }
    }

    /// Answers a request with items, all or nothing: one item the decision point refuses refuses the whole
    /// response (recorded), and nothing of it is stored.
    ///
    /// # Errors
    /// Unknown request or not an addressee (404), answered, declined or past due (409), bad items (413/422), a
    /// closed (409) or purged (410) case, a refusal (403/409), or the log or database failed.
    pub async fn respond(&self, actor: &Actor, id: &str, response: &NewResponse) -> Result<(), ExchangeError> {
        let RequestRows {
            request, case, meeting, ..
        } = self.open_request_for(actor, id).await?;
        let texts = self.check_items(&response.items, Some(&request.categories))?;
        Self::open_case(&case)?;
        let recorded = self.recorded(&case, &meeting).await?;
        let facts = self.flow(&recorded, actor.oin.as_str(), &request.requester_oin, Setting::Request);
        for (i, item) in response.items.iter().enumerate() {
            let decision = facts.decide(self.covenant, &request.purpose, &item.category);
            if !decision.allowed() {
                let entry = self.refusal(
                    actor,
                    &case,
                    &meeting,
                    &request.purpose,
                    actor.oin.as_str(),
                    Some(&request.requester_oin),
                    &item.category,
                    &decision,
                );
                let what = format!("items[{i}] (`{}`)", item.category);
                return Err(self.refuse(entry, what, &decision).await);
            }
        }
        let rows = self.seal(
            actor,
            &case,
            &meeting,
            Some(id),
            &request.purpose,
            &response.items,
            texts,
        )?;
        let detail = serde_json::json!({
            "request": id, "items": rows.len(),
            "categories": rows.iter().map(|r| r.category.as_str()).collect::<Vec<_>>(),
        });
        let entry = actor.case_entry("request.respond", &case.id, None, detail);
        self.settle(id, actor, ("answered", None), &rows, entry).await
    }

    /// Declines a request with a reason.
    ///
    /// # Errors
    /// As [`Exchange::respond`] for the request; a bad reason (422).
    pub async fn decline(&self, actor: &Actor, id: &str, reason: &str) -> Result<(), ExchangeError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > REASON_MAX {
            return invalid(format!("reason: must be 1–{REASON_MAX} characters"));
        }
        let request = self.open_request_for(actor, id).await?.request;
        let detail = serde_json::json!({"request": id, "reason": reason});
        let entry = actor.case_entry("request.decline", &request.case_id, None, detail);
        self.settle(id, actor, ("declined", Some(reason)), &[], entry).await
    }

    /// Records the addressee's answer or refusal with its record, unless another answer came first.
    async fn settle(
        &self,
        id: &str,
        actor: &Actor,
        outcome: (&str, Option<&str>),
        items: &[ItemRow],
        entry: Entry,
    ) -> Result<(), ExchangeError> {
        let now = self.now_text();
        let mut tx = self.store.begin().await?;
        let settled = tx.settle_request(id, actor.oin.as_str(), outcome, items, &now).await?;
        if !log::commit_if(tx, settled, entry, &now).await? {
            return Err(ExchangeError::Conflict("the request was answered meanwhile".into()));
        }
        Ok(())
    }

    /// The request and the responses its requester may receive now, released through the log.
    ///
    /// # Errors
    /// Unknown request or not the requester's (404), a purged case (410), or the log or database failed (nothing
    /// is released).
    pub async fn read_request(&self, actor: &Actor, id: &str) -> Result<Read<RequestRead>, ExchangeError> {
        if let Some(cached) = self.cache.get(id) {
            requested_by(&cached.rows, actor)?;
            // Only a commit decides on a cached entry; any other failure (a data key re-wrapped under a master key
            // since retired, say) may be the entry's age, so the read starts over from the database.
            match self.read_request_from(actor, &cached, Some(cached.generation)).await {
                Ok(Some(read)) => {
                    metrics::counter!("doelpoort_request_cache_total", "outcome" => "hit").increment(1);
                    return Ok(read);
                }
                Err(e @ ExchangeError::Log(_)) => return Err(e),
                Ok(None) | Err(_) => {
                    metrics::counter!("doelpoort_request_cache_total", "outcome" => "stale").increment(1);
                    self.cache.forget(id);
                }
            }
        }
        // The generation is read before the facts: a change in between makes the entry stale, never wrong.
        let generation = self.store.facts_generation().await?;
        let rows = self
            .store
            .request(id)
            .await?
            .ok_or(ExchangeError::NotFound("request"))?;
        requested_by(&rows, actor)?;
        let items = self.store.request_items(id).await?;
        if !releasable(&rows.case, &items)? {
            return Ok(Read::Nothing(request_read(rows, Items::default(), &self.now_text())));
        }
        let recorded = self.recorded(&rows.case, &rows.meeting).await?;
        let fresh = Arc::new(CachedRequest {
            generation,
            rows,
            items,
            recorded,
        });
        self.cache.put(id, fresh.clone());
        self.read_request_from(actor, &fresh, None)
            .await?
            .ok_or(ExchangeError::Log(LogError::Unavailable))
    }

    /// Releases a request read earlier (with items to judge) to its requester. With a `basis`, the release
    /// commits only if the facts are still those of that generation; `None` when they moved (nothing released).
    async fn read_request_from(
        &self,
        actor: &Actor,
        read: &CachedRequest,
        basis: Option<i64>,
    ) -> Result<Option<Read<RequestRead>>, ExchangeError> {
        let recorded = read.recorded.at(self.now);
        let Some(released) = self
            .release(actor, &recorded, Setting::Request, &read.items, basis)
            .await?
        else {
            return Ok(None);
        };
        let now = self.now_text();
        Ok(Some(match released {
            Read::Released(r) => Read::Released(r.map(|responses| request_read(read.rows.clone(), responses, &now))),
            Read::Nothing(responses) => Read::Nothing(request_read(read.rows.clone(), responses, &now)),
        }))
    }

    /// Shares items about a case on the agenda of an open meeting with its other attendees. An item that no
    /// other attendee may receive refuses the whole share (recorded); each attendee later reads only what it may.
    ///
    /// # Errors
    /// Unknown meeting (404), not an attendee (403), bad items or purpose (413/422), unknown case (422), a closed
    /// (409) or purged (410) case, no other attendee (409), a refusal (403/409), or the log or database failed.
    pub async fn share(&self, actor: &Actor, meeting_id: &str, share: &NewShare) -> Result<Vec<String>, ExchangeError> {
        let meeting = self.meeting(meeting_id).await?;
        let attendees = self.attending(actor, &meeting, &share.case_id, Side::Source).await?;
        let purpose = self.share_purpose(&meeting, share.purpose.as_deref())?;
        let texts = self.check_items(&share.items, None)?;
        let Some(case) = self.store.case(&share.case_id).await? else {
            return invalid("case_id: no such case");
        };
        Self::open_case(&case)?;
        let recorded = self.recorded(&case, &meeting).await?;
        let facts: Vec<Facts> = attendees
            .iter()
            .filter(|a| a.oin != actor.oin.as_str())
            .map(|a| self.flow(&recorded, actor.oin.as_str(), &a.oin, Setting::MeetingShare))
            .collect();
        if facts.is_empty() {
            return Err(ExchangeError::Conflict(
                "no other organisation attends the meeting".into(),
            ));
        }
        for (i, item) in share.items.iter().enumerate() {
            let decisions: Vec<Decision> = facts
                .iter()
                .map(|f| f.decide(self.covenant, &purpose, &item.category))
                .collect();
            if decisions.iter().any(Decision::allowed) {
                continue;
            }
            let decision = &decisions[0];
            let source = actor.oin.as_str();
            let entry = self.refusal(actor, &case, &meeting, &purpose, source, None, &item.category, decision);
            let what = format!("items[{i}] (`{}`)", item.category);
            return Err(self.refuse(entry, what, decision).await);
        }
        let rows = self.seal(actor, &case, &meeting, None, &purpose, &share.items, texts)?;
        let ids = rows.iter().map(|r| r.id.clone()).collect();
        let detail = serde_json::json!({
            "meeting": meeting.id, "items": rows.len(),
            "categories": rows.iter().map(|r| r.category.as_str()).collect::<Vec<_>>(),
        });
        let entry = Entry {
            meeting_id: Some(meeting.id.clone()),
            meeting_type: Some(meeting.meeting_type.clone()),
            ..actor.case_entry("meeting.share", &case.id, None, detail)
        };
        let mut tx = self.store.begin().await?;
        tx.insert_share(&rows).await?;
        log::commit_with(tx, entry, &self.now_text()).await?;
        Ok(ids)
    }

    /// The purpose a share serves: the one given, or the meeting type's only purpose.
    fn share_purpose(&self, meeting: &MeetingRow, given: Option<&str>) -> Result<String, ExchangeError> {
        let purposes = self
            .covenant
            .meeting_type(&meeting.meeting_type)
            .map(|t| t.purposes.as_slice())
            .unwrap_or_default();
        match (given, purposes) {
            (Some(p), _) if purposes.iter().any(|q| q.id == p) => Ok(p.to_owned()),
            (Some(p), _) => invalid(format!(
                "purpose: `{p}` is not a purpose of meeting type `{}`",
                meeting.meeting_type
            )),
            (None, [only]) => Ok(only.id.clone()),
            (None, _) => invalid(format!(
                "purpose: meeting type `{}` has several purposes; name one",
                meeting.meeting_type
            )),
        }
    }

    /// The items shared about a case in a meeting that the reader may receive now, released through the log.
    ///
    /// # Errors
    /// Unknown meeting (404), not an attendee (403), unknown case (422), a purged case (410), or the log or
    /// database failed (nothing is released).
    pub async fn read_shares(
        &self,
        actor: &Actor,
        meeting_id: &str,
        case_id: &str,
    ) -> Result<Read<Items>, ExchangeError> {
        let meeting = self.meeting(meeting_id).await?;
        self.attending(actor, &meeting, case_id, Side::Recipient).await?;
        let Some(case) = self.store.case(case_id).await? else {
            return invalid("case_id: no such case");
        };
        let items = self.store.shared_items(meeting_id, case_id).await?;
        let others: Vec<ItemRow> = items
            .into_iter()
            .filter(|i| i.source_oin != actor.oin.as_str())
            .collect();
        if !releasable(&case, &others)? {
            return Ok(Read::Nothing(Items::default()));
        }
        let recorded = self.recorded(&case, &meeting).await?;
        self.release(actor, &recorded, Setting::MeetingShare, &others, None)
            .await?
            .ok_or(ExchangeError::Log(LogError::Unavailable))
    }

    /// The one path by which content leaves: judges every item (of a [`releasable`] case) for the reader on what
    /// is `recorded`, opens those allowed, and commits one `disclosure` record per source organisation (and one
    /// `refusal` per source with withheld items) before handing back the released body. Every call commits at
    /// least one record. With a `basis` (the facts generation `recorded` was read at), the records commit only if
    /// that is still the generation; `None` when it moved, and nothing is released.
    async fn release(
        &self,
        actor: &Actor,
        recorded: &Recorded,
        setting: Setting,
        items: &[ItemRow],
        basis: Option<i64>,
    ) -> Result<Option<Read<Items>>, ExchangeError> {
        let (case, meeting) = (recorded.case(), recorded.meeting());
        let key = self.data_key(case)?;
        type Judged<'i> = Vec<(&'i ItemRow, Decision)>;
        let mut by_source: BTreeMap<String, (Facts, Judged, Judged)> = BTreeMap::new();
        for item in items {
            if !by_source.contains_key(&item.source_oin) {
                let facts = self.flow(recorded, &item.source_oin, actor.oin.as_str(), setting);
                by_source.insert(item.source_oin.clone(), (facts, Vec::new(), Vec::new()));
            }
            let Some((facts, allowed, denied)) = by_source.get_mut(&item.source_oin) else {
                continue;
            };
            let decision = facts.decide(self.covenant, &item.purpose, &item.category);
            if decision.allowed() {
                allowed.push((item, decision));
            } else {
                denied.push((item, decision));
            }
        }
        let mut released = Vec::new();
        let mut withheld = Vec::new();
        let mut entries = Vec::new();
        for (source, (_, allowed, denied)) in by_source {
            if let Some((first, decision)) = denied.first() {
                let mut entry = self.refusal(
                    actor,
                    case,
                    meeting,
                    &first.purpose,
                    &source,
                    Some(actor.oin.as_str()),
                    &first.category,
                    decision,
                );
                entry.categories = categories(denied.iter().map(|(i, _)| *i));
                entries.push(entry);
                withheld.extend(denied.iter().map(|(i, d)| Withheld {
                    source_oin: source.clone(),
                    category: i.category.clone(),
                    code: d.code().to_owned(),
                }));
            }
            if allowed.is_empty() {
                continue;
            }
            let mut views = Vec::new();
            for (item, _) in &allowed {
                let sealed = item.sealed.as_deref().ok_or(ExchangeError::Purged)?;
                let text = key.open(&case.id, &item.id, sealed)?;
                let content = serde_json::from_slice(&text).map_err(|_| SealError::Open)?;
                views.push(ItemView {
                    id: item.id.clone(),
                    category: item.category.clone(),
                    content,
                    source_oin: source.clone(),
                    created_at: item.created_at.clone(),
                    digest: item.digest.clone(),
                });
            }
            entries.push(self.disclosure(actor, case, meeting, &source, &allowed, &views));
            released.extend(views);
        }
        let body = Items {
            items: released,
            withheld,
        };
        // Only withheld items: the refusals are recorded, and nothing is released.
        if body.items.is_empty() {
            let committed = match basis {
                None => self.log.append_all(entries).await.map(|_| true)?,
                Some(generation) => matches!(
                    self.log.append_all_at(entries, generation).await?,
                    Appended::Committed(_)
                ),
            };
            return Ok(committed.then_some(Read::Nothing(body)));
        }
        Ok(match basis {
            None => Some(self.log.release(body, entries).await?),
            Some(generation) => self.log.release_at(body, entries, generation).await?,
        }
        .map(Read::Released))
    }

    fn disclosure(
        &self,
        actor: &Actor,
        case: &CaseRow,
        meeting: &MeetingRow,
        source: &str,
        allowed: &[(&ItemRow, Decision)],
        views: &[ItemView],
    ) -> Entry {
        let mut articles: Vec<String> = allowed.iter().flat_map(|(_, d)| d.articles.clone()).collect();
        articles.sort();
        articles.dedup();
        let digests: String = views.iter().map(|v| format!("{}\n", v.digest)).collect();
        let (first, decision) = &allowed[0];
        actor.stamp(Entry {
            source_oin: Some(source.to_owned()),
            recipient_oin: Some(actor.oin.to_string()),
            actor_oin: Some(actor.oin.to_string()),
            actor_sub: Some(actor.sub.clone()),
            case_id: Some(case.id.clone()),
            subject: Some(case.subject.clone()),
            meeting_id: Some(meeting.id.clone()),
            meeting_type: Some(meeting.meeting_type.clone()),
            purpose: Some(first.purpose.clone()),
            categories: categories(allowed.iter().map(|(i, _)| *i)),
            covenant_version: Some(decision.covenant_version.clone()),
            article: Some(articles.join("; ")),
            content_digest: Some(sha256_hex(digests.as_bytes())),
            reason: Some(format!("{} item(s)", views.len())),
            ..Entry::new(Kind::Disclosure)
        })
    }
}

/// The distinct categories of `items`, sorted.
fn categories<'a>(items: impl Iterator<Item = &'a ItemRow>) -> Vec<String> {
    let mut c: Vec<String> = items.map(|i| i.category.clone()).collect();
    c.sort();
    c.dedup();
    c
}

fn request_view(r: RequestRow, addressees: Vec<AddresseeView>) -> RequestView {
    RequestView {
        id: r.id,
        case_id: r.case_id,
        meeting_id: r.meeting_id,
        purpose: r.purpose,
        categories: r.categories,
        requester_oin: r.requester_oin,
        due: r.due,
        created_at: r.created_at,
        addressees,
    }
}
