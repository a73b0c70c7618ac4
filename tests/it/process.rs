//! The ZVH's own process over real TLS: reports about people with and without a BSN that join an open case, the
//! intake queue whose summaries are recorded disclosures, weighing at the briefing, a plan that schedules the
//! monitoring checks, the case file after the meeting, closing with outcomes — and every way to be refused.
use crate::both;
use crate::helpers::*;
use doelpoort::log::chain::Kind;
use doelpoort::log::LogFilter;
use doelpoort::types::clock::Clock as _;
use hyper::Method;
use serde_json::{json, Value};

both!(
    one_person_through_the_whole_process,
    the_process_refuses_what_it_must,
    subjects_without_a_bsn_families_and_long_monitoring_meetings,
    a_family_member_finds_the_disclosures_of_the_case_from_when_they_joined,
);

const BSN: &str = "123456782";
const DJI: &str = "00000099000000000009";
const ZORG: &str = "00000099000000000010";
/// Free text typed in the story; none of it may reach the hash chain.
const TYPED: [&str; 6] = [
    "Aanhouding na bedreiging",
    "Detentie tot 1 maart",
    "Jan Jansen (geb. 1980) woont bij zus",
    "Wijkteam kent hem al jaren",
    "Doelen bereikt, zus helpt",
    "Plan: wijkteam begeleidt",
];

/// An instant `seconds` from now on the gateway's clock.
fn on_clock(gw: &Gateway, seconds: i64) -> String {
    doelpoort::types::clock::rfc3339(gw.clock.now() + time::Duration::seconds(seconds))
}

async fn pro(gw: &Gateway, org: &Org, method: Method, path: &str, body: Option<Value>) -> Response {
    gw.call(org, &["professional"], method, path, body).await
}

async fn regisseur(gw: &Gateway, method: Method, path: &str, body: Option<Value>) -> Response {
    gw.call(&gw.org(HOST), &["procesregisseur"], method, path, body).await
}

/// Convenes a meeting of `kind` in session now, with `case` on its agenda and `attendees`.
async fn meeting(gw: &Gateway, kind: &str, case: &str, attendees: &[&str]) -> String {
    let body = json!({"type": kind, "starts_at": on_clock(gw, -60), "ends_at": on_clock(gw, 3600)});
    let r = regisseur(gw, Method::POST, "/v1/meetings", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let agenda = format!("/v1/meetings/{id}/agenda");
    let r = regisseur(gw, Method::POST, &agenda, Some(json!({"case_id": case}))).await;
    assert_eq!(r.status, 204, "{}", r.text);
    for oin in attendees {
        let path = format!("/v1/meetings/{id}/attendees");
        let r = regisseur(gw, Method::POST, &path, Some(json!({"oin": oin}))).await;
        assert_eq!(r.status, 204, "{}", r.text);
    }
    id
}

async fn report(gw: &Gateway, org: &Org, body: Value) -> String {
    let r = pro(gw, org, Method::POST, "/v1/cases", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body.as_object().unwrap().len(),
        1,
        "the answer is the id, nothing more"
    );
    r.body["id"].as_str().unwrap().to_owned()
}

async fn notifications(gw: &Gateway, org: &Org) -> Vec<Value> {
    let r = pro(gw, org, Method::GET, "/v1/notifications", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body.as_array().unwrap().clone()
}

fn log_records(r: &Response) -> Vec<i64> {
    r.headers
        .get("doelpoort-log-record")
        .map(|v| v.to_str().unwrap().split(',').map(|s| s.parse().unwrap()).collect())
        .unwrap_or_default()
}

async fn all_records(gw: &Gateway) -> Vec<doelpoort::log::chain::Record> {
    gw.app()
        .log
        .records()
        .query(&LogFilter::default(), i64::MAX, true, 10_000)
        .await
        .unwrap()
}

async fn one_person_through_the_whole_process(b: Backend) {
    let gw = Gateway::start(b).await;
    let (politie, wijkteam, om) = (gw.org("politie"), gw.org("wijkteam"), gw.org("om"));
    let dji = onboard(&gw, DJI, "ketenpartner", &["dji"], true).await;

    // Two reports about one person: a police arrest, then a DJI detention notice. The second joins the case.
    let arrest = json!({"subjects": [{"bsn": BSN}], "kind": "persoon", "municipality": "GM0268",
        "profile": {"gender": "man", "age_band": "23+"}, "summary": TYPED[0]});
    let case = report(&gw, &politie, arrest).await;
    let notice = json!({"subject": {"bsn": BSN}, "summary": TYPED[1]});
    assert_eq!(
        report(&gw, &dji, notice).await,
        case,
        "no second open case for one subject"
    );
    let told = notifications(&gw, &politie).await;
    assert!(told
        .iter()
        .any(|n| n["kind"] == "report_joined" && n["case_id"] == case.as_str()));

    // The host sees the case without an id passed on, and the intake shows both summaries, each recorded.
    let listed = regisseur(&gw, Method::GET, "/v1/cases", None).await;
    assert!(listed.body.as_array().unwrap().iter().any(|c| c["id"] == case.as_str()));
    let intake = regisseur(&gw, Method::GET, "/v1/intake", None).await;
    assert_eq!(intake.status, 200, "{}", intake.text);
    let queue = intake.body.as_array().unwrap();
    assert_eq!(queue.len(), 2);
    assert_eq!(queue[0]["summary"], TYPED[0]);
    assert_eq!(
        (queue[0]["open_case"].clone(), queue[1]["open_case"].clone()),
        (json!(false), json!(true))
    );
    assert_eq!(queue[0]["municipality"], "GM0268");
    assert_eq!(queue[0]["profile"], json!({"gender": "man", "age_band": "23+"}));
    let cited = log_records(&intake);
    assert_eq!(cited.len(), 2);
    let records = all_records(&gw).await;
    let record = records.iter().find(|r| r.seq == cited[0]).unwrap();
    assert_eq!(record.entry.kind, Kind::Disclosure);
    assert_eq!(record.entry.purpose.as_deref(), Some("intake"));
    assert_eq!(record.entry.source_oin.as_deref(), Some(POLITIE));
    assert_eq!(record.entry.recipient_oin.as_deref(), Some(ZVH));
    assert_eq!(record.entry.article.as_deref(), Some("art. 8"));

    // The briefing weighs it: to a focus meeting. The reporters hear the outcome, and the intake is empty.
    let briefing = meeting(&gw, "briefing", &case, &[]).await;
    let weigh = json!({"meeting_id": briefing, "outcome": "focus"});
    let r = regisseur(&gw, Method::POST, &format!("/v1/cases/{case}/weighing"), Some(weigh)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    for reporter in [&politie, &dji] {
        let told = notifications(&gw, reporter).await;
        let outcome = told.iter().find(|n| n["kind"] == "weighing_outcome").unwrap();
        assert_eq!(
            (outcome["case_id"].as_str(), outcome["outcome"].as_str()),
            (Some(case.as_str()), Some("focus"))
        );
    }
    assert_eq!(regisseur(&gw, Method::GET, "/v1/intake", None).await.body, json!([]));

    // The focus meeting: the wijkteam joins, a plan is shared, the wijkteam becomes the case holder.
    let host = json!({"oin": ZVH, "reason": "Procesregie"});
    assert_eq!(
        regisseur(&gw, Method::POST, &format!("/v1/cases/{case}/members"), Some(host))
            .await
            .status,
        204
    );
    let why = json!({"oin": WIJKTEAM, "reason": TYPED[3]});
    assert_eq!(
        regisseur(
            &gw,
            Method::POST,
            &format!("/v1/cases/{case}/members"),
            Some(why.clone())
        )
        .await
        .status,
        204
    );
    let focus = meeting(&gw, "focus", &case, &[POLITIE, WIJKTEAM, DJI]).await;
    let plan = json!({"case_id": case, "items": [{"category": "plan_van_aanpak", "content": TYPED[5]}]});
    let shared = pro(
        &gw,
        &gw.org(HOST),
        Method::POST,
        &format!("/v1/meetings/{focus}/shares"),
        Some(plan),
    )
    .await;
    assert_eq!(shared.status, 201, "{}", shared.text);
    let r = regisseur(&gw, Method::POST, &format!("/v1/cases/{case}/holder"), Some(why)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let lookup = json!({"subject": {"bsn": BSN}, "purpose": "zsm_afdoening"});
    let hit = pro(&gw, &om, Method::POST, "/v1/lookups", Some(lookup.clone())).await;
    assert_eq!(hit.body["contact"]["oin"], WIJKTEAM, "hit/no-hit names the holder");

    // A request answered per addressee, each on its own categories.
    let ask = json!({"case_id": case, "meeting_id": focus, "purpose": "integraal_plan",
        "categories": ["politie_samenvatting", "betrokkenheid"], "due": on_clock(&gw, 1800),
        "addressees": [{"oin": POLITIE, "categories": ["politie_samenvatting"]}, {"oin": DJI, "categories": ["betrokkenheid"]}]});
    let asked = pro(&gw, &gw.org(HOST), Method::POST, "/v1/requests", Some(ask)).await;
    assert_eq!(asked.status, 201, "{}", asked.text);
    let request = asked.body["id"].as_str().unwrap().to_owned();
    let answer = |cat: &str| json!({"items": [{"category": cat, "content": "Bekend bij de partner"}]});
    let path = format!("/v1/requests/{request}/responses");
    pro(&gw, &politie, Method::POST, &path, Some(answer("betrokkenheid")))
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(
        pro(&gw, &politie, Method::POST, &path, Some(answer("politie_samenvatting")))
            .await
            .status,
        204
    );
    assert_eq!(
        pro(&gw, &dji, Method::POST, &path, Some(answer("betrokkenheid")))
            .await
            .status,
        204
    );
    let read = pro(
        &gw,
        &gw.org(HOST),
        Method::GET,
        &format!("/v1/requests/{request}"),
        None,
    )
    .await;
    assert_eq!(read.body["items"].as_array().unwrap().len(), 2, "{}", read.text);
    let close = json!({"reason": "Afgerond"});
    assert_eq!(
        regisseur(&gw, Method::POST, &format!("/v1/meetings/{focus}/close"), Some(close))
            .await
            .status,
        204
    );

    // After the meeting the members still read the plan in the case file; the holder adds progress.
    let file = format!("/v1/cases/{case}/file");
    let read = pro(&gw, &politie, Method::GET, &file, None).await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.body["items"][0]["content"], TYPED[5]);
    assert_eq!(log_records(&read).len(), 1);
    let progress = json!({"items": [{"category": "voortgang", "content": "Gaat goed, woont bij zus"}]});
    let r = pro(&gw, &wijkteam, Method::POST, &file, Some(progress)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let host_reads = pro(&gw, &gw.org(HOST), Method::GET, &file, None).await;
    let contents: Vec<&Value> = host_reads.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["content"])
        .collect();
    assert!(
        contents.contains(&&json!("Gaat goed, woont bij zus")),
        "{}",
        host_reads.text
    );

    // Monitoring: four checks; the first recorded, the second overdue a month later on the test clock.
    let checks = regisseur(&gw, Method::GET, "/v1/monitoring", None).await;
    let mine: Vec<&Value> = checks
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["case_id"] == case.as_str())
        .collect();
    assert_eq!(
        mine.iter().map(|c| c["moment"].as_str().unwrap()).collect::<Vec<_>>(),
        ["1w", "1m", "3m", "6m"]
    );
    assert!(mine.iter().all(|c| c["state"] == "due" && c["holder_oin"] == WIJKTEAM));
    let check = |moment: &str, status: &str| json!({"moment": moment, "status": status, "note": TYPED[2]});
    let monitoring = format!("/v1/cases/{case}/monitoring");
    assert_eq!(
        regisseur(&gw, Method::POST, &monitoring, Some(check("1w", "op_koers")))
            .await
            .status,
        204
    );
    gw.clock.advance(time::Duration::days(31));
    let overdue = regisseur(&gw, Method::GET, "/v1/monitoring?state=overdue", None).await;
    let late: Vec<&str> = overdue
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["case_id"] == case.as_str())
        .map(|c| c["moment"].as_str().unwrap())
        .collect();
    assert_eq!(late, ["1m"]);
    assert_eq!(
        regisseur(&gw, Method::POST, &monitoring, Some(check("1m", "bijsturen")))
            .await
            .status,
        204
    );
    let done = regisseur(&gw, Method::GET, "/v1/monitoring?state=done", None).await;
    assert_eq!(done.body.as_array().unwrap().len(), 2);
    let page = regisseur(&gw, Method::GET, &format!("/v1/cases/{case}"), None).await;
    assert_eq!(page.body["process"]["weighings"][0]["outcome"], "focus");
    assert_eq!(page.body["process"]["reports"].as_array().unwrap().len(), 2);
    assert_eq!(page.body["process"]["checks"][1]["status"], "bijsturen");

    // Closing with outcomes from the covenant; the file is closed with the case.
    let closing = json!({"reason": TYPED[4], "outcomes": ["voortgang_geboekt", "passende_zorg"]});
    assert_eq!(
        regisseur(&gw, Method::POST, &format!("/v1/cases/{case}/close"), Some(closing))
            .await
            .status,
        204
    );
    pro(&gw, &politie, Method::GET, &file, None)
        .await
        .assert_problem(409, "case_closed");

    // A report after closing makes a new case.
    let again = report(
        &gw,
        &politie,
        json!({"subject": {"bsn": BSN}, "summary": "Nieuwe aanhouding"}),
    )
    .await;
    assert_ne!(again, case);
    let hit = pro(&gw, &om, Method::POST, "/v1/lookups", Some(lookup)).await;
    assert_eq!(hit.body["contact"]["oin"], POLITIE);

    // Nothing anyone typed is in the chain: only digests.
    for record in all_records(&gw).await {
        let text = format!("{:?}", record.entry);
        for typed in TYPED {
            assert!(!text.contains(typed), "record {} holds typed text: {text}", record.seq);
        }
        assert!(!text.contains(BSN));
    }
    gw.stop().await;
}

async fn the_process_refuses_what_it_must(b: Backend) {
    let gw = Gateway::start(b).await;
    let politie = gw.org("politie");
    let zorg = onboard(&gw, ZORG, "convenantpartner", &["zorgaanbieder"], true).await;
    let case = report(&gw, &politie, json!({"subject": {"bsn": BSN}, "summary": "Melding"})).await;
    let host = json!({"oin": ZVH, "reason": "Procesregie"});
    assert_eq!(
        regisseur(&gw, Method::POST, &format!("/v1/cases/{case}/members"), Some(host))
            .await
            .status,
        204
    );

    // Only the host's procesregisseur reads the intake, weighs and monitors.
    // A partner's token claiming the host-only role is refused as such.
    for (roles, code) in [
        (&["professional"][..], "forbidden"),
        (&["procesregisseur"][..], "role_not_allowed"),
    ] {
        gw.call(&politie, roles, Method::GET, "/v1/intake", None)
            .await
            .assert_problem(403, code);
        gw.call(&politie, roles, Method::GET, "/v1/monitoring", None)
            .await
            .assert_problem(403, code);
        let check = json!({"moment": "1w", "status": "op_koers"});
        let path = format!("/v1/cases/{case}/monitoring");
        gw.call(&politie, roles, Method::POST, &path, Some(check))
            .await
            .assert_problem(403, code);
    }

    // A report whose summary the intake rule does not cover is listed without it, and the refusal recorded.
    let zorg_case = report(
        &gw,
        &zorg,
        json!({"subject": {"bsn": "111222333"}, "summary": "Medisch"}),
    )
    .await;
    let intake = regisseur(&gw, Method::GET, "/v1/intake", None).await;
    let withheld = intake
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["case_id"] == zorg_case.as_str())
        .unwrap();
    assert_eq!(
        (withheld["summary"].clone(), withheld["withheld"].clone()),
        (json!(null), json!("forbidden_category"))
    );
    assert!(!intake.text.contains("Medisch"));
    let refusals = all_records(&gw).await;
    assert!(refusals.iter().any(|r| r.entry.kind == Kind::Refusal
        && r.entry.purpose.as_deref() == Some("intake")
        && r.entry.source_oin.as_deref() == Some(ZORG)));

    // Weighing happens in a briefing with the case on its agenda, with the covenant's outcomes and reasons.
    let weigh = |meeting: &str, outcome: &str, reason: Option<&str>| json!({"meeting_id": meeting, "outcome": outcome, "reason": reason});
    let path = format!("/v1/cases/{case}/weighing");
    let focus = meeting(&gw, "focus", &case, &[]).await;
    regisseur(&gw, Method::POST, &path, Some(weigh(&focus, "focus", None)))
        .await
        .assert_problem(422, "validation_failed");
    let briefing = meeting(&gw, "briefing", &zorg_case, &[]).await;
    regisseur(&gw, Method::POST, &path, Some(weigh(&briefing, "focus", None)))
        .await
        .assert_problem(409, "not_on_agenda");
    let agenda = json!({"case_id": case});
    regisseur(
        &gw,
        Method::POST,
        &format!("/v1/meetings/{briefing}/agenda"),
        Some(agenda),
    )
    .await;
    for bad in [
        weigh(&briefing, "koffie", None),
        weigh(&briefing, "niet_oppakken", None),
        weigh(&briefing, "niet_oppakken", Some("geen_zin")),
        weigh(&briefing, "focus", Some("uitgesteld")),
    ] {
        regisseur(&gw, Method::POST, &path, Some(bad))
            .await
            .assert_problem(422, "validation_failed");
    }
    let r = regisseur(
        &gw,
        Method::POST,
        &path,
        Some(weigh(&briefing, "niet_oppakken", Some("belegd_elders"))),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);

    // A holder must be a member; monitoring needs a plan; the file is for members, progress for the holder.
    let holder = json!({"oin": GEMEENTE, "reason": "Gemeente pakt het op"});
    regisseur(&gw, Method::POST, &format!("/v1/cases/{case}/holder"), Some(holder))
        .await
        .assert_problem(422, "validation_failed");
    let check = json!({"moment": "1w", "status": "op_koers"});
    regisseur(&gw, Method::POST, &format!("/v1/cases/{case}/monitoring"), Some(check))
        .await
        .assert_problem(409, "invalid_state");
    let file = format!("/v1/cases/{case}/file");
    pro(&gw, &gw.org("gemeente"), Method::GET, &file, None)
        .await
        .assert_problem(404, "not_found");
    let progress = json!({"items": [{"category": "voortgang", "content": "x"}]});
    pro(&gw, &politie, Method::POST, &file, Some(progress.clone()))
        .await
        .assert_problem(409, "invalid_state");
    let plan = json!({"case_id": case, "items": [{"category": "plan_van_aanpak", "content": "Plan"}]});
    let attend = json!({"oin": POLITIE});
    regisseur(
        &gw,
        Method::POST,
        &format!("/v1/meetings/{focus}/attendees"),
        Some(attend),
    )
    .await;
    assert_eq!(
        pro(
            &gw,
            &gw.org(HOST),
            Method::POST,
            &format!("/v1/meetings/{focus}/shares"),
            Some(plan)
        )
        .await
        .status,
        201
    );
    let member = json!({"oin": GEMEENTE, "reason": "Nodig"});
    regisseur(&gw, Method::POST, &format!("/v1/cases/{case}/members"), Some(member)).await;
    let holder = json!({"oin": GEMEENTE, "reason": "Gemeente pakt het op"});
    assert_eq!(
        regisseur(&gw, Method::POST, &format!("/v1/cases/{case}/holder"), Some(holder))
            .await
            .status,
        204
    );
    // The police is a member but not the holder: no covenant rule lets it share progress outside a meeting.
    pro(&gw, &politie, Method::POST, &file, Some(progress))
        .await
        .assert_problem(403, "forbidden_category");
    let not_file = json!({"items": [{"category": "politie_details", "content": "x"}]});
    pro(&gw, &gw.org("gemeente"), Method::POST, &file, Some(not_file))
        .await
        .assert_problem(422, "validation_failed");
    let check = json!({"moment": "2w", "status": "op_koers"});
    regisseur(&gw, Method::POST, &format!("/v1/cases/{case}/monitoring"), Some(check))
        .await
        .assert_problem(409, "invalid_state");

    // A case closed without weighing leaves the intake with its reports.
    let closing = json!({"reason": "Elders belegd"});
    let r = regisseur(
        &gw,
        Method::POST,
        &format!("/v1/cases/{zorg_case}/close"),
        Some(closing),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let intake = regisseur(&gw, Method::GET, "/v1/intake", None).await;
    assert!(!intake.text.contains(zorg_case.as_str()), "{}", intake.text);

    // Closing takes the covenant's outcomes only.
    let closing = json!({"reason": "Klaar", "outcomes": ["iedereen_blij"]});
    regisseur(&gw, Method::POST, &format!("/v1/cases/{case}/close"), Some(closing))
        .await
        .assert_problem(422, "validation_failed");
    gw.stop().await;
}

async fn subjects_without_a_bsn_families_and_long_monitoring_meetings(b: Backend) {
    let gw = Gateway::start(b).await;
    let (politie, om) = (gw.org("politie"), gw.org("om"));
    let person = |family: &str| {
        json!({"no_bsn": {"reason": "geen_gba", "family_name": family, "given_name": "Ali",
        "birth_date": "1990-04-01"}})
    };
    let case = report(
        &gw,
        &politie,
        json!({"subject": person("Öztürk"), "summary": "Melding"}),
    )
    .await;
    // The same person, spelled differently and reported as a family member, joins the case.
    let family = json!({"subjects": [person("ozturk"), {"bsn": BSN}], "kind": "gezin", "summary": "Gezin"});
    assert_eq!(report(&gw, &gw.org("gemeente"), family).await, case);
    for subject in [person("OZTÜRK"), json!({"bsn": BSN})] {
        let hit = pro(
            &gw,
            &om,
            Method::POST,
            "/v1/lookups",
            Some(json!({"subject": subject, "purpose": "zsm_afdoening"})),
        )
        .await;
        assert_eq!(hit.body["known"], true, "{}", hit.text);
    }
    let unknown = json!({"subject": person("Jansen"), "purpose": "zsm_afdoening"});
    assert_eq!(
        pro(&gw, &om, Method::POST, "/v1/lookups", Some(unknown)).await.body["known"],
        false
    );

    for bad in [
        json!({"subject": {"bsn": BSN, "no_bsn": person("X")["no_bsn"]}, "summary": "x"}),
        json!({"subjects": [{"bsn": BSN}, person("X")], "kind": "persoon", "summary": "x"}),
        json!({"subject": {"no_bsn": {"reason": "geen_gba", "family_name": "X", "given_name": "Y", "birth_date": "1-4-1990"}}, "summary": "x"}),
        json!({"subject": {"bsn": BSN}, "municipality": "Heerlen", "summary": "x"}),
        json!({"subject": {"bsn": BSN}, "profile": {"age_band": "30-40"}, "summary": "x"}),
    ] {
        pro(&gw, &politie, Method::POST, "/v1/cases", Some(bad))
            .await
            .assert_problem(422, "validation_failed");
    }
    pro(
        &gw,
        &politie,
        Method::POST,
        "/v1/cases",
        Some(json!({"subject": {"bsn": "123456789"}, "summary": "x"})),
    )
    .await
    .assert_problem(422, "invalid_bsn");

    // A six-month monitoring meeting is a meeting of its own type; a focus meeting still lasts at most 31 days.
    let long = |kind: &str| json!({"type": kind, "starts_at": on_clock(&gw, 0), "ends_at": on_clock(&gw, 200 * 86400)});
    assert_eq!(
        regisseur(&gw, Method::POST, "/v1/meetings", Some(long("monitoring")))
            .await
            .status,
        201
    );
    regisseur(&gw, Method::POST, "/v1/meetings", Some(long("focus")))
        .await
        .assert_problem(422, "validation_failed");
    gw.stop().await;
}

async fn a_family_member_finds_the_disclosures_of_the_case_from_when_they_joined(b: Backend) {
    const PARTNER: &str = "111222333";
    let gw = Gateway::start(b).await;
    let (politie, gemeente) = (gw.org("politie"), gw.org("gemeente"));
    let case = report(&gw, &politie, json!({"subject": {"bsn": BSN}, "summary": "Melding"})).await;
    let before = log_records(&regisseur(&gw, Method::GET, "/v1/intake", None).await);
    let family = json!({"subjects": [{"bsn": BSN}, {"bsn": PARTNER}], "kind": "gezin", "summary": "Gezin"});
    assert_eq!(report(&gw, &gemeente, family).await, case);
    let after = log_records(&regisseur(&gw, Method::GET, "/v1/intake", None).await);
    assert_eq!((before.len(), after.len()), (1, 2));

    let seqs = |bsn: &str| {
        let gw = &gw;
        let path = format!("/v1/audit/subject-report?bsn={bsn}");
        async move {
            let r = gw
                .call(&gw.org(HOST), &["privacy_officer"], Method::GET, &path, None)
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            let mut seqs: Vec<i64> = r.body["disclosures"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["seq"].as_i64().unwrap())
                .collect();
            seqs.sort_unstable();
            seqs
        }
    };
    // The first subject finds every read; the partner only those from the family report on.
    let mut all = [before.clone(), after.clone()].concat();
    all.sort_unstable();
    assert_eq!(seqs(BSN).await, all);
    assert_eq!(seqs(PARTNER).await, after);
    let search = gw
        .call(
            &gw.org(HOST),
            &["privacy_officer"],
            Method::GET,
            &format!("/v1/audit/disclosures?bsn={PARTNER}&kind=disclosure"),
            None,
        )
        .await;
    let found: Vec<i64> = search.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_i64().unwrap())
        .collect();
    assert!(
        after.iter().all(|s| found.contains(s)) && !found.contains(&before[0]),
        "{}",
        search.text
    );
    gw.stop().await;
}
