//! Cases (*casus*): reported by a professional with the subject's BSN, seen only by member organisations, whose
//! membership the host's procesregisseur grants and withdraws, and closed when done (which starts retention).
//! The BSN is kept only as its keyed pseudonym and sealed under the case's data key; every change is an `admin`
//! record in the disclosure log, committed with the change. Beside them: meetings, the recorded facts a decision is
//! taken on, hit/no-hit, and retention. May use `types`, `crypto`, `store`, `log`, `covenant` and `orgs`.
pub mod consent;
pub mod facts;
pub mod lookups;
pub mod meetings;
pub mod notifications;
pub mod retention;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::crypto::envelope::{DataKey, Keyring, SealError};
use crate::crypto::Pseudonymiser;
use crate::log;
pub use crate::log::actor::Actor;
use crate::orgs::registry::Snapshot;
use crate::store::{CaseRow, MemberRow, Store, StoreError};
use crate::types::{Bsn, CaseId, CaseStatus, Instant, Oin, OrgStatus};

/// Longest summary of a report, in characters.
pub const SUMMARY_MAX: usize = 4000;
/// Longest reason for a membership change or closure, in characters.
pub const REASON_MAX: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("subject.bsn: not a valid BSN (nine digits passing the elfproef)")]
    InvalidBsn,
    #[error("{0}")]
    Validation(String),
    #[error("no such case")]
    NotFound,
    #[error("the case is closed")]
    Closed,
    #[error("only the case holder asks for its case on an agenda")]
    NotHolder,
    #[error("{0}")]
    Conflict(&'static str),
    #[error("only the case holder, or an organisation whose sharing of `{0}` needs the client's consent, records or withdraws a consent for it")]
    NotConsentParty(String),
    #[error("the case content could not be sealed")]
    Seal(#[from] SealError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    pub subject: Subject,
    /// Not blank; at most 4000 characters.
    #[schema(min_length = 1, max_length = 4000, pattern = "\\S")]
    pub summary: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// Nine digits passing the elfproef.
    #[schema(pattern = "^[0-9]{9}$", example = "123456782")]
    pub bsn: String,
}

/// A case as members see it: its facts, never its content (content leaves only through the log).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseView {
    pub id: CaseId,
    pub status: CaseStatus,
    pub reported_at: Instant,
    pub reporter_oin: Oin,
    /// The case holder (casushouder).
    pub holder_oin: Oin,
    pub closed_at: Option<Instant>,
    /// What closing recorded the case achieved (the covenant's closure outcomes).
    pub closure_outcomes: Vec<String>,
    pub members: Vec<Member>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Member {
    pub oin: Oin,
    pub since: Instant,
    pub reason: String,
}

/// Text of at most `max` characters that is not blank, kept without its surrounding whitespace.
fn text(field: &str, value: &str, max: usize) -> Result<String, CaseError> {
    if value.trim().is_empty() || value.chars().count() > max {
        return Err(CaseError::Validation(format!("{field}: must be 1–{max} characters")));
    }
    Ok(value.trim().to_owned())
}

/// Reports a case: the reporter's organisation becomes its first member and its holder. Returns the case id.
///
/// # Errors
/// An invalid BSN or summary, or the database refused.
pub async fn report(
    store: &Store,
    pseudonyms: &Pseudonymiser,
    master: &Keyring,
    now: time::OffsetDateTime,
    actor: &Actor,
    new: &NewCase,
) -> Result<CaseId, CaseError> {
    let bsn: Bsn = new.subject.bsn.parse().map_err(|_| CaseError::InvalidBsn)?;
    let summary = text("summary", &new.summary, SUMMARY_MAX)?;
    let id = CaseId::generate();
    let key = DataKey::generate()?;
    let wrapped = master.wrap(id.as_str(), &key)?;
    let subject = pseudonyms.pseudonym(&bsn);
    let case = CaseRow {
        reported_at: now.into(),
        reporter_oin: actor.oin.clone(),
        holder_oin: actor.oin.clone(),
        subject: subject.clone(),
        status: CaseStatus::Open,
        closed_at: None,
        master_key_id: Some(wrapped.master_id),
        data_key: Some(wrapped.blob),
        sealed_subject: Some(key.seal(id.as_str(), "subject", bsn.expose().as_bytes())?),
        sealed_summary: Some(key.seal(id.as_str(), "summary", summary.as_bytes())?),
        id: id.clone(),
    };
    let entry = actor.case_entry(
        "case.report",
        &id,
        Some(subject),
        &serde_json::json!({"holder": case.holder_oin}),
    );
    let mut tx = store.begin().await?;
    tx.insert_case(&case, "reporter").await?;
    log::commit_with(tx, entry, case.reported_at).await?;
    Ok(id)
}

/// The case if `oin` is a member; `NotFound` otherwise, as if it did not exist.
///
/// # Errors
/// Not a member, no such case, or the database refused.
pub async fn view_as_member(store: &Store, id: &CaseId, oin: &Oin) -> Result<CaseView, CaseError> {
    let case = store.case(id).await?.ok_or(CaseError::NotFound)?;
    let members = store.case_members(id).await?;
    if !members.iter().any(|m| &m.oin == oin) {
        return Err(CaseError::NotFound);
    }
    let outcomes = store.closure_outcomes(id).await?;
    Ok(view(case, members, outcomes))
}

fn view(case: CaseRow, members: Vec<MemberRow>, closure_outcomes: Vec<String>) -> CaseView {
    CaseView {
        closure_outcomes,
        id: case.id,
        status: case.status,
        reported_at: case.reported_at,
        reporter_oin: case.reporter_oin,
        holder_oin: case.holder_oin,
        closed_at: case.closed_at,
        members: members
            .into_iter()
            .map(|m| Member {
                oin: m.oin,
                since: m.since,
                reason: m.reason,
            })
            .collect(),
    }
}

/// Cases `oin` is a member of.
///
/// # Errors
/// The database refused.
pub async fn list_for_member(store: &Store, oin: &Oin) -> Result<Vec<CaseView>, CaseError> {
    let mut out = Vec::new();
    for case in store.cases_of_member(oin).await? {
        let members = store.case_members(&case.id).await?;
        let outcomes = store.closure_outcomes(&case.id).await?;
        out.push(view(case, members, outcomes));
    }
    Ok(out)
}

async fn open_case(store: &Store, id: &CaseId) -> Result<CaseRow, CaseError> {
    let case = store.case(id).await?.ok_or(CaseError::NotFound)?;
    if case.status != CaseStatus::Open {
        return Err(CaseError::Closed);
    }
    Ok(case)
}

/// Grants an onboarded, active organisation access to an open case.
///
/// # Errors
/// Unknown case, closed case, unknown or inactive organisation, already a member, or the database refused.
#[allow(clippy::too_many_arguments)]
pub async fn grant(
    store: &Store,
    registry: &Snapshot,
    now: time::OffsetDateTime,
    actor: &Actor,
    id: &CaseId,
    oin: &str,
    reason: &str,
) -> Result<(), CaseError> {
    let reason = text("reason", reason, REASON_MAX)?;
    let oin: Oin = oin
        .parse()
        .map_err(|_| CaseError::Validation("oin: an OIN is exactly 20 digits".into()))?;
    let active = registry
        .organisation(&oin)
        .is_some_and(|o| o.status == OrgStatus::Active);
    if !active {
        return Err(CaseError::Validation(
            "oin: no active onboarded organisation has this OIN".into(),
        ));
    }
    open_case(store, id).await?;
    let entry = actor.case_entry(
        "case.member.grant",
        id,
        None,
        &serde_json::json!({"oin": oin, "reason": reason}),
    );
    let member = MemberRow {
        oin,
        since: now.into(),
        reason,
    };
    let mut tx = store.begin().await?;
    let added = tx.add_case_member(id, &member).await?;
    let about = crate::store::About {
        case: Some(id),
        ..Default::default()
    };
    tx.notify(
        &member.oin,
        crate::types::NotificationKind::CaseMemberAdded,
        about,
        member.since,
    )
    .await?;
    if !log::commit_if(tx, added, entry, member.since).await? {
        return Err(CaseError::Conflict("the organisation is already a member of the case"));
    }
    Ok(())
}

/// Withdraws an organisation's access; the case holder keeps it.
///
/// # Errors
/// Unknown case, not a member, the holder, or the database refused.
pub async fn withdraw(
    store: &Store,
    now: time::OffsetDateTime,
    actor: &Actor,
    id: &CaseId,
    oin: &Oin,
    reason: Option<&str>,
) -> Result<(), CaseError> {
    let reason = reason.map(|r| text("reason", r, REASON_MAX)).transpose()?;
    let case = store.case(id).await?.ok_or(CaseError::NotFound)?;
    if &case.holder_oin == oin {
        return Err(CaseError::Conflict("the case holder's access cannot be withdrawn"));
    }
    let entry = actor.case_entry(
        "case.member.withdraw",
        id,
        None,
        &serde_json::json!({"oin": oin, "reason": reason}),
    );
    let mut tx = store.begin().await?;
    let removed = tx.remove_case_member(id, oin).await?;
    if !log::commit_if(tx, removed, entry, now.into()).await? {
        return Err(CaseError::NotFound);
    }
    Ok(())
}

/// Appoints a member of an open case its holder (casushouder), or transfers the holding; the new holder is told,
/// and hit/no-hit names it as the contact from then on.
///
/// # Errors
/// Malformed OIN or reason, unknown or closed case, an organisation that is not a member, the holder already, or
/// the database refused.
pub async fn appoint_holder(
    store: &Store,
    now: time::OffsetDateTime,
    actor: &Actor,
    id: &CaseId,
    (oin, reason): (&str, &str),
) -> Result<(), CaseError> {
    let reason = text("reason", reason, REASON_MAX)?;
    let oin: Oin = oin
        .parse()
        .map_err(|_| CaseError::Validation("oin: an OIN is exactly 20 digits".into()))?;
    let case = open_case(store, id).await?;
    if case.holder_oin == oin {
        return Err(CaseError::Conflict("the organisation holds the case already"));
    }
    if !store.case_members(id).await?.iter().any(|m| m.oin == oin) {
        return Err(CaseError::Validation(
            "oin: the holder must be a member of the case".into(),
        ));
    }
    let detail = serde_json::json!({"oin": oin, "previous": case.holder_oin, "reason": reason});
    let entry = actor.case_entry("case.holder.appoint", id, None, &detail);
    let now = Instant::from(now);
    let mut tx = store.begin().await?;
    let changed = tx.set_holder(id, &oin).await?;
    let about = crate::store::About {
        case: Some(id),
        ..Default::default()
    };
    tx.notify(&oin, crate::types::NotificationKind::HolderAppointed, about, now)
        .await?;
    if !log::commit_if(tx, changed, entry, now).await? {
        return Err(CaseError::Closed);
    }
    Ok(())
}

/// The case holder asks the host to put its open case on an agenda again (monitoring found it off course); the
/// host is notified and the request is recorded.
///
/// # Errors
/// Not a member (404, as if there were no case), not the holder (403), a closed case (409), a bad reason, or the
/// database refused.
pub async fn request_agenda(
    store: &Store,
    (now, host): (time::OffsetDateTime, &Oin),
    actor: &Actor,
    id: &CaseId,
    reason: &str,
) -> Result<(), CaseError> {
    let reason = text("reason", reason, REASON_MAX)?;
    let case = store.case(id).await?.ok_or(CaseError::NotFound)?;
    if !store.case_members(id).await?.iter().any(|m| m.oin == actor.oin) {
        return Err(CaseError::NotFound);
    }
    if case.holder_oin != actor.oin {
        return Err(CaseError::NotHolder);
    }
    if case.status != CaseStatus::Open {
        return Err(CaseError::Closed);
    }
    let entry = actor.case_entry("case.agenda.request", id, None, &serde_json::json!({"reason": reason}));
    let now = Instant::from(now);
    let mut tx = store.begin().await?;
    let about = crate::store::About {
        case: Some(id),
        ..Default::default()
    };
    tx.notify(host, crate::types::NotificationKind::AgendaRequested, about, now)
        .await?;
    log::commit_with(tx, entry, now).await?;
    Ok(())
}

/// Closes an open case; its retention period starts now.
///
/// # Errors
/// Unknown or already closed case, or the database refused.
pub async fn close(
    store: &Store,
    (covenant, now): (&crate::covenant::Covenant, time::OffsetDateTime),
    actor: &Actor,
    id: &CaseId,
    (reason, outcomes): (&str, &[String]),
) -> Result<(), CaseError> {
    let reason = text("reason", reason, REASON_MAX)?;
    let outcomes = closure_outcomes(covenant, outcomes)?;
    open_case(store, id).await?;
    let detail = serde_json::json!({"reason": reason, "outcomes": outcomes});
    let entry = actor.case_entry("case.close", id, None, &detail);
    let now = Instant::from(now);
    let mut tx = store.begin().await?;
    let closed = tx.close_case(id, now, &outcomes).await?;
    if !log::commit_if(tx, closed, entry, now).await? {
        return Err(CaseError::Closed);
    }
    Ok(())
}

/// The outcomes a closing records: each one of the covenant's closure outcomes, once.
fn closure_outcomes(covenant: &crate::covenant::Covenant, outcomes: &[String]) -> Result<Vec<String>, CaseError> {
    let mut out: Vec<String> = Vec::new();
    for (i, o) in outcomes.iter().enumerate() {
        if !covenant.closure_outcomes.iter().any(|c| &c.id == o) {
            return Err(CaseError::Validation(format!(
                "outcomes[{i}]: `{o}` is not a closure outcome of the covenant"
            )));
        }
        if !out.contains(o) {
            out.push(o.clone());
        }
    }
    out.sort();
    Ok(out)
}
