//! Meetings, their agendas and attendees.
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{col, col_opt, ConsentScope, Store, StoreError, Tx};
use crate::types::{CaseId, Instant, MeetingId, MeetingStatus, Oin};

/// A meeting as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingRow {
    pub id: MeetingId,
    pub meeting_type: String,
    pub starts_at: Instant,
    pub ends_at: Instant,
    pub status: MeetingStatus,
    pub created_by_oin: Oin,
    pub created_at: Instant,
    pub closed_at: Option<Instant>,
}

/// An attending organisation, with its confidentiality declaration when it attends incidentally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttendeeRow {
    pub oin: Oin,
    pub added_at: Instant,
    pub declaration_signed_by: Option<String>,
    pub declaration_signed_at: Option<Instant>,
}

/// The organisations a case and a meeting relate: members of the case, whether the case is on the meeting's
/// agenda, the meeting's attendees, and the case's consents (with their expiry: the time asked decides).
#[derive(Debug, Clone, Default)]
pub struct CaseInMeeting {
    pub members: Vec<Oin>,
    pub on_agenda: bool,
    pub attendees: Vec<AttendeeRow>,
    pub consents: Vec<ConsentScope>,
}

/// What a change to an open meeting came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Done,
    /// The row was there already.
    Duplicate,
    /// The meeting was closed meanwhile.
    Closed,
}

impl Change {
    /// The outcome of an `INSERT … ON CONFLICT DO NOTHING` that affected `rows`.
    fn of(rows: u64) -> Change {
        if rows == 1 {
            Change::Done
        } else {
            Change::Duplicate
        }
    }
}

const MEETING_COLUMNS: [&str; 8] = [
    "id",
    "meeting_type",
    "starts_at",
    "ends_at",
    "status",
    "created_by_oin",
    "created_at",
    "closed_at",
];

/// The meeting's columns of table alias `m`, named `m_…` so they can share a row with another table's.
pub(super) fn meeting_columns() -> String {
    MEETING_COLUMNS.map(|c| format!("m.{c} AS m_{c}")).join(", ")
}

/// A meeting from a row with [`meeting_columns`].
pub(super) fn meeting_of(r: &AnyRow) -> Result<MeetingRow, StoreError> {
    Ok(MeetingRow {
        id: col(r, "m_id")?,
        meeting_type: r.try_get("m_meeting_type")?,
        starts_at: col(r, "m_starts_at")?,
        ends_at: col(r, "m_ends_at")?,
        status: col(r, "m_status")?,
        created_by_oin: col(r, "m_created_by_oin")?,
        created_at: col(r, "m_created_at")?,
        closed_at: col_opt(r, "m_closed_at")?,
    })
}

impl Tx {
    /// Stores a new meeting with its first attendee (the organisation that convenes it).
    ///
    /// # Errors
    /// The database refused.
    pub async fn insert_meeting(&mut self, m: &MeetingRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO meetings (id, meeting_type, starts_at, ends_at, status, created_by_oin, created_at, \
             closed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(m.id.as_str())
        .bind(&m.meeting_type)
        .bind(m.starts_at.to_string())
        .bind(m.ends_at.to_string())
        .bind(m.status.as_str())
        .bind(m.created_by_oin.as_str())
        .bind(m.created_at.to_string())
        .bind(m.closed_at.map(|t| t.to_string()))
        .execute(self.conn())
        .await?;
        sqlx::query("INSERT INTO meeting_attendees (meeting_id, oin, added_at) VALUES ($1, $2, $3)")
            .bind(m.id.as_str())
            .bind(m.created_by_oin.as_str())
            .bind(m.created_at.to_string())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Whether the meeting is still open; read inside the change's transaction, so a concurrent close wins.
    async fn still_open(&mut self, meeting_id: &MeetingId) -> Result<bool, StoreError> {
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM meetings WHERE id = $1")
            .bind(meeting_id.as_str())
            .fetch_optional(self.conn())
            .await?;
        Ok(status.as_deref() == Some("open"))
    }

    /// Puts a case on the agenda of a meeting that is still open.
    ///
    /// # Errors
    /// The database refused.
    pub async fn add_agenda_case(
        &mut self,
        meeting_id: &MeetingId,
        case_id: &CaseId,
        now: Instant,
    ) -> Result<Change, StoreError> {
        if !self.still_open(meeting_id).await? {
            return Ok(Change::Closed);
        }
        let inserted = sqlx::query(
            "INSERT INTO meeting_agenda (meeting_id, case_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(meeting_id.as_str())
        .bind(case_id.as_str())
        .bind(now.to_string())
        .execute(self.conn())
        .await?
        .rows_affected();
        Ok(Change::of(inserted))
    }

    /// Adds an attending organisation to a meeting that is still open.
    ///
    /// # Errors
    /// The database refused.
    pub async fn add_attendee(&mut self, meeting_id: &MeetingId, a: &AttendeeRow) -> Result<Change, StoreError> {
        if !self.still_open(meeting_id).await? {
            return Ok(Change::Closed);
        }
        let inserted = sqlx::query(
            "INSERT INTO meeting_attendees (meeting_id, oin, added_at, declaration_signed_by, \
             declaration_signed_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(meeting_id.as_str())
        .bind(a.oin.as_str())
        .bind(a.added_at.to_string())
        .bind(a.declaration_signed_by.clone())
        .bind(a.declaration_signed_at.map(|t| t.to_string()))
        .execute(self.conn())
        .await?
        .rows_affected();
        Ok(Change::of(inserted))
    }

    /// Closes an open meeting; `Closed` when it was closed already.
    ///
    /// # Errors
    /// The database refused.
    pub async fn close_meeting(
        &mut self,
        meeting_id: &MeetingId,
        now: Instant,
        reason: &str,
    ) -> Result<Change, StoreError> {
        let closed = sqlx::query(
            "UPDATE meetings SET status = 'closed', closed_at = $1, close_reason = $3 WHERE id = $2 AND status = 'open'",
        )
        .bind(now.to_string())
        .bind(meeting_id.as_str())
        .bind(reason)
                .execute(self.conn())
                .await?
                .rows_affected();
        Ok(if closed == 1 { Change::Done } else { Change::Closed })
    }
}

impl Store {
    /// The newest `limit` meetings (by start) that `oin` attends whose window overlaps `[from, to)` (either
    /// bound may be open).
    pub async fn meetings_attended_by(
        &self,
        oin: &Oin,
        (from, to): (Option<Instant>, Option<Instant>),
        limit: i64,
    ) -> Result<Vec<MeetingRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM meetings m JOIN meeting_attendees a ON a.meeting_id = m.id WHERE a.oin = $1 \
             AND m.ends_at > $2 AND m.starts_at < $3 ORDER BY m.starts_at DESC, m.id LIMIT $4",
            meeting_columns()
        ))
        .bind(oin.as_str())
        .bind(from.map_or_else(String::new, |t| t.to_string()))
        .bind(to.map_or_else(|| "9999".to_owned(), |t| t.to_string()))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(meeting_of).collect()
    }

    pub async fn meeting(&self, id: &MeetingId) -> Result<Option<MeetingRow>, StoreError> {
        let row = sqlx::query(&format!("SELECT {} FROM meetings m WHERE m.id = $1", meeting_columns()))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(meeting_of).transpose()
    }

    /// The case ids on the meeting's agenda, in the order they were added.
    pub async fn meeting_agenda(&self, meeting_id: &MeetingId) -> Result<Vec<CaseId>, StoreError> {
        let rows = sqlx::query("SELECT case_id FROM meeting_agenda WHERE meeting_id = $1 ORDER BY added_at, case_id")
            .bind(meeting_id.as_str())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| col(r, "case_id")).collect()
    }

    pub async fn meeting_attendees(&self, meeting_id: &MeetingId) -> Result<Vec<AttendeeRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT oin, added_at, declaration_signed_by, declaration_signed_at FROM meeting_attendees \
             WHERE meeting_id = $1 ORDER BY added_at, oin",
        )
        .bind(meeting_id.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AttendeeRow {
                    oin: col(r, "oin")?,
                    added_at: col(r, "added_at")?,
                    declaration_signed_by: r.try_get("declaration_signed_by")?,
                    declaration_signed_at: col_opt(r, "declaration_signed_at")?,
                })
            })
            .collect()
    }

    /// Members, agenda and attendees of a case in a meeting, and the case's consents, in one query.
    ///
    /// # Errors
    /// The database refused.
    pub async fn case_in_meeting(&self, case_id: &CaseId, meeting_id: &MeetingId) -> Result<CaseInMeeting, StoreError> {
        type Row = (String, String, Option<String>, Option<String>, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT 'member', oin, since, NULL, NULL FROM case_members WHERE case_id = $1 \
             UNION ALL SELECT 'agenda', case_id, added_at, NULL, NULL FROM meeting_agenda \
             WHERE meeting_id = $2 AND case_id = $1 \
             UNION ALL SELECT 'attendee', oin, added_at, declaration_signed_by, declaration_signed_at \
             FROM meeting_attendees WHERE meeting_id = $2 \
             UNION ALL SELECT 'consent', categories, organisations, valid_until, withdrawn_at FROM consents \
             WHERE case_id = $1",
        )
        .bind(case_id.as_str())
        .bind(meeting_id.as_str())
        .fetch_all(self.pool())
        .await?;
        let parse = |v: &str, what| v.parse().map_err(|_| StoreError::Corrupt(what));
        let mut out = CaseInMeeting::default();
        for (what, first, second, by, signed_at) in rows {
            let second = second.unwrap_or_default();
            match what.as_str() {
                "member" => out.members.push(parse(&first, "member oin")?),
                "agenda" => out.on_agenda = true,
                "consent" => out.consents.push(ConsentScope::parse(
                    &first,
                    &second,
                    by.as_deref().unwrap_or_default(),
                    signed_at.as_deref(),
                )?),
                _ => out.attendees.push(AttendeeRow {
                    oin: parse(&first, "attendee oin")?,
                    added_at: second.parse().map_err(|_| StoreError::Corrupt("attendee time"))?,
                    declaration_signed_by: by,
                    declaration_signed_at: signed_at
                        .map(|t| t.parse().map_err(|_| StoreError::Corrupt("declaration time")))
                        .transpose()?,
                }),
            }
        }
        Ok(out)
    }

    /// The open cases about `subject` (a pseudonym) with their holders, newest first: what a hit/no-hit sees.
    ///
    /// # Errors
    /// The database refused.
    pub async fn open_cases_about(&self, subject: &str) -> Result<Vec<(CaseId, Oin)>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.id AS id, c.holder_oin AS holder_oin FROM open_subjects o JOIN cases c ON c.id = o.case_id \
             WHERE o.subject = $1 AND c.status = 'open' ORDER BY c.reported_at DESC, c.id",
        )
        .bind(subject)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((col(r, "id")?, col(r, "holder_oin")?)))
            .collect()
    }
}
