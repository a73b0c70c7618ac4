//! The information exchange over real TLS: the story of `domain.md` from report to purge with the FG's subject
//! report checked at the end; every content route answering 503 and releasing nothing while the log cannot be
//! written; every way a request, response or share is refused with nothing stored; master-key rotation.
use crate::both;
use crate::helpers::*;
use doelpoort::crypto::envelope::{Keyring, MasterKey, WrappedKey};
use doelpoort::log::chain::{Kind, Record};
use doelpoort::log::LogFilter;
use doelpoort::types::clock::Clock as _;
use hyper::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;

both!(
    the_story_from_report_to_purge_leaves_an_exact_subject_report,
    every_content_route_releases_only_through_the_log,
    bad_requests_responses_and_shares_are_refused_and_store_nothing,
    a_master_key_rotation_rewraps_data_keys_and_content_still_opens,
    a_master_key_rotation_needs_no_restart_and_never_drops_a_key_in_use,
    a_cached_read_never_outlives_the_facts_it_was_judged_on,
    a_purged_case_leaves_the_cache_within_a_poll,
    a_release_cites_every_disclosure_it_was_released_under_and_no_refusal,
    a_non_attendee_cannot_tell_a_meeting_from_none,
    a_consent_scope_is_bounded_and_only_its_parties_record_it,
    a_withdrawn_consent_lets_nothing_through_from_then_on,
    concurrent_answers_and_an_offboard_leave_no_transaction_open,
    each_addressee_is_asked_and_judged_on_its_own_categories,
);

const BSN: &str = "123456782";

async fn call(gw: &Gateway, slug: &'static str, method: Method, path: &str, body: Option<Value>) -> Response {
    gw.call(&gw.org(slug), &["professional"], method, path, body).await
}

async fn regisseur(gw: &Gateway, method: Method, path: &str, body: Value) -> Response {
    gw.call(&gw.org(HOST), &["procesregisseur"], method, path, Some(body))
        .await
}

#[track_caller]
fn created(r: &Response) -> String {
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

#[track_caller]
fn no_content(r: &Response) {
    assert_eq!(r.status, 204, "{}", r.text);
}

/// A case reported by the police with `members` granted, and a meeting of `meeting_type` (in session) with the
/// case on its agenda and `attendees` attending.
async fn scene(gw: &Gateway, members: &[&str], meeting_type: &str, attendees: &[&str]) -> (String, String) {
    let report = json!({"subject": {"bsn": BSN}, "summary": "Woninginbraken, schulden, zorgen om de kinderen"});
    let case = created(&call(gw, "politie", Method::POST, "/v1/cases", Some(report)).await);
    for oin in members {
        let body = json!({"oin": oin, "reason": "betrokken bij de casus"});
        no_content(&regisseur(gw, Method::POST, &format!("/v1/cases/{case}/members"), body).await);
    }
    let meeting = convene(gw, meeting_type, &case, attendees).await;
    (case, meeting)
}

async fn convene(gw: &Gateway, meeting_type: &str, case: &str, attendees: &[&str]) -> String {
    let body = json!({"type": meeting_type, "starts_at": at(-60), "ends_at": at(7200)});
    let meeting = created(&regisseur(gw, Method::POST, "/v1/meetings", body).await);
    let agenda = json!({"case_id": case});
    no_content(&regisseur(gw, Method::POST, &format!("/v1/meetings/{meeting}/agenda"), agenda).await);
    for oin in attendees {
        let path = format!("/v1/meetings/{meeting}/attendees");
        no_content(&regisseur(gw, Method::POST, &path, json!({"oin": oin})).await);
    }
    meeting
}

fn request(case: &str, meeting: &str, purpose: &str, categories: &[&str], addressees: &[&str]) -> Value {
    json!({"case_id": case, "meeting_id": meeting, "purpose": purpose, "categories": categories,
        "addressees": addressees, "due": at(86400)})
}

/// A request from the ZVH to the municipality for `leefgebieden`, answered with `content`.
async fn answered_request(gw: &Gateway, case: &str, meeting: &str, content: &str) -> String {
    let ask = request(case, meeting, "integraal_plan", &["leefgebieden"], &[GEMEENTE]);
    let req = created(&call(gw, "zvh", Method::POST, "/v1/requests", Some(ask)).await);
    let answer = json!({"items": [{"category": "leefgebieden", "content": content}]});
    let path = format!("/v1/requests/{req}/responses");
    no_content(&call(gw, "gemeente", Method::POST, &path, Some(answer)).await);
    req
}

async fn records(gw: &Gateway, kind: Kind) -> Vec<Record> {
    let filter = LogFilter {
        kinds: vec![kind],
        ..LogFilter::default()
    };
    gw.app().log.records().query(&filter, 0, false, 1000).await.unwrap()
}

/// The neighbourhood team records the client's consent for `leefgebieden` to `organisations` until `until`.
async fn wijkteam_consents(gw: &Gateway, case: &str, organisations: &[&str], until: &str) {
    let consent = json!({"categories": ["leefgebieden"], "organisations": organisations, "until": until});
    let path = format!("/v1/cases/{case}/consent");
    let r = call(gw, "wijkteam", Method::POST, &path, Some(consent)).await;
    assert_eq!(r.status, 201, "{}", r.text);
}

/// Reads request `req` as its requester (the ZVH): status, released item contents and withheld codes.
async fn read_as_zvh(gw: &Gateway, req: &str) -> (u16, Vec<String>, Vec<String>) {
    let r = call(gw, "zvh", Method::GET, &format!("/v1/requests/{req}"), None).await;
    let strings = |key: &str, field: &str| -> Vec<String> {
        r.body[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|i| i[field].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    (
        r.status.as_u16(),
        strings("items", "content"),
        strings("withheld", "code"),
    )
}

async fn item_count(gw: &Gateway) -> i64 {
    let pool = sqlx::AnyPool::connect(&gw.config().database_url).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM items")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

fn sha256(text: &str) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()))
}

async fn the_story_from_report_to_purge_leaves_an_exact_subject_report(b: Backend) {
    sqlx::any::install_default_drivers();
    let gw = Gateway::start(b).await;
    let (case, briefing) = scene(&gw, &[ZVH, GEMEENTE, RECLASSERING, WIJKTEAM], "briefing", &[]).await;

    // Before the weighing the ZVH asks the municipality what it knows; life domains are not for a briefing.
    let forbidden = request(&case, &briefing, "weging", &["leefgebieden"], &[GEMEENTE]);
    let r = call(&gw, "zvh", Method::POST, "/v1/requests", Some(forbidden)).await;
    r.assert_problem(403, "forbidden_category");
    assert!(
        r.body["detail"].as_str().unwrap().contains("leefgebieden"),
        "{}",
        r.text
    );
    let weighing = request(
        &case,
        &briefing,
        "weging",
        &["identificatie", "betrokkenheid"],
        &[GEMEENTE],
    );
    let req = created(&call(&gw, "zvh", Method::POST, "/v1/requests", Some(weighing)).await);
    let inbox = call(&gw, "gemeente", Method::GET, "/v1/inbox", None).await;
    assert_eq!(inbox.body[0]["id"], req.as_str(), "{}", inbox.text);
    assert_eq!(inbox.body[0]["addressees"][0]["status"], "open");
    // The addressee reads the request it must answer: what is asked, nothing released.
    let asked = call(&gw, "gemeente", Method::GET, &format!("/v1/requests/{req}"), None).await;
    assert_eq!(asked.status, 200, "{}", asked.text);
    assert_eq!(asked.body["categories"], inbox.body[0]["categories"]);
    assert_eq!(asked.body["items"], json!([]));
    assert!(asked.headers.get("doelpoort-log-record").is_none());
    let waiting = call(&gw, "zvh", Method::GET, &format!("/v1/requests/{req}"), None).await;
    assert_eq!(waiting.body["items"], json!([]), "{}", waiting.text);
    assert!(
        waiting.headers.get("doelpoort-log-record").is_none(),
        "nothing released, nothing recorded"
    );

    let identity = json!({"naam": "J. Jansen", "geboortedatum": "1990-04-01"});
    let answer = json!({"items": [
        {"category": "identificatie", "content": identity},
        {"category": "betrokkenheid", "content": "Schuldhulpverlening sinds maart; contact via het Zorgloket"},
    ]});
    let responses = format!("/v1/requests/{req}/responses");
    no_content(&call(&gw, "gemeente", Method::POST, &responses, Some(answer.clone())).await);
    call(&gw, "gemeente", Method::POST, &responses, Some(answer))
        .await
        .assert_problem(409, "invalid_state");
    call(&gw, "politie", Method::GET, &format!("/v1/requests/{req}"), None)
        .await
        .assert_problem(404, "not_found");

    let read = call(&gw, "zvh", Method::GET, &format!("/v1/requests/{req}"), None).await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.body["addressees"][0]["status"], "answered");
    let items = read.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["content"], identity);
    assert_eq!(items[0]["source_oin"], GEMEENTE);
    let seq: i64 = read.headers["doelpoort-log-record"].to_str().unwrap().parse().unwrap();
    let disclosures = records(&gw, Kind::Disclosure).await;
    let first = disclosures.iter().find(|r| r.seq == seq).unwrap();
    assert_eq!(first.entry.source_oin.as_deref(), Some(GEMEENTE));
    assert_eq!(first.entry.recipient_oin.as_deref(), Some(ZVH));
    assert_eq!(first.entry.categories, ["betrokkenheid", "identificatie"]);
    assert_eq!(first.entry.meeting_type.as_deref(), Some("briefing"));
    assert_eq!(first.entry.purpose.as_deref(), Some("weging"));
    assert_eq!(first.entry.covenant_version.as_deref(), Some("2026.1"));
    assert!(first.entry.article.as_deref().is_some_and(|a| a.starts_with("art.")));
    assert_eq!(items[0]["digest"].as_str().unwrap(), sha256(&identity.to_string()));
    let digests: String = items
        .iter()
        .map(|i| format!("{}\n", i["digest"].as_str().unwrap()))
        .collect();
    assert_eq!(first.entry.content_digest.as_deref(), Some(sha256(&digests).as_str()));
    assert!(!format!("{first:?}").contains("Jansen") && !format!("{first:?}").contains(BSN));

    // The focus meeting: probation and police share; the neighbourhood team waits for consent.
    let attendees = [POLITIE, GEMEENTE, RECLASSERING, WIJKTEAM];
    let members = format!("/v1/cases/{case}/members");
    no_content(&regisseur(&gw, Method::POST, &members, json!({"oin": OM, "reason": "vervolging"})).await);
    let focus = convene(&gw, "focus", &case, &attendees).await;
    let shares = format!("/v1/meetings/{focus}/shares");
    let share =
        |category: &str, content: &str| json!({"case_id": case, "items": [{"category": category, "content": content}]});
    let r = call(
        &gw,
        "reclassering",
        Method::POST,
        &shares,
        Some(share("justitieel_status", "Toezicht tot 2027")),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = call(
        &gw,
        "politie",
        Method::POST,
        &shares,
        Some(share("politie_details", "Drie aanhoudingen")),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let leefgebieden = share("leefgebieden", "Huisvesting onzeker, schulden 12k");
    call(&gw, "wijkteam", Method::POST, &shares, Some(leefgebieden.clone()))
        .await
        .assert_problem(403, "consent_required");
    wijkteam_consents(&gw, &case, &[GEMEENTE, ZVH], &at(86400)).await;
    let r = call(&gw, "wijkteam", Method::POST, &shares, Some(leefgebieden)).await;
    assert_eq!(r.status, 201, "{}", r.text);

    // Each attendee reads only what it may receive.
    let read_shares = format!("{shares}?case_id={case}");
    let gemeente = call(&gw, "gemeente", Method::GET, &read_shares, None).await;
    assert_eq!(gemeente.status, 200, "{}", gemeente.text);
    let got: BTreeSet<&str> = gemeente.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["category"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        BTreeSet::from(["justitieel_status", "leefgebieden", "politie_details"])
    );
    let wijkteam = call(&gw, "wijkteam", Method::GET, &read_shares, None).await;
    assert_eq!(wijkteam.body["items"], json!([]), "{}", wijkteam.text);
    assert_eq!(wijkteam.body["withheld"].as_array().unwrap().len(), 2);
    let politie = call(&gw, "politie", Method::GET, &read_shares, None).await;
    let politie_got: Vec<&str> = politie.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["category"].as_str().unwrap())
        .collect();
    assert_eq!(politie_got, ["justitieel_status"], "{}", politie.text);
    assert_eq!(politie.body["withheld"][0]["code"], "consent_required");
    call(&gw, "om", Method::GET, &read_shares, None)
        .await
        .assert_problem(404, "not_found");
    let refused = records(&gw, Kind::Refusal).await.pop().unwrap();
    assert_eq!(
        (refused.entry.recipient_oin.as_deref(), refused.entry.case_id.as_deref()),
        (Some(OM), Some(case.as_str())),
        "a reader that does not attend is refused like every other refusal: recorded"
    );
    assert!(refused.entry.reason.unwrap().starts_with("not_attendee"));

    // Closure and purge; the log stays verifiable, the content is gone.
    let close = format!("/v1/meetings/{focus}/close");
    no_content(&regisseur(&gw, Method::POST, &close, json!({"reason": "plan vastgesteld"})).await);
    let close = format!("/v1/cases/{case}/close");
    no_content(&regisseur(&gw, Method::POST, &close, json!({"reason": "afgerond"})).await);
    let app = gw.app();
    let covenant = app.covenant();
    let now = app.clock.now();
    assert!(doelpoort::cases::retention::purge_due(
        &app.store,
        &covenant,
        now,
        &doelpoort::log::actor::AnyActor::operator("test")
    )
    .await
    .unwrap()
    .is_empty());
    let later = now
        + time::Duration::days(i64::from(doelpoort::cases::retention::retention_days(
            &covenant,
            &["briefing".into(), "focus".into()],
        )));
    let purged = doelpoort::cases::retention::purge_due(
        &app.store,
        &covenant,
        later,
        &doelpoort::log::actor::AnyActor::operator("test"),
    )
    .await
    .unwrap();
    assert_eq!(purged, [typed(&case)]);
    call(&gw, "zvh", Method::GET, &format!("/v1/requests/{req}"), None)
        .await
        .assert_problem(410, "purged");
    call(&gw, "gemeente", Method::GET, &read_shares, None)
        .await
        .assert_problem(410, "purged");
    let row = app.store.case(&typed(&case)).await.unwrap().unwrap();
    assert!(row.data_key.is_none() && row.sealed_subject.is_none() && row.sealed_summary.is_none());
    assert!(app
        .store
        .request_items(&typed(&req))
        .await
        .unwrap()
        .iter()
        .all(|i| i.sealed.is_none()));
    doelpoort::log::verify::verify(app.log.records(), &app.trust(), |_, _| {})
        .await
        .unwrap();

    // The FG's subject report: exactly these organisations received exactly these categories.
    let report = gw
        .call(
            &gw.org(HOST),
            &["privacy_officer"],
            Method::GET,
            &format!("/v1/audit/subject-report?bsn={BSN}"),
            None,
        )
        .await;
    assert_eq!(report.status, 200, "{}", report.text);
    let received: BTreeSet<(String, String, String)> = report.body["disclosures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "disclosure")
        .flat_map(|d| {
            let (to, from) = (d["recipient"]["oin"].clone(), d["source"]["oin"].clone());
            d["categories"].as_array().unwrap().iter().map(move |c| {
                (
                    to.as_str().unwrap().to_owned(),
                    from.as_str().unwrap().to_owned(),
                    c.as_str().unwrap().to_owned(),
                )
            })
        })
        .collect();
    let expected: BTreeSet<(String, String, String)> = [
        (ZVH, GEMEENTE, "identificatie"),
        (ZVH, GEMEENTE, "betrokkenheid"),
        (GEMEENTE, RECLASSERING, "justitieel_status"),
        (GEMEENTE, POLITIE, "politie_details"),
        (GEMEENTE, WIJKTEAM, "leefgebieden"),
        (POLITIE, RECLASSERING, "justitieel_status"),
    ]
    .iter()
    .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(received, expected);
    gw.stop().await;
}

async fn every_content_route_releases_only_through_the_log(b: Backend) {
    sqlx::any::install_default_drivers();
    let gw = Gateway::start_with(b, |c| c.log.append_timeout_millis = 700).await;
    let (case, focus) = scene(&gw, &[ZVH, GEMEENTE], "focus", &[GEMEENTE]).await;
    let req = answered_request(&gw, &case, &focus, "Geheim: woont bij zijn zus").await;
    let share = json!({"case_id": case, "items": [{"category": "leefgebieden", "content": "Geheim: schulden"}]});
    let r = call(
        &gw,
        "gemeente",
        Method::POST,
        &format!("/v1/meetings/{focus}/shares"),
        Some(share),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);

    let reads: [(&'static str, Method, String, Option<Value>); 3] = [
        ("zvh", Method::GET, format!("/v1/requests/{req}"), None),
        (
            "zvh",
            Method::GET,
            format!("/v1/meetings/{focus}/shares?case_id={case}"),
            None,
        ),
        (
            "politie",
            Method::POST,
            "/v1/lookups".to_owned(),
            Some(json!({"subject": {"bsn": BSN}, "purpose": "zsm_afdoening"})),
        ),
    ];
    for (slug, method, path, body) in &reads {
        assert_eq!(
            call(&gw, slug, method.clone(), path, body.clone()).await.status,
            200,
            "{path}"
        );
    }

    // Another session holds the chain head: no record can commit, so nothing may leave.
    let blocker = sqlx::AnyPool::connect(&gw.config().database_url).await.unwrap();
    let mut tx = blocker.begin().await.unwrap();
    sqlx::query("UPDATE log_head SET locked_at = 'test' WHERE id = 1")
        .execute(&mut *tx)
        .await
        .unwrap();
    for (slug, method, path, body) in &reads {
        let r = call(&gw, slug, method.clone(), path, body.clone()).await;
        r.assert_problem(503, "audit_unavailable");
        assert!(!r.text.contains("Geheim") && r.body.get("items").is_none() && r.body.get("known").is_none());
    }
    tx.rollback().await.unwrap();
    blocker.close().await;
    for (slug, method, path, body) in &reads {
        let mut status = 0;
        for _ in 0..50 {
            status = call(&gw, slug, method.clone(), path, body.clone())
                .await
                .status
                .as_u16();
            if status == 200 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(status, 200, "{path} recovers");
    }
    gw.stop().await;
}

async fn bad_requests_responses_and_shares_are_refused_and_store_nothing(b: Backend) {
    sqlx::any::install_default_drivers();
    let gw = Gateway::start_with(b, |c| {
        c.content.max_items = 3;
        c.content.max_item_bytes = 200;
    })
    .await;
    let (case, focus) = scene(&gw, &[ZVH, GEMEENTE, WIJKTEAM], "focus", &[GEMEENTE]).await;
    let post = |slug: &'static str, path: String, body: Value| {
        let gw = &gw;
        async move { call(gw, slug, Method::POST, &path, Some(body)).await }
    };
    let new = |f: &dyn Fn(&mut Value)| {
        let mut v = request(&case, &focus, "integraal_plan", &["leefgebieden"], &[GEMEENTE]);
        f(&mut v);
        v
    };
    let requests = "/v1/requests".to_owned();

    // Requests: bad input, not a member, an addressee that is not a member, meeting context.
    post("zvh", requests.clone(), new(&|v| v["categories"] = json!([])))
        .await
        .assert_problem(422, "validation_failed");
    post("zvh", requests.clone(), new(&|v| v["categories"] = json!(["roddel"])))
        .await
        .assert_problem(422, "validation_failed");
    post("zvh", requests.clone(), new(&|v| v["addressees"] = json!(["gemeente"])))
        .await
        .assert_problem(422, "validation_failed");
    post("zvh", requests.clone(), new(&|v| v["due"] = json!(at(-60))))
        .await
        .assert_problem(422, "validation_failed");
    post("zvh", requests.clone(), new(&|v| v["purpose"] = json!("weging")))
        .await
        .assert_problem(422, "validation_failed");
    post(
        "zvh",
        requests.clone(),
        new(&|v| v["meeting_id"] = json!("meeting-none")),
    )
    .await
    .assert_problem(422, "validation_failed");
    post("reclassering", requests.clone(), new(&|_| {}))
        .await
        .assert_problem(404, "not_found");
    post("zvh", requests.clone(), new(&|v| v["addressees"] = json!([OM])))
        .await
        .assert_problem(403, "not_member");
    let elsewhere = {
        let body = json!({"type": "focus", "starts_at": at(-60), "ends_at": at(3600)});
        created(&regisseur(&gw, Method::POST, "/v1/meetings", body).await)
    };
    post("zvh", requests.clone(), new(&|v| v["meeting_id"] = json!(elsewhere)))
        .await
        .assert_problem(409, "not_on_agenda");
    let refusals = records(&gw, Kind::Refusal).await.len();
    assert_eq!(refusals, 2, "the decision point's refusals are recorded");

    // Responses: unknown request, not an addressee, bad items, unrequested categories, limits.
    let req = created(&post("zvh", requests.clone(), new(&|_| {})).await);
    let responses = format!("/v1/requests/{req}/responses");
    let items = |items: Value| json!({"items": items});
    post(
        "gemeente",
        "/v1/requests/request-none/responses".into(),
        items(json!([{"category": "leefgebieden", "content": "x"}])),
    )
    .await
    .assert_problem(404, "not_found");
    post(
        "wijkteam",
        responses.clone(),
        items(json!([{"category": "leefgebieden", "content": "x"}])),
    )
    .await
    .assert_problem(404, "not_found");
    post("gemeente", responses.clone(), items(json!([])))
        .await
        .assert_problem(422, "validation_failed");
    post(
        "gemeente",
        responses.clone(),
        items(json!([{"category": "leefgebieden", "content": 42}])),
    )
    .await
    .assert_problem(422, "validation_failed");
    let r = post(
        "gemeente",
        responses.clone(),
        items(json!([{"category": "identificatie", "content": "x"}])),
    )
    .await;
    r.assert_problem(422, "validation_failed");
    assert!(r.body["detail"].as_str().unwrap().contains("items[0]"));
    let four = json!([1, 2, 3, 4].map(|n| json!({"category": "leefgebieden", "content": format!("deel {n}")})));
    post("gemeente", responses.clone(), items(four))
        .await
        .assert_problem(413, "payload_too_large");
    let big = "x".repeat(300);
    let r = post(
        "gemeente",
        responses.clone(),
        items(json!([{"category": "leefgebieden", "content": "ok"}, {"category": "leefgebieden", "content": big}])),
    )
    .await;
    r.assert_problem(413, "payload_too_large");
    assert!(r.body["detail"].as_str().unwrap().contains("items[1]"));
    assert_eq!(item_count(&gw).await, 0, "no refused response stored anything");

    // A declined request takes no answer; an answered one no second.
    let declined = created(&post("zvh", requests.clone(), new(&|_| {})).await);
    no_content(
        &post(
            "gemeente",
            format!("/v1/requests/{declined}/decline"),
            json!({"reason": "niet bekend"}),
        )
        .await,
    );
    post(
        "gemeente",
        format!("/v1/requests/{declined}/responses"),
        items(json!([{"category": "leefgebieden", "content": "x"}])),
    )
    .await
    .assert_problem(409, "invalid_state");
    // Past its due date a request takes no answer and shows as expired.
    let overdue = created(&post("zvh", requests.clone(), new(&|_| {})).await);
    let pool = sqlx::AnyPool::connect(&gw.config().database_url).await.unwrap();
    sqlx::query("UPDATE requests SET due = '2000-01-01T00:00:00.000000Z' WHERE id = $1")
        .bind(&overdue)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    post(
        "gemeente",
        format!("/v1/requests/{overdue}/responses"),
        items(json!([{"category": "leefgebieden", "content": "x"}])),
    )
    .await
    .assert_problem(409, "invalid_state");
    let inbox = call(&gw, "gemeente", Method::GET, "/v1/inbox", None).await;
    let statuses: BTreeSet<&str> = inbox
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["addressees"][0]["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, BTreeSet::from(["declined", "expired", "open"]));

    // Shares: not an attendee, unknown case, a case not on the agenda, a closed meeting.
    let shares = format!("/v1/meetings/{focus}/shares");
    let share = |case: &str| json!({"case_id": case, "items": [{"category": "leefgebieden", "content": "x"}]});
    post("wijkteam", shares.clone(), share(&case))
        .await
        .assert_problem(404, "not_found");
    let refused = records(&gw, Kind::Refusal).await.pop().unwrap();
    assert_eq!(refused.entry.source_oin.as_deref(), Some(WIJKTEAM), "recorded");
    post("gemeente", shares.clone(), share("case-none"))
        .await
        .assert_problem(422, "validation_failed");
    post("gemeente", "/v1/meetings/meeting-none/shares".into(), share(&case))
        .await
        .assert_problem(404, "not_found");
    let other_case = created(
        &call(
            &gw,
            "gemeente",
            Method::POST,
            "/v1/cases",
            // Another person: a report about the same one would join the open case.
            Some(json!({"subject": {"bsn": "111222333"}, "summary": "x"})),
        )
        .await,
    );
    post("gemeente", shares.clone(), share(&other_case))
        .await
        .assert_problem(409, "not_on_agenda");
    no_content(
        &regisseur(
            &gw,
            Method::POST,
            &format!("/v1/meetings/{focus}/close"),
            json!({"reason": "klaar"}),
        )
        .await,
    );
    post("gemeente", shares.clone(), share(&case))
        .await
        .assert_problem(409, "meeting_closed");
    post("zvh", requests.clone(), new(&|_| {}))
        .await
        .assert_problem(409, "meeting_closed");
    let r = call(&gw, "gemeente", Method::GET, &shares, None).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(item_count(&gw).await, 0, "no refused share stored anything");
    gw.stop().await;
}

async fn a_master_key_rotation_rewraps_data_keys_and_content_still_opens(b: Backend) {
    let gw = Gateway::start(b).await;
    let (case, focus) = scene(&gw, &[ZVH, GEMEENTE], "focus", &[GEMEENTE]).await;
    let req = answered_request(&gw, &case, &focus, "Woont bij zijn zus").await;

    let app = gw.app();
    let old_path = app.config.content.master_key_file.clone().unwrap();
    let old = MasterKey::new(&doelpoort::crypto::read_secret(&old_path).unwrap()).unwrap();
    let old_id = old.id().to_owned();
    let new_secret = rand_bytes::<32>();
    let rotated = Keyring::new(MasterKey::new(&new_secret).unwrap(), vec![old]);
    let n = doelpoort::cases::retention::rewrap_all(
        &app.store,
        &rotated,
        app.clock.now(),
        &doelpoort::log::actor::AnyActor::operator("test"),
    )
    .await
    .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        doelpoort::cases::retention::rewrap_all(
            &app.store,
            &rotated,
            app.clock.now(),
            &doelpoort::log::actor::AnyActor::operator("test")
        )
        .await
        .unwrap(),
        0
    );

    // Only the new key is needed now, and the content (never re-encrypted) opens under the re-wrapped key.
    let only_new = Keyring::new(MasterKey::new(&new_secret).unwrap(), vec![]);
    let row = app.store.case(&typed(&case)).await.unwrap().unwrap();
    assert_ne!(row.master_key_id.as_deref(), Some(old_id.as_str()));
    let wrapped = WrappedKey {
        master_id: row.master_key_id.clone().unwrap(),
        blob: row.data_key.clone().unwrap(),
    };
    let key = only_new.unwrap(&case, &wrapped).unwrap();
    let item = &app.store.request_items(&typed(&req)).await.unwrap()[0];
    let text = key
        .open(&case, item.id.as_str(), item.sealed.as_ref().unwrap())
        .unwrap();
    assert_eq!(String::from_utf8(text).unwrap(), "\"Woont bij zijn zus\"");
    assert!(key.open(&case, "item-other", item.sealed.as_ref().unwrap()).is_err());
    let actions: Vec<String> = records(&gw, Kind::Admin)
        .await
        .into_iter()
        .filter_map(|r| r.entry.action)
        .collect();
    assert_eq!(actions.iter().filter(|a| *a == "content.rewrap").count(), 2);

    // The command line: nothing is due for a purge yet; with the configured key the rewrap has nothing to do
    // but refuses the case whose key it cannot unwrap any more (wrapped under the new key), naming it.
    let out = gw.cli(&["purge"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("purged 0 case(s)"));
    let out = gw.cli(&["content", "rewrap"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&case));
    gw.stop().await;
}

/// The `[content]` key settings of the gateway's configuration file set to `current` and `retired`.
fn name_master_keys(gw: &Gateway, current: &str, retired: &[&str]) {
    let path = gw.config_path();
    let text = std::fs::read_to_string(&path).unwrap();
    let retired: Vec<String> = retired.iter().map(|r| format!("{r:?}")).collect();
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with("retired_master_key_files"))
        .map(|l| match l.starts_with("master_key_file") {
            true => format!(
                "master_key_file = {current:?}\nretired_master_key_files = [{}]",
                retired.join(", ")
            ),
            false => l.to_owned(),
        })
        .collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
}

async fn a_master_key_rotation_needs_no_restart_and_never_drops_a_key_in_use(b: Backend) {
    let gw = Gateway::start(b).await;
    let (case, focus) = scene(&gw, &[ZVH, GEMEENTE], "focus", &[GEMEENTE]).await;
    let req = answered_request(&gw, &case, &focus, "Woont bij zijn zus").await;
    let read = format!("/v1/requests/{req}");
    let opens = || async {
        let r = call(&gw, "zvh", Method::GET, &read, None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["items"][0]["content"], "Woont bij zijn zus", "{}", r.text);
    };
    let reload = || gw.admin(Method::POST, "/v1/admin/keys/reload", None);
    let old_id = gw.app().keyring().current().id().to_owned();
    let gw_ref = &gw;
    let case_key = |id: String| async move {
        gw_ref
            .app()
            .store
            .case(&typed(&id))
            .await
            .unwrap()
            .unwrap()
            .master_key_id
    };

    // A new key named current, the old one retired: in force at once, old data keys still unwrap.
    let new_key = gw.dir.path().join("keys/master-2.key");
    let new_secret = rand_bytes::<32>();
    std::fs::write(&new_key, hex::encode(new_secret)).unwrap();
    let new_id = MasterKey::new(&new_secret).unwrap().id().to_owned();
    name_master_keys(&gw, "keys/master-2.key", &["keys/master.key"]);
    let r = reload().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"current": new_id, "retired": [old_id]}));
    opens().await;
    let report = json!({"subject": {"bsn": "111222333"}, "summary": "x"});
    let later = created(&call(&gw, "politie", Method::POST, "/v1/cases", Some(report)).await);
    assert_eq!(case_key(later).await.as_deref(), Some(new_id.as_str()));

    // Dropping the old key before the rewrap is refused: it still wraps the first case's data key.
    name_master_keys(&gw, "keys/master-2.key", &[]);
    let r = reload().await;
    r.assert_problem(409, "key_in_use");
    assert!(r.text.contains(&old_id), "{}", r.text);
    opens().await;

    // A key file that does not read is refused too, naming the file; the running keys stay.
    name_master_keys(&gw, "keys/missing.key", &["keys/master.key"]);
    let r = reload().await;
    r.assert_problem(422, "keys_invalid");
    assert!(r.text.contains("missing.key"), "{}", r.text);
    let r = gw
        .call(
            &gw.org(HOST),
            &["professional"],
            Method::POST,
            "/v1/admin/keys/reload",
            None,
        )
        .await;
    r.assert_problem(403, "forbidden");
    opens().await;

    // After the rewrap (the command line, against the serving gateway's database) the old key can go.
    name_master_keys(&gw, "keys/master-2.key", &["keys/master.key"]);
    let out = gw.cli(&["content", "rewrap"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(case_key(case.clone()).await.as_deref(), Some(new_id.as_str()));
    name_master_keys(&gw, "keys/master-2.key", &[]);
    let r = reload().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"current": new_id, "retired": []}));
    opens().await;

    let reloads: Vec<Value> = records(&gw, Kind::Admin)
        .await
        .into_iter()
        .filter(|r| r.entry.action.as_deref() == Some("content.keys.reload"))
        .map(|r| serde_json::from_str(r.entry.detail.as_deref().unwrap()).unwrap())
        .collect();
    assert_eq!(
        reloads,
        vec![
            json!({"current": new_id, "retired": [old_id]}),
            json!({"current": new_id, "retired": []})
        ],
        "only the reloads put in force are recorded"
    );
    gw.stop().await;
}

/// A request read twice is judged the second time on the facts cached by the first, and that is safe only because
/// the release commits under the facts generation the cache holds: a change written behind the gateway's back (a
/// plain SQL statement, as another gateway or the command line would make) makes the cached judgement stale, and
/// the read is judged again on fresh facts. Time still counts on a cached entry: a consent that expires between
/// two reads withholds the item although nothing was written.
async fn a_cached_read_never_outlives_the_facts_it_was_judged_on(b: Backend) {
    sqlx::any::install_default_drivers();
    // No sweep of stale entries during this test: the read itself must find out.
    let gw = Gateway::start_with(b, |c| c.limits.registry_poll_millis = 3_600_000).await;
    let (case, focus) = scene(&gw, &[ZVH, GEMEENTE], "focus", &[GEMEENTE]).await;
    let req = answered_request(&gw, &case, &focus, "woont bij zijn zus").await;
    let cache = &gw.app().request_cache;

    let released = (200, vec!["woont bij zijn zus".to_owned()], vec![]);
    assert_eq!(read_as_zvh(&gw, &req).await, released);
    let filled = cache.get(&typed(&req)).expect("the first read fills the cache");
    // The addressee reads the request it answered, never the cached responses.
    let as_addressee = call(&gw, "gemeente", Method::GET, &format!("/v1/requests/{req}"), None).await;
    assert_eq!(as_addressee.status, 200, "{}", as_addressee.text);
    assert_eq!(as_addressee.body["items"], json!([]));
    assert!(!as_addressee.text.contains("woont bij zijn zus"));
    assert!(as_addressee.headers.get("doelpoort-log-record").is_none());
    call(&gw, "politie", Method::GET, &format!("/v1/requests/{req}"), None)
        .await
        .assert_problem(404, "not_found");
    let disclosures = records(&gw, Kind::Disclosure).await.len();
    assert_eq!(read_as_zvh(&gw, &req).await, released);
    let kept = cache.get(&typed(&req)).unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&filled, &kept),
        "the second read is judged on the cached entry"
    );
    assert_eq!(
        records(&gw, Kind::Disclosure).await.len(),
        disclosures + 1,
        "a cached read is recorded too"
    );

    // The requester's membership ends behind the gateway's back.
    let pool = sqlx::AnyPool::connect(&gw.config().database_url).await.unwrap();
    sqlx::query("DELETE FROM case_members WHERE case_id = $1 AND oin = $2")
        .bind(&case)
        .bind(ZVH)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let (status, items, withheld) = read_as_zvh(&gw, &req).await;
    assert_eq!((status, items.len(), withheld.len()), (200, 0, 1), "{withheld:?}");
    assert_eq!(
        records(&gw, Kind::Disclosure).await.len(),
        disclosures + 1,
        "nothing released"
    );
    let refreshed = cache.get(&typed(&req)).unwrap();
    assert!(refreshed.generation > filled.generation, "judged again on fresh facts");

    // A consent expires between two reads of a cached entry; nothing is written in between.
    let (case, focus) = scene(&gw, &[ZVH, WIJKTEAM], "focus", &[WIJKTEAM]).await;
    let until = gw.clock.now() + time::Duration::seconds(6);
    wijkteam_consents(&gw, &case, &[ZVH], &doelpoort::types::clock::rfc3339(until)).await;
    let ask = request(&case, &focus, "integraal_plan", &["leefgebieden"], &[WIJKTEAM]);
    let req = created(&call(&gw, "zvh", Method::POST, "/v1/requests", Some(ask)).await);
    let answer = json!({"items": [{"category": "leefgebieden", "content": "schulden 12k"}]});
    no_content(
        &call(
            &gw,
            "wijkteam",
            Method::POST,
            &format!("/v1/requests/{req}/responses"),
            Some(answer),
        )
        .await,
    );
    assert_eq!(
        read_as_zvh(&gw, &req).await,
        (200, vec!["schulden 12k".to_owned()], vec![])
    );
    let filled = cache.get(&typed(&req)).unwrap();
    gw.clock
        .advance(until - gw.clock.now() + time::Duration::milliseconds(500));
    assert_eq!(
        read_as_zvh(&gw, &req).await,
        (200, vec![], vec!["consent_required".to_owned()])
    );
    assert!(
        std::sync::Arc::ptr_eq(&filled, &cache.get(&typed(&req)).unwrap()),
        "judged on the cached entry, at the new time"
    );
    gw.stop().await;
}

/// Cached reads whose facts changed are dropped by the gateway within a poll, without being read again: after a
/// purge, its sealed content and wrapped data key do not stay in memory.
async fn a_purged_case_leaves_the_cache_within_a_poll(b: Backend) {
    let gw = Gateway::start_with(b, |c| c.limits.registry_poll_millis = 100).await;
    let (case, focus) = scene(&gw, &[ZVH, GEMEENTE], "focus", &[GEMEENTE]).await;
    let req = answered_request(&gw, &case, &focus, "woont bij zijn zus").await;
    let other = answered_request(&gw, &case, &focus, "schulden").await;
    assert_eq!(read_as_zvh(&gw, &req).await.0, 200);
    let cache = &gw.app().request_cache;
    assert!(cache.get(&typed(&req)).is_some());
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(cache.get(&typed(&req)).is_some(), "nothing changed: the entry stays");

    // Closing the meeting and the case, then purging, as the periodic task or `doelpoort purge` would.
    let close = format!("/v1/meetings/{focus}/close");
    no_content(&regisseur(&gw, Method::POST, &close, json!({"reason": "klaar"})).await);
    let close = format!("/v1/cases/{case}/close");
    no_content(&regisseur(&gw, Method::POST, &close, json!({"reason": "afgerond"})).await);
    let app = gw.app();
    let later = app.clock.now() + time::Duration::days(3650);
    let purged = doelpoort::cases::retention::purge_due(
        &app.store,
        &app.covenant(),
        later,
        &doelpoort::log::actor::AnyActor::operator("test"),
    )
    .await
    .unwrap();
    assert_eq!(purged, [typed(&case)]);
    let mut gone = false;
    for _ in 0..100 {
        gone = cache.get(&typed(&req)).is_none();
        if gone {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(gone, "the purged case's entry left the cache");
    assert_eq!(cache.size(), (0, 0));
    assert_eq!(read_as_zvh(&gw, &req).await.0, 410);
    assert_eq!(read_as_zvh(&gw, &other).await.0, 410);
    gw.stop().await;
}

/// The sequence numbers in a response's `doelpoort-log-record` header.
fn cited(r: &Response) -> Vec<i64> {
    r.headers
        .get("doelpoort-log-record")
        .map(|v| {
            v.to_str()
                .unwrap()
                .split(',')
                .map(|s| s.trim().parse().unwrap())
                .collect()
        })
        .unwrap_or_default()
}

/// Regression: a read released items of two sources but cited only the last source's record — a refusal record
/// when that source's items were all withheld. Every disclosure record of the release is cited, and nothing else.
async fn a_release_cites_every_disclosure_it_was_released_under_and_no_refusal(b: Backend) {
    let gw = Gateway::start(b).await;
    let (case, focus) = scene(&gw, &[ZVH, GEMEENTE, WIJKTEAM], "focus", &[GEMEENTE, WIJKTEAM]).await;
    wijkteam_consents(&gw, &case, &[ZVH], &at(86400)).await;
    let ask = request(
        &case,
        &focus,
        "integraal_plan",
        &["leefgebieden"],
        &[GEMEENTE, WIJKTEAM],
    );
    let req = created(&call(&gw, "zvh", Method::POST, "/v1/requests", Some(ask)).await);
    for (slug, content) in [("gemeente", "schulden"), ("wijkteam", "zorgen om de kinderen")] {
        let answer = json!({"items": [{"category": "leefgebieden", "content": content}]});
        let path = format!("/v1/requests/{req}/responses");
        no_content(&call(&gw, slug, Method::POST, &path, Some(answer)).await);
    }
    let disclosures = |records: Vec<Record>| -> Vec<(i64, String)> {
        records
            .into_iter()
            .map(|r| (r.seq, r.entry.source_oin.unwrap_or_default()))
            .collect()
    };

    // Two sources released: both disclosure records are cited, in order.
    let path = format!("/v1/requests/{req}");
    let r = call(&gw, "zvh", Method::GET, &path, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    let released = disclosures(records(&gw, Kind::Disclosure).await);
    let both: Vec<i64> = released.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(cited(&r), both, "both disclosures are cited");

    // The last source (by OIN) is withheld whole: only the municipality's disclosure is cited, not the refusal.
    let withdraw = format!("/v1/cases/{case}/members/{WIJKTEAM}");
    no_content(&regisseur(&gw, Method::DELETE, &withdraw, json!({"reason": "niet meer betrokken"})).await);
    let r = call(&gw, "zvh", Method::GET, &path, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["withheld"][0]["source_oin"], WIJKTEAM);
    let released = disclosures(records(&gw, Kind::Disclosure).await);
    let newest = released.last().unwrap().clone();
    assert_eq!(newest.1, GEMEENTE);
    assert_eq!(
        cited(&r),
        vec![newest.0],
        "the municipality's disclosure, and only that"
    );
    let refusal = records(&gw, Kind::Refusal).await.pop().unwrap();
    assert!(
        !cited(&r).contains(&refusal.seq),
        "a refusal record never covers released content"
    );
    gw.stop().await;
}

/// Regression (found by the attack round): for a non-attendee, `GET /v1/meetings/{id}` was 404 but `/shares` 403
/// `not_attendee` for a real meeting and 404 for none. Every answer is now the same; the refusal is still recorded.
async fn a_non_attendee_cannot_tell_a_meeting_from_none(b: Backend) {
    let gw = Gateway::start(b).await;
    let (case, focus) = scene(&gw, &[ZVH, GEMEENTE], "focus", &[GEMEENTE]).await;
    let refusals = records(&gw, Kind::Refusal).await.len();
    let mut answers = Vec::new();
    for meeting in [focus.as_str(), "meeting-none"] {
        let reads = [
            call(&gw, "om", Method::GET, &format!("/v1/meetings/{meeting}"), None).await,
            call(
                &gw,
                "om",
                Method::GET,
                &format!("/v1/meetings/{meeting}/shares?case_id={case}"),
                None,
            )
            .await,
            call(
                &gw,
                "om",
                Method::POST,
                &format!("/v1/meetings/{meeting}/shares"),
                Some(json!({"case_id": case, "items": [{"category": "justitieel_status", "content": "x"}]})),
            )
            .await,
        ];
        for r in reads {
            r.assert_problem(404, "not_found");
            answers.push(r.body["detail"].clone());
        }
    }
    answers.dedup();
    assert_eq!(answers, [json!("no such meeting")], "one answer for all six");
    assert_eq!(
        records(&gw, Kind::Refusal).await.len(),
        refusals + 2,
        "the two tries at a real meeting are recorded"
    );
    gw.stop().await;
}

/// Regressions (found by the attack round): a consent scope took 40,000 copies of one OIN, categories and OINs of
/// no organisation; and a recipient could record the consent that unlocks what it receives.
async fn a_consent_scope_is_bounded_and_only_its_parties_record_it(b: Backend) {
    let gw = Gateway::start(b).await;
    let (case, _) = scene(&gw, &[ZVH, WIJKTEAM, GEMEENTE], "focus", &[WIJKTEAM]).await;
    let path = format!("/v1/cases/{case}/consent");
    let consent = |categories: Vec<&str>, organisations: Vec<&str>| json!({"categories": categories, "organisations": organisations, "until": at(86400)});
    let r = call(
        &gw,
        "wijkteam",
        Method::POST,
        &path,
        Some(consent(vec!["leefgebieden"; 40], vec![ZVH; 40])),
    )
    .await;
    created(&r);
    let listed = call(&gw, "gemeente", Method::GET, &path, None).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(
        listed.body[0]["categories"],
        json!(["leefgebieden"]),
        "a repeated category counts once"
    );
    assert_eq!(
        listed.body[0]["organisations"],
        json!([ZVH]),
        "a repeated organisation counts once"
    );
    assert_eq!(listed.body[0]["recorded_by_oin"], WIJKTEAM);

    let ggd = gw.org("ggd").oin;
    let offboard = format!("/v1/admin/organisations/{ggd}/offboard");
    assert_eq!(gw.admin(Method::POST, &offboard, None).await.status, 200);
    for (body, says) in [
        (consent(vec!["leefgebieden"; 101], vec![ZVH]), "categories: at most 100"),
        (
            consent(vec!["leefgebieden"], vec![ZVH; 101]),
            "organisations: at most 100",
        ),
        (
            consent(vec!["leefgebieden"], vec!["00000099000000000077"]),
            "not an onboarded organisation",
        ),
        (
            consent(vec!["leefgebieden"], vec![ggd.as_str()]),
            "not an onboarded organisation",
        ),
    ] {
        let r = call(&gw, "wijkteam", Method::POST, &path, Some(body)).await;
        r.assert_problem(422, "validation_failed");
        assert!(r.text.contains(says), "{says}: {}", r.text);
    }

    // The municipality would receive; its own sharing of leefgebieden needs no consent.
    let r = call(
        &gw,
        "gemeente",
        Method::POST,
        &path,
        Some(consent(vec!["leefgebieden"], vec![GEMEENTE])),
    )
    .await;
    r.assert_problem(403, "not_consent_party");
    assert!(r.text.contains("leefgebieden"), "{}", r.text);
    let mixed = consent(vec!["leefgebieden", "voortgang"], vec![ZVH]);
    let r = call(&gw, "wijkteam", Method::POST, &path, Some(mixed.clone())).await;
    r.assert_problem(403, "not_consent_party");
    assert!(r.text.contains("`voortgang`"), "{}", r.text);
    // The police reported the case and hold it.
    created(&call(&gw, "politie", Method::POST, &path, Some(mixed)).await);
    assert_eq!(
        call(&gw, "gemeente", Method::GET, &path, None)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );
    call(&gw, "om", Method::GET, &path, None)
        .await
        .assert_problem(404, "not_found");
    gw.stop().await;
}

/// Regression (found by the attack round): consent could not be withdrawn (GDPR art. 7(3)).
async fn a_withdrawn_consent_lets_nothing_through_from_then_on(b: Backend) {
    let gw = Gateway::start(b).await;
    let (case, focus) = scene(&gw, &[ZVH, WIJKTEAM, GEMEENTE], "focus", &[WIJKTEAM]).await;
    let consent = json!({"categories": ["leefgebieden"], "organisations": [ZVH], "until": at(86400)});
    let path = format!("/v1/cases/{case}/consent");
    let consent_id = created(&call(&gw, "wijkteam", Method::POST, &path, Some(consent)).await);
    let ask = request(&case, &focus, "integraal_plan", &["leefgebieden"], &[WIJKTEAM]);
    let req = created(&call(&gw, "zvh", Method::POST, "/v1/requests", Some(ask)).await);
    let answer = json!({"items": [{"category": "leefgebieden", "content": "schulden 12k"}]});
    no_content(
        &call(
            &gw,
            "wijkteam",
            Method::POST,
            &format!("/v1/requests/{req}/responses"),
            Some(answer),
        )
        .await,
    );
    assert_eq!(
        read_as_zvh(&gw, &req).await,
        (200, vec!["schulden 12k".to_owned()], vec![])
    );

    let withdraw = format!("/v1/cases/{case}/consent/{consent_id}/withdraw");
    call(&gw, "gemeente", Method::POST, &withdraw, None)
        .await
        .assert_problem(403, "not_consent_party");
    call(&gw, "om", Method::POST, &withdraw, None)
        .await
        .assert_problem(404, "not_found");
    call(
        &gw,
        "wijkteam",
        Method::POST,
        &format!("/v1/cases/{case}/consent/consent-none/withdraw"),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    let reason = json!({"reason": "cliënt trekt toestemming in"});
    let r = call(&gw, "wijkteam", Method::POST, &withdraw, Some(reason)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["withdrawn_at"].is_string(), "{}", r.text);
    assert_eq!(
        read_as_zvh(&gw, &req).await,
        (200, vec![], vec!["consent_required".to_owned()]),
        "the next read, cached or not, withholds what the consent unlocked"
    );
    call(&gw, "politie", Method::POST, &withdraw, None)
        .await
        .assert_problem(409, "invalid_state");
    let record = records(&gw, Kind::Admin).await.into_iter().last().unwrap();
    assert_eq!(record.entry.action.as_deref(), Some("case.consent.withdraw"));
    assert_eq!(record.entry.case_id.as_deref(), Some(case.as_str()));
    assert!(
        record.entry.detail.as_deref().unwrap().contains(&consent_id),
        "{:?}",
        record.entry.detail
    );
    let listed = call(&gw, "zvh", Method::GET, &path, None).await;
    assert!(listed.body[0]["withdrawn_at"].is_string(), "{}", listed.text);
    gw.stop().await;
}

/// Regression (found by the attack round): "closing a database connection left in a transaction" was logged under
/// concurrent responses and around an offboard with open connections: a transaction left on an error path without
/// a rollback. Every answer here is a success or a refusal, and every connection goes back to the pool settled.
async fn concurrent_answers_and_an_offboard_leave_no_transaction_open(b: Backend) {
    let gw = Gateway::start(b).await;
    let (case, focus) = scene(&gw, &[ZVH, GEMEENTE, WIJKTEAM], "focus", &[GEMEENTE, WIJKTEAM]).await;
    wijkteam_consents(&gw, &case, &[ZVH], &at(86400)).await;
    let mut requests = Vec::new();
    for _ in 0..4 {
        let ask = request(
            &case,
            &focus,
            "integraal_plan",
            &["leefgebieden"],
            &[GEMEENTE, WIJKTEAM],
        );
        requests.push(created(
            &call(&gw, "zvh", Method::POST, "/v1/requests", Some(ask)).await,
        ));
    }
    let mut tasks = Vec::new();
    for slug in ["gemeente", "wijkteam"] {
        let org = gw.org(slug);
        for _ in 0..3 {
            let (addr, ca, id) = (gw.addr, gw.ca_pem.clone(), org.identity.clone());
            let (token, requests) = (gw.token(&org, &["professional"]), requests.clone());
            tasks.push(tokio::spawn(async move {
                let mut c = Client::connect(addr, &ca, Some(&id)).await.unwrap();
                let mut statuses = Vec::new();
                for req in &requests {
                    let answer = json!({"items": [{"category": "leefgebieden", "content": "schulden"}]});
                    let path = format!("/v1/requests/{req}/responses");
                    match c.send(Method::POST, &path, Some(&token), Some(answer)).await {
                        Ok(r) => statuses.push(r.status),
                        // The offboard ends the wijkteam's connection.
                        Err(_) => break,
                    }
                }
                statuses
            }));
        }
    }
    // The wijkteam leaves while its answers are in flight.
    let wijkteam = gw.org("wijkteam");
    let offboard = format!("/v1/admin/organisations/{}/offboard", wijkteam.oin);
    let r = gw
        .admin(Method::POST, &offboard, Some(json!({"reason": "convenant opgezegd"})))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for t in tasks {
        for status in t.await.unwrap() {
            assert!([204, 401, 403, 409].contains(&status.as_u16()), "{status}");
        }
    }
    let r = call(&gw, "zvh", Method::GET, &format!("/v1/requests/{}", requests[0]), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        gw.app().store.discarded_connections(),
        0,
        "a connection came back to the pool inside a transaction"
    );
    gw.stop().await;
}

async fn each_addressee_is_asked_and_judged_on_its_own_categories(b: Backend) {
    let gw = Gateway::start(b).await;
    let (case, focus) = scene(&gw, &[ZVH, GEMEENTE], "focus", &[GEMEENTE, POLITIE]).await;
    let categories = ["leefgebieden", "politie_samenvatting"];
    // Asked of both for both, the municipality may not share the police summary: refused as a whole.
    let flat = request(&case, &focus, "integraal_plan", &categories, &[GEMEENTE, POLITIE]);
    let r = call(&gw, "zvh", Method::POST, "/v1/requests", Some(flat)).await;
    assert_eq!(r.status, 403, "{}", r.text);
    // Each asked for its own: each judged on those only.
    let mut scoped = request(&case, &focus, "integraal_plan", &categories, &[]);
    scoped["addressees"] = json!([
        {"oin": GEMEENTE, "categories": ["leefgebieden"]},
        {"oin": POLITIE, "categories": ["politie_samenvatting"]},
    ]);
    let req = created(&call(&gw, "zvh", Method::POST, "/v1/requests", Some(scoped.clone())).await);
    let inbox = call(&gw, "gemeente", Method::GET, "/v1/inbox", None).await;
    assert_eq!(inbox.body[0]["addressees"][0]["categories"], json!(["leefgebieden"]));
    let responses = format!("/v1/requests/{req}/responses");
    let other = json!({"items": [{"category": "politie_samenvatting", "content": "niet gevraagd"}]});
    let r = call(&gw, "gemeente", Method::POST, &responses, Some(other)).await;
    r.assert_problem(422, "validation_failed");
    assert!(
        r.body["detail"].as_str().unwrap().contains("was not requested"),
        "{}",
        r.text
    );
    let own = json!({"items": [{"category": "leefgebieden", "content": "schulden"}]});
    no_content(&call(&gw, "gemeente", Method::POST, &responses, Some(own)).await);
    let read = call(&gw, "zvh", Method::GET, &format!("/v1/requests/{req}"), None).await;
    // Addressees in OIN order: the police first.
    assert_eq!(
        read.body["addressees"][0]["categories"],
        json!(["politie_samenvatting"]),
        "{}",
        read.text
    );
    assert_eq!(read.body["addressees"][1]["categories"], json!(["leefgebieden"]));
    assert_eq!(read.body["items"][0]["content"], "schulden");
    // A category the request does not ask, none at all, or a malformed entry: refused, nothing stored.
    for (addressees, message) in [
        (
            json!([{"oin": GEMEENTE, "categories": ["identificatie"]}]),
            "not among the request's categories",
        ),
        (json!([{"oin": GEMEENTE, "categories": []}]), "name at least one"),
    ] {
        let mut bad = scoped.clone();
        bad["addressees"] = addressees;
        let r = call(&gw, "zvh", Method::POST, "/v1/requests", Some(bad)).await;
        r.assert_problem(422, "validation_failed");
        assert!(r.body["detail"].as_str().unwrap().contains(message), "{}", r.text);
    }
    let mut bad = scoped;
    bad["addressees"] = json!([{"oin": GEMEENTE, "categories": ["leefgebieden"], "extra": 1}]);
    let r = call(&gw, "zvh", Method::POST, "/v1/requests", Some(bad)).await;
    assert_eq!(r.status, 422, "{}", r.text);
    gw.stop().await;
}
