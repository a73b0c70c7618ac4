//! The covenant's evaluation for the steering group, and a dry run of a new covenant over history. Both read the
//! decisions the log recorded (grouped, without subjects or cases) and ask the covenant again what it decides for
//! each recorded flow: who shared which category with whom, in which meeting type, for which purpose — a flow per
//! category of a disclosure, an intake read, a hit/no-hit question.
//!
//! A replay knows only what the record says. A flow that was allowed met every fact the decision needs (open
//! meeting, agenda, membership, attendance, a signature), so it is asked again with those facts true; consent
//! counts as given only where the old covenant required it. A refusal is replayed only when a rule refused it
//! (`forbidden_category`, `consent_required`, `validation_failed`, `lookup_not_allowed`); one refused on facts
//! (not a member, meeting closed, not signed, …) would be refused by any covenant and is counted as not replayed.
//! Signatures are left out of the replay: a new version is signed by nobody yet, which the evaluation lists apart.
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use utoipa::ToSchema;

use crate::covenant::decision::{Decision, Party, Question};
use crate::covenant::diff::{self, rule_id, Change};
use crate::covenant::{Covenant, Direction, PolicyLine, INTAKE_CATEGORY, INTAKE_PURPOSE};
use crate::log::chain::Kind;
use crate::log::{DecisionGroup, Records};
use crate::orgs::registry::Snapshot;
use crate::store::{Store, StoreError};
use crate::types::OrgStatus;

/// Refusals of the same flow that recur this often are listed: a sign the covenant blocks work that is needed.
pub const RECURRING: i64 = 3;

/// A half-open window of dates `[from, to)` over the log; open ends reach the first and the last record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Window {
    /// First day, `YYYY-MM-DD`, or none.
    pub from: Option<String>,
    /// Day after the last, `YYYY-MM-DD`, or none.
    pub to: Option<String>,
}

impl Window {
    /// # Errors
    /// A date is not `YYYY-MM-DD`, or `to` does not lie after `from`.
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Window, String> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let date = |name: &str, v: Option<&str>| match v.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => time::Date::parse(v, &format)
                .map(|d| Some(d.to_string()))
                .map_err(|_| format!("{name}: a date YYYY-MM-DD")),
        };
        let window = Window {
            from: date("from", from)?,
            to: date("to", to)?,
        };
        if let (Some(f), Some(t)) = (&window.from, &window.to) {
            if t <= f {
                return Err("to: must lie after from".into());
            }
        }
        Ok(window)
    }

    /// The window as instants the log's `at` compares with (its fixed-width form, so a record at midnight counts).
    pub fn bounds(&self) -> (String, String) {
        let at =
            |d: &Option<String>, open: &str| d.as_ref().map_or(open.to_owned(), |d| format!("{d}T00:00:00.000000Z"));
        (at(&self.from, "0000"), at(&self.to, "9999"))
    }
}

/// The decisions the log recorded in `window`, grouped (see [`Records::decisions`]).
///
/// # Errors
/// The database refused.
pub async fn recorded(store: &Store, window: &Window) -> Result<Vec<DecisionGroup>, StoreError> {
    let (from, to) = window.bounds();
    Records::new(store.clone()).decisions(&from, &to).await
}

/// What a recorded flow asked of the covenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ask<'a> {
    Exchange {
        meeting_type: &'a str,
        purpose: &'a str,
        category: &'a str,
    },
    Intake,
    Lookup {
        purpose: &'a str,
    },
}

/// One recorded flow, with the roles of its organisations today and how many records hold it.
struct Flow<'a> {
    ask: Ask<'a>,
    source_oin: Option<&'a str>,
    recipient_oin: Option<&'a str>,
    source: &'a [String],
    recipient: &'a [String],
    allowed: bool,
    /// A refusal's code; `None` when allowed.
    code: Option<&'a str>,
    article: Option<&'a str>,
    records: i64,
}

/// The refusal codes a rule (not a fact) decides: those a replay may change.
const RULE_CODES: &[&str] = &[
    "forbidden_category",
    "consent_required",
    "validation_failed",
    "lookup_not_allowed",
];

impl Flow<'_> {
    fn replayable(&self) -> bool {
        self.allowed || self.code.is_some_and(|c| RULE_CODES.contains(&c))
    }

    /// Whether the source shared as the case holder: allowed under `was`, and by no rule of its own roles.
    fn case_holder(&self, was: &Covenant) -> bool {
        self.allowed
            && matches!(self.ask, Ask::Exchange { meeting_type, purpose, category }
                if was.rule_for(Direction::Share, self.source, meeting_type, purpose, category).is_none())
    }
}

/// The flows of the recorded `groups`, one per category of a disclosure; records that are not flows (attendance,
/// a console visit) are left out.
fn flows<'a>(groups: &'a [DecisionGroup], registry: &'a Snapshot) -> Vec<Flow<'a>> {
    let roles = |oin: &Option<String>| -> &'a [String] {
        oin.as_deref()
            .and_then(|o| o.parse().ok())
            .and_then(|o| registry.organisation(&o))
            .map_or(&[], |o| o.covenant_roles.as_slice())
    };
    let mut out = Vec::new();
    for g in groups {
        let code = g
            .reason
            .as_deref()
            .filter(|_| g.kind == Kind::Refusal)
            .map(|r| r.split_once(':').map_or(r, |(c, _)| c).trim());
        let asks: Vec<Ask<'a>> = match (g.meeting_type.as_deref(), g.purpose.as_deref()) {
            (Some(meeting_type), Some(purpose)) => g
                .categories
                .iter()
                .map(|category| Ask::Exchange {
                    meeting_type,
                    purpose,
                    category,
                })
                .collect(),
            (None, Some(INTAKE_PURPOSE)) if g.categories == [INTAKE_CATEGORY] => vec![Ask::Intake],
            (None, Some(purpose)) if g.categories.is_empty() && g.kind != Kind::Disclosure => {
                vec![Ask::Lookup { purpose }]
            }
            _ => Vec::new(),
        };
        for ask in asks {
            out.push(Flow {
                ask,
                source_oin: g.source_oin.as_deref(),
                recipient_oin: g.recipient_oin.as_deref(),
                source: roles(&g.source_oin),
                recipient: roles(&g.recipient_oin),
                allowed: g.kind != Kind::Refusal,
                code,
                article: g.article.as_deref(),
                records: g.records,
            });
        }
    }
    out
}

/// The decision `covenant` makes for `flow` with every fact the record implies (see the module's doc).
fn replay(covenant: &Covenant, flow: &Flow<'_>, was: &Covenant) -> Decision {
    match flow.ask {
        Ask::Intake => covenant.decide_intake(flow.source, true),
        Ask::Lookup { .. } => covenant.decide_lookup(flow.recipient, true),
        Ask::Exchange {
            meeting_type,
            purpose,
            category,
        } => {
            let consent_seen = flow.allowed && flow.source.iter().any(|r| was.needs_consent(category, r));
            let party = |roles, case_holder| Party {
                roles,
                member: true,
                attends: true,
                signed: true,
                declaration: false,
                case_holder,
            };
            covenant.decide(&Question {
                source: party(flow.source, flow.case_holder(was)),
                recipient: party(flow.recipient, false),
                meeting_type,
                purpose,
                category,
                meeting_open: true,
                on_agenda: true,
                consent: consent_seen,
                case_open: true,
            })
        }
    }
}

/// The policy lines a flow rests on under `covenant`: its share and receive rules (the case holder's if its own
/// roles have none).
fn lines_of<'c>(covenant: &'c Covenant, flow: &Flow<'_>, case_holder: bool) -> Vec<&'c PolicyLine> {
    let Ask::Exchange {
        meeting_type,
        purpose,
        category,
    } = flow.ask
    else {
        return Vec::new();
    };
    let share = covenant.share_rule(flow.source, case_holder, (meeting_type, purpose, category));
    let receive = covenant.rule_for(Direction::Receive, flow.recipient, meeting_type, purpose, category);
    share.into_iter().chain(receive).collect()
}

/// An organisation's roles as a route names them: `-` when the record names no organisation on that side (a
/// share refused before anyone received it), `(onbekend)` when it is no longer known.
fn joined(oin: Option<&str>, roles: &[String]) -> String {
    match (oin, roles.is_empty()) {
        (None, _) => "-".into(),
        (Some(_), true) => "(onbekend)".into(),
        (Some(_), false) => roles.join("+"),
    }
}

/// Where a flow went: the meeting type, purpose and category, and the roles on either side.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
pub struct Route {
    /// A meeting type, `intake` or `hit/no-hit`.
    pub meeting_type: String,
    pub purpose: String,
    pub category: String,
    pub source_roles: String,
    pub recipient_roles: String,
}

fn route(flow: &Flow<'_>) -> Route {
    let (meeting_type, purpose, category) = match flow.ask {
        Ask::Exchange {
            meeting_type,
            purpose,
            category,
        } => (meeting_type, purpose, category),
        Ask::Intake => ("intake", INTAKE_PURPOSE, INTAKE_CATEGORY),
        Ask::Lookup { purpose } => ("hit/no-hit", purpose, "-"),
    };
    Route {
        meeting_type: meeting_type.into(),
        purpose: purpose.into(),
        category: category.into(),
        source_roles: joined(flow.source_oin, flow.source),
        recipient_roles: joined(flow.recipient_oin, flow.recipient),
    }
}

/// How often an article carried a decision.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ArticleUse {
    /// The article, or `(geen artikel)` for refusals no rule came near.
    pub article: String,
    /// Disclosure records (intake reads included) that cite it.
    pub disclosures: i64,
    /// Hit/no-hit answers given under it.
    pub lookups: i64,
    /// Refusals under it: its record cites it, or its share rule did and the receiving side had none.
    pub refusals: i64,
}

/// A rule no recorded flow rested on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UnusedRule {
    pub line: usize,
    pub rule: String,
    pub article: String,
}

/// A refusal that recurs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Recurring {
    pub code: String,
    #[serde(flatten)]
    pub route: Route,
    pub refusals: i64,
}

/// A partner that has not signed the version in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Unsigned {
    pub oin: String,
    pub name: String,
    /// The versions it did sign.
    pub signed: Vec<String>,
}

/// The covenant's evaluation over a window.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Evaluation {
    pub covenant_version: String,
    pub window: Window,
    /// Recorded flows counted (a disclosure of three categories is three).
    pub flows: i64,
    pub articles: Vec<ArticleUse>,
    pub unused_rules: Vec<UnusedRule>,
    /// Refusals of one route and code at least [`RECURRING`] times, most first.
    pub recurring_refusals: Vec<Recurring>,
    pub unsigned: Vec<Unsigned>,
}

/// The steering group's evaluation of `covenant` over the recorded `groups`.
pub fn evaluate(covenant: &Covenant, registry: &Snapshot, groups: &[DecisionGroup], window: Window) -> Evaluation {
    let flows = flows(groups, registry);
    let mut articles: BTreeMap<String, ArticleUse> = BTreeMap::new();
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut refused: BTreeMap<(String, Route), i64> = BTreeMap::new();
    for g in groups.iter().filter(|g| g.kind != Kind::Refusal) {
        for article in g.article.iter().flat_map(|a| a.split("; ")).filter(|a| !a.is_empty()) {
            let use_ = articles.entry(article.to_owned()).or_default();
            match g.kind {
                Kind::Lookup => use_.lookups += g.records,
                _ => use_.disclosures += g.records,
            }
        }
    }
    for flow in &flows {
        let lines = lines_of(covenant, flow, flow.case_holder(covenant));
        if flow.allowed {
            used.extend(lines.iter().map(|l| rule_id(l)));
            continue;
        }
        let article = flow
            .article
            .map(str::to_owned)
            .or_else(|| {
                (flow.code == Some("forbidden_category"))
                    .then(|| lines.first().map(|l| l.article.clone()))
                    .flatten()
            })
            .unwrap_or_else(|| "(geen artikel)".into());
        articles.entry(article).or_default().refusals += flow.records;
        let code = flow.code.unwrap_or("refused").to_owned();
        *refused.entry((code, route(flow))).or_insert(0) += flow.records;
    }
    let mut recurring_refusals: Vec<Recurring> = refused
        .into_iter()
        .filter(|(_, n)| *n >= RECURRING)
        .map(|((code, route), refusals)| Recurring { code, route, refusals })
        .collect();
    recurring_refusals.sort_by_key(|r| std::cmp::Reverse(r.refusals));
    Evaluation {
        covenant_version: covenant.version.clone(),
        window,
        flows: flows.iter().map(|f| f.records).sum(),
        articles: articles
            .into_iter()
            .map(|(article, u)| ArticleUse { article, ..u })
            .collect(),
        unused_rules: covenant
            .rules
            .lines()
            .iter()
            .filter(|l| !used.contains(&rule_id(l)))
            .map(|l| UnusedRule {
                line: l.line,
                rule: rule_id(l),
                article: l.article.clone(),
            })
            .collect(),
        recurring_refusals,
        unsigned: unsigned(covenant, registry),
    }
}

/// Active partners that have not signed the version in force, by OIN.
fn unsigned(covenant: &Covenant, registry: &Snapshot) -> Vec<Unsigned> {
    let mut out: Vec<Unsigned> = registry
        .organisations()
        .filter(|o| o.status == OrgStatus::Active && !o.signed_versions.contains(&covenant.version))
        .map(|o| Unsigned {
            oin: o.oin.to_string(),
            name: o.name.clone(),
            signed: o.signed_versions.clone(),
        })
        .collect();
    out.sort_by(|a, b| a.oin.cmp(&b.oin));
    out
}

/// Flows whose decision a new covenant changes, alike in route, article, rule and new answer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
pub struct Shift {
    #[serde(flatten)]
    pub route: Route,
    /// The articles the decision rests on: the old ones for a flow now refused, the new ones for one now allowed.
    pub article: String,
    /// The rules concerned, as in the policy (`share politie briefing * identificatie`): the old ones that allowed
    /// a flow now refused, the new ones that allow a flow refused before.
    pub rules: Vec<String>,
    /// The new answer's code (`allow` for a flow now allowed).
    pub now: String,
    pub flows: i64,
}

/// A dry run of `new` over the decisions recorded under the covenant in force.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DryRun {
    pub from_version: String,
    pub to_version: String,
    pub window: Window,
    /// Flows asked again.
    pub replayed: i64,
    /// Refused flows that no covenant would allow (refused on facts, not on a rule).
    pub not_replayed: i64,
    /// Replayed flows the new covenant decides as the old one did.
    pub unchanged: i64,
    pub now_refused: Vec<Shift>,
    pub now_allowed: Vec<Shift>,
    /// What the files change.
    pub changes: Vec<Change>,
}

/// Replays the recorded `groups` under `new` (and under `old`, the covenant in force, for what a record left out).
pub fn dry_run(
    old: &Covenant,
    new: &Covenant,
    registry: &Snapshot,
    groups: &[DecisionGroup],
    window: Window,
) -> DryRun {
    let mut run = DryRun {
        from_version: old.version.clone(),
        to_version: new.version.clone(),
        window,
        replayed: 0,
        not_replayed: 0,
        unchanged: 0,
        now_refused: Vec::new(),
        now_allowed: Vec::new(),
        changes: diff::diff(old, new),
    };
    let mut shifts: BTreeMap<(bool, Route, String, Vec<String>, String), i64> = BTreeMap::new();
    for flow in flows(groups, registry) {
        if !flow.replayable() {
            run.not_replayed += flow.records;
            continue;
        }
        run.replayed += flow.records;
        let decision = replay(new, &flow, old);
        if decision.allowed() == flow.allowed {
            run.unchanged += flow.records;
            continue;
        }
        let (covenant, articles) = if flow.allowed {
            (old, replay(old, &flow, old).articles.join("; "))
        } else {
            (new, decision.articles.join("; "))
        };
        let rules = lines_of(covenant, &flow, flow.case_holder(old))
            .iter()
            .map(|l| rule_id(l))
            .collect();
        let key = (flow.allowed, route(&flow), articles, rules, decision.code().to_owned());
        *shifts.entry(key).or_insert(0) += flow.records;
    }
    for ((was_allowed, route, article, rules, now), flows) in shifts {
        let shift = Shift {
            route,
            article,
            rules,
            now,
            flows,
        };
        if was_allowed {
            run.now_refused.push(shift);
        } else {
            run.now_allowed.push(shift);
        }
    }
    for list in [&mut run.now_refused, &mut run.now_allowed] {
        list.sort_by(|a, b| b.flows.cmp(&a.flows).then_with(|| a.cmp(b)));
    }
    run
}
