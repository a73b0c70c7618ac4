//! The ZVH's own process around a case: the intake queue of reports not weighed yet (each summary read is a
//! recorded disclosure to the host under the covenant's intake rule), the weighing at the briefing (outcomes and
//! reasons from the covenant; the reporters are told the outcome, never content), the plan a focus meeting makes
//! (it schedules the monitoring checks and opens the case's monitoring track), and recording the checks.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{text, texts, Actor, CaseError, Profile, REASON_MAX};
use crate::covenant::Covenant;
use crate::crypto::envelope::Keyring;
use crate::log::chain::{Entry, Kind};
use crate::log::{self, Log, Read};
use crate::orgs::registry::Snapshot;
use crate::store::{
    About, CaseRow, CheckRow, MeetingRow, PlanRow, RecordedCheck, ReportRow, Store, StoreError, Tx, WeighingRow,
};
use crate::types::{
    CaseId, CaseStatus, CheckState, CheckStatus, Instant, MeetingId, MeetingStatus, NotificationKind, Oin, OrgStatus,
    ReportId, ReportKind, WeighingId,
};

/// Most reports one intake read returns (oldest first).
pub const INTAKE_MAX: i64 = 100;
pub use crate::covenant::{INTAKE_CATEGORY, INTAKE_PURPOSE};

/// A report in the intake queue, as the host's weighing desk sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IntakeReport {
    pub id: ReportId,
    pub case_id: CaseId,
    pub reported_at: Instant,
    pub reporter_oin: Oin,
    pub kind: ReportKind,
    pub municipality: Option<String>,
    pub profile: Profile,
    /// Its subjects had an open case when it was made (it joined that case).
    pub open_case: bool,
    /// The summary, when the intake rule covers the reporter; otherwise `null` and `withheld` says why.
    pub summary: Option<String>,
    pub withheld: Option<String>,
}

/// The intake queue: every report of an open case not weighed yet, oldest first (at most [`INTAKE_MAX`]), with its
/// summary where the covenant's intake rule allows it. Every summary shown is a `disclosure` record (source the
/// reporter, recipient the host), every one withheld a `refusal`, committed before the queue is handed back; with
/// no summary to show, [`Read::Nothing`].
///
/// # Errors
/// A case's data key cannot be had, or the log or database failed (nothing is shown).
pub async fn intake(
    store: &Store,
    log: &Log,
    (registry, covenant, keys): (&Snapshot, &Covenant, &Keyring),
    actor: &Actor,
) -> Result<Read<Vec<IntakeReport>>, CaseError> {
    let reports = store.unweighed_reports(INTAKE_MAX).await?;
    let mut body = Vec::new();
    let mut entries = Vec::new();
    for report in reports {
        let case = store.case(&report.case_id).await?.ok_or(CaseError::NotFound)?;
        let reporter = registry
            .organisation(&report.reporter_oin)
            .filter(|o| o.status == OrgStatus::Active);
        let roles = reporter.map(|o| o.covenant_roles.as_slice()).unwrap_or_default();
        let signed = reporter.is_some_and(|o| o.signed_versions.contains(&covenant.version));
        let decision = covenant.decide_intake(roles, signed);
        let summary = if decision.allowed() {
            let summary = open_summary(keys, &case, &report)?;
            entries.push(Entry {
                content_digest: Some(texts::digest(&summary)),
                reason: Some(decision.reason.clone()),
                ..intake_entry(Kind::Disclosure, actor, &case, &report, covenant)
            });
            Some(summary)
        } else {
            entries.push(Entry {
                reason: Some(format!("{}: {}", decision.code(), decision.reason)),
                ..intake_entry(Kind::Refusal, actor, &case, &report, covenant)
            });
            None
        };
        body.push(IntakeReport {
            withheld: decision.denial.as_ref().map(|d| d.code().to_owned()),
            id: report.id,
            case_id: report.case_id,
            reported_at: report.reported_at,
            reporter_oin: report.reporter_oin,
            kind: report.kind,
            municipality: report.municipality,
            profile: Profile {
                gender: report.gender,
                age_band: report.age_band,
            },
            open_case: report.joined,
            summary,
        });
    }
    if body.iter().all(|r| r.summary.is_none()) {
        if !entries.is_empty() {
            log.append_all(entries).await?;
        }
        return Ok(Read::Nothing(body));
    }
    Ok(Read::Released(log.release(body, entries).await?))
}

/// The record of one intake read of a report's summary: its disclosure, or the refusal to show it.
fn intake_entry(kind: Kind, actor: &Actor, case: &CaseRow, report: &ReportRow, covenant: &Covenant) -> Entry {
    actor.stamp(Entry {
        source_oin: Some(report.reporter_oin.to_string()),
        recipient_oin: Some(actor.oin.to_string()),
        actor_oin: Some(actor.oin.to_string()),
        actor_sub: Some(actor.sub.clone()),
        case_id: Some(case.id.to_string()),
        subject: Some(case.subject.clone()),
        purpose: Some(INTAKE_PURPOSE.into()),
        categories: vec![INTAKE_CATEGORY.into()],
        covenant_version: Some(covenant.version.clone()),
        article: Some(covenant.intake.article.clone()),
        ..Entry::new(kind)
    })
}

/// A report's summary, opened (reports older than the reports table were sealed with their case).
fn open_summary(keys: &Keyring, case: &CaseRow, report: &ReportRow) -> Result<String, CaseError> {
    let key = texts::data_key(keys, case)?;
    let (sealed, aad) = match &report.sealed_summary {
        Some(s) if !report.summary_digest.is_empty() => (s, format!("{}:summary", report.id)),
        Some(s) => (s, "summary".to_owned()),
        None => return Err(CaseError::Purged),
    };
    let plain = key.open(case.id.as_str(), &aad, sealed)?;
    String::from_utf8(plain).map_err(|_| CaseError::Seal(crate::crypto::envelope::SealError::Open))
}

/// A weighing decision: in which briefing, the outcome, and (for "not taken up") the reason.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWeighing {
    pub meeting_id: MeetingId,
    /// A weighing outcome of the covenant (`GET /v1/covenant`).
    pub outcome: String,
    /// Required for the covenant's declined outcome (`niet_oppakken`), one of its reasons; not allowed otherwise.
    pub reason: Option<String>,
}

/// A weighing as members see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WeighingView {
    pub id: WeighingId,
    pub meeting_id: MeetingId,
    pub outcome: String,
    pub reason: Option<String>,
    pub decided_at: Instant,
    pub decided_by_oin: Oin,
}

impl From<WeighingRow> for WeighingView {
    fn from(w: WeighingRow) -> Self {
        WeighingView {
            id: w.id,
            meeting_id: w.meeting_id,
            outcome: w.outcome,
            reason: w.reason,
            decided_at: w.decided_at,
            decided_by_oin: w.decided_by_oin,
        }
    }
}

/// Records the weighing of an open case in a briefing that has it on its agenda; the reports not weighed yet
/// leave the intake, and each of their reporters is told the outcome.
///
/// # Errors
/// Unknown or closed case (404/409), a meeting that is unknown or not a briefing (422), over (409), without the
/// case on its agenda (409), an outcome or reason not in the covenant (422), or the database refused.
pub async fn weigh(
    store: &Store,
    (covenant, now): (&Covenant, time::OffsetDateTime),
    actor: &Actor,
    case_id: &CaseId,
    new: &NewWeighing,
) -> Result<WeighingId, CaseError> {
    let case = store.case(case_id).await?.ok_or(CaseError::NotFound)?;
    if case.status != CaseStatus::Open {
        return Err(CaseError::Closed);
    }
    let reason = weighing_choice(covenant, &new.outcome, new.reason.as_deref())?;
    let meeting = store
        .meeting(&new.meeting_id)
        .await?
        .ok_or_else(|| CaseError::Validation("meeting_id: no such meeting".into()))?;
    if meeting.meeting_type != covenant.weighing.meeting_type {
        return Err(CaseError::Validation(format!(
            "meeting_id: a case is weighed in a `{}` meeting, not a `{}` one",
            covenant.weighing.meeting_type, meeting.meeting_type
        )));
    }
    if !crate::cases::meetings::not_over(&meeting, now) {
        return Err(CaseError::MeetingClosed);
    }
    if !store.meeting_agenda(&meeting.id).await?.contains(case_id) {
        return Err(CaseError::NotOnAgenda);
    }
    let row = WeighingRow {
        id: WeighingId::generate(),
        case_id: case_id.clone(),
        meeting_id: meeting.id.clone(),
        outcome: new.outcome.clone(),
        reason,
        decided_at: now.into(),
        decided_by_oin: actor.oin.clone(),
        decided_by_sub: actor.sub.clone(),
    };
    let detail = serde_json::json!({"weighing": row.id, "outcome": row.outcome, "reason": row.reason});
    let entry = Entry {
        meeting_id: Some(meeting.id.to_string()),
        meeting_type: Some(meeting.meeting_type.clone()),
        ..actor.case_entry("case.weigh", case_id, None, &detail)
    };
    let mut tx = store.begin().await?;
    let reporters = tx.insert_weighing(&row).await?;
    let about = About {
        case: Some(case_id),
        meeting: Some(&meeting.id),
        detail: Some(&row.outcome),
        ..Default::default()
    };
    for reporter in &reporters {
        tx.notify(reporter, NotificationKind::WeighingOutcome, about, row.decided_at)
            .await?;
    }
    log::commit_with(tx, entry, row.decided_at).await?;
    Ok(row.id)
}

/// The reason a weighing records: required (one of the covenant's) for the declined outcome, absent otherwise.
fn weighing_choice(covenant: &Covenant, outcome: &str, reason: Option<&str>) -> Result<Option<String>, CaseError> {
    let w = &covenant.weighing;
    if !w.outcomes.iter().any(|o| o.id == outcome) {
        return Err(CaseError::Validation(format!(
            "outcome: `{outcome}` is not a weighing outcome of the covenant"
        )));
    }
    match (outcome == w.declined_outcome, reason) {
        (true, Some(r)) if w.reasons.iter().any(|x| x.id == r) => Ok(Some(r.to_owned())),
        (true, _) => Err(CaseError::Validation(format!(
            "reason: `{}` needs one of the covenant's reasons: {}",
            w.declined_outcome,
            w.reasons.iter().map(|r| r.id.as_str()).collect::<Vec<_>>().join(", ")
        ))),
        (false, Some(_)) => Err(CaseError::Validation(format!(
            "reason: only `{}` takes a reason",
            w.declined_outcome
        ))),
        (false, None) => Ok(None),
    }
}

/// Whether a share in `meeting` of `categories` makes the case's plan (the covenant's plan category in its plan
/// meeting type).
pub fn makes_plan<'c>(
    covenant: &Covenant,
    meeting: &MeetingRow,
    mut categories: impl Iterator<Item = &'c str>,
) -> bool {
    let m = &covenant.monitoring;
    meeting.meeting_type == m.plan_meeting_type && categories.any(|c| c == m.plan_category)
}

/// In the plan's transaction: records the case's plan (once), schedules its checks counted from the plan
/// meeting's start, and opens the case's monitoring track — a meeting of the covenant's monitoring type, convened
/// by the host with the case on its agenda — in which the holder shares progress outside any meeting.
///
/// # Errors
/// The database refused.
pub async fn plan_made(
    tx: &mut Tx,
    covenant: &Covenant,
    (case_id, meeting): (&CaseId, &MeetingRow),
    host: &Oin,
    now: Instant,
) -> Result<bool, StoreError> {
    let m = &covenant.monitoring;
    let days = covenant.meeting_type(&m.meeting_type).map_or(31, |t| t.max_days);
    let track = MeetingRow {
        id: MeetingId::generate(),
        meeting_type: m.meeting_type.clone(),
        starts_at: meeting.starts_at,
        ends_at: meeting.starts_at + time::Duration::days(days.into()),
        status: MeetingStatus::Open,
        created_by_oin: host.clone(),
        created_at: now,
        closed_at: None,
    };
    let plan = PlanRow {
        case_id: case_id.clone(),
        plan_meeting_id: meeting.id.clone(),
        monitoring_meeting_id: track.id.clone(),
        planned_at: now,
    };
    let checks: Vec<(String, Instant)> = m
        .moments
        .iter()
        .map(|x| (x.id.clone(), meeting.starts_at + time::Duration::days(x.days.into())))
        .collect();
    if tx.has_plan(case_id).await? {
        return Ok(false);
    }
    tx.insert_meeting(&track).await?;
    tx.add_agenda_case(&track.id, case_id, now).await?;
    tx.insert_plan(&plan, &checks).await
}

/// A monitoring check as the procesregisseur sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckView {
    pub case_id: CaseId,
    /// A moment of the covenant (`1w`, `1m`, `3m`, `6m`).
    pub moment: String,
    pub due_at: Instant,
    /// `due` until its date has passed, then `overdue`, and `done` once recorded.
    pub state: CheckState,
    pub status: Option<CheckStatus>,
    pub recorded_at: Option<Instant>,
    pub holder_oin: Oin,
}

fn check_view(c: CheckRow, now: Instant) -> CheckView {
    let state = match &c.recorded {
        Some(_) => CheckState::Done,
        None if now > c.due_at => CheckState::Overdue,
        None => CheckState::Due,
    };
    CheckView {
        state,
        status: c.recorded.as_ref().map(|r| r.status),
        recorded_at: c.recorded.as_ref().map(|r| r.at),
        case_id: c.case_id,
        moment: c.moment,
        due_at: c.due_at,
        holder_oin: c.holder_oin,
    }
}

/// The checks of open cases (or of one case) by due date, each `due`, `overdue` or `done` at `now`; with `state`,
/// only those.
///
/// # Errors
/// The database refused.
pub async fn checks(
    store: &Store,
    now: time::OffsetDateTime,
    case_id: Option<&CaseId>,
    state: Option<CheckState>,
) -> Result<Vec<CheckView>, CaseError> {
    let now = Instant::from(now);
    Ok(store
        .checks(case_id)
        .await?
        .into_iter()
        .map(|c| check_view(c, now))
        .filter(|c| state.is_none_or(|s| c.state == s))
        .collect())
}

/// A monitoring check recorded: which moment, what it found, and a note (sealed with the case).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCheck {
    /// A scheduled moment of the case (`1w`, `1m`, `3m`, `6m`).
    pub moment: String,
    pub status: CheckStatus,
    /// 1–500 characters, when given; kept sealed with the case, never in the log.
    #[schema(min_length = 1, max_length = 500, pattern = "\\S")]
    pub note: Option<String>,
}

/// Records a scheduled check of an open case; `heragenderen` tells the host's own intake nothing new but is kept
/// for the case page and the figures.
///
/// # Errors
/// Unknown or closed case (404/409), a moment that is not scheduled for the case or recorded already (409), a bad
/// note (422), or the database refused.
pub async fn record_check(
    store: &Store,
    (keys, now): (&Keyring, time::OffsetDateTime),
    actor: &Actor,
    case_id: &CaseId,
    new: &NewCheck,
) -> Result<(), CaseError> {
    let case = store.case(case_id).await?.ok_or(CaseError::NotFound)?;
    if case.status != CaseStatus::Open {
        return Err(CaseError::Closed);
    }
    let note = new.note.as_deref().map(|n| text("note", n, REASON_MAX)).transpose()?;
    let note = texts::seal_opt(keys, &case, "monitoring.note", note.as_deref())?;
    let now = Instant::from(now);
    let check = RecordedCheck {
        at: now,
        status: new.status,
        by_oin: actor.oin.clone(),
        by_sub: actor.sub.clone(),
        note: note.as_ref().map(|n| n.id.clone()),
    };
    let detail = serde_json::json!({
        "moment": new.moment, "status": new.status, "note": texts::reference(note.as_ref()),
    });
    let entry = actor.case_entry("case.monitoring", case_id, None, &detail);
    let mut tx = store.begin().await?;
    if let Some(n) = &note {
        n.store(&mut tx, &case, now).await?;
    }
    let recorded = tx.record_check(case_id, &new.moment, &check).await?;
    if !log::commit_if(tx, recorded, entry, now).await? {
        return Err(CaseError::Conflict(
            "no check of this moment is open for the case: none was scheduled (a focus meeting's plan schedules \
             them) or it was recorded already",
        ));
    }
    Ok(())
}
