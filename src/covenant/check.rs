//! `doelpoort covenant check`: the three covenant files must agree. Every problem names its file and, where
//! there is one, its line: unknown ids, rules that can never apply, categories nobody may share or receive.
use std::collections::{HashMap, HashSet};
use std::fmt;

use super::rules::{Direction, PolicyLine};
use super::{Metadata, METADATA_FILE, MODEL_FILE, POLICY_FILE};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: &'static str,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// The request and policy definitions the compiled index implements; another model would mean other rules.
const REQUEST: &str = "r = dir, role, mt, purpose, cat";
const POLICY: &str = "p = dir, role, mt, purpose, cat, article";
const MATCHER: &str = "m = r.dir == p.dir && r.role == p.role && r.mt == p.mt && (p.purpose == \"*\" || r.purpose == \
                       p.purpose) && r.cat == p.cat";

/// Every inconsistency between metadata, model and policy; empty when they agree.
pub fn check(meta: &Metadata, model: &str, lines: &[Result<PolicyLine, (usize, String)>]) -> Vec<Problem> {
    let mut problems = check_metadata(meta);
    problems.extend(check_model(model));
    problems.extend(check_rules(meta, lines));
    problems
}

fn meta_problem(message: String) -> Problem {
    Problem {
        file: METADATA_FILE,
        line: None,
        message,
    }
}

fn duplicates<'a>(what: &str, ids: impl Iterator<Item = &'a str>) -> Vec<Problem> {
    let mut seen = HashSet::new();
    ids.filter(|id| !seen.insert(*id))
        .map(|id| meta_problem(format!("{what} `{id}` is defined twice")))
        .collect()
}

fn check_metadata(meta: &Metadata) -> Vec<Problem> {
    let roles: HashSet<&str> = meta.roles.iter().map(|r| r.id.as_str()).collect();
    let categories: HashSet<&str> = meta.categories.iter().map(|c| c.id.as_str()).collect();
    let mut problems = duplicates("role", meta.roles.iter().map(|r| r.id.as_str()));
    problems.extend(duplicates(
        "meeting type",
        meta.meeting_types.iter().map(|m| m.id.as_str()),
    ));
    problems.extend(duplicates("category", meta.categories.iter().map(|c| c.id.as_str())));
    problems.extend(duplicates(
        "closure outcome",
        meta.closure_outcomes.iter().map(|o| o.id.as_str()),
    ));
    let mut unknown = |what: &str, id: &str, known: &HashSet<&str>, place: &str| {
        if !known.contains(id) {
            problems.push(meta_problem(format!("{place} names unknown {what} `{id}`")));
        }
    };
    unknown("role", &meta.host_role, &roles, "host_role");
    for r in &meta.lookup_roles {
        unknown("role", r, &roles, "lookup_roles");
    }
    for m in &meta.meeting_types {
        for c in &m.categories {
            unknown("category", c, &categories, &format!("meeting type `{}`", m.id));
        }
    }
    for c in &meta.categories {
        for r in &c.requires_consent_from {
            unknown("role", r, &roles, &format!("category `{}` requires_consent_from", c.id));
        }
    }
    for m in &meta.meeting_types {
        problems.extend(duplicates(
            &format!("purpose of meeting type `{}`", m.id),
            m.purposes.iter().map(|p| p.id.as_str()),
        ));
        if m.purposes.is_empty() {
            problems.push(meta_problem(format!("meeting type `{}` has no purpose", m.id)));
        }
    }
    problems.extend(duplicates(
        "lookup purpose",
        meta.lookup_purposes.iter().map(|p| p.id.as_str()),
    ));
    if !meta.lookup_roles.is_empty() && (meta.lookup_purposes.is_empty() || meta.lookup_article.trim().is_empty()) {
        problems.push(meta_problem(
            "lookup_roles may do hit/no-hit, so lookup_purposes and lookup_article are required".into(),
        ));
    }
    for r in &meta.case_roles {
        if roles.contains(r.as_str()) {
            problems.push(meta_problem(format!("case role `{r}` is also a covenant role")));
        }
    }
    problems.extend(check_process(meta, &roles));
    if meta.version.trim().is_empty() {
        problems.push(meta_problem("version is empty".into()));
    }
    problems
}

/// The ZVH process's parts: the intake rule, the weighing, monitoring, case-file categories and meeting lengths.
fn check_process(meta: &Metadata, roles: &HashSet<&str>) -> Vec<Problem> {
    let mut problems = Vec::new();
    let meeting = |id: &str| meta.meeting_types.iter().find(|m| m.id == id);
    let (intake, weighing, monitoring) = (&meta.intake, &meta.weighing, &meta.monitoring);
    if intake.article.trim().is_empty() || intake.reporting_roles.is_empty() {
        problems.push(meta_problem("[intake] needs an article and reporting_roles".into()));
    }
    for r in &intake.reporting_roles {
        if !roles.contains(r.as_str()) {
            problems.push(meta_problem(format!(
                "[intake] reporting_roles names unknown role `{r}`"
            )));
        }
    }
    if meeting(&weighing.meeting_type).is_none() {
        problems.push(meta_problem(format!(
            "[weighing] meeting_type names unknown meeting type `{}`",
            weighing.meeting_type
        )));
    }
    problems.extend(duplicates(
        "weighing outcome",
        weighing.outcomes.iter().map(|o| o.id.as_str()),
    ));
    problems.extend(duplicates(
        "weighing reason",
        weighing.reasons.iter().map(|o| o.id.as_str()),
    ));
    if !weighing.outcomes.iter().any(|o| o.id == weighing.declined_outcome) || weighing.reasons.is_empty() {
        problems.push(meta_problem(
            "[weighing] declined_outcome must be one of its outcomes, and it needs reasons".into(),
        ));
    }
    match meeting(&monitoring.plan_meeting_type) {
        Some(m) if m.categories.contains(&monitoring.plan_category) => {}
        _ => problems.push(meta_problem(format!(
            "[monitoring] plan_category `{}` must be a category of plan_meeting_type `{}`",
            monitoring.plan_category, monitoring.plan_meeting_type
        ))),
    }
    if meeting(&monitoring.meeting_type).is_none() || monitoring.moments.is_empty() {
        problems.push(meta_problem(
            "[monitoring] meeting_type must be a meeting type, and it needs moments".into(),
        ));
    }
    problems.extend(duplicates(
        "monitoring moment",
        monitoring.moments.iter().map(|m| m.id.as_str()),
    ));
    let track = meeting(&monitoring.meeting_type).map_or(0, |m| m.max_days);
    if let Some(late) = monitoring.moments.iter().find(|m| m.days >= track) {
        problems.push(meta_problem(format!(
            "[monitoring] moment `{}` ({} days) falls after the monitoring track ends ({track} days)",
            late.id, late.days
        )));
    }
    if !meta
        .categories
        .iter()
        .any(|c| c.id == monitoring.plan_category && c.case_file)
    {
        problems.push(meta_problem(format!(
            "[monitoring] plan_category `{}` must be a case-file category",
            monitoring.plan_category
        )));
    }
    for m in &meta.meeting_types {
        if !(1..=400).contains(&m.max_days) {
            problems.push(meta_problem(format!("meeting type `{}`: max_days must be 1–400", m.id)));
        }
    }
    problems
}

fn check_model(model: &str) -> Vec<Problem> {
    let normal: HashSet<String> = model
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    [REQUEST, POLICY, MATCHER]
        .iter()
        .filter(|expected| !normal.contains(**expected))
        .map(|expected| Problem {
            file: MODEL_FILE,
            line: None,
            message: format!("must contain `{expected}` (the gateway compiles rules of this model)"),
        })
        .collect()
}

fn check_rules(meta: &Metadata, lines: &[Result<PolicyLine, (usize, String)>]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut seen: HashMap<(Direction, &str, &str, &str, &str), usize> = HashMap::new();
    let mut shared: HashSet<&str> = HashSet::new();
    let mut received: HashSet<&str> = HashSet::new();
    for l in lines {
        let l = match l {
            Ok(l) => l,
            Err((line, message)) => {
                problems.push(at(*line, message.clone()));
                continue;
            }
        };
        problems.extend(check_rule(meta, l));
        let key = (
            l.direction,
            l.role.as_str(),
            l.meeting_type.as_str(),
            l.purpose.as_str(),
            l.category.as_str(),
        );
        if let Some(first) = seen.insert(key, l.line) {
            problems.push(at(l.line, format!("repeats the rule of line {first}")));
        }
        match l.direction {
            Direction::Share => shared.insert(l.category.as_str()),
            Direction::Receive => received.insert(l.category.as_str()),
        };
    }
    for c in &meta.categories {
        if !shared.contains(c.id.as_str()) {
            problems.push(meta_problem(format!(
                "category `{}`: no rule lets anyone share it",
                c.id
            )));
        }
        if !received.contains(c.id.as_str()) {
            problems.push(meta_problem(format!(
                "category `{}`: no rule lets anyone receive it",
                c.id
            )));
        }
    }
    problems
}

/// A problem on line `line` of the policy.
fn at(line: usize, message: String) -> Problem {
    Problem {
        file: POLICY_FILE,
        line: Some(line),
        message,
    }
}

/// What is wrong with one rule on its own: ids the metadata does not know, or a rule that can never apply.
fn check_rule(meta: &Metadata, l: &PolicyLine) -> Vec<Problem> {
    let mut problems = Vec::new();
    let covenant_role = meta.roles.iter().any(|r| r.id == l.role);
    let case_role = meta.case_roles.contains(&l.role);
    if !covenant_role && !case_role {
        problems.push(at(l.line, format!("unknown role `{}`", l.role)));
    } else if case_role && l.direction == Direction::Receive {
        problems.push(at(
            l.line,
            format!("case role `{}` can never apply to receiving (it only shares)", l.role),
        ));
    }
    if !meta.categories.iter().any(|c| c.id == l.category) {
        problems.push(at(l.line, format!("unknown category `{}`", l.category)));
    }
    let Some(m) = meta.meeting_types.iter().find(|m| m.id == l.meeting_type) else {
        problems.push(at(l.line, format!("unknown meeting type `{}`", l.meeting_type)));
        return problems;
    };
    if l.purpose != "*" && !m.purposes.iter().any(|p| p.id == l.purpose) {
        problems.push(at(
            l.line,
            format!("purpose `{}` is not a purpose of meeting type `{}`", l.purpose, m.id),
        ));
    }
    if !m.categories.contains(&l.category) {
        problems.push(at(
            l.line,
            format!(
                "can never apply: meeting type `{}` does not list category `{}`",
                m.id, l.category
            ),
        ));
    }
    problems
}
