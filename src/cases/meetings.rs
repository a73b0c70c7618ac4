//! Meetings (*overleggen*) of a covenant meeting type: convened by the host's procesregisseur for a time window,
//! with an agenda of cases and the attending organisations. An incidental attendee brings a confidentiality
//! declaration (who signed it, when). A meeting allows sharing only while it is open and inside its window;
//! after an explicit close nothing about it changes. Every change is an `admin` record, committed with it.
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::covenant::Covenant;
use crate::log;
use crate::log::actor::Actor;
use crate::orgs::registry::Snapshot;
use crate::store::{AttendeeRow, Change, MeetingRow, Store, StoreError};
use crate::types::{CaseId, CaseStatus, Instant, MeetingId, MeetingStatus, Oin, OrgKind, OrgStatus};

/// Longest name on a confidentiality declaration, in characters.
const TEXT_MAX: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum MeetingError {
    #[error("{0}")]
    Validation(String),
    #[error("no such meeting")]
    NotFound,
    #[error("the meeting is closed or its window has passed")]
    Closed,
    #[error("the case is closed")]
    CaseClosed,
    #[error("{0}")]
    Conflict(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid<T>(message: impl Into<String>) -> Result<T, MeetingError> {
    Err(MeetingError::Validation(message.into()))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeeting {
    /// A meeting type of the covenant in force.
    #[serde(rename = "type")]
    pub meeting_type: String,
    #[schema(format = DateTime)]
    pub starts_at: String,
    /// After `starts_at`, at most the meeting type's `max_days` later (31 unless the covenant says otherwise), and
    /// not passed.
    #[schema(format = DateTime)]
    pub ends_at: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAttendee {
    #[schema(pattern = "^[0-9]{20}$")]
    pub oin: String,
    /// Required for an incidental attendee (kind `incidenteel`); lets an organisation that has not signed the
    /// covenant version in force take part in this one meeting.
    pub confidentiality_declaration: Option<Declaration>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub signed_by: String,
    /// Not in the future.
    #[schema(format = DateTime)]
    pub signed_at: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgendaItem {
    pub case_id: CaseId,
}

/// A meeting as its attendees see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeetingView {
    pub id: MeetingId,
    #[serde(rename = "type")]
    pub meeting_type: String,
    pub starts_at: Instant,
    pub ends_at: Instant,
    /// `open` or `closed` (closed explicitly).
    pub status: MeetingStatus,
    /// Open and inside its window now: sharing is possible.
    pub in_session: bool,
    pub closed_at: Option<Instant>,
    /// Case ids on the agenda.
    pub agenda: Vec<CaseId>,
    pub attendees: Vec<Attendee>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Attendee {
    pub oin: Oin,
    pub added_at: Instant,
    pub confidentiality_declaration: Option<SignedDeclaration>,
}

/// A confidentiality declaration as recorded: who signed it, when.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignedDeclaration {
    pub signed_by: String,
    pub signed_at: Instant,
}

/// Whether `m` allows sharing at `now`: not closed, and inside its window.
pub fn in_session(m: &MeetingRow, now: OffsetDateTime) -> bool {
    let now = Instant::from(now);
    m.status == MeetingStatus::Open && m.starts_at <= now && now < m.ends_at
}

/// Whether `m` is not over: not closed, and its window has not passed. It may still change, and requests may
/// still be made for it.
pub fn not_over(m: &MeetingRow, now: OffsetDateTime) -> bool {
    m.status == MeetingStatus::Open && Instant::from(now) < m.ends_at
}

/// Convenes a meeting; the convening organisation is its first attendee. Returns its id.
///
/// # Errors
/// Unknown meeting type, a window that does not parse, is empty, longer than the type's `max_days` or already over, or
/// the database refused.
pub async fn create(
    store: &Store,
    covenant: &Covenant,
    now: OffsetDateTime,
    actor: &Actor,
    new: &NewMeeting,
) -> Result<MeetingId, MeetingError> {
    let Some(kind) = covenant.meeting_type(&new.meeting_type) else {
        return invalid(format!("type: unknown meeting type `{}`", new.meeting_type));
    };
    let (Ok(starts), Ok(ends)) = (new.starts_at.parse::<Instant>(), new.ends_at.parse::<Instant>()) else {
        return invalid("starts_at, ends_at: RFC 3339 date-times are required");
    };
    if ends <= starts || ends - starts > time::Duration::days(kind.max_days.into()) {
        return invalid(format!(
            "ends_at: a meeting ends after it starts, and a `{}` meeting lasts at most {} days",
            kind.id, kind.max_days
        ));
    }
    let now = Instant::from(now);
    if ends <= now {
        return invalid("ends_at: the meeting's window has already passed");
    }
    let row = MeetingRow {
        id: MeetingId::generate(),
        meeting_type: new.meeting_type.clone(),
        starts_at: starts,
        ends_at: ends,
        status: MeetingStatus::Open,
        created_by_oin: actor.oin.clone(),
        created_at: now,
        closed_at: None,
    };
    let detail = serde_json::json!({
        "type": row.meeting_type, "starts_at": row.starts_at, "ends_at": row.ends_at,
        "covenant_version": covenant.version,
    });
    let entry = meeting_entry(actor, "meeting.create", &row, &detail);
    let mut tx = store.begin().await?;
    tx.insert_meeting(&row).await?;
    log::commit_with(tx, entry, row.created_at).await?;
    Ok(row.id)
}

fn meeting_entry(actor: &Actor, action: &str, m: &MeetingRow, detail: &serde_json::Value) -> crate::log::chain::Entry {
    crate::log::chain::Entry {
        meeting_id: Some(m.id.to_string()),
        meeting_type: Some(m.meeting_type.clone()),
        ..actor.admin_entry(action, m.id.as_str(), detail)
    }
}

async fn meeting(store: &Store, id: &MeetingId) -> Result<MeetingRow, MeetingError> {
    store.meeting(id).await?.ok_or(MeetingError::NotFound)
}

async fn changeable_meeting(store: &Store, id: &MeetingId, now: OffsetDateTime) -> Result<MeetingRow, MeetingError> {
    let m = meeting(store, id).await?;
    if !not_over(&m, now) {
        return Err(MeetingError::Closed);
    }
    Ok(m)
}

/// Commits a change to a meeting with its record when it was made, and otherwise rolls back and says why not.
async fn applied(
    tx: crate::store::Tx,
    change: Change,
    entry: log::chain::Entry,
    at: Instant,
    duplicate: &'static str,
) -> Result<(), MeetingError> {
    log::commit_if(tx, change == Change::Done, entry, at).await?;
    match change {
        Change::Done => Ok(()),
        Change::Duplicate => Err(MeetingError::Conflict(duplicate)),
        Change::Closed => Err(MeetingError::Closed),
    }
}

/// The meeting, for its attendees; `NotFound` for everyone else.
///
/// # Errors
/// Unknown meeting, not an attendee, or the database refused.
pub async fn view_as_attendee(
    store: &Store,
    now: OffsetDateTime,
    id: &MeetingId,
    oin: &Oin,
) -> Result<MeetingView, MeetingError> {
    let m = meeting(store, id).await?;
    let attendees = store.meeting_attendees(id).await?;
    if !attendees.iter().any(|a| &a.oin == oin) {
        return Err(MeetingError::NotFound);
    }
    view(store, now, m, attendees).await
}

/// Most meetings [`attended_by`] lists.
pub const ATTENDED_MAX: i64 = 200;

/// The meetings `oin` attends whose window overlaps `window` (either bound open), newest first (at most
/// [`ATTENDED_MAX`]), so nobody needs a meeting id passed on.
///
/// # Errors
/// The database refused.
pub async fn attended_by(
    store: &Store,
    now: OffsetDateTime,
    oin: &Oin,
    window: (Option<Instant>, Option<Instant>),
) -> Result<Vec<MeetingView>, MeetingError> {
    let mut views = Vec::new();
    for m in store.meetings_attended_by(oin, window, ATTENDED_MAX).await? {
        let attendees = store.meeting_attendees(&m.id).await?;
        views.push(view(store, now, m, attendees).await?);
    }
    Ok(views)
}

async fn view(
    store: &Store,
    now: OffsetDateTime,
    m: MeetingRow,
    attendees: Vec<crate::store::AttendeeRow>,
) -> Result<MeetingView, MeetingError> {
    Ok(MeetingView {
        in_session: in_session(&m, now),
        agenda: store.meeting_agenda(&m.id).await?,
        attendees: attendees
            .into_iter()
            .map(|a| Attendee {
                confidentiality_declaration: a
                    .declaration_signed_by
                    .zip(a.declaration_signed_at)
                    .map(|(signed_by, signed_at)| SignedDeclaration { signed_by, signed_at }),
                oin: a.oin,
                added_at: a.added_at,
            })
            .collect(),
        id: m.id,
        meeting_type: m.meeting_type,
        starts_at: m.starts_at,
        ends_at: m.ends_at,
        status: m.status,
        closed_at: m.closed_at,
    })
}

/// Puts an open case on the agenda of a meeting that can still change.
///
/// # Errors
/// Unknown meeting (404), unknown case (422), closed meeting or case (409), already on the agenda (409), or the
/// database refused.
pub async fn add_to_agenda(
    store: &Store,
    now: OffsetDateTime,
    actor: &Actor,
    id: &MeetingId,
    item: &AgendaItem,
) -> Result<(), MeetingError> {
    let m = changeable_meeting(store, id, now).await?;
    let Some(case) = store.case(&item.case_id).await? else {
        return invalid("case_id: no such case");
    };
    if case.status != CaseStatus::Open {
        return Err(MeetingError::CaseClosed);
    }
    let entry = crate::log::chain::Entry {
        case_id: Some(case.id.to_string()),
        ..meeting_entry(
            actor,
            "meeting.agenda.add",
            &m,
            &serde_json::json!({"case_id": case.id}),
        )
    };
    let now = Instant::from(now);
    let mut tx = store.begin().await?;
    let change = tx.add_agenda_case(id, &case.id, now).await?;
    applied(tx, change, entry, now, "the case is on the agenda already").await
}

/// Adds an attending organisation. An incidental organisation needs a confidentiality declaration, signed
/// already; any other may bring one (it stands in for a missing covenant signature for this meeting only).
///
/// # Errors
/// Unknown meeting (404), an unknown or inactive organisation or a missing or malformed declaration (422), a
/// closed meeting or one already attending (409), or the database refused.
pub async fn add_attendee(
    store: &Store,
    registry: &Snapshot,
    now: OffsetDateTime,
    actor: &Actor,
    id: &MeetingId,
    new: &NewAttendee,
) -> Result<(), MeetingError> {
    let m = changeable_meeting(store, id, now).await?;
    let Some(org) = new.oin.parse().ok().and_then(|oin| registry.organisation(&oin)) else {
        return invalid("oin: no onboarded organisation has this OIN");
    };
    if org.status != OrgStatus::Active {
        return invalid("oin: the organisation is not active");
    }
    let declaration = match &new.confidentiality_declaration {
        Some(d) => Some(declaration(d, now)?),
        None if org.kind == OrgKind::Incidenteel => {
            return invalid("confidentiality_declaration: an incidental attendee needs a signed declaration")
        }
        None => None,
    };
    let row = AttendeeRow {
        oin: org.oin.clone(),
        added_at: now.into(),
        declaration_signed_by: declaration.as_ref().map(|d| d.signed_by.clone()),
        declaration_signed_at: declaration.as_ref().map(|d| d.signed_at),
    };
    let detail = serde_json::json!({"oin": row.oin, "confidentiality_declaration": declaration});
    let entry = meeting_entry(actor, "meeting.attendee.add", &m, &detail);
    let mut tx = store.begin().await?;
    let change = tx.add_attendee(id, &row).await?;
    let about = crate::store::About {
        meeting: Some(id),
        ..Default::default()
    };
    tx.notify(
        &row.oin,
        crate::types::NotificationKind::MeetingAttendeeAdded,
        about,
        row.added_at,
    )
    .await?;
    applied(tx, change, entry, row.added_at, "the organisation attends already").await
}

fn declaration(d: &Declaration, now: OffsetDateTime) -> Result<SignedDeclaration, MeetingError> {
    let signed_by = d.signed_by.trim();
    if signed_by.is_empty() || d.signed_by.chars().count() > TEXT_MAX {
        return invalid(format!(
            "confidentiality_declaration.signed_by: must be 1–{TEXT_MAX} characters"
        ));
    }
    let Ok(signed_at) = d.signed_at.parse::<Instant>() else {
        return invalid("confidentiality_declaration.signed_at: not an RFC 3339 date-time");
    };
    if signed_at > Instant::from(now) {
        return invalid("confidentiality_declaration.signed_at: lies in the future");
    }
    Ok(SignedDeclaration {
        signed_by: signed_by.to_owned(),
        signed_at,
    })
}

/// Closes a meeting explicitly; nothing about it changes afterwards and nothing is shared in it.
///
/// # Errors
/// Unknown meeting (404), closed already (409), a bad reason (422), or the database refused.
pub async fn close(
    store: &Store,
    now: OffsetDateTime,
    actor: &Actor,
    id: &MeetingId,
    reason: &str,
) -> Result<(), MeetingError> {
    if reason.trim().is_empty() || reason.chars().count() > super::REASON_MAX {
        return invalid(format!("reason: must be 1–{} characters", super::REASON_MAX));
    }
    let reason = reason.trim();
    let m = meeting(store, id).await?;
    if m.status != MeetingStatus::Open {
        return Err(MeetingError::Closed);
    }
    // The reason may name people and a meeting has no data key: the chain keeps its digest, the meeting the text.
    let detail = serde_json::json!({"reason_sha256": super::texts::digest(reason)});
    let entry = meeting_entry(actor, "meeting.close", &m, &detail);
    let now = Instant::from(now);
    let mut tx = store.begin().await?;
    let change = tx.close_meeting(id, now, reason).await?;
    applied(tx, change, entry, now, "").await
}
