//! Information requests: asking members of a case for categories before a meeting, answering (all or nothing)
//! or declining, the addressee's inbox, and the requester's read of what it may receive.
use std::sync::Arc;

use super::read_cache::CachedRequest;
use super::views::{addressee_view, request_read, request_view};
use super::{invalid, releasable, Exchange, ExchangeError, Items, NewRequest, NewResponse, Offer, Read};
use super::{Addressee, RequestRead, RequestView};
use crate::cases::facts::Setting;
use crate::covenant::decision::Denial;
use crate::log::actor::Actor;
use crate::log::chain::Entry;
use crate::log::{self, LogError};
use crate::store::About;
use crate::store::{ItemRow, RequestRow, RequestRows};
use crate::types::NotificationKind;
use crate::types::{AnswerStatus, Instant, Oin, RequestId};

/// Longest reason for declining, in characters.
const REASON_MAX: usize = 500;

/// Only the requester reads a request; to anyone else it does not exist (the requester never changes).
/// Who reads a request: its requester (with the responses it may receive), an addressee (the request it must
/// answer, without anyone's responses), or nobody else (404, as if there were no such request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    Requester,
    Addressee,
}

fn reader(rows: &RequestRows, actor: &Actor) -> Result<Reader, ExchangeError> {
    if rows.request.requester_oin == actor.oin {
        Ok(Reader::Requester)
    } else if rows.addressees.iter().any(|a| a.oin == actor.oin) {
        Ok(Reader::Addressee)
    } else {
        Err(ExchangeError::NotFound("request"))
    }
}

/// The categories asked of addressee `i`: each one of the request's, once, at least one.
fn own_categories(i: usize, asked: &[String], request: &[String]) -> Result<Vec<String>, ExchangeError> {
    let mut own: Vec<String> = Vec::new();
    for (j, c) in asked.iter().enumerate() {
        if !request.contains(c) {
            return invalid(format!(
                "addressees[{i}].categories[{j}]: `{c}` is not among the request's categories"
            ));
        }
        if !own.contains(c) {
            own.push(c.clone());
        }
    }
    if own.is_empty() {
        return invalid(format!("addressees[{i}].categories: name at least one"));
    }
    Ok(own)
}

/// What a request asks, checked: its distinct categories and addressees, and when it is due.
struct Asked {
    categories: Vec<String>,
    /// Each addressee with the categories asked of it (`None`: all of the request's).
    addressees: Vec<(Oin, Option<Vec<String>>)>,
    due: Instant,
}

impl Exchange<'_> {
    /// Creates an information request. Categories an addressee may not share with the requester (or the
    /// requester may not receive) refuse it whole; a missing consent does not (the answer will wait for it).
    ///
    /// # Errors
    /// Bad input (422), an unknown case or one the requester is not a member of (404), an unknown meeting (422),
    /// a closed case (409), a refusal by the decision point (403/409, recorded), or the log or database failed.
    pub async fn create_request(&self, actor: &Actor, new: &NewRequest) -> Result<RequestId, ExchangeError> {
        let asked = self.check_request(actor, new)?;
        let case = self.case(&new.case_id).await?;
        let members = self.store.case_members(&case.id).await?;
        if !members.iter().any(|m| m.oin == actor.oin) {
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
        let offer = Offer {
            case: &case,
            meeting: &meeting,
            request: None,
            purpose: &new.purpose,
        };
        for (addressee, own) in &asked.addressees {
            let facts = self.flow(&recorded, addressee, &actor.oin, Setting::Request);
            for category in own.as_ref().unwrap_or(&asked.categories) {
                let decision = facts.decide(self.covenant, &new.purpose, category);
                if decision.allowed() || decision.denial == Some(Denial::ConsentRequired) {
                    continue;
                }
                let entry = self.refusal(actor, &offer, (addressee, Some(&actor.oin)), category, &decision);
                let what = format!("category `{category}` from {addressee}");
                return Err(self.refuse(entry, what, &decision).await);
            }
        }
        let row = RequestRow {
            id: RequestId::generate(),
            case_id: case.id.clone(),
            meeting_id: meeting.id.clone(),
            purpose: new.purpose.clone(),
            categories: asked.categories,
            requester_oin: actor.oin.clone(),
            requester_sub: actor.sub.clone(),
            due: asked.due,
            created_at: self.instant(),
        };
        let detail = serde_json::json!({
            "request": row.id, "meeting": meeting.id, "purpose": row.purpose, "categories": row.categories,
            "addressees": asked.addressees.iter().map(|(oin, own)| match own {
                Some(c) => serde_json::json!({"oin": oin, "categories": c}),
                None => serde_json::json!(oin),
            }).collect::<Vec<_>>(),
            "due": row.due,
        });
        let entry = actor.case_entry("request.create", &case.id, Some(case.subject.clone()), &detail);
        let mut tx = self.store.begin().await?;
        tx.insert_request(&row, &asked.addressees).await?;
        let about = About {
            case: Some(&row.case_id),
            meeting: Some(&row.meeting_id),
            request: Some(&row.id),
            detail: None,
        };
        for (addressee, _) in &asked.addressees {
            tx.notify(addressee, NotificationKind::RequestReceived, about, row.created_at)
                .await?;
        }
        log::commit_with(tx, entry, row.created_at).await?;
        Ok(row.id)
    }

    fn check_request(&self, actor: &Actor, new: &NewRequest) -> Result<Asked, ExchangeError> {
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
        let mut addressees: Vec<(Oin, Option<Vec<String>>)> = Vec::new();
        for (i, a) in new.addressees.iter().enumerate() {
            let (text, own) = match a {
                Addressee::All(oin) => (oin, None),
                Addressee::Some(scoped) => (&scoped.oin, Some(&scoped.categories)),
            };
            let oin: Oin = text
                .parse()
                .map_err(|_| ExchangeError::Validation(format!("addressees[{i}]: an OIN is exactly 20 digits")))?;
            if oin == actor.oin {
                return invalid(format!("addressees[{i}]: a request is not addressed to its requester"));
            }
            if addressees.iter().any(|(o, _)| o == &oin) {
                continue;
            }
            let own = own.map(|c| own_categories(i, c, &categories)).transpose()?;
            addressees.push((oin, own));
        }
        let Ok(due) = new.due.parse::<Instant>() else {
            return invalid("due: not an RFC 3339 date-time");
        };
        if due <= self.instant() {
            return invalid("due: must lie in the future");
        }
        Ok(Asked {
            categories,
            addressees,
            due,
        })
    }

    /// The requests addressed to `oin`, newest first.
    ///
    /// # Errors
    /// The database refused.
    pub async fn inbox(&self, oin: &Oin) -> Result<Vec<RequestView>, ExchangeError> {
        let now = self.instant();
        Ok(self
            .store
            .inbox(oin)
            .await?
            .into_iter()
            .map(|(r, a)| {
                let addressee = addressee_view(a, &r, now);
                request_view(r, vec![addressee])
            })
            .collect())
    }

    /// The request and, for an addressee, its answer still open and not past due.
    async fn open_request_for(&self, actor: &Actor, id: &RequestId) -> Result<RequestRows, ExchangeError> {
        let rows = self
            .store
            .request(id)
            .await?
            .ok_or(ExchangeError::NotFound("request"))?;
        let Some(mine) = rows.addressees.iter().find(|a| a.oin == actor.oin) else {
            return Err(ExchangeError::NotFound("request"));
        };
        match super::views::status(mine, rows.request.due, self.instant()) {
            AnswerStatus::Open => Ok(rows),
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
    pub async fn respond(&self, actor: &Actor, id: &RequestId, response: &NewResponse) -> Result<(), ExchangeError> {
        let RequestRows {
            request,
            case,
            meeting,
            addressees,
        } = self.open_request_for(actor, id).await?;
        let own = addressees
            .into_iter()
            .find(|a| a.oin == actor.oin)
            .and_then(|a| a.categories)
            .unwrap_or_else(|| request.categories.clone());
        let texts = self.check_items(&response.items, Some(&own))?;
        Self::open_case(&case)?;
        let recorded = self.recorded(&case, &meeting).await?;
        let facts = self.flow(&recorded, &actor.oin, &request.requester_oin, Setting::Request);
        let offer = Offer {
            case: &case,
            meeting: &meeting,
            request: Some(id),
            purpose: &request.purpose,
        };
        for (i, item) in response.items.iter().enumerate() {
            let decision = facts.decide(self.covenant, &request.purpose, &item.category);
            if !decision.allowed() {
                let flow = (&actor.oin, Some(&request.requester_oin));
                let entry = self.refusal(actor, &offer, flow, &item.category, &decision);
                let what = format!("items[{i}] (`{}`)", item.category);
                return Err(self.refuse(entry, what, &decision).await);
            }
        }
        let rows = self.seal(actor, &offer, &response.items, texts)?;
        let detail = serde_json::json!({
            "request": id, "items": rows.len(),
            "categories": rows.iter().map(|r| r.category.as_str()).collect::<Vec<_>>(),
        });
        let entry = actor.case_entry("request.respond", &case.id, None, &detail);
        self.settle(id, actor, (AnswerStatus::Answered, None), &rows, entry)
            .await
    }

    /// Declines a request with a reason.
    ///
    /// # Errors
    /// As [`Exchange::respond`] for the request; a bad reason (422).
    pub async fn decline(&self, actor: &Actor, id: &RequestId, reason: &str) -> Result<(), ExchangeError> {
        if reason.trim().is_empty() || reason.chars().count() > REASON_MAX {
            return invalid(format!("reason: must be 1–{REASON_MAX} characters"));
        }
        let reason = reason.trim();
        let request = self.open_request_for(actor, id).await?.request;
        // The reason may name people: the chain keeps its digest; the addressee's answer keeps the text, which the
        // purge destroys with the case.
        let detail = serde_json::json!({"request": id, "reason_sha256": crate::cases::texts::digest(reason)});
        let entry = actor.case_entry("request.decline", &request.case_id, None, &detail);
        self.settle(id, actor, (AnswerStatus::Declined, Some(reason)), &[], entry)
            .await
    }

    /// Records the addressee's answer or refusal with its record, unless another answer came first.
    async fn settle(
        &self,
        id: &RequestId,
        actor: &Actor,
        outcome: (AnswerStatus, Option<&str>),
        items: &[ItemRow],
        entry: Entry,
    ) -> Result<(), ExchangeError> {
        let now = self.instant();
        let mut tx = self.store.begin().await?;
        let settled = tx.settle_request(id, &actor.oin, outcome, items, now).await?;
        if !log::commit_if(tx, settled, entry, now).await? {
            return Err(ExchangeError::Conflict("the request was answered meanwhile".into()));
        }
        Ok(())
    }

    /// The request and the responses its requester may receive now, released through the log; for an addressee
    /// the request alone (nothing released).
    ///
    /// # Errors
    /// Unknown request, or neither the requester's nor addressed to the reader (404), a purged case (410), or the
    /// log or database failed (nothing is released).
    pub async fn read_request(&self, actor: &Actor, id: &RequestId) -> Result<Read<RequestRead>, ExchangeError> {
        let cached = self.cache.get(id);
        if let Some(cached) = cached.filter(|c| reader(&c.rows, actor).ok() == Some(Reader::Requester)) {
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
        if reader(&rows, actor)? == Reader::Addressee {
            return Ok(Read::Nothing(request_read(rows, Items::default(), self.instant())));
        }
        let items = self.store.request_items(id).await?;
        if !releasable(&rows.case, &items)? {
            return Ok(Read::Nothing(request_read(rows, Items::default(), self.instant())));
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
        let now = self.instant();
        Ok(Some(match released {
            Read::Released(r) => Read::Released(r.map(|responses| request_read(read.rows.clone(), responses, now))),
            Read::Nothing(responses) => Read::Nothing(request_read(read.rows.clone(), responses, now)),
        }))
    }
}
