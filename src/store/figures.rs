//! The facts figures are counted from, over a half-open period: one row per report, weighing, case on an agenda,
//! closure outcome, and subject's report. Cases ever on the agenda of a meeting of `excluded` types are left out of
//! every one of them.
use sqlx::any::AnyArguments;
use sqlx::query::QueryAs;
use sqlx::Any;

use super::{Store, StoreError};

/// The municipality of a case: that of its first report.
const CASE_MUNICIPALITY: &str =
    "(SELECT r0.municipality FROM reports r0 WHERE r0.case_id = c.id ORDER BY r0.reported_at, r0.id LIMIT 1)";

/// A report as figures count it: municipality, reporter, kind, gender, age band.
pub type ReportFact = (Option<String>, String, String, String, String);

/// A period and the meeting types whose cases never count.
pub struct Span<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub excluded: &'a [String],
}

impl Span<'_> {
    /// `c.id` is not a case of an excluded meeting type; its parameters follow `$1` (from) and `$2` (to).
    fn counted(&self) -> String {
        let list = if self.excluded.is_empty() {
            "''".to_owned()
        } else {
            (3..3 + self.excluded.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "c.id NOT IN (SELECT a.case_id FROM meeting_agenda a JOIN meetings m ON m.id = a.meeting_id \
             WHERE m.meeting_type IN ({list}))"
        )
    }

    fn bind<'q, O>(&'q self, q: QueryAs<'q, Any, O, AnyArguments<'q>>) -> QueryAs<'q, Any, O, AnyArguments<'q>> {
        let mut q = q.bind(self.from).bind(self.to);
        for t in self.excluded {
            q = q.bind(t.as_str());
        }
        q
    }
}

impl Store {
    /// The reports made in the period.
    ///
    /// # Errors
    /// The database refused.
    pub async fn report_facts(&self, span: &Span<'_>) -> Result<Vec<ReportFact>, StoreError> {
        let sql = format!(
            "SELECT r.municipality, r.reporter_oin, r.kind, r.gender, r.age_band FROM reports r \
             JOIN cases c ON c.id = r.case_id WHERE r.reported_at >= $1 AND r.reported_at < $2 AND {}",
            span.counted()
        );
        Ok(span.bind(sqlx::query_as(&sql)).fetch_all(self.pool()).await?)
    }

    /// The weighings decided in the period: the case's municipality, the outcome, the reason.
    ///
    /// # Errors
    /// The database refused.
    pub async fn weighing_facts(
        &self,
        span: &Span<'_>,
    ) -> Result<Vec<(Option<String>, String, Option<String>)>, StoreError> {
        let sql = format!(
            "SELECT {CASE_MUNICIPALITY}, w.outcome, w.reason FROM weighings w JOIN cases c ON c.id = w.case_id \
             WHERE w.decided_at >= $1 AND w.decided_at < $2 AND {}",
            span.counted()
        );
        Ok(span.bind(sqlx::query_as(&sql)).fetch_all(self.pool()).await?)
    }

    /// Each case once per meeting type of the meetings starting in the period that had it on their agenda.
    ///
    /// # Errors
    /// The database refused.
    pub async fn agenda_facts(&self, span: &Span<'_>) -> Result<Vec<(Option<String>, String)>, StoreError> {
        let sql = format!(
            "SELECT DISTINCT c.id, {CASE_MUNICIPALITY}, m.meeting_type FROM meeting_agenda a \
             JOIN meetings m ON m.id = a.meeting_id JOIN cases c ON c.id = a.case_id \
             WHERE m.starts_at >= $1 AND m.starts_at < $2 AND {}",
            span.counted()
        );
        let rows: Vec<(String, Option<String>, String)> =
            span.bind(sqlx::query_as(&sql)).fetch_all(self.pool()).await?;
        Ok(rows.into_iter().map(|(_, m, t)| (m, t)).collect())
    }

    /// The closure outcomes of the cases closed in the period (a case closed without outcomes counts as `""`).
    ///
    /// # Errors
    /// The database refused.
    pub async fn closure_facts(&self, span: &Span<'_>) -> Result<Vec<(Option<String>, String)>, StoreError> {
        let sql = format!(
            "SELECT {CASE_MUNICIPALITY}, COALESCE(o.outcome, '') FROM cases c \
             LEFT JOIN case_closure_outcomes o ON o.case_id = c.id \
             WHERE c.closed_at >= $1 AND c.closed_at < $2 AND {}",
            span.counted()
        );
        Ok(span.bind(sqlx::query_as(&sql)).fetch_all(self.pool()).await?)
    }

    /// One row per subject and report about them in the period, with the report's municipality.
    ///
    /// # Errors
    /// The database refused.
    pub async fn subject_facts(&self, span: &Span<'_>) -> Result<Vec<(String, Option<String>)>, StoreError> {
        let sql = format!(
            "SELECT s.subject, r.municipality FROM case_subjects s JOIN reports r ON r.case_id = s.case_id \
             JOIN cases c ON c.id = s.case_id \
             WHERE r.reported_at >= s.since AND r.reported_at >= $1 AND r.reported_at < $2 AND {}",
            span.counted()
        );
        Ok(span.bind(sqlx::query_as(&sql)).fetch_all(self.pool()).await?)
    }
}
