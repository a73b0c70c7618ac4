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
pub mod process;
pub mod retention;
pub mod subjects;
pub mod texts;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::crypto::envelope::{DataKey, Keyring, SealError};
use crate::crypto::Pseudonymiser;
use crate::log;
pub use crate::log::actor::Actor;
use crate::orgs::registry::Snapshot;
use crate::store::{CaseRow, MemberRow, ReportRow, Store, StoreError};
use crate::types::{
    AgeBand, CaseId, CaseStatus, Gender, Instant, NotificationKind, Oin, OrgStatus, ReportId, ReportKind,
};
pub use subjects::{NoBsn, Resolved, Subject};

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
    #[error("the meeting is closed or its window has passed")]
    MeetingClosed,
    #[error("the case is not on the meeting's agenda")]
    NotOnAgenda,
    #[error("the case's content has been purged at the end of its retention period")]
    Purged,
    #[error("the case content could not be sealed")]
    Seal(#[from] SealError),
    #[error(transparent)]
    Log(#[from] crate::log::LogError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A report (*melding*): `subjects` (or, in the older shape, one `subject`), what kind of subject, where they
/// live, the statistical profile and the summary.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    /// The older shape: one person with a BSN (or without). Give this or `subjects`.
    pub subject: Option<Subject>,
    /// 1–20 persons; exactly one for kind `persoon`.
    #[serde(default)]
    pub subjects: Vec<Subject>,
    #[serde(default = "persoon")]
    pub kind: ReportKind,
    /// The municipality of residence as its CBS code (`GM` and four digits).
    #[schema(pattern = "^GM[0-9]{4}$", example = "GM0268")]
    pub municipality: Option<String>,
    #[serde(default)]
    pub profile: Profile,
    /// Not blank; at most 4000 characters.
    #[schema(min_length = 1, max_length = 4000, pattern = "\\S")]
    pub summary: String,
}

fn persoon() -> ReportKind {
    ReportKind::Persoon
}

/// The statistical profile of a report's subject: gender and age band, never a birth date.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    #[serde(default = "gender_unknown")]
    pub gender: Gender,
    #[serde(default = "age_unknown")]
    pub age_band: AgeBand,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            gender: Gender::Onbekend,
            age_band: AgeBand::Onbekend,
        }
    }
}

fn gender_unknown() -> Gender {
    Gender::Onbekend
}

fn age_unknown() -> AgeBand {
    AgeBand::Onbekend
}

/// Most subjects of one report.
const SUBJECTS_MAX: usize = 20;

/// A report checked: its subjects' pseudonyms (each once, in the order given) and what is sealed of it.
struct Checked {
    pseudonyms: Vec<String>,
    subjects: Vec<u8>,
    summary: String,
    municipality: Option<String>,
    kind: ReportKind,
    profile: Profile,
}

impl Checked {
    /// The report as stored in `case`: summary and subjects sealed under the case's key, bound to the report.
    fn row(
        &self,
        key: &DataKey,
        case: &CaseRow,
        (actor, now): (&Actor, Instant),
        joined: bool,
    ) -> Result<ReportRow, CaseError> {
        let id = ReportId::generate();
        let seal = |part: &str, bytes: &[u8]| key.seal(case.id.as_str(), &format!("{id}:{part}"), bytes);
        Ok(ReportRow {
            sealed_summary: Some(seal("summary", self.summary.as_bytes())?),
            sealed_subjects: Some(seal("subjects", &self.subjects)?),
            summary_digest: texts::digest(&self.summary),
            case_id: case.id.clone(),
            reported_at: now,
            reporter_oin: actor.oin.clone(),
            reporter_sub: actor.sub.clone(),
            kind: self.kind,
            municipality: self.municipality.clone(),
            gender: self.profile.gender,
            age_band: self.profile.age_band,
            joined,
            weighed_at: None,
            id,
        })
    }
}

impl NewCase {
    /// Every field checked, the subjects pseudonymised.
    fn check(&self, pseudonyms: &Pseudonymiser) -> Result<Checked, CaseError> {
        let subjects = self.resolve(pseudonyms)?;
        let sealed: Vec<&serde_json::Value> = subjects.iter().map(|s| &s.sealed).collect();
        Ok(Checked {
            subjects: serde_json::to_vec(&sealed)
                .map_err(|_| CaseError::Validation("subjects: not representable".into()))?,
            pseudonyms: subjects.into_iter().map(|s| s.pseudonym).collect(),
            summary: text("summary", &self.summary, SUMMARY_MAX)?,
            municipality: self.municipality()?,
            kind: self.kind,
            profile: self.profile,
        })
    }

    /// The subjects, checked against the kind and pseudonymised (each pseudonym once, in order given).
    fn resolve(&self, pseudonyms: &Pseudonymiser) -> Result<Vec<Resolved>, CaseError> {
        let given: Vec<&Subject> = match (&self.subject, self.subjects.as_slice()) {
            (Some(one), []) => vec![one],
            (None, many) if !many.is_empty() => many.iter().collect(),
            _ => {
                return Err(CaseError::Validation(
                    "subjects: give `subjects` (1–20 persons) or one `subject`".into(),
                ))
            }
        };
        if given.len() > SUBJECTS_MAX || (self.kind == ReportKind::Persoon && given.len() != 1) {
            return Err(CaseError::Validation(
                "subjects: a `persoon` report has one subject; a `gezin` or `groep` 1–20".into(),
            ));
        }
        let mut out: Vec<Resolved> = Vec::new();
        for (i, subject) in given.iter().enumerate() {
            let field = if self.subject.is_some() {
                "subject".to_owned()
            } else {
                format!("subjects[{i}]")
            };
            let r = subject.resolve(pseudonyms, &field)?;
            if !out.iter().any(|o| o.pseudonym == r.pseudonym) {
                out.push(r);
            }
        }
        Ok(out)
    }

    fn municipality(&self) -> Result<Option<String>, CaseError> {
        match &self.municipality {
            Some(m) if crate::types::is_municipality(m) => Ok(Some(m.clone())),
            Some(_) => Err(CaseError::Validation(
                "municipality: a CBS municipality code, `GM` and four digits (e.g. GM0268)".into(),
            )),
            None => Ok(None),
        }
    }
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
    /// The ZVH process around the case (in a single case's read only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<CaseProcess>,
}

/// Where the case stands in the ZVH's process: its reports (never their content), weighings, plan and checks.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseProcess {
    pub reports: Vec<ReportView>,
    pub weighings: Vec<process::WeighingView>,
    pub plan: Option<PlanView>,
    pub checks: Vec<process::CheckView>,
}

/// A report of a case, as members see it: who reported when, about whom in figures, never the summary.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportView {
    pub id: ReportId,
    pub reported_at: Instant,
    pub reporter_oin: Oin,
    pub kind: ReportKind,
    pub municipality: Option<String>,
    pub profile: Profile,
    pub weighed_at: Option<Instant>,
}

/// The plan made for a case: in which meeting, and the case's monitoring track.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanView {
    pub plan_meeting_id: crate::types::MeetingId,
    pub monitoring_meeting_id: crate::types::MeetingId,
    pub planned_at: Instant,
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

/// Reports a case (*melding*). A report about a subject with an open case joins that case (its holder is told);
/// otherwise it makes a new case, whose first member and holder is the reporter's organisation. Either way the
/// reporter becomes a member, the host is told, and the answer is the case id.
///
/// # Errors
/// An invalid subject, kind, municipality or summary, or the database refused.
pub async fn report(
    store: &Store,
    (pseudonyms, master): (&Pseudonymiser, &Keyring),
    (now, host): (time::OffsetDateTime, &Oin),
    actor: &Actor,
    new: &NewCase,
) -> Result<CaseId, CaseError> {
    let checked = new.check(pseudonyms)?;
    let now = Instant::from(now);
    let pseudonyms = &checked.pseudonyms;
    // A lost race for a subject (another report made its open case at the same moment) is retried as a join.
    for _ in 0..3 {
        let mut tx = store.begin().await?;
        let (case, joined) = match tx.open_case_of(pseudonyms).await? {
            Some(id) => (store.case(&id).await?.ok_or(CaseError::NotFound)?, true),
            None => (new_case(master, now, actor, pseudonyms)?, false),
        };
        let report = checked.row(&texts::data_key(master, &case)?, &case, (actor, now), joined)?;
        if joined {
            let member = MemberRow {
                oin: actor.oin.clone(),
                since: now,
                reason: "reporter".into(),
            };
            tx.add_case_member(&case.id, &member).await?;
        } else {
            tx.insert_case(&case, "reporter").await?;
        }
        if !tx.add_case_subjects(&case.id, pseudonyms, now).await? {
            continue;
        }
        tx.insert_report(&report).await?;
        let about = crate::store::About {
            case: Some(&case.id),
            ..Default::default()
        };
        tx.notify(host, NotificationKind::ReportReceived, about, now).await?;
        if joined {
            tx.notify(&case.holder_oin, NotificationKind::ReportJoined, about, now)
                .await?;
        }
        let detail = serde_json::json!({
            "report": report.id, "kind": report.kind, "subjects": pseudonyms.len(), "joined": joined,
            "holder": case.holder_oin, "summary_sha256": report.summary_digest,
        });
        let entry = actor.case_entry("case.report", &case.id, pseudonyms.first().cloned(), &detail);
        log::commit_with(tx, entry, now).await?;
        return Ok(case.id);
    }
    Err(CaseError::Conflict(
        "the report's subjects changed while it was made; report again",
    ))
}

/// A new open case about `subjects`, held by the reporter, with a fresh data key.
fn new_case(master: &Keyring, now: Instant, actor: &Actor, subjects: &[String]) -> Result<CaseRow, CaseError> {
    let id = CaseId::generate();
    let wrapped = master.wrap(id.as_str(), &DataKey::generate()?)?;
    Ok(CaseRow {
        reported_at: now,
        reporter_oin: actor.oin.clone(),
        holder_oin: actor.oin.clone(),
        subject: subjects.first().cloned().unwrap_or_default(),
        status: CaseStatus::Open,
        closed_at: None,
        master_key_id: Some(wrapped.master_id),
        data_key: Some(wrapped.blob),
        sealed_subject: None,
        sealed_summary: None,
        id,
    })
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

/// The case with its process, for a member or the host (which runs the process for every case); `NotFound`
/// for anyone else, as if it did not exist.
///
/// # Errors
/// Neither member nor host, no such case, or the database refused.
pub async fn view_for(
    store: &Store,
    now: time::OffsetDateTime,
    id: &CaseId,
    (oin, host): (&Oin, &Oin),
) -> Result<CaseView, CaseError> {
    let case = store.case(id).await?.ok_or(CaseError::NotFound)?;
    let members = store.case_members(id).await?;
    if oin != host && !members.iter().any(|m| &m.oin == oin) {
        return Err(CaseError::NotFound);
    }
    let outcomes = store.closure_outcomes(id).await?;
    let reports = store
        .reports_of_case(id)
        .await?
        .into_iter()
        .map(|r| ReportView {
            id: r.id,
            reported_at: r.reported_at,
            reporter_oin: r.reporter_oin,
            kind: r.kind,
            municipality: r.municipality,
            profile: Profile {
                gender: r.gender,
                age_band: r.age_band,
            },
            weighed_at: r.weighed_at,
        })
        .collect();
    let process = CaseProcess {
        reports,
        weighings: store.weighings(id).await?.into_iter().map(Into::into).collect(),
        plan: store.plan(id).await?.map(|p| PlanView {
            plan_meeting_id: p.plan_meeting_id,
            monitoring_meeting_id: p.monitoring_meeting_id,
            planned_at: p.planned_at,
        }),
        checks: process::checks(store, now, Some(id), None).await?,
    };
    Ok(CaseView {
        process: Some(process),
        ..view(case, members, outcomes)
    })
}

/// Most cases [`list_for`] returns to the host.
pub const HOST_LIST_MAX: i64 = 500;

/// Cases `oin` is a member of; for the host, every case (newest first, at most [`HOST_LIST_MAX`]).
///
/// # Errors
/// The database refused.
pub async fn list_for(store: &Store, (oin, host): (&Oin, &Oin)) -> Result<Vec<CaseView>, CaseError> {
    let rows = if oin == host {
        store.all_cases(HOST_LIST_MAX).await?
    } else {
        store.cases_of_member(oin).await?
    };
    let mut out = Vec::new();
    for case in rows {
        let members = store.case_members(&case.id).await?;
        let outcomes = store.closure_outcomes(&case.id).await?;
        out.push(view(case, members, outcomes));
    }
    Ok(out)
}

fn view(case: CaseRow, members: Vec<MemberRow>, closure_outcomes: Vec<String>) -> CaseView {
    CaseView {
        process: None,
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
    (registry, keys): (&Snapshot, &Keyring),
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
    let case = open_case(store, id).await?;
    let sealed = texts::seal(keys, &case, "member.reason", &reason)?;
    let entry = actor.case_entry(
        "case.member.grant",
        id,
        None,
        &serde_json::json!({"oin": oin, "reason": sealed.reference()}),
    );
    let member = MemberRow {
        oin,
        since: now.into(),
        reason,
    };
    let mut tx = store.begin().await?;
    sealed.store(&mut tx, &case, member.since).await?;
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
    (keys, now): (&Keyring, time::OffsetDateTime),
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
    let sealed = texts::seal_opt(keys, &case, "member.withdraw.reason", reason.as_deref())?;
    let entry = actor.case_entry(
        "case.member.withdraw",
        id,
        None,
        &serde_json::json!({"oin": oin, "reason": texts::reference(sealed.as_ref())}),
    );
    let mut tx = store.begin().await?;
    if let Some(t) = &sealed {
        t.store(&mut tx, &case, now.into()).await?;
    }
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
    (keys, now): (&Keyring, time::OffsetDateTime),
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
    let sealed = texts::seal(keys, &case, "holder.reason", &reason)?;
    let detail = serde_json::json!({"oin": oin, "previous": case.holder_oin, "reason": sealed.reference()});
    let entry = actor.case_entry("case.holder.appoint", id, None, &detail);
    let now = Instant::from(now);
    let mut tx = store.begin().await?;
    sealed.store(&mut tx, &case, now).await?;
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
    (keys, now, host): (&Keyring, time::OffsetDateTime, &Oin),
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
    let sealed = texts::seal(keys, &case, "agenda.reason", &reason)?;
    let detail = serde_json::json!({"reason": sealed.reference()});
    let entry = actor.case_entry("case.agenda.request", id, None, &detail);
    let now = Instant::from(now);
    let mut tx = store.begin().await?;
    sealed.store(&mut tx, &case, now).await?;
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
    (covenant, keys, now): (&crate::covenant::Covenant, &Keyring, time::OffsetDateTime),
    actor: &Actor,
    id: &CaseId,
    (reason, outcomes): (&str, &[String]),
) -> Result<(), CaseError> {
    let reason = text("reason", reason, REASON_MAX)?;
    let outcomes = closure_outcomes(covenant, outcomes)?;
    let case = open_case(store, id).await?;
    let sealed = texts::seal(keys, &case, "close.reason", &reason)?;
    let detail = serde_json::json!({"reason": sealed.reference(), "outcomes": outcomes});
    let entry = actor.case_entry("case.close", id, None, &detail);
    let now = Instant::from(now);
    let mut tx = store.begin().await?;
    sealed.store(&mut tx, &case, now).await?;
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
