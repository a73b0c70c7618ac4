//! Which records a query selects, decided in one place: [`LogFilter::matches`] over a decoded record. The index
//! (`log_postings`: one row per bundle and term it names, see [`keys_of`]) only narrows the bundles a query reads
//! to those that may hold a match; a term's key is a 64-bit hash, so a collision adds a bundle to read, never a
//! record to the answer. Pure code: no I/O.
use ring::digest;
use std::collections::BTreeSet;

use super::chain::{Entry, Kind, Record, Verdict};

/// Which records to read. Every `Some` (and every non-empty list) narrows; `organisation` and `scope` keep records
/// whose source or recipient they are, `source` and `recipient` those whose source or recipient they are.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub subject: Option<String>,
    /// With `subject`: cases it joined later, each with since when (`Store::cases_joined_by`); their records from
    /// then on match too, although they carry the case's first subject.
    pub subject_cases: Vec<(String, String)>,
    pub case_id: Option<String>,
    pub organisation: Option<String>,
    pub source: Option<String>,
    pub recipient: Option<String>,
    pub scope: Option<String>,
    pub kinds: Vec<Kind>,
    /// Actions of `admin` records (`case.consent`, `organisation.add`, …).
    pub actions: Vec<String>,
    /// Records at or after this time (RFC 3339 as records carry it, compared as text).
    pub from: Option<String>,
    /// Records before this time.
    pub to: Option<String>,
    /// Records with a sequence number at most this (an export's fixed end).
    pub through: Option<i64>,
    /// Only records with `decision = 'allow'`.
    pub allowed_only: bool,
}

/// What the index names of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Term {
    Subject,
    Case,
    /// The source or the recipient organisation.
    Party,
    Action,
    Kind,
}

impl Term {
    fn tag(self) -> &'static [u8] {
        match self {
            Term::Subject => b"subject",
            Term::Case => b"case",
            Term::Party => b"party",
            Term::Action => b"action",
            Term::Kind => b"kind",
        }
    }
}

/// The key of `value` as `term` in `log_postings`: the first eight bytes of
/// `SHA-256("doelpoort-log-posting-v1" ‖ 0 ‖ term ‖ 0 ‖ value)`, big-endian.
fn key(term: Term, value: &str) -> i64 {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for part in [&b"doelpoort-log-posting-v1"[..], term.tag(), value.as_bytes()] {
        ctx.update(&[0]);
        ctx.update(part);
    }
    let mut first = [0u8; 8];
    first.copy_from_slice(ctx.finish().as_ref().get(..8).unwrap_or(&[0; 8]));
    i64::from_be_bytes(first)
}

/// The terms of one record.
fn terms(e: &Entry) -> impl Iterator<Item = (Term, &str)> {
    [
        (Term::Subject, e.subject.as_deref()),
        (Term::Case, e.case_id.as_deref()),
        (Term::Party, e.source_oin.as_deref()),
        (Term::Party, e.recipient_oin.as_deref()),
        (Term::Action, e.action.as_deref()),
        (Term::Kind, Some(e.kind.as_str())),
    ]
    .into_iter()
    .filter_map(|(t, v)| Some((t, v?)))
}

/// The posting keys of a bundle that holds `entries`: each term they name, once.
pub fn keys_of<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Vec<i64> {
    let distinct: BTreeSet<(Term, &str)> = entries.into_iter().flat_map(terms).collect();
    let keys: BTreeSet<i64> = distinct.into_iter().map(|(t, v)| key(t, v)).collect();
    keys.into_iter().collect()
}

impl LogFilter {
    /// Whether `r` is selected.
    pub fn matches(&self, r: &Record) -> bool {
        let e = &r.entry;
        let at = r.at.as_str();
        let equal = |want: &Option<String>, have: &Option<String>| want.is_none() || want == have;
        let party = |want: &Option<String>| want.is_none() || *want == e.source_oin || *want == e.recipient_oin;
        let subject = self.subject.is_none()
            || self.subject == e.subject
            || self
                .subject_cases
                .iter()
                .any(|(case, since)| e.case_id.as_deref() == Some(case.as_str()) && at >= since.as_str());
        subject
            && equal(&self.case_id, &e.case_id)
            && equal(&self.source, &e.source_oin)
            && equal(&self.recipient, &e.recipient_oin)
            && party(&self.organisation)
            && party(&self.scope)
            && (self.kinds.is_empty() || self.kinds.contains(&e.kind))
            && (self.actions.is_empty() || e.action.as_ref().is_some_and(|a| self.actions.contains(a)))
            && self.from.as_deref().is_none_or(|from| at >= from)
            && self.to.as_deref().is_none_or(|to| at < to)
            && self.through.is_none_or(|t| r.seq <= t)
            && (!self.allowed_only || e.decision == Verdict::Allow)
    }

    /// The index's part of the filter: every matching record's bundle has, for each group, a posting of one of its
    /// keys. The most selective group comes first (a subject or case before an organisation or a kind).
    pub fn key_groups(&self) -> Vec<Vec<i64>> {
        let mut groups = Vec::new();
        if let Some(s) = &self.subject {
            let mut g = vec![key(Term::Subject, s)];
            g.extend(self.subject_cases.iter().map(|(c, _)| key(Term::Case, c)));
            groups.push(g);
        }
        if let Some(c) = &self.case_id {
            groups.push(vec![key(Term::Case, c)]);
        }
        if !self.actions.is_empty() {
            groups.push(self.actions.iter().map(|a| key(Term::Action, a)).collect());
        }
        for org in [&self.source, &self.recipient, &self.organisation, &self.scope]
            .into_iter()
            .flatten()
        {
            groups.push(vec![key(Term::Party, org)]);
        }
        if !self.kinds.is_empty() {
            groups.push(self.kinds.iter().map(|k| key(Term::Kind, k.as_str())).collect());
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: i64, at: &str, entry: Entry) -> Record {
        Record {
            seq,
            at: at.into(),
            entry,
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    fn disclosure() -> Entry {
        Entry {
            source_oin: Some("s".into()),
            recipient_oin: Some("r".into()),
            case_id: Some("c1".into()),
            subject: Some("p1".into()),
            ..Entry::new(Kind::Disclosure)
        }
    }

    /// Every filter that selects a record finds, in each of its groups, a key the record's bundle has.
    fn indexed(f: &LogFilter, r: &Record) -> bool {
        let keys = keys_of([&r.entry]);
        f.key_groups().iter().all(|g| g.iter().any(|k| keys.contains(k)))
    }

    #[test]
    fn filters_select_exactly_and_the_index_never_misses_what_they_select() {
        let r = record(7, "2026-12-01T10:00:00.000000Z", disclosure());
        let filters = [
            (LogFilter::default(), true),
            (
                LogFilter {
                    subject: Some("p1".into()),
                    ..LogFilter::default()
                },
                true,
            ),
            (
                LogFilter {
                    subject: Some("p2".into()),
                    subject_cases: vec![("c1".into(), "2026-12-01T09:00:00.000000Z".into())],
                    ..LogFilter::default()
                },
                true,
            ),
            (
                LogFilter {
                    subject: Some("p2".into()),
                    subject_cases: vec![("c1".into(), "2026-12-01T11:00:00.000000Z".into())],
                    ..LogFilter::default()
                },
                false,
            ),
            (
                LogFilter {
                    scope: Some("r".into()),
                    organisation: Some("s".into()),
                    kinds: vec![Kind::Lookup, Kind::Disclosure],
                    ..LogFilter::default()
                },
                true,
            ),
            (
                LogFilter {
                    source: Some("r".into()),
                    ..LogFilter::default()
                },
                false,
            ),
            (
                LogFilter {
                    from: Some("2026-12-01T10:00:00.000000Z".into()),
                    to: Some("2026-12-01T10:00:00.000001Z".into()),
                    through: Some(7),
                    allowed_only: true,
                    ..LogFilter::default()
                },
                true,
            ),
            (
                LogFilter {
                    to: Some("2026-12-01T10:00:00.000000Z".into()),
                    ..LogFilter::default()
                },
                false,
            ),
            (
                LogFilter {
                    through: Some(6),
                    ..LogFilter::default()
                },
                false,
            ),
            (
                LogFilter {
                    actions: vec!["case.close".into()],
                    ..LogFilter::default()
                },
                false,
            ),
        ];
        for (f, selected) in filters {
            assert_eq!(f.matches(&r), selected, "{f:?}");
            if selected {
                assert!(indexed(&f, &r), "{f:?}");
            }
        }
        let mut refusal = Entry::new(Kind::Refusal);
        refusal.action = Some("case.close".into());
        let denied = record(8, "2026-12-01T10:00:00.000000Z", refusal);
        let f = LogFilter {
            actions: vec!["case.open".into(), "case.close".into()],
            ..LogFilter::default()
        };
        assert!(f.matches(&denied) && indexed(&f, &denied));
        let allowed = LogFilter {
            allowed_only: true,
            ..f
        };
        assert!(!allowed.matches(&denied));
    }

    #[test]
    fn a_bundle_names_each_term_once_and_terms_differ_by_what_they_name() {
        let keys = keys_of([&disclosure(), &disclosure()]);
        // subject, case, two parties, kind
        assert_eq!(keys.len(), 5);
        assert_ne!(key(Term::Subject, "x"), key(Term::Case, "x"));
        assert_eq!(key(Term::Party, "s"), key(Term::Party, "s"));
    }
}
