//! Reading the disclosure log, as privacy officers and `doelpoort audit export` do: filters given as text are
//! parsed into a [`LogFilter`] (the BSN becomes its pseudonym here and goes no further), a partner's officer is
//! scoped to its own organisation, pages are chained by sealed cursors, and every read is itself a record.
use ring::digest;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::actor::AnyActor;
use super::filter::LogFilter;
use super::sql::Records;
use crate::crypto::Pseudonymiser;
use crate::log::chain::{Entry, Kind, Record};
use crate::types::clock::rfc3339;
use crate::types::{Bsn, Oin};

/// Records per page when the caller names no limit, and at most.
pub const DEFAULT_PAGE: i64 = 100;
pub const MAX_PAGE: i64 = 1000;
/// Records a subject report covers at most; beyond this it says it was truncated.
pub const SUBJECT_REPORT_MAX: i64 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    #[error("bsn: not a valid BSN (nine digits passing the elfproef)")]
    InvalidBsn,
    #[error("{0}")]
    Invalid(String),
    #[error("cursor: not a cursor of this query (altered, or made for other filters)")]
    Cursor,
}

fn invalid(field: &str, problem: &str) -> AuditError {
    AuditError::Invalid(format!("{field}: {problem}"))
}

/// The filters of `GET /v1/audit/disclosures` and `audit export`, as text.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Filters {
    /// The data subject's BSN (nine digits passing the elfproef); matched through its pseudonym, never stored.
    #[param(pattern = "^[0-9]{9}$")]
    pub bsn: Option<String>,
    #[param(min_length = 1, max_length = 128, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]+$")]
    pub case_id: Option<String>,
    /// OIN of an organisation that was source or recipient.
    #[param(pattern = "^[0-9]{20}$")]
    pub organisation: Option<String>,
    /// OIN of the organisation the data came from.
    #[param(pattern = "^[0-9]{20}$")]
    pub source: Option<String>,
    /// OIN of the organisation the data went to.
    #[param(pattern = "^[0-9]{20}$")]
    pub recipient: Option<String>,
    /// Comma-separated kinds: `disclosure`, `refusal`, `lookup`, `admin`.
    #[param(pattern = "^ *(disclosure|refusal|lookup|admin) *( *, *(disclosure|refusal|lookup|admin) *)*$")]
    pub kind: Option<String>,
    /// Comma-separated actions of `admin` records, e.g. `organisation.add,case.consent`: at most 20, each 1–128
    /// characters.
    #[param(pattern = "^[!-+--~]{1,128}(,[!-+--~]{1,128}){0,19}$")]
    pub action: Option<String>,
    /// Records at or after this instant (RFC 3339), or from the start of this UTC day (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Records before this instant (RFC 3339), or up to the end of this UTC day (`YYYY-MM-DD`, inclusive).
    pub to: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Records per page, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// A parsed query: what to match, from where, and how many.
#[derive(Debug, Clone)]
pub struct Query {
    pub filter: LogFilter,
    /// Records with a sequence number below this (newest first).
    pub before: i64,
    pub limit: i64,
}

impl Filters {
    /// Parses the filters; `scope` (the officer's own OIN, `None` for the host's FG or the operator) narrows to
    /// records the organisation was source or recipient of.
    ///
    /// # Errors
    /// [`AuditError`] naming the filter that does not parse, or a cursor that was not made for this query.
    pub fn parse(&self, pseudonyms: &Pseudonymiser, scope: Option<&Oin>) -> Result<Query, AuditError> {
        let filter = LogFilter {
            subject: self.subject(pseudonyms)?,
            subject_cases: Vec::new(),
            case_id: self.case_id.as_deref().map(|c| text("case_id", c)).transpose()?,
            organisation: oin("organisation", self.organisation.as_deref())?,
            source: oin("source", self.source.as_deref())?,
            recipient: oin("recipient", self.recipient.as_deref())?,
            scope: scope.map(Oin::to_string),
            kinds: kinds(self.kind.as_deref())?,
            actions: self.action.as_deref().map(actions).transpose()?.unwrap_or_default(),
            from: self
                .from
                .as_deref()
                .map(|t| instant("from", t, Day::Start))
                .transpose()?,
            to: self.to.as_deref().map(|t| instant("to", t, Day::Next)).transpose()?,
            through: None,
            allowed_only: false,
        };
        let limit = self.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(invalid("limit", "must be 1–1000"));
        }
        let before = match &self.cursor {
            None => i64::MAX,
            Some(c) => open_cursor(pseudonyms, c, &filter)?,
        };
        Ok(Query { filter, before, limit })
    }

    fn subject(&self, pseudonyms: &Pseudonymiser) -> Result<Option<String>, AuditError> {
        let Some(bsn) = &self.bsn else { return Ok(None) };
        let bsn: Bsn = bsn.parse().map_err(|_| AuditError::InvalidBsn)?;
        Ok(Some(pseudonyms.pseudonym(&bsn)))
    }
}

/// Parses a BSN into its pseudonym (subject report).
///
/// # Errors
/// [`AuditError::InvalidBsn`].
pub fn subject_of(pseudonyms: &Pseudonymiser, bsn: &str) -> Result<String, AuditError> {
    let bsn: Bsn = bsn.parse().map_err(|_| AuditError::InvalidBsn)?;
    Ok(pseudonyms.pseudonym(&bsn))
}

fn text(field: &str, value: &str) -> Result<String, AuditError> {
    if value.is_empty() || value.chars().count() > 128 || value.chars().any(char::is_control) {
        return Err(invalid(field, "must be 1–128 printable characters"));
    }
    Ok(value.to_owned())
}

fn oin(field: &str, value: Option<&str>) -> Result<Option<String>, AuditError> {
    value
        .map(|o| {
            o.parse::<Oin>()
                .map(|o| o.to_string())
                .map_err(|_| invalid(field, "not an OIN (20 digits)"))
        })
        .transpose()
}

/// At most 20 actions, comma-separated, each 1–128 visible ASCII characters (actions are dotted names).
fn actions(value: &str) -> Result<Vec<String>, AuditError> {
    let action = |a: &str| {
        let visible = a.bytes().all(|b| b.is_ascii_graphic() && b != b',');
        if a.is_empty() || a.len() > 128 || !visible {
            return Err(invalid("action", "each action is 1–128 visible ASCII characters"));
        }
        Ok(a.to_owned())
    };
    let actions: Vec<String> = value.split(',').map(action).collect::<Result<_, _>>()?;
    if actions.len() > 20 {
        return Err(invalid("action", "at most 20 actions"));
    }
    Ok(actions)
}

fn kinds(value: Option<&str>) -> Result<Vec<Kind>, AuditError> {
    let Some(value) = value else { return Ok(Vec::new()) };
    value
        .split(',')
        .map(|k| {
            Kind::parse(k.trim_matches(' '))
                .ok_or_else(|| invalid("kind", "must be disclosure, refusal, lookup or admin"))
        })
        .collect()
}

/// Which instant a bare date stands for: its first moment (`from`) or the first moment of the next day (`to`,
/// whose bound is exclusive, so that the day itself is included).
#[derive(Clone, Copy)]
enum Day {
    Start,
    Next,
}

/// An RFC 3339 instant, or a `YYYY-MM-DD` day in UTC, in the one text form the log stores, so that text comparison
/// is time comparison.
fn instant(field: &str, value: &str, day: Day) -> Result<String, AuditError> {
    let wrong = || {
        invalid(
            field,
            "not a date (2026-11-23) or RFC 3339 date-time (2026-11-23T09:00:00Z)",
        )
    };
    if let Ok(at) = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339) {
        return Ok(rfc3339(at));
    }
    let date =
        time::Date::parse(value, time::macros::format_description!("[year]-[month]-[day]")).map_err(|_| wrong())?;
    let date = match day {
        Day::Start => date,
        Day::Next => date.next_day().ok_or_else(wrong)?,
    };
    Ok(rfc3339(date.midnight().assume_utc()))
}

/// A digest of everything a cursor's page depends on, so a cursor cannot be replayed against other filters
/// (or another organisation's scope).
fn fingerprint(filter: &LogFilter) -> String {
    let kinds: Vec<&str> = filter.kinds.iter().map(|k| k.as_str()).collect();
    let text = serde_json::json!([
        filter.subject,
        filter.case_id,
        filter.organisation,
        filter.source,
        filter.recipient,
        filter.scope,
        kinds,
        filter.actions,
        filter.from,
        filter.to,
        filter.through,
        filter.allowed_only
    ])
    .to_string();
    hex::encode(
        digest::digest(&digest::SHA256, text.as_bytes())
            .as_ref()
            .get(..12)
            .unwrap_or_default(),
    )
}

/// The cursor that continues below `seq` with the same filter.
pub fn cursor(pseudonyms: &Pseudonymiser, filter: &LogFilter, seq: i64) -> String {
    pseudonyms.seal_token(&format!("v1:{seq}:{}", fingerprint(filter)))
}

fn open_cursor(pseudonyms: &Pseudonymiser, token: &str, filter: &LogFilter) -> Result<i64, AuditError> {
    let payload = pseudonyms.open_token(token).ok_or(AuditError::Cursor)?;
    let mut parts = payload.splitn(3, ':');
    match (parts.next(), parts.next().and_then(|s| s.parse().ok()), parts.next()) {
        (Some("v1"), Some(seq), Some(print)) if print == fingerprint(filter) => Ok(seq),
        _ => Err(AuditError::Cursor),
    }
}

/// One page of records and, when there may be more, the cursor of the next.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page {
    pub records: Vec<Record>,
    pub next_cursor: Option<String>,
}

impl Page {
    pub fn new(pseudonyms: &Pseudonymiser, query: &Query, records: Vec<Record>) -> Page {
        let full = records.len() as i64 == query.limit;
        let next_cursor = match records.last() {
            Some(last) if full => Some(cursor(pseudonyms, &query.filter, last.seq)),
            _ => None,
        };
        Page { records, next_cursor }
    }
}

/// The record of a read of the audit log: who read, which filters (the subject only as pseudonym), how much
/// (`None` for an export, which is recorded before it starts).
pub fn read_entry(action: &str, actor: &AnyActor, filter: &LogFilter, returned: Option<usize>) -> Entry {
    let kinds: Vec<&str> = filter.kinds.iter().map(|k| k.as_str()).collect();
    let detail = serde_json::json!({
        "organisation": filter.organisation,
        "source": filter.source,
        "recipient": filter.recipient,
        "kinds": kinds,
        "actions": filter.actions,
        "from": filter.from,
        "to": filter.to,
        "returned": returned,
    });
    Entry {
        subject: filter.subject.clone(),
        case_id: filter.case_id.clone(),
        ..actor.admin_entry(action, filter.scope.as_deref().unwrap_or("all"), &detail)
    }
}

/// The filter of a subject report: releases of data about one person (disclosures and hit/no-hit answers).
pub fn subject_filter(subject: String, scope: Option<&Oin>) -> LogFilter {
    LogFilter {
        subject: Some(subject),
        scope: scope.map(Oin::to_string),
        kinds: vec![Kind::Disclosure, Kind::Lookup],
        allowed_only: true,
        ..LogFilter::default()
    }
}

/// How `audit export` writes records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line, the fields of [`Record`].
    Jsonl,
    /// A header line (the field names), then one row per record; categories as their JSON text.
    Csv,
    /// One Logboek Dataverwerkingen entry per line ([`super::ldv`], `docs/ldv.schema.json`).
    Ldv,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("cannot write the export: {0}")]
    Write(#[from] std::io::Error),
    #[error("cannot write the export: {0}")]
    Csv(#[from] csv::Error),
}

fn csv_row(r: &Record) -> Vec<String> {
    r.stored_fields()
        .into_iter()
        .map(|f| spreadsheet_safe(f.unwrap_or_default()))
        .collect()
}

/// A cell a spreadsheet will not run: one starting with `=`, `+`, `-`, `@`, a tab or a carriage return (a formula
/// to Excel and LibreOffice) gets a leading `'`, which they show as text (OWASP's CSV-injection advice).
fn spreadsheet_safe(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// Writes every record matching `filter`, oldest first, and returns how many.
///
/// # Errors
/// The database could not be read or the output not written.
pub async fn export<W: std::io::Write>(
    records: &Records,
    filter: &LogFilter,
    format: Format,
    out: W,
) -> Result<u64, ExportError> {
    use std::io::Write as _;
    enum Sink<W: std::io::Write> {
        Csv(Box<csv::Writer<W>>),
        Jsonl(std::io::BufWriter<W>),
    }
    let mut sink = match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(crate::log::chain::FIELDS)?;
            Sink::Csv(Box::new(w))
        }
        Format::Jsonl | Format::Ldv => Sink::Jsonl(std::io::BufWriter::new(out)),
    };
    let (mut after, mut count) = (0i64, 0u64);
    loop {
        let page = records.query(filter, after, false, MAX_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for r in &page {
            match &mut sink {
                Sink::Csv(w) => w.write_record(csv_row(r))?,
                Sink::Jsonl(w) if format == Format::Ldv => {
                    serde_json::to_writer(&mut *w, &super::ldv::entry(r)).map_err(std::io::Error::from)?;
                    w.write_all(b"\n")?;
                }
                Sink::Jsonl(w) => {
                    serde_json::to_writer(&mut *w, r).map_err(std::io::Error::from)?;
                    w.write_all(b"\n")?;
                }
            }
            count += 1;
        }
    }
    match &mut sink {
        Sink::Csv(w) => w.flush()?,
        Sink::Jsonl(w) => w.flush()?,
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_that_a_spreadsheet_would_run_is_text() {
        for formula in ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(spreadsheet_safe(formula.into()), format!("'{formula}"));
        }
        for plain in ["politie-1", "2026-01-01T00:00:00Z", "{\"a\":1}", ""] {
            assert_eq!(spreadsheet_safe(plain.into()), plain);
        }
    }

    fn p() -> Pseudonymiser {
        Pseudonymiser::new(&[7u8; 32])
    }

    #[test]
    fn parses_filters_and_names_what_does_not() {
        let f = Filters {
            bsn: Some("123456782".into()),
            kind: Some("disclosure, lookup".into()),
            from: Some("2026-11-23T10:00:00+01:00".into()),
            ..Filters::default()
        };
        let q = f.parse(&p(), None).unwrap();
        assert_eq!(q.filter.kinds, vec![Kind::Disclosure, Kind::Lookup]);
        assert_eq!(q.filter.from.as_deref(), Some("2026-11-23T09:00:00.000000Z"));
        assert_ne!(q.filter.subject.as_deref(), Some("123456782"));
        let bad = |f: Filters| f.parse(&p(), None).unwrap_err();
        assert_eq!(
            bad(Filters {
                bsn: Some("123456789".into()),
                ..Filters::default()
            }),
            AuditError::InvalidBsn
        );
        for f in [
            Filters {
                kind: Some("gossip".into()),
                ..Filters::default()
            },
            Filters {
                from: Some("yesterday".into()),
                ..Filters::default()
            },
            Filters {
                organisation: Some("42".into()),
                ..Filters::default()
            },
            Filters {
                limit: Some(0),
                ..Filters::default()
            },
        ] {
            assert!(matches!(bad(f), AuditError::Invalid(_)));
        }
    }

    #[test]
    fn cursors_are_bound_to_their_filter() {
        let q = Filters::default().parse(&p(), None).unwrap();
        let c = cursor(&p(), &q.filter, 42);
        let again = Filters {
            cursor: Some(c.clone()),
            ..Filters::default()
        };
        assert_eq!(again.parse(&p(), None).unwrap().before, 42);
        let scoped: Oin = "00000099000000000005".parse().unwrap();
        assert_eq!(again.parse(&p(), Some(&scoped)).unwrap_err(), AuditError::Cursor);
        let forged = Filters {
            cursor: Some(format!("x{c}")),
            ..Filters::default()
        };
        assert_eq!(forged.parse(&p(), None).unwrap_err(), AuditError::Cursor);
    }
}
