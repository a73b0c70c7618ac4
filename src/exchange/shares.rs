//! Shares inside a meeting in session: an attendee offers items about a case on the agenda to the other
//! attendees, and each reads only what it may receive.
use super::{invalid, releasable, Exchange, ExchangeError, Items, NewShare, Offer, Read};
use crate::cases::facts::{Facts, Setting};
use crate::covenant::decision::{Decision, Side};
use crate::log::actor::Actor;
use crate::log::chain::Entry;
use crate::log::{self, LogError};
use crate::store::{ItemRow, MeetingRow};
use crate::types::{CaseId, ItemId, MeetingId};

impl Exchange<'_> {
    /// Shares items about a case on the agenda of an open meeting with its other attendees. An item that no
    /// other attendee may receive refuses the whole share (recorded); each attendee later reads only what it may.
    ///
    /// # Errors
    /// Unknown meeting (404), not an attendee (403, recorded), bad items or purpose (413/422), unknown case (422),
    /// a closed (409) or purged (410) case, no other attendee (409), a refusal (403/409, recorded), or the log or
    /// database failed.
    pub async fn share(
        &self,
        actor: &Actor,
        meeting_id: &MeetingId,
        share: &NewShare,
    ) -> Result<Vec<ItemId>, ExchangeError> {
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
            .filter(|a| a.oin != actor.oin)
            .map(|a| self.flow(&recorded, &actor.oin, &a.oin, Setting::MeetingShare))
            .collect();
        if facts.is_empty() {
            return Err(ExchangeError::Conflict(
                "no other organisation attends the meeting".into(),
            ));
        }
        let offer = Offer {
            case: &case,
            meeting: &meeting,
            request: None,
            purpose: &purpose,
        };
        self.judge_offer(actor, &offer, &facts, &share.items).await?;
        let rows = self.seal(actor, &offer, &share.items, texts)?;
        let ids = rows.iter().map(|r| r.id.clone()).collect();
        let entry = self.share_entry(actor, &offer, &rows, "meeting.share");
        let mut tx = self.store.begin().await?;
        tx.insert_share(&rows).await?;
        if crate::cases::process::makes_plan(self.covenant, &meeting, rows.iter().map(|r| r.category.as_str())) {
            crate::cases::process::plan_made(
                &mut tx,
                self.covenant,
                (&case.id, &meeting),
                &meeting.created_by_oin,
                self.instant(),
            )
            .await?;
        }
        log::commit_with(tx, entry, self.instant()).await?;
        Ok(ids)
    }

    /// Refuses the whole offer (recorded) when one of its items may flow to none of the recipients (`facts`).
    pub(super) async fn judge_offer(
        &self,
        actor: &Actor,
        offer: &Offer<'_>,
        facts: &[Facts],
        items: &[super::NewItem],
    ) -> Result<(), ExchangeError> {
        for (i, item) in items.iter().enumerate() {
            let decisions: Vec<Decision> = facts
                .iter()
                .map(|f| f.decide(self.covenant, offer.purpose, &item.category))
                .collect();
            if decisions.iter().any(Decision::allowed) {
                continue;
            }
            let Some(decision) = decisions.first() else {
                continue;
            };
            let entry = self.refusal(actor, offer, (&actor.oin, None), &item.category, decision);
            let what = format!("items[{i}] (`{}`)", item.category);
            return Err(self.refuse(entry, what, decision).await);
        }
        Ok(())
    }

    /// The `admin` record of offered items (their count and categories; never content).
    pub(super) fn share_entry(&self, actor: &Actor, offer: &Offer<'_>, rows: &[ItemRow], action: &str) -> Entry {
        let detail = serde_json::json!({
            "meeting": offer.meeting.id, "items": rows.len(),
            "categories": rows.iter().map(|r| r.category.as_str()).collect::<Vec<_>>(),
        });
        Entry {
            meeting_id: Some(offer.meeting.id.to_string()),
            meeting_type: Some(offer.meeting.meeting_type.clone()),
            ..actor.case_entry(action, &offer.case.id, None, &detail)
        }
    }

    /// The purpose a share serves: the one given, or the meeting type's only purpose.
    pub(super) fn share_purpose(&self, meeting: &MeetingRow, given: Option<&str>) -> Result<String, ExchangeError> {
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
    /// Unknown meeting (404), not an attendee (403, recorded), unknown case (422), a purged case (410), or the log
    /// or database failed (nothing is released).
    pub async fn read_shares(
        &self,
        actor: &Actor,
        meeting_id: &MeetingId,
        case_id: &CaseId,
    ) -> Result<Read<Items>, ExchangeError> {
        let meeting = self.meeting(meeting_id).await?;
        self.attending(actor, &meeting, case_id, Side::Recipient).await?;
        let Some(case) = self.store.case(case_id).await? else {
            return invalid("case_id: no such case");
        };
        let items = self.store.shared_items(meeting_id, case_id).await?;
        let others: Vec<ItemRow> = items.into_iter().filter(|i| i.source_oin != actor.oin).collect();
        if !releasable(&case, &others)? {
            return Ok(Read::Nothing(Items::default()));
        }
        let recorded = self.recorded(&case, &meeting).await?;
        self.release(actor, &recorded, Setting::MeetingShare, &others, None)
            .await?
            .ok_or(ExchangeError::Log(LogError::Unavailable))
    }
}
