//! What changes between two covenants: the version, roles, meeting types, categories and rules added, removed or
//! changed, each said once. Pure; `covenant diff` and the console's proposal page show it.
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

use super::{Covenant, PolicyLine};

/// The part of the covenant a change is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Version,
    Role,
    MeetingType,
    Category,
    Rule,
    Lookup,
    Intake,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum How {
    Added,
    Removed,
    Changed,
}

/// One change: which part, which item of it, and what changed (for a change, old → new).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
pub struct Change {
    pub part: Part,
    pub how: How,
    pub id: String,
    pub detail: String,
}

/// The changes from `old` to `new`, by part, then how, then id.
pub fn diff(old: &Covenant, new: &Covenant) -> Vec<Change> {
    let mut changes = Vec::new();
    if old.version != new.version {
        changes.push(change(
            Part::Version,
            How::Changed,
            "version",
            format!("{} → {}", old.version, new.version),
        ));
    }
    compare(&mut changes, Part::Role, &described_roles(old), described_roles(new));
    compare(&mut changes, Part::MeetingType, &meeting_types(old), meeting_types(new));
    compare(&mut changes, Part::Category, &categories(old), categories(new));
    compare(&mut changes, Part::Rule, &rules(old), rules(new));
    compare(&mut changes, Part::Lookup, &lookup(old), lookup(new));
    compare(&mut changes, Part::Intake, &intake(old), intake(new));
    changes.sort();
    changes
}

fn change(part: Part, how: How, id: &str, detail: String) -> Change {
    Change {
        part,
        how,
        id: id.to_owned(),
        detail,
    }
}

/// Adds what differs between two descriptions of a part, each item by id.
fn compare(changes: &mut Vec<Change>, part: Part, old: &BTreeMap<String, String>, new: BTreeMap<String, String>) {
    for (id, was) in old {
        match new.get(id) {
            None => changes.push(change(part, How::Removed, id, was.clone())),
            Some(now) if now != was => changes.push(change(part, How::Changed, id, format!("{was} → {now}"))),
            Some(_) => {}
        }
    }
    for (id, now) in new {
        if !old.contains_key(&id) {
            changes.push(change(part, How::Added, &id, now));
        }
    }
}

fn described_roles(c: &Covenant) -> BTreeMap<String, String> {
    c.roles
        .iter()
        .map(|r| (r.id.clone(), format!("chain partner: {}", r.chain_partner)))
        .collect()
}

fn meeting_types(c: &Covenant) -> BTreeMap<String, String> {
    c.meeting_types
        .iter()
        .map(|m| {
            let purposes: Vec<&str> = m.purposes.iter().map(|p| p.id.as_str()).collect();
            let detail = format!(
                "purposes [{}], categories [{}], retention {} days, at most {} days, statistics {}",
                purposes.join(", "),
                m.categories.join(", "),
                m.retention_days,
                m.max_days,
                m.statistics
            );
            (m.id.clone(), detail)
        })
        .collect()
}

fn categories(c: &Covenant) -> BTreeMap<String, String> {
    c.categories
        .iter()
        .map(|k| {
            let detail = format!(
                "confidential {}, consent from [{}], case file {}",
                k.confidential,
                k.requires_consent_from.join(", "),
                k.case_file
            );
            (k.id.clone(), detail)
        })
        .collect()
}

/// A rule by what it allows; its article is what may change.
fn rules(c: &Covenant) -> BTreeMap<String, String> {
    c.rules
        .lines()
        .iter()
        .map(|l| (rule_id(l), l.article.clone()))
        .collect()
}

/// What a rule allows, in the policy's own words: `share politie briefing * identificatie`.
pub fn rule_id(l: &PolicyLine) -> String {
    format!(
        "{} {} {} {} {}",
        l.direction.as_str(),
        l.role,
        l.meeting_type,
        l.purpose,
        l.category
    )
}

fn lookup(c: &Covenant) -> BTreeMap<String, String> {
    let purposes: Vec<&str> = c.lookup_purposes.iter().map(|p| p.id.as_str()).collect();
    BTreeMap::from([(
        "hit/no-hit".to_owned(),
        format!(
            "roles [{}], purposes [{}], {}",
            c.lookup_roles.join(", "),
            purposes.join(", "),
            c.lookup_article
        ),
    )])
}

fn intake(c: &Covenant) -> BTreeMap<String, String> {
    BTreeMap::from([(
        "intake".to_owned(),
        format!(
            "reporting roles [{}], {}",
            c.intake.reporting_roles.join(", "),
            c.intake.article
        ),
    )])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::covenant::Texts;
    use std::path::Path;

    fn shipped() -> (Texts, &'static Path) {
        let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/policies"));
        (Texts::read(dir).unwrap(), dir)
    }

    #[test]
    fn the_same_covenant_has_no_changes() {
        let (texts, dir) = shipped();
        let c = Covenant::from_texts(dir, &texts).unwrap();
        assert!(diff(&c, &c).is_empty());
    }

    #[test]
    fn names_each_changed_rule_version_and_category() {
        let (texts, dir) = shipped();
        let old = Covenant::from_texts(dir, &texts).unwrap();
        let policy = texts
            .policy
            .replace("p, share, dji, briefing, *, detentie, art. 9 lid 1\n", "")
            .replace(
                "p, share, politie, briefing, *, identificatie, art. 9 lid 1",
                "p, share, politie, briefing, *, identificatie, art. 9 lid 4",
            );
        let metadata = texts
            .metadata
            .replacen(&format!("version = \"{}\"", old.version), "version = \"2027-1\"", 1);
        let new = Covenant::from_texts(
            dir,
            &Texts {
                metadata,
                policy,
                ..texts
            },
        )
        .unwrap();
        let changes = diff(&old, &new);
        let find = |part, how, id: &str| changes.iter().find(|c| c.part == part && c.how == how && c.id == id);
        assert!(find(Part::Version, How::Changed, "version").is_some());
        assert!(find(Part::Rule, How::Removed, "share dji briefing * detentie").is_some());
        let moved = find(Part::Rule, How::Changed, "share politie briefing * identificatie").unwrap();
        assert_eq!(moved.detail, "art. 9 lid 1 → art. 9 lid 4");
        assert_eq!(changes.len(), 3, "{changes:?}");
    }
}
