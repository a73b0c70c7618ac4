//! The case file: items of the covenant's case-file categories (the plan, progress) stay readable by the case's
//! members after the meeting they were shared in, until the case closes, each judged for the reader under the
//! meeting type and purpose it was shared for. The case holder adds progress outside any meeting: into the
//! case's monitoring track, judged as a share of the covenant's monitoring type.
use serde::Deserialize;
use utoipa::ToSchema;

use super::release::Judgement;
use super::{invalid, releasable, Exchange, ExchangeError, Items, NewItem, Offer, Read};
use crate::cases::facts::{Facts, Recorded, Setting};
use crate::log::actor::Actor;
use crate::log::{self, LogError};
use crate::store::{CaseRow, ItemRow};
use crate::types::{CaseId, ItemId};

/// Progress the case holder adds to the case file.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFileItems {
    /// At most `content.max_items` (100 by default); categories of the covenant's monitoring type.
    #[schema(min_items = 1, max_items = 100)]
    pub items: Vec<NewItem>,
}

impl Exchange<'_> {
    /// The case, if the actor's organisation is a member; otherwise as if there were none.
    async fn member_case(&self, actor: &Actor, case_id: &CaseId) -> Result<CaseRow, ExchangeError> {
        let case = self.case(case_id).await?;
        if !self
            .store
            .case_members(case_id)
            .await?
            .iter()
            .any(|m| m.oin == actor.oin)
        {
            return Err(ExchangeError::NotFound("case"));
        }
        Ok(case)
    }

    /// The case file items the reader may receive now, from other organisations, released through the log.
    ///
    /// # Errors
    /// Not a member or no such case (404), a closed (409) or purged (410) case, or the log or database failed
    /// (nothing is released).
    pub async fn read_file(&self, actor: &Actor, case_id: &CaseId) -> Result<Read<Items>, ExchangeError> {
        let case = self.member_case(actor, case_id).await?;
        Self::open_case(&case)?;
        let items: Vec<ItemRow> = self
            .store
            .case_items(case_id)
            .await?
            .into_iter()
            .filter(|i| i.source_oin != actor.oin && self.covenant.in_case_file(&i.category))
            .collect();
        if !releasable(&case, &items)? {
            return Ok(Read::Nothing(Items::default()));
        }
        let mut out = Judgement::default();
        let mut meetings: Vec<_> = items.iter().map(|i| i.meeting_id.clone()).collect();
        meetings.sort();
        meetings.dedup();
        for meeting_id in meetings {
            let meeting = self.meeting(&meeting_id).await?;
            let recorded = self.recorded(&case, &meeting).await?;
            let of_meeting: Vec<ItemRow> = items.iter().filter(|i| i.meeting_id == meeting_id).cloned().collect();
            self.judge_into(&mut out, actor, &recorded, Setting::CaseFile, &of_meeting)?;
        }
        self.commit(out.body, out.entries, None)
            .await?
            .ok_or(ExchangeError::Log(LogError::Unavailable))
    }

    /// The case holder (or the host) adds progress to the file of an open case with a plan: items judged as a
    /// share in the case's monitoring track for its members; an item none of them may receive refuses the whole
    /// offer (recorded).
    ///
    /// # Errors
    /// Not a member or no such case (404), a closed (409) or purged (410) case, no plan yet or the track has
    /// ended (409), bad items (413/422), a refusal (403, recorded), or the log or database failed.
    pub async fn add_to_file(
        &self,
        actor: &Actor,
        case_id: &CaseId,
        new: &NewFileItems,
    ) -> Result<Vec<ItemId>, ExchangeError> {
        let case = self.member_case(actor, case_id).await?;
        Self::open_case(&case)?;
        let Some(plan) = self.store.plan(case_id).await? else {
            return Err(ExchangeError::Conflict(
                "the case has no plan yet: progress is kept once a plan is shared in a focus meeting".into(),
            ));
        };
        let meeting = self.meeting(&plan.monitoring_meeting_id).await?;
        if !crate::cases::meetings::not_over(&meeting, self.now) {
            return Err(ExchangeError::Conflict("the case's monitoring track has ended".into()));
        }
        let purpose = self.share_purpose(&meeting, None)?;
        let texts = self.check_items(&new.items, None)?;
        if let Some((i, item)) = new
            .items
            .iter()
            .enumerate()
            .find(|(_, i)| !self.covenant.in_case_file(&i.category))
        {
            return invalid(format!(
                "items[{i}].category: `{}` is not kept in the case file",
                item.category
            ));
        }
        let recorded: Recorded = self.recorded(&case, &meeting).await?;
        let facts: Vec<Facts> = self
            .store
            .case_members(case_id)
            .await?
            .iter()
            .filter(|m| m.oin != actor.oin)
            .map(|m| self.flow(&recorded, &actor.oin, &m.oin, Setting::CaseFile))
            .collect();
        if facts.is_empty() {
            return Err(ExchangeError::Conflict(
                "no other organisation is a member of the case".into(),
            ));
        }
        let offer = Offer {
            case: &case,
            meeting: &meeting,
            request: None,
            purpose: &purpose,
        };
        self.judge_offer(actor, &offer, &facts, &new.items).await?;
        let rows = self.seal(actor, &offer, &new.items, texts)?;
        let ids = rows.iter().map(|r| r.id.clone()).collect();
        let entry = self.share_entry(actor, &offer, &rows, "case.file.add");
        let mut tx = self.store.begin().await?;
        tx.insert_share(&rows).await?;
        log::commit_with(tx, entry, self.instant()).await?;
        Ok(ids)
    }
}
