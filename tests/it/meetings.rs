//! Meetings over real TLS: convened, given an agenda and attendees (an incidental one with its confidentiality
//! declaration) and closed by the host's procesregisseur; every way to be refused; and the decision point reading
//! the facts these calls record.
use crate::both;
use crate::helpers::*;
use doelpoort::cases::facts::{Recorded, Setting};
use doelpoort::log::chain::Kind;
use doelpoort::log::LogFilter;
use hyper::Method;
use serde_json::{json, Value};

both!(
    a_meeting_is_convened_filled_and_closed,
    bad_meeting_input_is_refused_and_nothing_is_recorded,
    the_decision_point_reads_the_recorded_facts,
    each_organisation_lists_the_meetings_it_attends,
    an_organisation_is_told_of_its_cases_meetings_and_requests,
);

const BSN: &str = "123456782";
const INCIDENTAL: &str = "00000099000000000051";
const UNSIGNED: &str = "00000099000000000052";

async fn regisseur(gw: &Gateway, method: Method, path: &str, body: Option<Value>) -> Response {
    gw.call(&gw.org(HOST), &["procesregisseur"], method, path, body).await
}

async fn report(gw: &Gateway, slug: &'static str) -> String {
    let body = json!({"subject": {"bsn": BSN}, "summary": "Zorgen"});
    let r = gw
        .call(&gw.org(slug), &["professional"], Method::POST, "/v1/cases", Some(body))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn convene(gw: &Gateway, meeting_type: &str, starts_in: i64) -> String {
    let body = json!({"type": meeting_type, "starts_at": at(starts_in), "ends_at": at(starts_in + 3600)});
    let r = regisseur(gw, Method::POST, "/v1/meetings", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

#[track_caller]
fn ok(r: Response) {
    assert_eq!(r.status, 204, "{}", r.text);
}

async fn agenda(gw: &Gateway, meeting: &str, case: &str) -> Response {
    let path = format!("/v1/meetings/{meeting}/agenda");
    regisseur(gw, Method::POST, &path, Some(json!({"case_id": case}))).await
}

async fn attend(gw: &Gateway, meeting: &str, body: Value) -> Response {
    let path = format!("/v1/meetings/{meeting}/attendees");
    regisseur(gw, Method::POST, &path, Some(body)).await
}

fn declaration(signed_at: &str) -> Value {
    json!({"signed_by": "J. de Vries", "signed_at": signed_at})
}

async fn admin_actions(gw: &Gateway) -> Vec<String> {
    let filter = LogFilter {
        kinds: vec![Kind::Admin],
        ..LogFilter::default()
    };
    let records = gw.app().log.records().query(&filter, 0, false, 1000).await.unwrap();
    records.into_iter().filter_map(|r| r.entry.action).collect()
}

async fn a_meeting_is_convened_filled_and_closed(b: Backend) {
    let gw = Gateway::start(b).await;
    let case = report(&gw, "gemeente").await;
    let meeting = convene(&gw, "focus", -60).await;
    let path = format!("/v1/meetings/{meeting}");
    let view = regisseur(&gw, Method::GET, &path, None).await;
    assert_eq!(view.status, 200, "{}", view.text);
    assert_eq!(view.body["type"], "focus");
    assert_eq!(view.body["status"], "open");
    assert_eq!(view.body["in_session"], true);
    assert_eq!(view.body["attendees"][0]["oin"], ZVH);
    assert_eq!(view.body["agenda"], json!([]));

    ok(agenda(&gw, &meeting, &case).await);
    agenda(&gw, &meeting, &case).await.assert_problem(409, "invalid_state");
    ok(attend(&gw, &meeting, json!({"oin": GEMEENTE})).await);
    attend(&gw, &meeting, json!({"oin": GEMEENTE}))
        .await
        .assert_problem(409, "invalid_state");

    // An incidental organisation attends only with a signed declaration, signed already.
    onboard(&gw, INCIDENTAL, "incidenteel", &["zorgaanbieder"], false).await;
    attend(&gw, &meeting, json!({"oin": INCIDENTAL}))
        .await
        .assert_problem(422, "validation_failed");
    let future = json!({"oin": INCIDENTAL, "confidentiality_declaration": declaration(&at(3600))});
    attend(&gw, &meeting, future)
        .await
        .assert_problem(422, "validation_failed");
    let signed = json!({"oin": INCIDENTAL, "confidentiality_declaration": declaration(&at(-600))});
    ok(attend(&gw, &meeting, signed).await);

    // Attendees see the meeting; others do not learn it exists.
    let seen = gw
        .call(&gw.org("gemeente"), &["professional"], Method::GET, &path, None)
        .await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert_eq!(seen.body["agenda"], json!([case]));
    let attendees = seen.body["attendees"].as_array().unwrap();
    assert_eq!(attendees.len(), 3);
    assert_eq!(attendees[2]["oin"], INCIDENTAL);
    assert_eq!(attendees[2]["confidentiality_declaration"]["signed_by"], "J. de Vries");
    assert_eq!(attendees[1]["confidentiality_declaration"], Value::Null);
    gw.call(&gw.org("politie"), &["professional"], Method::GET, &path, None)
        .await
        .assert_problem(404, "not_found");

    // Closed: nothing about it changes any more.
    let close = format!("{path}/close");
    ok(regisseur(&gw, Method::POST, &close, Some(json!({"reason": "afgerond"}))).await);
    regisseur(&gw, Method::POST, &close, Some(json!({"reason": "nogmaals"})))
        .await
        .assert_problem(409, "meeting_closed");
    let other = report(&gw, "politie").await;
    agenda(&gw, &meeting, &other)
        .await
        .assert_problem(409, "meeting_closed");
    attend(&gw, &meeting, json!({"oin": POLITIE}))
        .await
        .assert_problem(409, "meeting_closed");
    let view = regisseur(&gw, Method::GET, &path, None).await;
    assert_eq!(view.body["status"], "closed");
    assert_eq!(view.body["in_session"], false);

    let actions = admin_actions(&gw).await;
    let meeting_actions: Vec<&str> = actions
        .iter()
        .map(String::as_str)
        .filter(|a| a.starts_with("meeting."))
        .collect();
    assert_eq!(
        meeting_actions,
        [
            "meeting.create",
            "meeting.agenda.add",
            "meeting.attendee.add",
            "meeting.attendee.add",
            "meeting.close"
        ]
    );
    gw.stop().await;
}

async fn bad_meeting_input_is_refused_and_nothing_is_recorded(b: Backend) {
    let gw = Gateway::start(b).await;
    let case = report(&gw, "gemeente").await;
    let meeting = convene(&gw, "briefing", 0).await;
    let (head, _) = gw.app().log.records().head().await.unwrap();
    let create = |body: Value| regisseur(&gw, Method::POST, "/v1/meetings", Some(body));

    let r = create(json!({"type": "koffie", "starts_at": at(0), "ends_at": at(60)})).await;
    r.assert_problem(422, "validation_failed");
    assert!(r.body["detail"].as_str().unwrap().contains("`koffie`"));
    create(json!({"type": "focus", "starts_at": at(60), "ends_at": at(0)}))
        .await
        .assert_problem(422, "validation_failed");
    create(json!({"type": "focus", "starts_at": at(-7200), "ends_at": at(-3600)}))
        .await
        .assert_problem(422, "validation_failed");
    create(json!({"type": "focus", "starts_at": at(0), "ends_at": at(32 * 86400)}))
        .await
        .assert_problem(422, "validation_failed");
    create(json!({"type": "focus", "starts_at": "morgen", "ends_at": at(60)}))
        .await
        .assert_problem(422, "validation_failed");
    create(json!({"type": "focus", "starts_at": at(0)}))
        .await
        .assert_problem(422, "validation_failed");
    create(json!({"type": "focus", "starts_at": at(0), "ends_at": at(60), "room": "B"}))
        .await
        .assert_problem(422, "validation_failed");

    // Only the host's procesregisseur convenes and changes meetings.
    let body = json!({"type": "focus", "starts_at": at(0), "ends_at": at(60)});
    gw.call(
        &gw.org(HOST),
        &["professional"],
        Method::POST,
        "/v1/meetings",
        Some(body.clone()),
    )
    .await
    .assert_problem(403, "forbidden");
    let partner = gw
        .call(
            &gw.org("politie"),
            &["procesregisseur"],
            Method::POST,
            "/v1/meetings",
            Some(body),
        )
        .await;
    assert_eq!(partner.status, 403, "{}", partner.text);

    // Unknown meeting, unknown or closed case, unknown or inactive organisation, bad reason.
    agenda(&gw, "meeting-none", &case)
        .await
        .assert_problem(404, "not_found");
    agenda(&gw, &meeting, "case-none")
        .await
        .assert_problem(422, "validation_failed");
    attend(&gw, &meeting, json!({"oin": "00000099000000000099"}))
        .await
        .assert_problem(422, "validation_failed");
    attend(&gw, &meeting, json!({"oin": "politie"}))
        .await
        .assert_problem(422, "validation_failed");
    let bad_declaration =
        json!({"oin": POLITIE, "confidentiality_declaration": {"signed_by": " ", "signed_at": at(-1)}});
    attend(&gw, &meeting, bad_declaration)
        .await
        .assert_problem(422, "validation_failed");
    let close = format!("/v1/meetings/{meeting}/close");
    regisseur(&gw, Method::POST, &close, Some(json!({"reason": ""})))
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(
        gw.app().log.records().head().await.unwrap().0,
        head,
        "refusals record nothing"
    );

    let suspend = format!("/v1/admin/organisations/{OM}/suspend");
    assert_eq!(
        gw.admin(Method::POST, &suspend, Some(json!({"reason": "audit"})))
            .await
            .status,
        200
    );
    attend(&gw, &meeting, json!({"oin": OM}))
        .await
        .assert_problem(422, "validation_failed");
    let close_case = format!("/v1/cases/{case}/close");
    ok(regisseur(&gw, Method::POST, &close_case, Some(json!({"reason": "klaar"}))).await);
    agenda(&gw, &meeting, &case).await.assert_problem(409, "case_closed");
    gw.stop().await;
}

/// One flow to decide: from `source` to `recipient` (OINs) about a case, in the context of a meeting.
#[derive(Clone, Copy)]
struct Flow<'a> {
    case_id: &'a str,
    meeting_id: &'a str,
    source: &'a str,
    recipient: &'a str,
    setting: Setting,
}

/// Reads the facts of a flow from the database as the exchange does, and decides one category.
async fn decide(gw: &Gateway, flow: Flow<'_>, purpose: &str, category: &str) -> String {
    let app = gw.app();
    let covenant = app.covenant();
    let registry = app.registry.current();
    let case = app.store.case(&typed(flow.case_id)).await.unwrap().unwrap();
    let meeting = app.store.meeting(&typed(flow.meeting_id)).await.unwrap().unwrap();
    let recorded = Recorded::load(&app.store, case, meeting, app.clock.now())
        .await
        .unwrap();
    let facts = recorded.flow(
        &registry,
        &covenant,
        &typed(flow.source),
        &typed(flow.recipient),
        flow.setting,
    );
    facts.decide(&covenant, purpose, category).code().to_owned()
}

async fn the_decision_point_reads_the_recorded_facts(b: Backend) {
    let gw = Gateway::start(b).await;
    let case = report(&gw, "gemeente").await;
    let members = format!("/v1/cases/{case}/members");
    for oin in [POLITIE, WIJKTEAM] {
        let r = regisseur(
            &gw,
            Method::POST,
            &members,
            Some(json!({"oin": oin, "reason": "betrokken"})),
        )
        .await;
        ok(r);
    }
    let meeting = convene(&gw, "focus", -60).await;
    ok(agenda(&gw, &meeting, &case).await);
    for oin in [GEMEENTE, POLITIE, WIJKTEAM] {
        ok(attend(&gw, &meeting, json!({"oin": oin})).await);
    }
    let share = |source, recipient| Flow {
        case_id: &case,
        meeting_id: &meeting,
        source,
        recipient,
        setting: Setting::MeetingShare,
    };
    let plan = "integraal_plan";
    assert_eq!(
        decide(&gw, share(GEMEENTE, POLITIE), plan, "leefgebieden").await,
        "allow"
    );
    assert_eq!(
        decide(&gw, share(GEMEENTE, POLITIE), plan, "politie_details").await,
        "forbidden_category"
    );
    assert_eq!(
        decide(&gw, share(GEMEENTE, POLITIE), "weging", "leefgebieden").await,
        "validation_failed"
    );

    // Consent: the wijkteam's answer waits for it.
    assert_eq!(
        decide(&gw, share(WIJKTEAM, POLITIE), plan, "leefgebieden").await,
        "consent_required"
    );
    let consent = json!({"categories": ["leefgebieden"], "organisations": [POLITIE], "until": at(86400)});
    let r = gw
        .call(
            &gw.org("wijkteam"),
            &["professional"],
            Method::POST,
            &format!("/v1/cases/{case}/consent"),
            Some(consent),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        decide(&gw, share(WIJKTEAM, POLITIE), plan, "leefgebieden").await,
        "allow"
    );

    // Attendance counts for shares, not for requests; the agenda and the window count for both.
    let other = convene(&gw, "focus", -60).await;
    let in_other = |setting| Flow {
        meeting_id: &other,
        setting,
        ..share(GEMEENTE, POLITIE)
    };
    assert_eq!(
        decide(&gw, in_other(Setting::Request), plan, "leefgebieden").await,
        "not_on_agenda"
    );
    ok(agenda(&gw, &other, &case).await);
    assert_eq!(
        decide(&gw, in_other(Setting::MeetingShare), plan, "leefgebieden").await,
        "not_attendee"
    );
    assert_eq!(
        decide(&gw, in_other(Setting::Request), plan, "leefgebieden").await,
        "allow"
    );
    let later = convene(&gw, "focus", 3600).await;
    ok(agenda(&gw, &later, &case).await);
    // Before its window a meeting takes requests (they prepare it) but no shares.
    let before_window = |setting| Flow {
        meeting_id: &later,
        setting,
        ..share(GEMEENTE, POLITIE)
    };
    assert_eq!(
        decide(&gw, before_window(Setting::MeetingShare), plan, "leefgebieden").await,
        "meeting_closed"
    );
    assert_eq!(
        decide(&gw, before_window(Setting::Request), plan, "leefgebieden").await,
        "allow"
    );

    // An organisation that has not signed the version in force takes part only with a declaration.
    onboard(&gw, UNSIGNED, "convenantpartner", &["zorgaanbieder"], false).await;
    ok(regisseur(
        &gw,
        Method::POST,
        &members,
        Some(json!({"oin": UNSIGNED, "reason": "zorg"})),
    )
    .await);
    let to_unsigned = Flow {
        setting: Setting::Request,
        ..share(GEMEENTE, UNSIGNED)
    };
    assert_eq!(
        decide(&gw, to_unsigned, plan, "betrokkenheid").await,
        "covenant_not_signed"
    );
    let with_declaration = json!({"oin": UNSIGNED, "confidentiality_declaration": declaration(&at(-60))});
    ok(attend(&gw, &meeting, with_declaration).await);
    assert_eq!(decide(&gw, to_unsigned, plan, "betrokkenheid").await, "allow");

    // Membership withdrawn, then the meeting closed.
    let withdraw = format!("{members}/{POLITIE}");
    ok(regisseur(
        &gw,
        Method::DELETE,
        &withdraw,
        Some(json!({"reason": "niet meer betrokken"})),
    )
    .await);
    assert_eq!(
        decide(&gw, share(GEMEENTE, POLITIE), plan, "leefgebieden").await,
        "not_member"
    );
    let close = format!("/v1/meetings/{meeting}/close");
    ok(regisseur(&gw, Method::POST, &close, Some(json!({"reason": "afgerond"}))).await);
    assert_eq!(
        decide(&gw, share(GEMEENTE, WIJKTEAM), plan, "betrokkenheid").await,
        "meeting_closed"
    );

    // The later meeting's window on the gateway's clock: once begun, attendance decides; once over, nothing.
    let in_later = |setting| Flow {
        meeting_id: &later,
        setting,
        ..share(GEMEENTE, WIJKTEAM)
    };
    gw.clock.advance(time::Duration::seconds(3660));
    assert_eq!(
        decide(&gw, in_later(Setting::MeetingShare), plan, "betrokkenheid").await,
        "not_attendee"
    );
    assert_eq!(
        decide(&gw, in_later(Setting::Request), plan, "betrokkenheid").await,
        "allow"
    );
    gw.clock.advance(time::Duration::seconds(3600));
    assert_eq!(
        decide(&gw, in_later(Setting::Request), plan, "betrokkenheid").await,
        "meeting_closed"
    );
    gw.stop().await;
}

async fn each_organisation_lists_the_meetings_it_attends(b: Backend) {
    let gw = Gateway::start(b).await;
    let list = |slug: &'static str| {
        let org = gw.org(slug);
        let gw = &gw;
        async move {
            gw.call(&org, &["professional"], Method::GET, "/v1/meetings", None)
                .await
        }
    };
    assert_eq!(list("gemeente").await.body, json!([]));
    let earlier = convene(&gw, "focus", 60).await;
    let later = convene(&gw, "focus", 7200).await;
    let case = report(&gw, "politie").await;
    ok(agenda(&gw, &later, &case).await);
    ok(attend(&gw, &later, json!({"oin": GEMEENTE})).await);
    let ids = |r: Response| -> Vec<String> {
        r.body
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect()
    };
    // The convening host attends both, newest first; the municipality the one it was added to; the police none.
    assert_eq!(ids(list("zvh").await), [later.clone(), earlier.clone()]);
    let gemeente = list("gemeente").await;
    assert_eq!(gemeente.body[0]["agenda"], json!([case]));
    assert_eq!(ids(gemeente), std::slice::from_ref(&later));
    assert_eq!(list("politie").await.body, json!([]));
    // A window: meetings that end after `from` and start before `to`.
    let host = gw.org(HOST);
    let within = |from: i64, to: i64| {
        let path = format!("/v1/meetings?from={}&to={}", at(from), at(to));
        let (gw, host) = (&gw, &host);
        async move { gw.call(host, &["professional"], Method::GET, &path, None).await }
    };
    assert_eq!(ids(within(5000, 90000).await), std::slice::from_ref(&later));
    assert_eq!(ids(within(0, 3000).await), std::slice::from_ref(&earlier));
    assert_eq!(ids(within(90000, 99000).await), Vec::<String>::new());
    let r = gw
        .call(
            &host,
            &["professional"],
            Method::GET,
            "/v1/meetings?from=gisteren",
            None,
        )
        .await;
    r.assert_problem(422, "validation_failed");
    // Without a token: refused as every API route.
    let mut c = gw.connect(Some(&gw.org("gemeente").identity)).await.unwrap();
    c.send(Method::GET, "/v1/meetings", None, None)
        .await
        .unwrap()
        .assert_problem(401, "token_invalid");
    // The console lists them too.
    let person = gw.person("gemeente-medewerker");
    let mut c = gw.connect(Some(&person)).await.unwrap();
    let page = c
        .send_with(Method::GET, "/console/meetings", None, &[], Vec::new())
        .await
        .unwrap();
    assert_eq!(page.status, 200);
    assert!(page.text.contains(&format!("/console/meetings/{later}")));
    assert!(!page.text.contains(&format!("/console/meetings/{earlier}")));
    gw.stop().await;
}

async fn an_organisation_is_told_of_its_cases_meetings_and_requests(b: Backend) {
    let gw = Gateway::start(b).await;
    let told = |slug: &'static str, after: i64| {
        let org = gw.org(slug);
        let gw = &gw;
        async move {
            let path = format!("/v1/notifications?after={after}");
            gw.call(&org, &["professional"], Method::GET, &path, None).await
        }
    };
    assert_eq!(told("gemeente", 0).await.body, json!([]));
    let case = report(&gw, "politie").await;
    for oin in [ZVH, GEMEENTE] {
        let body = json!({"oin": oin, "reason": "betrokken"});
        ok(regisseur(&gw, Method::POST, &format!("/v1/cases/{case}/members"), Some(body)).await);
    }
    let meeting = convene(&gw, "focus", -60).await;
    ok(agenda(&gw, &meeting, &case).await);
    ok(attend(&gw, &meeting, json!({"oin": GEMEENTE})).await);
    // A member already: no change, no second notification.
    let again = json!({"oin": GEMEENTE, "reason": "betrokken"});
    assert_eq!(
        regisseur(&gw, Method::POST, &format!("/v1/cases/{case}/members"), Some(again))
            .await
            .status,
        409
    );
    let ask = json!({"case_id": case, "meeting_id": meeting, "purpose": "integraal_plan",
        "categories": ["leefgebieden"], "addressees": [GEMEENTE], "due": at(86400)});
    let r = gw
        .call(
            &gw.org(HOST),
            &["professional"],
            Method::POST,
            "/v1/requests",
            Some(ask),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let request = r.body["id"].as_str().unwrap().to_owned();

    let all = told("gemeente", 0).await;
    assert_eq!(all.status, 200);
    let kinds: Vec<&str> = all
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["case_member_added", "meeting_attendee_added", "request_received"]
    );
    assert_eq!(all.body[0]["case_id"], json!(case));
    assert_eq!(all.body[1]["meeting_id"], json!(meeting));
    assert_eq!(all.body[2]["request_id"], json!(request));
    // Paging on: only what came after the last one seen.
    let second = all.body[1]["id"].as_i64().unwrap();
    let newer = told("gemeente", second).await;
    assert_eq!(newer.body.as_array().unwrap().len(), 1);
    assert_eq!(newer.body[0]["kind"], "request_received");
    // Another organisation is told nothing of it; bad input is refused.
    assert_eq!(told("politie", 0).await.body, json!([]));
    told("gemeente", -1).await.assert_problem(422, "validation_failed");
    let r = gw
        .call(
            &gw.org("gemeente"),
            &["professional"],
            Method::GET,
            "/v1/notifications?x=1",
            None,
        )
        .await;
    assert_eq!(r.status, 422);
    gw.stop().await;
}
