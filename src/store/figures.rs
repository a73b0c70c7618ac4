//! The facts figures are counted from, over a half-open period, counted in SQL: reports, weighings, cases on an
//! agenda, closure outcomes, and subjects by how often they were reported. Cases ever on the agenda of a meeting of `excluded` types are left out of
//! every one of them.
use sqlx::any::AnyArguments;
use sqlx::query::QueryAs;
use sqlx::Any;

use super::{Store, StoreError};

/// The municipality of a case: that of its first report. Ordered like the `reports_case` index, so that the first row
/// is read from it also when the planner has no statistics yet (unordered by `case_id`, PostgreSQL walked the
/// `reported_at` index per case on a freshly loaded database: 99 s instead of 0.1 s).
const CASE_MUNICIPALITY: &str = "(SELECT r0.municipality FROM reports r0 WHERE r0.case_id = c.id \
                                 ORDER BY r0.case_id, r0.reported_at, r0.id LIMIT 1)";

/// Reports as figures count them: municipality, reporter, kind, gender, age band, and how many.
pub type ReportFact = (Option<String>, String, String, String, String, i64);

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
        // NOT EXISTS, not NOT IN: an anti-join on the agenda's case index, whatever the planner knows of the rows.
        format!(
            "NOT EXISTS (SELECT 1 FROM meeting_agenda xa JOIN meetings xm ON xm.id = xa.meeting_id \
             WHERE xa.case_id = c.id AND xm.meeting_type IN ({list}))"
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
    /// The reports made in the period, counted per municipality, reporter, kind, gender and age band.
    ///
    /// # Errors
    /// The database refused.
    pub async fn report_facts(&self, span: &Span<'_>) -> Result<Vec<ReportFact>, StoreError> {
        let sql = format!(
            "SELECT r.municipality, r.reporter_oin, r.kind, r.gender, r.age_band, count(*) FROM reports r \
             JOIN cases c ON c.id = r.case_id WHERE r.reported_at >= $1 AND r.reported_at < $2 AND {} \
             GROUP BY r.municipality, r.reporter_oin, r.kind, r.gender, r.age_band",
            span.counted()
        );
        Ok(span.bind(sqlx::query_as(&sql)).fetch_all(self.pool()).await?)
    }

    /// The weighings decided in the period, counted per municipality of the case, outcome and reason.
    ///
    /// # Errors
    /// The database refused.
    pub async fn weighing_facts(
        &self,
        span: &Span<'_>,
    ) -> Result<Vec<(Option<String>, String, Option<String>, i64)>, StoreError> {
        let sql = format!(
            "SELECT m, outcome, reason, count(*) FROM (SELECT {CASE_MUNICIPALITY} AS m, w.outcome, w.reason \
             FROM weighings w JOIN cases c ON c.id = w.case_id \
             WHERE w.decided_at >= $1 AND w.decided_at < $2 AND {}) t GROUP BY m, outcome, reason",
            span.counted()
        );
        Ok(span.bind(sqlx::query_as(&sql)).fetch_all(self.pool()).await?)
    }

    /// The cases on the agenda of the meetings starting in the period, each once per meeting type, counted per
    /// municipality and type.
    ///
    /// # Errors
    /// The database refused.
    pub async fn agenda_facts(&self, span: &Span<'_>) -> Result<Vec<(Option<String>, String, i64)>, StoreError> {
        let sql = format!(
            "SELECT mu, meeting_type, count(*) FROM (SELECT DISTINCT c.id, {CASE_MUNICIPALITY} AS mu, m.meeting_type \
             FROM meeting_agenda a JOIN meetings m ON m.id = a.meeting_id JOIN cases c ON c.id = a.case_id \
             WHERE m.starts_at >= $1 AND m.starts_at < $2 AND {}) t GROUP BY mu, meeting_type",
            span.counted()
        );
        Ok(span.bind(sqlx::query_as(&sql)).fetch_all(self.pool()).await?)
    }

    /// The closure outcomes of the cases closed in the period (`""` for a case closed without one), counted per
    /// municipality and outcome.
    ///
    /// # Errors
    /// The database refused.
    pub async fn closure_facts(&self, span: &Span<'_>) -> Result<Vec<(Option<String>, String, i64)>, StoreError> {
        let sql = format!(
            "SELECT m, outcome, count(*) FROM (SELECT {CASE_MUNICIPALITY} AS m, COALESCE(o.outcome, '') AS outcome \
             FROM cases c LEFT JOIN case_closure_outcomes o ON o.case_id = c.id \
             WHERE c.closed_at >= $1 AND c.closed_at < $2 AND {}) t GROUP BY m, outcome",
            span.counted()
        );
        Ok(span.bind(sqlx::query_as(&sql)).fetch_all(self.pool()).await?)
    }

    /// The subjects reported about in the period, counted by how many reports concern them and the municipality
    /// they count in (the highest code among their reports').
    ///
    /// # Errors
    /// The database refused.
    pub async fn subject_facts(&self, span: &Span<'_>) -> Result<Vec<(i64, Option<String>, i64)>, StoreError> {
        let sql = format!(
            "SELECT n, m, count(*) FROM (SELECT s.subject, MAX(r.municipality) AS m, count(*) AS n FROM reports r \
             JOIN case_subjects s ON s.case_id = r.case_id JOIN cases c ON c.id = r.case_id \
             WHERE r.reported_at >= $1 AND r.reported_at < $2 AND r.reported_at >= s.since AND {} \
             GROUP BY s.subject) t GROUP BY n, m",
            span.counted()
        );
        Ok(span.bind(sqlx::query_as(&sql)).fetch_all(self.pool()).await?)
    }
}
