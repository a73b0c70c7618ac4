//! The full decision — covenant rules plus recorded facts (case memberships) — at 10,000 rules and 100,000
//! memberships: p50 and p99, against a plain in-memory map lookup and against casbin's own `enforce()` over the
//! same rules, measured in the same run. Run: `cargo bench --bench decision`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::needless_pass_by_value
)]

use doelpoort::covenant::decision::{Party, Question};
use doelpoort::covenant::{Category, Covenant, CovenantRole, Direction, MeetingType, PolicyLine, Purpose, RuleIndex};
use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::time::{Duration, Instant};

const ROLES: usize = 50;
const MEETING_TYPES: usize = 10;
const CATEGORIES: usize = 10;
const MEMBERSHIPS: usize = 100_000;
const SAMPLES: usize = 200_000;

/// 50 roles × 10 meeting types × 10 categories × 2 directions = 10,000 rules.
fn synthetic() -> (Covenant, Vec<PolicyLine>) {
    let mut lines = Vec::new();
    for r in 0..ROLES {
        for m in 0..MEETING_TYPES {
            for c in 0..CATEGORIES {
                for direction in [Direction::Share, Direction::Receive] {
                    lines.push(PolicyLine {
                        line: lines.len() + 1,
                        direction,
                        role: format!("role{r}"),
                        meeting_type: format!("mt{m}"),
                        purpose: "*".into(),
                        category: format!("cat{c}"),
                        article: format!("art. {m}.{c}"),
                    });
                }
            }
        }
    }
    let covenant = Covenant {
        version: "bench".into(),
        title: "bench".into(),
        host_role: "role0".into(),
        lookup_roles: vec![],
        lookup_article: String::new(),
        lookup_purposes: vec![],
        closure_outcomes: vec![],
        intake: Default::default(),
        weighing: Default::default(),
        monitoring: Default::default(),
        case_roles: vec![],
        roles: (0..ROLES)
            .map(|r| CovenantRole {
                id: format!("role{r}"),
                description: String::new(),
                chain_partner: true,
            })
            .collect(),
        meeting_types: (0..MEETING_TYPES)
            .map(|m| MeetingType {
                id: format!("mt{m}"),
                description: String::new(),
                retention_days: 1,
                categories: (0..CATEGORIES).map(|c| format!("cat{c}")).collect(),
                purposes: vec![Purpose {
                    id: "p".into(),
                    description: String::new(),
                }],
                max_days: 31,
                statistics: true,
            })
            .collect(),
        categories: (0..CATEGORIES)
            .map(|c| Category {
                id: format!("cat{c}"),
                description: String::new(),
                confidential: false,
                requires_consent_from: vec![],
                case_file: false,
            })
            .collect(),
        rules: RuleIndex::new(lines.clone()),
    };
    (covenant, lines)
}

fn percentiles(mut t: Vec<Duration>) -> (f64, f64) {
    t.sort_unstable();
    let at = |p: usize| t[(t.len() * p / 100).min(t.len() - 1)].as_secs_f64() * 1e6;
    (at(50), at(99))
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let (covenant, lines) = synthetic();
    // Recorded facts: 100,000 (case, organisation) memberships.
    let memberships: HashSet<(String, String)> = (0..MEMBERSHIPS)
        .map(|i| (format!("case{}", i / 4), format!("{:020}", i % 997)))
        .collect();
    let plain: HashMap<String, u64> = (0..MEMBERSHIPS).map(|i| (format!("key{i}"), i as u64)).collect();
    let roles: Vec<Vec<String>> = (0..ROLES).map(|r| vec![format!("role{r}")]).collect();

    let mut decision = Vec::with_capacity(SAMPLES);
    let mut peer = Vec::with_capacity(SAMPLES);
    let mut allowed = 0usize;
    for i in 0..SAMPLES {
        // Two members of the case (case k's members are the organisations of memberships 4k..4k+3), so that
        // the decision takes its full path; one question in 16 asks about an outsider.
        let k = (i * 7) % (MEMBERSHIPS / 4);
        let case = format!("case{k}");
        let outsider = if i % 16 == 0 { 500 } else { 0 };
        let (a, b) = (
            format!("{:020}", (4 * k) % 997),
            format!("{:020}", (4 * k + 1 + outsider) % 997),
        );
        let (mt, cat) = (
            format!("mt{}", i % MEETING_TYPES),
            format!("cat{}", (i / 3) % CATEGORIES),
        );
        let t = Instant::now();
        let q = Question {
            source: Party {
                roles: &roles[i % ROLES],
                member: memberships.contains(&(case.clone(), a)),
                attends: true,
                signed: true,
                declaration: false,
                case_holder: false,
            },
            recipient: Party {
                roles: &roles[(i / 7) % ROLES],
                member: memberships.contains(&(case, b)),
                attends: true,
                signed: true,
                declaration: false,
                case_holder: false,
            },
            meeting_type: &mt,
            purpose: "p",
            category: &cat,
            meeting_open: true,
            on_agenda: true,
            case_open: true,
            consent: true,
        };
        allowed += usize::from(black_box(covenant.decide(&q)).allowed());
        decision.push(t.elapsed());
        let key = format!("key{}", (i * 7) % MEMBERSHIPS);
        let t = Instant::now();
        black_box(plain.get(&key));
        peer.push(t.elapsed());
    }
    let (d50, d99) = percentiles(decision);
    let (p50, p99) = percentiles(peer);
    println!("full decision ({} rules, {MEMBERSHIPS} memberships): p50 {d50:.2} us, p99 {d99:.2} us ({allowed} of {SAMPLES} allowed)", lines.len());
    println!("plain map lookup (peer):                        p50 {p50:.2} us, p99 {p99:.2} us");
    println!("ratio at p99: {:.1}x the map lookup", d99 / p99.max(0.001));

    // casbin's enforce() over the same 10,000 rules, for comparison (it scans every rule).
    let rt = tokio::runtime::Runtime::new().unwrap();
    let enforcer = rt.block_on(async {
        use casbin::{CoreApi as _, MgmtApi as _};
        let model =
            casbin::DefaultModel::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/policies/covenant_model.conf"))
                .await
                .unwrap();
        let mut e = casbin::Enforcer::new(model, casbin::MemoryAdapter::default())
            .await
            .unwrap();
        let rules: Vec<Vec<String>> = lines
            .iter()
            .map(|l| {
                vec![
                    l.direction.as_str().into(),
                    l.role.clone(),
                    l.meeting_type.clone(),
                    l.purpose.clone(),
                    l.category.clone(),
                    l.article.clone(),
                ]
            })
            .collect();
        e.add_policies(rules).await.unwrap();
        e
    });
    let mut casbin_times = Vec::new();
    for i in 0..500 {
        use casbin::CoreApi as _;
        let (role, mt, cat) = (
            format!("role{}", i % ROLES),
            format!("mt{}", i % MEETING_TYPES),
            format!("cat{}", i % CATEGORIES),
        );
        let t = Instant::now();
        black_box(
            enforcer
                .enforce(("share", role.as_str(), mt.as_str(), "p", cat.as_str()))
                .unwrap(),
        );
        casbin_times.push(t.elapsed());
    }
    let (c50, c99) = percentiles(casbin_times);
    println!("casbin enforce(), one direction only:           p50 {c50:.2} us, p99 {c99:.2} us");
}
