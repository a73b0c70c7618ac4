//! The client's consent (*toestemming*): which categories may go to which organisations, until when, and its
//! withdrawal (GDPR art. 7(3)), effective for every read after it. Only the case holder, or an organisation whose
//! sharing of every category in the scope needs the consent, records or withdraws it: a recipient cannot unlock
//! what it receives.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{open_case, text, view_as_member, Actor, CaseError, REASON_MAX};
use crate::covenant::Covenant;
use crate::log;
use crate::orgs::registry::Snapshot;
use crate::store::{ConsentRow, Store};
use crate::types::{CaseId, ConsentId, Instant, Oin, OrgStatus};

/// Most entries in each list of a consent's scope.
pub const SCOPE_MAX: usize = 100;

/// The client's consent: which categories may go to which organisations, until when.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConsent {
    /// Covenant categories; a repeated one counts once.
    #[schema(min_items = 1, max_items = 100)]
    pub categories: Vec<String>,
    /// OINs of onboarded organisations the categories may go to; a repeated one counts once.
    #[schema(min_items = 1, max_items = 100, inline, value_type = Vec<crate::types::Oin>)]
    pub organisations: Vec<String>,
    /// RFC 3339; must lie in the future.
    #[schema(format = DateTime)]
    pub until: String,
}

/// A recorded consent as members of the case see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsentView {
    pub id: ConsentId,
    pub categories: Vec<String>,
    pub organisations: Vec<Oin>,
    pub until: Instant,
    pub recorded_by_oin: Oin,
    pub recorded_at: Instant,
    /// Set once the client withdrew the consent; from then on it lets nothing through.
    pub withdrawn_at: Option<Instant>,
}

impl From<ConsentRow> for ConsentView {
    fn from(row: ConsentRow) -> ConsentView {
        ConsentView {
            id: row.id,
            categories: row.categories,
            organisations: row.organisations,
            until: row.valid_until,
            recorded_by_oin: row.recorded_by_oin,
            recorded_at: row.recorded_at,
            withdrawn_at: row.withdrawn_at,
        }
    }
}

/// What a consent act is judged by: the store, the covenant in force, and the registry of organisations.
pub struct Context<'a> {
    pub store: &'a Store,
    pub covenant: &'a Covenant,
    pub registry: &'a Snapshot,
    /// Seal the free text of a withdrawal with its case.
    pub keys: &'a crate::crypto::envelope::Keyring,
}

/// `items` once each in their first order; more than [`SCOPE_MAX`] given is refused.
fn distinct(field: &str, items: &[String]) -> Result<Vec<String>, CaseError> {
    if items.is_empty() {
        return Err(CaseError::Validation(
            "categories, organisations: the scope of a consent must name at least one of each".into(),
        ));
    }
    if items.len() > SCOPE_MAX {
        return Err(CaseError::Validation(format!("{field}: at most {SCOPE_MAX} entries")));
    }
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !out.contains(item) {
            out.push(item.clone());
        }
    }
    Ok(out)
}

impl Context<'_> {
    /// Whether `actor`'s organisation may record or withdraw a consent over `categories` for a case held by
    /// `holder`: the one rule for both.
    fn may_consent(&self, actor: &Actor, holder: &Oin, categories: &[String]) -> Result<(), CaseError> {
        if &actor.oin == holder {
            return Ok(());
        }
        let roles = self
            .registry
            .organisation(&actor.oin)
            .map(|o| o.covenant_roles.clone())
            .unwrap_or_default();
        match categories
            .iter()
            .find(|c| !roles.iter().any(|r| self.covenant.needs_consent(c, r)))
        {
            None => Ok(()),
            Some(category) => Err(CaseError::NotConsentParty(category.clone())),
        }
    }

    /// The scope's organisations, each an onboarded organisation that has not been offboarded.
    fn recipients(&self, organisations: &[String]) -> Result<Vec<Oin>, CaseError> {
        distinct("organisations", organisations)?
            .iter()
            .map(|o| {
                let oin: Oin = o
                    .parse()
                    .map_err(|_| CaseError::Validation("organisations: an OIN is exactly 20 digits".into()))?;
                match self.registry.organisation(&oin) {
                    Some(org) if org.status != OrgStatus::Offboarded => Ok(oin),
                    _ => Err(CaseError::Validation(format!(
                        "organisations: {oin} is not an onboarded organisation"
                    ))),
                }
            })
            .collect()
    }

    /// Records consent for an open case the recorder's organisation is a member of. Returns the consent's id.
    ///
    /// # Errors
    /// Empty or oversized scope, an unknown category, an OIN that is malformed or not onboarded, an end in the
    /// past, a case that is not the recorder's (404) or is closed, a recorder who is neither the case holder nor
    /// an organisation whose sharing needs the consent, or the database refused.
    pub async fn record(
        &self,
        now: time::OffsetDateTime,
        actor: &Actor,
        id: &CaseId,
        consent: &NewConsent,
    ) -> Result<ConsentId, CaseError> {
        let categories = distinct("categories", &consent.categories)?;
        if let Some(unknown) = categories.iter().find(|c| self.covenant.category(c).is_none()) {
            return Err(CaseError::Validation(format!(
                "categories: unknown category `{unknown}`"
            )));
        }
        let organisations = self.recipients(&consent.organisations)?;
        let until: Instant = consent
            .until
            .parse()
            .map_err(|_| CaseError::Validation("until: not an RFC 3339 date-time".into()))?;
        let now = Instant::from(now);
        if until <= now {
            return Err(CaseError::Validation(
                "until: the end of a consent must lie in the future".into(),
            ));
        }
        let case = view_as_member(self.store, id, &actor.oin).await?;
        open_case(self.store, id).await?;
        self.may_consent(actor, &case.holder_oin, &categories)?;
        let row = ConsentRow {
            id: ConsentId::generate(),
            case_id: id.clone(),
            categories,
            organisations,
            valid_until: until,
            recorded_by_oin: actor.oin.clone(),
            recorded_by_sub: actor.sub.clone(),
            recorded_at: now,
            withdrawn_at: None,
        };
        let detail = serde_json::json!({
            "consent": row.id, "categories": row.categories, "organisations": row.organisations,
            "until": row.valid_until,
        });
        let mut tx = self.store.begin().await?;
        tx.insert_consent(&row).await?;
        log::commit_with(tx, actor.case_entry("case.consent", id, None, &detail), row.recorded_at).await?;
        Ok(row.id)
    }

    /// The client withdraws a consent: from `now` on it lets nothing through. Recorded, with the reason if given.
    ///
    /// # Errors
    /// Not a member of the case or no such consent (404), withdrawn already (409), a withdrawer who may not
    /// consent for its categories, or the database refused.
    pub async fn withdraw(
        &self,
        now: time::OffsetDateTime,
        actor: &Actor,
        (id, consent_id): (&CaseId, &ConsentId),
        reason: Option<&str>,
    ) -> Result<ConsentView, CaseError> {
        let reason = reason.map(|r| text("reason", r, REASON_MAX)).transpose()?;
        let case = view_as_member(self.store, id, &actor.oin).await?;
        let consent = self.store.consent(id, consent_id).await?.ok_or(CaseError::NotFound)?;
        if consent.recorded_by_oin != actor.oin {
            self.may_consent(actor, &case.holder_oin, &consent.categories)?;
        }
        let now = Instant::from(now);
        let row = self.store.case(id).await?.ok_or(CaseError::NotFound)?;
        let sealed = super::texts::seal_opt(self.keys, &row, "consent.withdraw.reason", reason.as_deref())?;
        let detail = serde_json::json!({"consent": consent_id, "reason": super::texts::reference(sealed.as_ref())});
        let entry = actor.case_entry("case.consent.withdraw", id, None, &detail);
        let mut tx = self.store.begin().await?;
        if let Some(t) = &sealed {
            t.store(&mut tx, &row, now).await?;
        }
        let withdrawn = tx.withdraw_consent(consent_id, (&actor.oin, &actor.sub), now).await?;
        if !log::commit_if(tx, withdrawn, entry, now).await? {
            return Err(CaseError::Conflict("the consent was withdrawn already"));
        }
        let row = self.store.consent(id, consent_id).await?.ok_or(CaseError::NotFound)?;
        Ok(row.into())
    }

    /// The consents recorded for a case, oldest first, withdrawn ones included.
    ///
    /// # Errors
    /// Not a member of the case (404), or the database refused.
    pub async fn list(&self, actor: &Actor, id: &CaseId) -> Result<Vec<ConsentView>, CaseError> {
        view_as_member(self.store, id, &actor.oin).await?;
        Ok(self
            .store
            .consents(id)
            .await?
            .into_iter()
            .map(ConsentView::from)
            .collect())
    }
}
