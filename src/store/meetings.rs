//! Meetings, their agendas and attendees.
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{ConsentScope, Store, StoreError, Tx};

/// A meeting as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingRow {
    pub id: String,
    pub meeting_type: String,
    pub starts_at: String,
    pub ends_at: String,
    /// `open` or `closed`.
    pub status: String,
    pub created_by_oin: String,
    pub created_at: String,
    pub closed_at: Option<String>,
}

/// An attending organisation, with its confidentiality declaration when it attends incidentally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttendeeRow {
    pub oin: String,
    pub added_at: String,
    pub declaration_signed_by: Option<String>,
    pub declaration_signed_at: Option<String>,
}

/// The organisations a case and a meeting relate: members of the case, whether the case is on the meeting's
/// agenda, the meeting's attendees, and the case's consents (with their expiry: the time asked decides).
#[derive(Debug, Clone, Default)]
pub struct CaseInMeeting {
    pub members: Vec<String>,
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
        id: r.try_get("m_id")?,
        meeting_type: r.try_get("m_meeting_type")?,
        starts_at: r.try_get("m_starts_at")?,
        ends_at: r.try_get("m_ends_at")?,
        status: r.try_get("m_status")?,
        created_by_oin: r.try_get("m_created_by_oin")?,
        created_at: r.try_get("m_created_at")?,
        closed_at: r.try_get("m_closed_at")?,
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
        .bind(&m.id)
        .bind(&m.meeting_type)
        .bind(&m.starts_at)
        .bind(&m.ends_at)
        .bind(&m.status)
        .bind(&m.created_by_oin)
        .bind(&m.created_at)
        .bind(m.closed_at.clone())
        .execute(self.conn())
        .await?;
        sqlx::query("INSERT INTO meeting_attendees (meeting_id, oin, added_at) VALUES ($1, $2, $3)")
            .bind(&m.id)
            .bind(&m.created_by_oin)
            .bind(&m.created_at)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Whether the meeting is still open; read inside the change's transaction, so a concurrent close wins.
    async fn still_open(&mut self, meeting_id: &str) -> Result<bool, StoreError> {
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM meetings WHERE id = $1")
            .bind(meeting_id)
            .fetch_optional(self.conn())
            .await?;
        Ok(status.as_deref() == Some("open"))
    }

    /// Puts a case on the agenda of a meeting that is still open.
    ///
    /// # Errors
    /// The database refused.
    pub async fn add_agenda_case(&mut self, meeting_id: &str, case_id: &str, now: &str) -> Result<Change, StoreError> {
        if !self.still_open(meeting_id).await? {
            return Ok(Change::Closed);
        }
        let inserted = sqlx::query(
            "INSERT INTO meeting_agenda (meeting_id, case_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(meeting_id)
        .bind(case_id)
        .bind(now)
        .execute(self.conn())
        .await?
        .rows_affected();
        Ok(Change::of(inserted))
    }

    /// Adds an attending organisation to a meeting that is still open.
    ///
    /// # Errors
    /// The database refused.
    pub async fn add_attendee(&mut self, meeting_id: &str, a: &AttendeeRow) -> Result<Change, StoreError> {
        if !self.still_open(meeting_id).await? {
            return Ok(Change::Closed);
        }
        let inserted = sqlx::query(
            "INSERT INTO meeting_attendees (meeting_id, oin, added_at, declaration_signed_by, \
             declaration_signed_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(meeting_id)
        .bind(&a.oin)
        .bind(&a.added_at)
        .bind(a.declaration_signed_by.clone())
        .bind(a.declaration_signed_at.clone())
        .execute(self.conn())
        .await?
        .rows_affected();
        Ok(Change::of(inserted))
    }

    /// Closes an open meeting; `Closed` when it was closed already.
    ///
    /// # Errors
    /// The database refused.
    pub async fn close_meeting(&mut self, meeting_id: &str, now: &str) -> Result<Change, StoreError> {
        let closed =
            sqlx::query("UPDATE meetings SET status = 'closed', closed_at = $1 WHERE id = $2 AND status = 'open'")
                .bind(now)
                .bind(meeting_id)
                .execute(self.conn())
                .await?
                .rows_affected();
        Ok(if closed == 1 { Change::Done } else { Change::Closed })
    }
}

impl Store {
    pub async fn meeting(&self, id: &str) -> Result<Option<MeetingRow>, StoreError> {
        let row = sqlx::query(&format!("SELECT {} FROM meetings m WHERE m.id = $1", meeting_columns()))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(meeting_of).transpose()
    }

    /// The case ids on the meeting's agenda, in the order they were added.
    pub async fn meeting_agenda(&self, meeting_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT case_id FROM meeting_agenda WHERE meeting_id = $1 ORDER BY added_at, case_id")
                .bind(meeting_id)
                .fetch_all(self.pool())
                .await?,
        )
    }

    pub async fn meeting_attendees(&self, meeting_id: &str) -> Result<Vec<AttendeeRow>, StoreError> {
        let rows: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT oin, added_at, declaration_signed_by, declaration_signed_at FROM meeting_attendees \
             WHERE meeting_id = $1 ORDER BY added_at, oin",
        )
        .bind(meeting_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(oin, added_at, by, at)| AttendeeRow {
                oin,
                added_at,
                declaration_signed_by: by,
                declaration_signed_at: at,
            })
            .collect())
    }

    /// Members, agenda and attendees of a case in a meeting, and the case's consents, in one query.
    ///
    /// # Errors
    /// The database refused.
    pub async fn case_in_meeting(&self, case_id: &str, meeting_id: &str) -> Result<CaseInMeeting, StoreError> {
        type Row = (String, String, Option<String>, Option<String>, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT 'member', oin, since, NULL, NULL FROM case_members WHERE case_id = $1 \
             UNION ALL SELECT 'agenda', case_id, added_at, NULL, NULL FROM meeting_agenda \
             WHERE meeting_id = $2 AND case_id = $1 \
             UNION ALL SELECT 'attendee', oin, added_at, declaration_signed_by, declaration_signed_at \
             FROM meeting_attendees WHERE meeting_id = $2 \
             UNION ALL SELECT 'consent', categories, organisations, valid_until, NULL FROM consents \
             WHERE case_id = $1",
        )
        .bind(case_id)
        .bind(meeting_id)
        .fetch_all(self.pool())
        .await?;
        let mut out = CaseInMeeting::default();
        for (what, first, second, by, signed_at) in rows {
            match what.as_str() {
                "member" => out.members.push(first),
                "agenda" => out.on_agenda = true,
                "consent" => out.consents.push(ConsentScope::parse(
                    &first,
                    second.as_deref().unwrap_or_default(),
                    by.unwrap_or_default(),
                )?),
                _ => out.attendees.push(AttendeeRow {
                    oin: first,
                    added_at: second.unwrap_or_default(),
                    declaration_signed_by: by,
                    declaration_signed_at: signed_at,
                }),
            }
        }
        Ok(out)
    }

    /// The open cases about `subject` (a pseudonym) with their holders, newest first: what a hit/no-hit sees.
    ///
    /// # Errors
    /// The database refused.
    pub async fn open_cases_about(&self, subject: &str) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, holder_oin FROM cases WHERE subject = $1 AND status = 'open' ORDER BY reported_at DESC, id",
        )
        .bind(subject)
        .fetch_all(self.pool())
        .await?)
    }
}
