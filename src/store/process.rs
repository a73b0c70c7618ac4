//! The ZVH process as stored: reports and the subjects of cases (at most one open case per subject), weighing
//! decisions, plans with their monitoring checks, and sealed free text.
use sqlx::Row;

use super::{col, col_opt, Store, StoreError, Tx};
use crate::types::{
    AgeBand, CaseId, CheckStatus, Gender, Instant, MeetingId, Oin, ReportId, ReportKind, TextId, WeighingId,
};

/// A report as stored (summary and subjects sealed).
#[derive(Debug, Clone)]
pub struct ReportRow {
    pub id: ReportId,
    pub case_id: CaseId,
    pub reported_at: Instant,
    pub reporter_oin: Oin,
    pub reporter_sub: String,
    pub kind: ReportKind,
    pub municipality: Option<String>,
    pub gender: Gender,
    pub age_band: AgeBand,
    /// Its subjects had an open case when it was made, which it joined.
    pub joined: bool,
    pub sealed_summary: Option<Vec<u8>>,
    /// SHA-256 of the summary as typed (empty for reports older than this table).
    pub summary_digest: String,
    pub sealed_subjects: Option<Vec<u8>>,
    pub weighed_at: Option<Instant>,
}

const REPORT_COLUMNS: &str = "id, case_id, reported_at, reporter_oin, reporter_sub, kind, municipality, gender, \
                              age_band, joined, sealed_summary, summary_digest, sealed_subjects, weighed_at";

fn report_of(r: &sqlx::any::AnyRow) -> Result<ReportRow, StoreError> {
    Ok(ReportRow {
        id: col(r, "id")?,
        case_id: col(r, "case_id")?,
        reported_at: col(r, "reported_at")?,
        reporter_oin: col(r, "reporter_oin")?,
        reporter_sub: r.try_get("reporter_sub")?,
        kind: col(r, "kind")?,
        municipality: r.try_get("municipality")?,
        gender: col(r, "gender")?,
        age_band: col(r, "age_band")?,
        joined: r.try_get::<i64, _>("joined")? != 0,
        sealed_summary: r.try_get("sealed_summary")?,
        summary_digest: r.try_get("summary_digest")?,
        sealed_subjects: r.try_get("sealed_subjects")?,
        weighed_at: col_opt(r, "weighed_at")?,
    })
}

/// A weighing decision as stored.
#[derive(Debug, Clone)]
pub struct WeighingRow {
    pub id: WeighingId,
    pub case_id: CaseId,
    pub meeting_id: MeetingId,
    pub outcome: String,
    pub reason: Option<String>,
    pub decided_at: Instant,
    pub decided_by_oin: Oin,
    pub decided_by_sub: String,
}

/// A plan made in a focus meeting, and the case's monitoring track.
#[derive(Debug, Clone)]
pub struct PlanRow {
    pub case_id: CaseId,
    pub plan_meeting_id: MeetingId,
    pub monitoring_meeting_id: MeetingId,
    pub planned_at: Instant,
}

/// A scheduled monitoring check, and what was recorded for it.
#[derive(Debug, Clone)]
pub struct CheckRow {
    pub case_id: CaseId,
    pub moment: String,
    pub due_at: Instant,
    pub recorded: Option<RecordedCheck>,
    /// The case's holder now.
    pub holder_oin: Oin,
}

#[derive(Debug, Clone)]
pub struct RecordedCheck {
    pub at: Instant,
    pub status: CheckStatus,
    pub by_oin: Oin,
    pub by_sub: String,
    pub note: Option<TextId>,
}

impl Tx {
    /// The open case of any of `subjects`, newest first.
    ///
    /// # Errors
    /// The database refused.
    pub async fn open_case_of(&mut self, subjects: &[String]) -> Result<Option<CaseId>, StoreError> {
        for subject in subjects {
            let found: Option<String> = sqlx::query_scalar(
                "SELECT o.case_id FROM open_subjects o JOIN cases c ON c.id = o.case_id \
                 WHERE o.subject = $1 AND c.status = 'open'",
            )
            .bind(subject)
            .fetch_optional(self.conn())
            .await?;
            if let Some(id) = found {
                return Ok(Some(id.parse().map_err(|_| StoreError::Corrupt("open subject case"))?));
            }
        }
        Ok(None)
    }

    /// Adds `subjects` to an open case; `false` when one of them has another open case already (a race lost).
    ///
    /// # Errors
    /// The database refused.
    pub async fn add_case_subjects(
        &mut self,
        case_id: &CaseId,
        subjects: &[String],
        since: Instant,
    ) -> Result<bool, StoreError> {
        let mut all = true;
        for subject in subjects {
            sqlx::query(
                "INSERT INTO case_subjects (case_id, subject, since) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(case_id.as_str())
            .bind(subject)
            .bind(since.to_string())
            .execute(self.conn())
            .await?;
            sqlx::query("INSERT INTO open_subjects (subject, case_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(subject)
                .bind(case_id.as_str())
                .execute(self.conn())
                .await?;
            let holder: Option<String> = sqlx::query_scalar("SELECT case_id FROM open_subjects WHERE subject = $1")
                .bind(subject)
                .fetch_optional(self.conn())
                .await?;
            all &= holder.as_deref() == Some(case_id.as_str());
        }
        Ok(all)
    }

    /// Stores a report.
    ///
    /// # Errors
    /// The database refused.
    pub async fn insert_report(&mut self, r: &ReportRow) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO reports ({REPORT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(r.id.as_str())
        .bind(r.case_id.as_str())
        .bind(r.reported_at.to_string())
        .bind(r.reporter_oin.as_str())
        .bind(&r.reporter_sub)
        .bind(r.kind.as_str())
        .bind(r.municipality.clone())
        .bind(r.gender.as_str())
        .bind(r.age_band.as_str())
        .bind(i64::from(r.joined))
        .bind(r.sealed_summary.clone())
        .bind(&r.summary_digest)
        .bind(r.sealed_subjects.clone())
        .bind(r.weighed_at.map(|t| t.to_string()))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Stores a weighing and marks the case's reports not weighed yet as weighed; returns their reporters.
    ///
    /// # Errors
    /// The database refused.
    pub async fn insert_weighing(&mut self, w: &WeighingRow) -> Result<Vec<Oin>, StoreError> {
        sqlx::query(
            "INSERT INTO weighings (id, case_id, meeting_id, outcome, reason, decided_at, decided_by_oin, \
             decided_by_sub) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(w.id.as_str())
        .bind(w.case_id.as_str())
        .bind(w.meeting_id.as_str())
        .bind(&w.outcome)
        .bind(w.reason.clone())
        .bind(w.decided_at.to_string())
        .bind(w.decided_by_oin.as_str())
        .bind(&w.decided_by_sub)
        .execute(self.conn())
        .await?;
        let reporters: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT reporter_oin FROM reports WHERE case_id = $1 AND weighed_at IS NULL ORDER BY reporter_oin",
        )
        .bind(w.case_id.as_str())
        .fetch_all(self.conn())
        .await?;
        sqlx::query("UPDATE reports SET weighed_at = $1 WHERE case_id = $2 AND weighed_at IS NULL")
            .bind(w.decided_at.to_string())
            .bind(w.case_id.as_str())
            .execute(self.conn())
            .await?;
        reporters
            .iter()
            .map(|o| o.parse().map_err(|_| StoreError::Corrupt("reporter oin")))
            .collect()
    }

    /// Whether the case has a plan, read in this transaction.
    ///
    /// # Errors
    /// The database refused.
    pub async fn has_plan(&mut self, case_id: &CaseId) -> Result<bool, StoreError> {
        let found: Option<String> = sqlx::query_scalar("SELECT case_id FROM case_plans WHERE case_id = $1")
            .bind(case_id.as_str())
            .fetch_optional(self.conn())
            .await?;
        Ok(found.is_some())
    }

    /// Records a case's plan and schedules its checks (`(moment, due)`); `false` when the case has a plan already
    /// (nothing changes).
    ///
    /// # Errors
    /// The database refused.
    pub async fn insert_plan(&mut self, plan: &PlanRow, checks: &[(String, Instant)]) -> Result<bool, StoreError> {
        let added = sqlx::query(
            "INSERT INTO case_plans (case_id, plan_meeting_id, monitoring_meeting_id, planned_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(plan.case_id.as_str())
        .bind(plan.plan_meeting_id.as_str())
        .bind(plan.monitoring_meeting_id.as_str())
        .bind(plan.planned_at.to_string())
        .execute(self.conn())
        .await?
        .rows_affected()
            == 1;
        if added {
            for (moment, due) in checks {
                sqlx::query("INSERT INTO monitoring_checks (case_id, moment, due_at) VALUES ($1, $2, $3)")
                    .bind(plan.case_id.as_str())
                    .bind(moment)
                    .bind(due.to_string())
                    .execute(self.conn())
                    .await?;
            }
        }
        Ok(added)
    }

    /// Records a scheduled check of an open case; `false` when it is not scheduled or recorded already.
    ///
    /// # Errors
    /// The database refused.
    pub async fn record_check(
        &mut self,
        case_id: &CaseId,
        moment: &str,
        check: &RecordedCheck,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "UPDATE monitoring_checks SET recorded_at = $1, status = $2, recorded_by_oin = $3, recorded_by_sub = $4, \
             note_id = $5 WHERE case_id = $6 AND moment = $7 AND recorded_at IS NULL",
        )
        .bind(check.at.to_string())
        .bind(check.status.as_str())
        .bind(check.by_oin.as_str())
        .bind(&check.by_sub)
        .bind(check.note.as_ref().map(TextId::as_str))
        .bind(case_id.as_str())
        .bind(moment)
        .execute(self.conn())
        .await?
        .rows_affected()
            == 1)
    }

    /// Stores a sealed free text of a case.
    ///
    /// # Errors
    /// The database refused.
    pub async fn insert_case_text(
        &mut self,
        (id, case_id): (&TextId, &CaseId),
        field: &str,
        (digest, sealed): (&str, &[u8]),
        at: Instant,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO case_texts (id, case_id, field, digest, sealed, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.as_str())
        .bind(case_id.as_str())
        .bind(field)
        .bind(digest)
        .bind(sealed.to_vec())
        .bind(at.to_string())
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

impl Store {
    /// The cases `subject` became a subject of after they were made about someone else, each with since when: the
    /// records of such a case carry its first subject, yet from then on they are about `subject` too.
    ///
    /// # Errors
    /// The database refused.
    pub async fn cases_joined_by(&self, subject: &str) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT s.case_id, s.since FROM case_subjects s JOIN cases c ON c.id = s.case_id \
             WHERE s.subject = $1 AND c.subject <> $1 ORDER BY s.case_id",
        )
        .bind(subject)
        .fetch_all(self.pool())
        .await?)
    }

    /// Reports of open cases not weighed yet, oldest first, at most `limit`.
    ///
    /// # Errors
    /// The database refused, or a row does not parse.
    pub async fn unweighed_reports(&self, limit: i64) -> Result<Vec<ReportRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE weighed_at IS NULL \
             AND case_id IN (SELECT id FROM cases WHERE status = 'open') ORDER BY reported_at, id LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(report_of).collect()
    }

    /// The reports of a case, oldest first.
    ///
    /// # Errors
    /// The database refused, or a row does not parse.
    pub async fn reports_of_case(&self, case_id: &CaseId) -> Result<Vec<ReportRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE case_id = $1 ORDER BY reported_at, id"
        ))
        .bind(case_id.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(report_of).collect()
    }

    /// The weighings of a case, oldest first.
    ///
    /// # Errors
    /// The database refused, or a row does not parse.
    pub async fn weighings(&self, case_id: &CaseId) -> Result<Vec<WeighingRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, case_id, meeting_id, outcome, reason, decided_at, decided_by_oin, decided_by_sub \
             FROM weighings WHERE case_id = $1 ORDER BY decided_at, id",
        )
        .bind(case_id.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(WeighingRow {
                    id: col(r, "id")?,
                    case_id: col(r, "case_id")?,
                    meeting_id: col(r, "meeting_id")?,
                    outcome: r.try_get("outcome")?,
                    reason: r.try_get("reason")?,
                    decided_at: col(r, "decided_at")?,
                    decided_by_oin: col(r, "decided_by_oin")?,
                    decided_by_sub: r.try_get("decided_by_sub")?,
                })
            })
            .collect()
    }

    /// The plan of a case, if one was made.
    ///
    /// # Errors
    /// The database refused, or the row does not parse.
    pub async fn plan(&self, case_id: &CaseId) -> Result<Option<PlanRow>, StoreError> {
        let row = sqlx::query(
            "SELECT case_id, plan_meeting_id, monitoring_meeting_id, planned_at FROM case_plans WHERE case_id = $1",
        )
        .bind(case_id.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(PlanRow {
                case_id: col(&r, "case_id")?,
                plan_meeting_id: col(&r, "plan_meeting_id")?,
                monitoring_meeting_id: col(&r, "monitoring_meeting_id")?,
                planned_at: col(&r, "planned_at")?,
            })
        })
        .transpose()
    }

    /// Monitoring checks of open cases (or of one case), by due date.
    ///
    /// # Errors
    /// The database refused, or a row does not parse.
    pub async fn checks(&self, case_id: Option<&CaseId>) -> Result<Vec<CheckRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT k.case_id, k.moment, k.due_at, k.recorded_at, k.status, k.recorded_by_oin, k.recorded_by_sub, \
             k.note_id, c.holder_oin FROM monitoring_checks k JOIN cases c ON c.id = k.case_id \
             WHERE c.status = 'open' AND ($1 = '' OR k.case_id = $1) ORDER BY k.due_at, k.case_id",
        )
        .bind(case_id.map_or("", CaseId::as_str))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let recorded = match col_opt::<Instant>(r, "recorded_at")? {
                    None => None,
                    Some(at) => Some(RecordedCheck {
                        at,
                        status: col(r, "status")?,
                        by_oin: col(r, "recorded_by_oin")?,
                        by_sub: r.try_get::<Option<String>, _>("recorded_by_sub")?.unwrap_or_default(),
                        note: col_opt(r, "note_id")?,
                    }),
                };
                Ok(CheckRow {
                    case_id: col(r, "case_id")?,
                    moment: r.try_get("moment")?,
                    due_at: col(r, "due_at")?,
                    holder_oin: col(r, "holder_oin")?,
                    recorded,
                })
            })
            .collect()
    }

    /// The sealed free text `id` of a case, if it was not purged.
    ///
    /// # Errors
    /// The database refused.
    pub async fn case_text(&self, case_id: &CaseId, id: &TextId) -> Result<Option<Vec<u8>>, StoreError> {
        let sealed: Option<Option<Vec<u8>>> =
            sqlx::query_scalar("SELECT sealed FROM case_texts WHERE case_id = $1 AND id = $2")
                .bind(case_id.as_str())
                .bind(id.as_str())
                .fetch_optional(self.pool())
                .await?;
        Ok(sealed.flatten())
    }
}
