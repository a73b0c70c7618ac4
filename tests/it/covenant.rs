//! The covenant as executable policy. A decision table written here from `domain.md` — not derived from
//! `policies/` — checks every (role, meeting type, purpose, category, direction) of the sample covenant; the
//! compiled index is checked against casbin itself on every question; removing any one precondition of an
//! allowed flow turns it into a refusal; and `covenant check` names inconsistent files by line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use doelpoort::covenant::decision::{Denial, Party, Question, Side};
use doelpoort::covenant::{reference_enforcer, Covenant, Direction};
use std::path::{Path, PathBuf};

fn policies() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")
}

const CHAIN: [&str; 10] = [
    "slachtofferhulp",
    "zvh",
    "politie",
    "om",
    "reclassering",
    "gemeente",
    "ggd",
    "dji",
    "rvdk",
    "jeugdbescherming",
];
const COVENANT_PARTNERS: [&str; 3] = ["woningcorporatie", "wijkteam", "zorgaanbieder"];

/// domain.md, "Meeting types and the information they need".
fn meeting_categories(meeting_type: &str) -> &'static [&'static str] {
    // The second reading: DJI detention notices are weighed at the briefing.
    const BRIEFING: [&str; 5] = [
        "identificatie",
        "betrokkenheid",
        "politie_samenvatting",
        "justitieel_status",
        "detentie",
    ];
    match meeting_type {
        "briefing" => &BRIEFING,
        "focus" => &[
            "identificatie",
            "betrokkenheid",
            "politie_samenvatting",
            "justitieel_status",
            "justitieel_details",
            "politie_details",
            "zorg_samenvatting",
            "leefgebieden",
            "plan_van_aanpak",
        ],
        "thematafel" => &["identificatie", "betrokkenheid", "leefgebieden", "plan_van_aanpak"],
        "nazorg" => &["identificatie", "detentie", "nazorg_domeinen"],
        "radicalisering" => &["identificatie", "betrokkenheid", "risicotaxatie"],
        "monitoring" => &["voortgang"],
        other => panic!("no meeting type {other} in domain.md"),
    }
}

/// domain.md, "Who may share which category".
fn sharers(category: &str) -> Vec<&'static str> {
    match category {
        "identificatie" => vec!["politie", "gemeente", "zvh"],
        "betrokkenheid" => CHAIN.iter().chain(COVENANT_PARTNERS.iter()).copied().collect(),
        "politie_samenvatting" | "politie_details" => vec!["politie"],
        "justitieel_status" | "justitieel_details" => vec!["om", "reclassering"],
        "detentie" => vec!["dji", "reclassering"],
        "zorg_samenvatting" => vec!["ggd", "zorgaanbieder", "wijkteam"],
        "leefgebieden" | "nazorg_domeinen" => vec!["gemeente", "reclassering", "wijkteam", "woningcorporatie", "ggd"],
        "risicotaxatie" => vec!["politie", "reclassering", "ggd"],
        "plan_van_aanpak" | "voortgang" => vec!["zvh", "casushouder"],
        other => panic!("no category {other} in domain.md"),
    }
}

fn expected(direction: Direction, role: &str, meeting_type: &str, category: &str) -> bool {
    if !meeting_categories(meeting_type).contains(&category) {
        return false;
    }
    let covenant_partner = COVENANT_PARTNERS.contains(&role);
    // The second reading: covenant partners join focus meetings, theme tables and aftercare.
    let partner_table = ["focus", "thematafel", "nazorg"].contains(&meeting_type);
    match direction {
        Direction::Share => sharers(category).contains(&role) && (!covenant_partner || partner_table),
        // Radicalisation is received only by the partners at that table.
        Direction::Receive if meeting_type == "radicalisering" => {
            ["zvh", "politie", "om", "reclassering", "gemeente"].contains(&role)
        }
        Direction::Receive => {
            CHAIN.contains(&role)
                || (["focus", "thematafel"].contains(&meeting_type)
                    && ["betrokkenheid", "plan_van_aanpak"].contains(&category))
                || (meeting_type == "nazorg" && ["identificatie", "nazorg_domeinen"].contains(&category))
        }
    }
}

const CATEGORIES: [&str; 13] = [
    "identificatie",
    "betrokkenheid",
    "politie_samenvatting",
    "politie_details",
    "justitieel_status",
    "justitieel_details",
    "detentie",
    "zorg_samenvatting",
    "leefgebieden",
    "nazorg_domeinen",
    "risicotaxatie",
    "plan_van_aanpak",
    "voortgang",
];

#[test]
fn every_rule_of_the_sample_covenant_matches_the_decision_table() {
    let covenant = Covenant::load(&policies()).unwrap();
    let mut checked = 0;
    let mut allowed = 0;
    for role in CHAIN
        .iter()
        .chain(COVENANT_PARTNERS.iter())
        .chain(["casushouder"].iter())
    {
        for mt in &covenant.meeting_types {
            for purpose in &mt.purposes {
                for category in CATEGORIES {
                    for direction in [Direction::Share, Direction::Receive] {
                        let want = *role != "casushouder" || direction == Direction::Share;
                        let want = want && expected(direction, role, &mt.id, category);
                        let got = covenant
                            .rules
                            .find(direction, role, &mt.id, &purpose.id, category)
                            .is_some();
                        assert_eq!(
                            got,
                            want,
                            "{} {role} {} {} {category}",
                            direction.as_str(),
                            mt.id,
                            purpose.id
                        );
                        checked += 1;
                        allowed += usize::from(got);
                    }
                }
            }
        }
    }
    assert_eq!(checked, 14 * 6 * 13 * 2);
    assert_eq!(allowed, 354, "every policy line is reached by exactly one question");
}

#[tokio::test]
async fn the_compiled_index_answers_as_casbin_does() {
    use casbin::CoreApi as _;
    let covenant = Covenant::load(&policies()).unwrap();
    let enforcer = reference_enforcer(&policies()).await.unwrap();
    let mut roles: Vec<&str> = covenant.roles.iter().map(|r| r.id.as_str()).collect();
    roles.extend(["casushouder", "bakker"]);
    let mut meeting_types: Vec<&str> = covenant.meeting_types.iter().map(|m| m.id.as_str()).collect();
    meeting_types.push("borrel");
    let mut categories = CATEGORIES.to_vec();
    categories.push("roddel");
    let mut questions = 0;
    for dir in [Direction::Share, Direction::Receive] {
        for role in &roles {
            for mt in &meeting_types {
                for purpose in [
                    "weging",
                    "integraal_plan",
                    "terugkeer",
                    "risicobeoordeling",
                    "voortgang_plan",
                    "*",
                    "x",
                ] {
                    for cat in &categories {
                        let casbin = enforcer.enforce((dir.as_str(), *role, *mt, purpose, *cat)).unwrap();
                        let index = covenant.rules.find(dir, role, mt, purpose, cat).is_some();
                        assert_eq!(index, casbin, "{} {role} {mt} {purpose} {cat}", dir.as_str());
                        questions += 1;
                    }
                }
            }
        }
    }
    assert!(questions > 10_000);
}

fn party(roles: &[String]) -> Party<'_> {
    Party {
        roles,
        member: true,
        attends: true,
        signed: true,
        declaration: false,
        case_holder: false,
    }
}

#[test]
fn removing_any_precondition_turns_an_allow_into_a_deny() {
    let covenant = Covenant::load(&policies()).unwrap();
    let all_roles: Vec<Vec<String>> = covenant.roles.iter().map(|r| vec![r.id.clone()]).collect();
    let mut allows = 0;
    for source in &all_roles {
        for recipient in &all_roles {
            for mt in &covenant.meeting_types {
                for category in &mt.categories {
                    let q = Question {
                        source: party(source),
                        recipient: party(recipient),
                        meeting_type: &mt.id,
                        purpose: &mt.purposes[0].id,
                        category,
                        meeting_open: true,
                        on_agenda: true,
                        case_open: true,
                        consent: true,
                    };
                    let decision = covenant.decide(&q);
                    if !decision.allowed() {
                        continue;
                    }
                    allows += 1;
                    assert_eq!(decision.covenant_version, covenant.version);
                    assert_eq!(decision.articles.len(), 2);
                    let refused = |change: &dyn Fn(&mut Question<'_>), want: Denial| {
                        let mut q2 = q.clone();
                        change(&mut q2);
                        assert_eq!(covenant.decide(&q2).denial, Some(want), "{q:?}");
                    };
                    refused(&|q| q.meeting_open = false, Denial::MeetingClosed);
                    refused(&|q| q.on_agenda = false, Denial::NotOnAgenda);
                    refused(&|q| q.case_open = false, Denial::CaseClosed);
                    refused(&|q| q.source.member = false, Denial::NotMember(Side::Source));
                    refused(&|q| q.recipient.member = false, Denial::NotMember(Side::Recipient));
                    refused(&|q| q.source.attends = false, Denial::NotAttendee(Side::Source));
                    refused(&|q| q.recipient.attends = false, Denial::NotAttendee(Side::Recipient));
                    refused(&|q| q.source.signed = false, Denial::NotSigned(Side::Source));
                    refused(&|q| q.recipient.signed = false, Denial::NotSigned(Side::Recipient));
                    if covenant.needs_consent(category, &source[0]) {
                        refused(&|q| q.consent = false, Denial::ConsentRequired);
                    }
                    // A confidentiality declaration stands in for a signature (incidental attendees).
                    let mut q3 = q.clone();
                    q3.recipient.signed = false;
                    q3.recipient.declaration = true;
                    assert!(covenant.decide(&q3).allowed());
                }
            }
        }
    }
    assert!(allows > 300, "{allows}");
}

#[test]
fn the_case_holder_shares_the_plan_and_consent_binds_the_wijkteam() {
    let covenant = Covenant::load(&policies()).unwrap();
    let (gemeente, zvh, wijkteam) = (
        vec!["gemeente".to_owned()],
        vec!["zvh".to_owned()],
        vec!["wijkteam".to_owned()],
    );
    let ask = |source: &[String], holder: bool, category: &'static str, consent: bool| {
        let mut s = party(source);
        s.case_holder = holder;
        covenant.decide(&Question {
            source: s,
            recipient: party(&zvh),
            meeting_type: "focus",
            purpose: "integraal_plan",
            category,
            meeting_open: true,
            on_agenda: true,
            case_open: true,
            consent,
        })
    };
    assert_eq!(
        ask(&gemeente, false, "plan_van_aanpak", true).code(),
        "forbidden_category"
    );
    assert!(ask(&gemeente, true, "plan_van_aanpak", true).allowed());
    assert_eq!(ask(&wijkteam, false, "leefgebieden", false).code(), "consent_required");
    assert!(ask(&wijkteam, false, "leefgebieden", true).allowed());
    assert!(
        ask(&gemeente, false, "leefgebieden", false).allowed(),
        "the gemeente needs no consent"
    );
    let unknown = ask(&gemeente, false, "roddel", true);
    assert_eq!(
        (unknown.code(), unknown.reason.contains("roddel")),
        ("validation_failed", true)
    );
}

/// A copy of `policies/` with `edit` applied to one file.
fn broken(file: &str, edit: impl FnOnce(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in ["covenant.toml", "covenant_model.conf", "covenant_policy.csv"] {
        std::fs::copy(policies().join(f), dir.path().join(f)).unwrap();
    }
    let path = dir.path().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, edit(text)).unwrap();
    dir
}

fn problems(dir: &Path) -> String {
    match Covenant::load(dir) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("an inconsistent covenant loaded"),
    }
}

#[test]
fn covenant_check_names_the_line_of_every_inconsistency() {
    let policy_lines = |extra: &str| {
        let extra = extra.to_owned();
        broken("covenant_policy.csv", move |t| format!("{t}\n{extra}\n"))
    };
    let base = std::fs::read_to_string(policies().join("covenant_policy.csv"))
        .unwrap()
        .lines()
        .count();
    let line = base + 2;
    for (extra, message) in [
        (
            "p, share, bakker, focus, *, leefgebieden, art. 1",
            "unknown role `bakker`",
        ),
        (
            "p, share, gemeente, borrel, *, leefgebieden, art. 1",
            "unknown meeting type `borrel`",
        ),
        (
            "p, share, gemeente, focus, *, roddel, art. 1",
            "unknown category `roddel`",
        ),
        (
            "p, share, gemeente, focus, weging, leefgebieden, art. 1",
            "purpose `weging` is not a purpose",
        ),
        (
            "p, share, gemeente, briefing, *, leefgebieden, art. 1",
            "can never apply",
        ),
        (
            "p, receive, casushouder, focus, *, plan_van_aanpak, art. 1",
            "case role `casushouder` can never apply to receiving",
        ),
        (
            "p, share, gemeente, focus, *, leefgebieden, art. 10 lid 1",
            "repeats the rule of line",
        ),
        ("p, give, gemeente, focus, *, leefgebieden, art. 1", "unknown direction"),
        ("p, share, gemeente, focus, leefgebieden", "expected 7 fields"),
    ] {
        let dir = policy_lines(extra);
        let text = problems(dir.path());
        assert!(
            text.contains(&format!("covenant_policy.csv:{line}: {message}")),
            "{extra}: {text}"
        );
    }
    let dir = broken("covenant.toml", |t| {
        t + "\n[[categories]]\nid = \"niemand\"\ndescription = \"nobody shares this\"\n"
    });
    let text = problems(dir.path());
    assert!(
        text.contains("category `niemand`: no rule lets anyone share it"),
        "{text}"
    );
    let dir = broken("covenant.toml", |t| {
        t.replace("lookup_roles = [\"politie\"", "lookup_roles = [\"bakker\"")
    });
    assert!(problems(dir.path()).contains("lookup_roles names unknown role `bakker`"));
    let dir = broken("covenant.toml", |t| {
        t + "\n[[closure_outcomes]]\nid = \"beheersbaar\"\ndescription = \"twice\"\n"
    });
    assert!(problems(dir.path()).contains("closure outcome `beheersbaar` is defined twice"));
    // The process's parts: the intake rule, the weighing, monitoring, case-file categories and meeting lengths.
    for (from, to, message) in [
        (
            "\"woningcorporatie\", \"wijkteam\", \"zvh\",\n]",
            "\"bakker\",\n]",
            "[intake] reporting_roles names unknown role `bakker`",
        ),
        (
            "meeting_type = \"briefing\"",
            "meeting_type = \"borrel\"",
            "[weighing] meeting_type names unknown meeting type `borrel`",
        ),
        (
            "declined_outcome = \"niet_oppakken\"",
            "declined_outcome = \"nooit\"",
            "[weighing] declined_outcome must be one of its outcomes",
        ),
        (
            "{ id = \"uitgesteld\", description",
            "{ id = \"belegd_elders\", description",
            "weighing reason `belegd_elders` is defined twice",
        ),
        (
            "plan_category = \"plan_van_aanpak\"",
            "plan_category = \"detentie\"",
            "[monitoring] plan_category `detentie` must be a category of plan_meeting_type `focus`",
        ),
        (
            "{ id = \"6m\", days = 182 }",
            "{ id = \"6m\", days = 300 }",
            "moment `6m` (300 days) falls after the monitoring track ends (240 days)",
        ),
        (
            "max_days = 240",
            "max_days = 0",
            "meeting type `monitoring`: max_days must be 1–400",
        ),
        (
            "description = \"Plan and agreements\"\ncase_file = true",
            "description = \"Plan and agreements\"",
            "plan_category `plan_van_aanpak` must be a case-file category",
        ),
    ] {
        assert!(
            std::fs::read_to_string(policies().join("covenant.toml"))
                .unwrap()
                .contains(from),
            "{from}"
        );
        let dir = broken("covenant.toml", |t| t.replace(from, to));
        let text = problems(dir.path());
        assert!(text.contains(message), "{message}: {text}");
    }
    let dir = broken("covenant_model.conf", |t| t.replace("r.cat == p.cat", "true"));
    assert!(problems(dir.path()).contains("covenant_model.conf: must contain `m = "));
    let dir = broken("covenant.toml", |t| t.replace("version = ", "version == "));
    assert!(problems(dir.path()).contains("covenant.toml is not valid"));
}

fn doelpoort(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_doelpoort"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_command_line_checks_and_explains() {
    let dir = policies();
    let dir = dir.to_str().unwrap();
    let (code, out, _) = doelpoort(&["covenant", "check", dir]);
    assert_eq!(code, 0);
    assert!(
        out.contains("covenant 2026.1 is consistent") && out.contains("354 rules"),
        "{out}"
    );

    let bad = broken("covenant_policy.csv", |t| {
        format!("{t}\np, share, bakker, focus, *, leefgebieden, art. 1\n")
    });
    let (code, _, err) = doelpoort(&["covenant", "check", bad.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("covenant_policy.csv:") && err.contains("unknown role `bakker`"),
        "{err}"
    );

    let explain = |from: &str, to: &str, category: &str| {
        doelpoort(&[
            "covenant",
            "explain",
            "--dir",
            dir,
            "--from",
            from,
            "--to",
            to,
            "--meeting-type",
            "focus",
            "--purpose",
            "integraal_plan",
            "--category",
            category,
        ])
    };
    let (code, out, _) = explain("wijkteam", "zvh", "leefgebieden");
    assert_eq!(code, 0);
    assert!(
        out.contains("art. 10 lid 1") && out.contains("casbin: allow") && out.contains("consent"),
        "{out}"
    );
    assert!(out.contains("decision under covenant 2026.1: allowed"), "{out}");
    let (_, out, _) = explain("gemeente", "wijkteam", "leefgebieden");
    assert!(
        out.contains("no rule lets `wijkteam` receive") && out.contains("casbin: deny"),
        "{out}"
    );
    assert!(out.ends_with("denied\n"), "{out}");
    let (code, _, err) = explain("gemeente", "wijkteam", "roddel");
    assert_eq!(code, 2);
    assert!(err.contains("no category `roddel`"), "{err}");
}

#[test]
fn hit_no_hit_and_attendance_are_decided_by_the_decision_point() {
    let covenant = Covenant::load(&policies()).unwrap();
    let roles = |r: &str| vec![r.to_owned()];
    for zsm in ["politie", "om", "reclassering"] {
        let d = covenant.decide_lookup(&roles(zsm), true);
        assert!(d.allowed(), "{zsm}");
        assert_eq!(d.articles, std::slice::from_ref(&covenant.lookup_article));
        assert_eq!(
            covenant.decide_lookup(&roles(zsm), false).denial,
            Some(Denial::NotSigned(Side::Recipient)),
            "{zsm} unsigned"
        );
    }
    for other in ["gemeente", "wijkteam", "zvh"] {
        assert_eq!(
            covenant.decide_lookup(&roles(other), true).denial,
            Some(Denial::LookupNotAllowed),
            "{other}"
        );
    }
    assert!(covenant.decide_attendance(Side::Source, true).allowed());
    assert_eq!(
        covenant.decide_attendance(Side::Recipient, false).denial,
        Some(Denial::NotAttendee(Side::Recipient))
    );
}
