//! Cases over real TLS: reported with a BSN that is stored only as its pseudonym and sealed, visible to member
//! organisations only (404 for others), membership granted and withdrawn by the host's procesregisseur, closed;
//! every change an `admin` record in the disclosure log.
use crate::both;
use crate::helpers::*;
use doelpoort::crypto::envelope::WrappedKey;
use doelpoort::log::chain::Kind;
use doelpoort::log::LogFilter;
use hyper::Method;
use serde_json::json;

both!(
    a_reported_case_is_sealed_and_seen_by_members_only,
    bad_reports_are_refused_and_nothing_is_stored,
    the_procesregisseur_grants_withdraws_and_closes,
    consent_is_recorded_by_members_within_its_scope,
    the_procesregisseur_appoints_a_member_the_case_holder,
);

const BSN: &str = "123456782";

async fn report(gw: &Gateway, slug: &'static str) -> String {
    let r = gw
        .call(
            &gw.org(slug),
            &["professional"],
            Method::POST,
            "/v1/cases",
            Some(json!({"subject": {"bsn": BSN}, "summary": "Zorgen over woonsituatie en schulden"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn get(gw: &Gateway, slug: &'static str, path: &str) -> Response {
    gw.call(&gw.org(slug), &["professional"], Method::GET, path, None).await
}

async fn regisseur(gw: &Gateway, method: Method, path: &str, body: serde_json::Value) -> Response {
    gw.call(&gw.org(HOST), &["procesregisseur"], method, path, Some(body))
        .await
}

async fn admin_actions(gw: &Gateway) -> Vec<doelpoort::log::chain::Record> {
    let filter = LogFilter {
        kinds: vec![Kind::Admin],
        ..LogFilter::default()
    };
    gw.app().log.records().query(&filter, i64::MAX, true, 20).await.unwrap()
}

async fn a_reported_case_is_sealed_and_seen_by_members_only(b: Backend) {
    let gw = Gateway::start(b).await;
    let id = report(&gw, "gemeente").await;
    let r = get(&gw, "gemeente", &format!("/v1/cases/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "open");
    assert_eq!(r.body["holder_oin"], GEMEENTE);
    assert_eq!(r.body["members"][0]["oin"], GEMEENTE);
    assert!(
        !r.text.contains(BSN) && !r.text.contains("woonsituatie"),
        "reads carry no content"
    );
    let listed = get(&gw, "gemeente", "/v1/cases").await;
    assert_eq!(listed.body[0]["id"], id.as_str());

    // Another organisation learns nothing, not even that the case exists.
    get(&gw, "politie", &format!("/v1/cases/{id}"))
        .await
        .assert_problem(404, "not_found");
    get(&gw, "politie", "/v1/cases/case-doesnotexist")
        .await
        .assert_problem(404, "not_found");
    assert_eq!(get(&gw, "politie", "/v1/cases").await.body, json!([]));

    // Stored: the pseudonym and sealed bytes; the master key opens them again.
    let app = gw.app();
    let row = app.store.case(&typed(&id)).await.unwrap().unwrap();
    let pseudonym = app.pseudonyms.pseudonym(&BSN.parse().unwrap());
    assert_eq!(row.subject, pseudonym);
    // The report keeps its subjects and summary, sealed with the case.
    let report = app.store.reports_of_case(&typed(&id)).await.unwrap().remove(0);
    let sealed = report.sealed_subjects.clone().unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains(BSN));
    assert!(!String::from_utf8_lossy(report.sealed_summary.as_ref().unwrap()).contains("woonsituatie"));
    let key = app
        .keyring()
        .unwrap(
            &id,
            &WrappedKey {
                master_id: row.master_key_id.clone().unwrap(),
                blob: row.data_key.clone().unwrap(),
            },
        )
        .unwrap();
    let subjects = format!("{}:subjects", report.id);
    assert_eq!(
        key.open(&id, &subjects, &sealed).unwrap(),
        format!(r#"[{{"bsn":"{BSN}"}}]"#).as_bytes()
    );
    assert!(key.open("case-other", &subjects, &sealed).is_err());

    // The report is in the log with the pseudonym, never the BSN.
    let record = &admin_actions(&gw).await[0];
    assert_eq!(record.entry.action.as_deref(), Some("case.report"));
    assert_eq!(record.entry.case_id.as_deref(), Some(id.as_str()));
    assert_eq!(record.entry.subject.as_deref(), Some(pseudonym.as_str()));
    assert_eq!(record.entry.actor_oin.as_deref(), Some(GEMEENTE));
    assert!(record.entry.trace_id.is_some() && record.entry.request_id.is_some());
    assert!(!format!("{record:?}").contains(BSN));
    gw.stop().await;
}

async fn bad_reports_are_refused_and_nothing_is_stored(b: Backend) {
    let gw = Gateway::start(b).await;
    let (head, _) = gw.app().log.records().head().await.unwrap();
    let gemeente = gw.org("gemeente");
    let post = |body: serde_json::Value, roles: &'static [&'static str]| {
        let gemeente = gemeente.clone();
        let gw = &gw;
        async move { gw.call(&gemeente, roles, Method::POST, "/v1/cases", Some(body)).await }
    };
    let r = post(
        json!({"subject": {"bsn": "123456789"}, "summary": "x"}),
        &["professional"],
    )
    .await;
    r.assert_problem(422, "invalid_bsn");
    assert!(!r.text.contains("123456789"));
    for body in [
        json!({"subject": {"bsn": BSN}, "summary": "   "}),
        json!({"subject": {"bsn": BSN}, "summary": "x".repeat(4001)}),
        json!({"subject": {"bsn": BSN}}),
        json!({"subject": {"bsn": BSN}, "summary": "x", "extra": 1}),
        json!({"subject": BSN, "summary": "x"}),
    ] {
        post(body, &["professional"])
            .await
            .assert_problem(422, "validation_failed");
    }
    post(json!({"subject": {"bsn": BSN}, "summary": "x"}), &["privacy_officer"])
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(get(&gw, "gemeente", "/v1/cases").await.body, json!([]));
    assert_eq!(gw.app().log.records().head().await.unwrap().0, head, "nothing recorded");
    gw.stop().await;
}

async fn the_procesregisseur_grants_withdraws_and_closes(b: Backend) {
    let gw = Gateway::start(b).await;
    let id = report(&gw, "gemeente").await;
    let members = format!("/v1/cases/{id}/members");
    let grant = |oin: &str| json!({"oin": oin, "reason": "weging"});

    // Only the host's procesregisseur manages membership.
    gw.call(
        &gw.org("gemeente"),
        &["professional"],
        Method::POST,
        &members,
        Some(grant(POLITIE)),
    )
    .await
    .assert_problem(403, "forbidden");
    let r = regisseur(&gw, Method::POST, &members, grant(POLITIE)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let seen = get(&gw, "politie", &format!("/v1/cases/{id}")).await;
    assert_eq!(seen.status, 200);
    let oins: Vec<&str> = seen.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["oin"].as_str().unwrap())
        .collect();
    assert_eq!(oins.len(), 2);
    assert!(oins.contains(&POLITIE) && oins.contains(&GEMEENTE));
    regisseur(&gw, Method::POST, &members, grant(POLITIE))
        .await
        .assert_problem(409, "invalid_state");
    regisseur(&gw, Method::POST, &members, grant("00000099000000000099"))
        .await
        .assert_problem(422, "validation_failed");
    regisseur(&gw, Method::POST, &members, grant("42"))
        .await
        .assert_problem(422, "validation_failed");
    regisseur(&gw, Method::POST, &members, json!({"oin": POLITIE, "reason": ""}))
        .await
        .assert_problem(422, "validation_failed");
    regisseur(&gw, Method::POST, "/v1/cases/case-nope/members", grant(POLITIE))
        .await
        .assert_problem(404, "not_found");
    // A suspended organisation cannot be granted access.
    let woning = gw.org("woningcorporatie").oin;
    let r = gw
        .admin(
            Method::POST,
            &format!("/v1/admin/organisations/{woning}/suspend"),
            Some(json!({"reason": "audit"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    regisseur(&gw, Method::POST, &members, grant(&woning))
        .await
        .assert_problem(422, "validation_failed");

    // Withdrawal: the organisation is back to 404; the holder keeps access.
    let why = json!({"reason": "niet meer betrokken"});
    let r = regisseur(&gw, Method::DELETE, &format!("{members}/{POLITIE}"), why.clone()).await;
    assert_eq!(r.status, 204, "{}", r.text);
    get(&gw, "politie", &format!("/v1/cases/{id}"))
        .await
        .assert_problem(404, "not_found");
    regisseur(&gw, Method::DELETE, &format!("{members}/{POLITIE}"), why.clone())
        .await
        .assert_problem(404, "not_found");
    regisseur(&gw, Method::DELETE, &format!("{members}/{GEMEENTE}"), why.clone())
        .await
        .assert_problem(409, "invalid_state");

    // Closing records what the case achieved, from the covenant's closure outcomes only; it starts retention,
    // and a closed case takes no new members.
    let close = format!("/v1/cases/{id}/close");
    let unknown = json!({"reason": "klaar", "outcomes": ["passende_zorg", "iedereen_blij"]});
    let r = regisseur(&gw, Method::POST, &close, unknown).await;
    r.assert_problem(422, "validation_failed");
    assert!(r.body["detail"].as_str().unwrap().contains("outcomes[1]"), "{}", r.text);
    assert_eq!(
        get(&gw, "gemeente", &format!("/v1/cases/{id}")).await.body["status"],
        "open"
    );
    let outcomes =
        json!({"reason": "plan uitgevoerd", "outcomes": ["voortgang_geboekt", "passende_zorg", "passende_zorg"]});
    let r = regisseur(&gw, Method::POST, &close, outcomes).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let closed = get(&gw, "gemeente", &format!("/v1/cases/{id}")).await;
    assert_eq!(closed.body["status"], "closed");
    assert_eq!(
        closed.body["closure_outcomes"],
        json!(["passende_zorg", "voortgang_geboekt"])
    );
    let offered = get(&gw, "gemeente", "/v1/covenant").await;
    assert_eq!(offered.body["closure_outcomes"].as_array().unwrap().len(), 5);
    assert!(closed.body["closed_at"].as_str().unwrap().ends_with('Z'));
    regisseur(&gw, Method::POST, &close, json!({"reason": "again"}))
        .await
        .assert_problem(409, "case_closed");
    regisseur(&gw, Method::POST, &members, grant(POLITIE))
        .await
        .assert_problem(409, "case_closed");

    let actions: Vec<String> = admin_actions(&gw)
        .await
        .iter()
        .filter(|r| r.entry.case_id.as_deref() == Some(id.as_str()))
        .map(|r| r.entry.action.clone().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["case.close", "case.member.withdraw", "case.member.grant", "case.report"]
    );
    let record = gw.newest_admin_record().await;
    assert!(record
        .entry
        .detail
        .unwrap()
        .contains(r#""outcomes":["passende_zorg","voortgang_geboekt"]"#));
    gw.stop().await;
}

async fn consent_is_recorded_by_members_within_its_scope(b: Backend) {
    let gw = Gateway::start(b).await;
    let id = report(&gw, "gemeente").await;
    let path = format!("/v1/cases/{id}/consent");
    let in_days = |d: i64| doelpoort::types::clock::rfc3339(time::OffsetDateTime::now_utc() + time::Duration::days(d));
    let consent = |categories: serde_json::Value, organisations: serde_json::Value, until: String| json!({"categories": categories, "organisations": organisations, "until": until});
    let good = consent(json!(["leefgebieden"]), json!([ZVH]), in_days(30));
    let as_org = |slug: &'static str, body: serde_json::Value| {
        let (gw, path) = (&gw, path.clone());
        async move {
            gw.call(&gw.org(slug), &["professional"], Method::POST, &path, Some(body))
                .await
        }
    };
    as_org("wijkteam", good.clone()).await.assert_problem(404, "not_found");
    let r = as_org("gemeente", good.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.body["id"].as_str().unwrap().starts_with("consent-"));

    // The consents as the decision point reads them, with the case's other facts.
    let consents = gw
        .app()
        .store
        .case_in_meeting(&typed(&id), &typed("meeting-none"))
        .await
        .unwrap()
        .consents;
    let covers = |category: &str, oin: &str, at: &str| {
        consents
            .iter()
            .any(|c| c.valid_at(typed(at)) && c.covers(category, &typed(oin)))
    };
    let now = doelpoort::types::clock::rfc3339(time::OffsetDateTime::now_utc());
    assert!(covers("leefgebieden", ZVH, &now));
    assert!(!covers("zorg_samenvatting", ZVH, &now), "another category");
    assert!(!covers("leefgebieden", POLITIE, &now), "another recipient");
    assert!(!covers("leefgebieden", ZVH, &in_days(31)), "after its end");
    let record = &admin_actions(&gw).await[0];
    assert_eq!(record.entry.action.as_deref(), Some("case.consent"));
    assert!(record.entry.detail.as_deref().unwrap().contains("leefgebieden"));

    for (body, mentions) in [
        (consent(json!([]), json!([ZVH]), in_days(1)), "scope"),
        (consent(json!(["leefgebieden"]), json!([]), in_days(1)), "scope"),
        (consent(json!(["leefgebieden"]), json!([ZVH]), in_days(-1)), "future"),
        (consent(json!(["roddel"]), json!([ZVH]), in_days(1)), "roddel"),
        (consent(json!(["leefgebieden"]), json!(["42"]), in_days(1)), "OIN"),
        (
            consent(json!(["leefgebieden"]), json!([ZVH]), "tomorrow".into()),
            "RFC 3339",
        ),
    ] {
        let r = as_org("gemeente", body).await;
        r.assert_problem(422, "validation_failed");
        assert!(r.text.contains(mentions), "{}", r.text);
    }
    let r = regisseur(
        &gw,
        Method::POST,
        &format!("/v1/cases/{id}/close"),
        json!({"reason": "klaar"}),
    )
    .await;
    assert_eq!(r.status, 204);
    as_org("gemeente", good).await.assert_problem(409, "case_closed");
    gw.stop().await;
}

async fn the_procesregisseur_appoints_a_member_the_case_holder(b: Backend) {
    let gw = Gateway::start(b).await;
    let id = report(&gw, "politie").await;
    let holder = format!("/v1/cases/{id}/holder");
    let appoint = |oin: &str| json!({"oin": oin, "reason": "wijkteam voert de regie"});
    // Not a member yet, a malformed OIN, no reason, not the procesregisseur: refused, nothing changes.
    regisseur(&gw, Method::POST, &holder, appoint(WIJKTEAM))
        .await
        .assert_problem(422, "validation_failed");
    regisseur(&gw, Method::POST, &holder, appoint("123"))
        .await
        .assert_problem(422, "validation_failed");
    regisseur(&gw, Method::POST, &holder, json!({"oin": WIJKTEAM, "reason": " "}))
        .await
        .assert_problem(422, "validation_failed");
    let members = format!("/v1/cases/{id}/members");
    let r = regisseur(
        &gw,
        Method::POST,
        &members,
        json!({"oin": WIJKTEAM, "reason": "betrokken"}),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let as_professional = gw
        .call(
            &gw.org(HOST),
            &["professional"],
            Method::POST,
            &holder,
            Some(appoint(WIJKTEAM)),
        )
        .await;
    assert_eq!(as_professional.status, 403);
    regisseur(&gw, Method::POST, &holder, appoint(POLITIE))
        .await
        .assert_problem(409, "invalid_state");
    assert_eq!(
        get(&gw, "politie", &format!("/v1/cases/{id}")).await.body["holder_oin"],
        POLITIE
    );

    let r = regisseur(&gw, Method::POST, &holder, appoint(WIJKTEAM)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        get(&gw, "wijkteam", &format!("/v1/cases/{id}")).await.body["holder_oin"],
        WIJKTEAM
    );
    let record = gw.newest_admin_record().await;
    assert_eq!(record.entry.action.as_deref(), Some("case.holder.appoint"));
    assert!(record
        .entry
        .detail
        .unwrap()
        .contains(&format!(r#""previous":"{POLITIE}""#)));
    let told = get(&gw, "wijkteam", "/v1/notifications").await;
    let kinds: Vec<&str> = told
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["case_member_added", "holder_appointed"]);
    // Hit/no-hit names the new holder as the contact.
    let ask = json!({"subject": {"bsn": BSN}, "purpose": "zsm_afdoening"});
    let hit = gw
        .call(
            &gw.org("politie"),
            &["professional"],
            Method::POST,
            "/v1/lookups",
            Some(ask),
        )
        .await;
    assert_eq!(hit.status, 200, "{}", hit.text);
    assert_eq!(hit.body["contact"]["oin"], WIJKTEAM, "{}", hit.text);
    // The holder (only) asks the host to put the case on an agenda again; the host is told.
    let again = format!("/v1/cases/{id}/agenda-requests");
    let why = json!({"reason": "bijsturen nodig na de maandcontrole"});
    let ask = |slug: &'static str, body: serde_json::Value| {
        let (gw, again) = (&gw, &again);
        async move {
            gw.call(&gw.org(slug), &["professional"], Method::POST, again, Some(body))
                .await
        }
    };
    ask("politie", why.clone()).await.assert_problem(403, "forbidden");
    ask("om", why.clone()).await.assert_problem(404, "not_found");
    ask("wijkteam", json!({"reason": ""}))
        .await
        .assert_problem(422, "validation_failed");
    let r = ask("wijkteam", why.clone()).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        gw.newest_admin_record().await.entry.action.as_deref(),
        Some("case.agenda.request")
    );
    let host = get(&gw, HOST, "/v1/notifications").await;
    let last = host.body.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["kind"].as_str(), last["case_id"].as_str()),
        (Some("agenda_requested"), Some(id.as_str()))
    );
    // The former holder may now leave; the new one may not.
    let r = regisseur(
        &gw,
        Method::DELETE,
        &format!("{members}/{POLITIE}"),
        json!({"reason": "klaar"}),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    regisseur(
        &gw,
        Method::DELETE,
        &format!("{members}/{WIJKTEAM}"),
        json!({"reason": "x"}),
    )
    .await
    .assert_problem(409, "invalid_state");
    // A closed case has no new holder.
    let close = format!("/v1/cases/{id}/close");
    assert_eq!(
        regisseur(&gw, Method::POST, &close, json!({"reason": "klaar"}))
            .await
            .status,
        204
    );
    regisseur(&gw, Method::POST, &holder, appoint(POLITIE))
        .await
        .assert_problem(409, "case_closed");
    gw.stop().await;
}
