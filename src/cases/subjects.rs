//! Whom a report is about: persons with a BSN, or without one (`geen_gba`, `rni`, `onbekend`), identified by a
//! keyed pseudonym over the normalised name and birth date. Both kinds become keyed pseudonyms, so hit/no-hit,
//! joining an open case and the audit work the same for every subject.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::CaseError;
use crate::crypto::Pseudonymiser;
use crate::types::{Bsn, NoBsnReason};

/// Longest name part of a person without a BSN, in characters.
const NAME_MAX: usize = 200;

/// A person: `{"bsn"}`, or `{"no_bsn": {…}}` for a person without one.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// Nine digits passing the elfproef.
    #[schema(pattern = "^[0-9]{9}$", example = "123456782")]
    pub bsn: Option<String>,
    pub no_bsn: Option<NoBsn>,
}

/// A person without a BSN, as the reporter knows them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoBsn {
    pub reason: NoBsnReason,
    #[schema(min_length = 1, max_length = 200)]
    pub family_name: String,
    #[schema(min_length = 1, max_length = 200)]
    pub given_name: String,
    /// `YYYY-MM-DD`.
    #[schema(format = Date, example = "1990-04-01")]
    pub birth_date: String,
}

/// A subject checked and pseudonymised; `sealed` is what is kept (sealed) of it with the case.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub pseudonym: String,
    pub sealed: serde_json::Value,
}

impl Subject {
    /// The subject's pseudonym and the form kept sealed; `field` names it in errors.
    ///
    /// # Errors
    /// Neither or both kinds, an invalid BSN, or a name or birth date that does not parse.
    pub fn resolve(&self, pseudonyms: &Pseudonymiser, field: &str) -> Result<Resolved, CaseError> {
        match (&self.bsn, &self.no_bsn) {
            (Some(bsn), None) => {
                let bsn: Bsn = bsn.parse().map_err(|_| CaseError::InvalidBsn)?;
                Ok(Resolved {
                    pseudonym: pseudonyms.pseudonym(&bsn),
                    sealed: serde_json::json!({"bsn": bsn.expose()}),
                })
            }
            (None, Some(person)) => {
                let identity = person.identity(field)?;
                Ok(Resolved {
                    pseudonym: pseudonyms.pseudonym_without_bsn(&identity),
                    sealed: serde_json::json!({"no_bsn": person}),
                })
            }
            _ => Err(CaseError::Validation(format!("{field}: give either `bsn` or `no_bsn`"))),
        }
    }
}

impl NoBsn {
    /// Family name, given name and birth date, normalised (case, accents of Latin letters, spacing and
    /// punctuation do not count), joined by a unit separator.
    fn identity(&self, field: &str) -> Result<String, CaseError> {
        let date = time::Date::parse(
            &self.birth_date,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| CaseError::Validation(format!("{field}.no_bsn.birth_date: a date YYYY-MM-DD is required")))?;
        let name = |part: &str, what: &str| {
            let n = normalise(part);
            if n.is_empty() || part.chars().count() > NAME_MAX {
                return Err(CaseError::Validation(format!(
                    "{field}.no_bsn.{what}: 1–{NAME_MAX} characters with a letter are required"
                )));
            }
            Ok(n)
        };
        Ok(format!(
            "{}\u{1f}{}\u{1f}{date}",
            name(&self.family_name, "family_name")?,
            name(&self.given_name, "given_name")?
        ))
    }
}

/// Lower case, Latin accents dropped, only letters and digits, words separated by one space.
fn normalise(s: &str) -> String {
    let mut out = String::new();
    for word in s.split(|c: char| !c.is_alphanumeric()) {
        let word: String = word.chars().flat_map(char::to_lowercase).map(plain).collect();
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word);
    }
    out
}

/// A Latin letter without its accent.
fn plain(c: char) -> char {
    const ACCENTED: [(&str, char); 7] = [
        ("àáâãäåā", 'a'),
        ("çćč", 'c'),
        ("èéêëēė", 'e'),
        ("ìíîïī", 'i'),
        ("ñń", 'n'),
        ("òóôõöøō", 'o'),
        ("ùúûüū", 'u'),
    ];
    ACCENTED
        .iter()
        .find(|(set, _)| set.contains(c))
        .map_or(c, |(_, base)| *base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise_so_spelling_variants_meet() {
        assert_eq!(normalise("  Jansen-De Vries "), "jansen de vries");
        assert_eq!(normalise("Öztürk"), "ozturk");
        assert_eq!(normalise("José"), normalise("jose"));
        assert_eq!(normalise("--"), "");
    }

    #[test]
    fn a_subject_is_one_kind_or_refused() {
        let p = Pseudonymiser::new(&[7u8; 32]);
        let person = NoBsn {
            reason: NoBsnReason::GeenGba,
            family_name: "Öztürk".into(),
            given_name: "Ali".into(),
            birth_date: "1990-04-01".into(),
        };
        let no_bsn = Subject {
            bsn: None,
            no_bsn: Some(person.clone()),
        };
        let variant = Subject {
            bsn: None,
            no_bsn: Some(NoBsn {
                reason: NoBsnReason::Onbekend,
                family_name: "ozturk".into(),
                ..person.clone()
            }),
        };
        let a = no_bsn.resolve(&p, "subject").unwrap();
        assert_eq!(a.pseudonym, variant.resolve(&p, "subject").unwrap().pseudonym);
        let bsn = Subject {
            bsn: Some("123456782".into()),
            no_bsn: None,
        };
        assert_ne!(bsn.resolve(&p, "subject").unwrap().pseudonym, a.pseudonym);
        let both = Subject {
            bsn: Some("123456782".into()),
            no_bsn: Some(person.clone()),
        };
        assert!(both.resolve(&p, "subject").is_err());
        let bad_date = Subject {
            bsn: None,
            no_bsn: Some(NoBsn {
                birth_date: "1-4-1990".into(),
                ..person
            }),
        };
        assert!(bad_date.resolve(&p, "subject").is_err());
    }
}
