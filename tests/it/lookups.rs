//! Hit/no-hit over real TLS: only `known` and the contact leave, each answer after its `lookup` record; the
//! roles the covenant does not name are refused and recorded; a per-user rate limit answers 429 with
//! `Retry-After`.
use crate::both;
use crate::helpers::*;
use doelpoort::log::chain::{Kind, Record, Verdict};
use doelpoort::log::LogFilter;
use hyper::Method;
use serde_json::{json, Value};

both!(
    hit_no_hit_answers_known_and_whom_to_contact_only,
    lookups_are_refused_for_other_roles_bad_input_and_floods,
    an_organisation_has_a_lookup_budget_whatever_users_it_names,
);

const BSN: &str = "123456782";
const OTHER_BSN: &str = "111222333";
const PURPOSE: &str = "zsm_afdoening";

fn ask(bsn: &str) -> Value {
    json!({"subject": {"bsn": bsn}, "purpose": PURPOSE})
}

async fn lookup(gw: &Gateway, slug: &'static str, body: Value) -> Response {
    gw.call(
        &gw.org(slug),
        &["professional"],
        Method::POST,
        "/v1/lookups",
        Some(body),
    )
    .await
}

async fn records(gw: &Gateway, kind: Kind) -> Vec<Record> {
    let filter = LogFilter {
        kinds: vec![kind],
        ..LogFilter::default()
    };
    gw.app().log.records().query(&filter, 0, false, 100).await.unwrap()
}

async fn hit_no_hit_answers_known_and_whom_to_contact_only(b: Backend) {
    let gw = Gateway::start(b).await;
    let miss = lookup(&gw, "politie", ask(BSN)).await;
    assert_eq!(miss.status, 200, "{}", miss.text);
    assert_eq!(miss.body, json!({"known": false, "contact": null}));

    let report = json!({"subject": {"bsn": BSN}, "summary": "Zorgen"});
    let r = gw
        .call(
            &gw.org("gemeente"),
            &["professional"],
            Method::POST,
            "/v1/cases",
            Some(report),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let case = r.body["id"].as_str().unwrap().to_owned();

    let hit = lookup(&gw, "om", ask(BSN)).await;
    assert_eq!(hit.status, 200, "{}", hit.text);
    let name = gw
        .app()
        .registry
        .current()
        .organisation(&typed(GEMEENTE))
        .unwrap()
        .name
        .clone();
    assert_eq!(
        hit.body,
        json!({"known": true, "contact": {"oin": GEMEENTE, "name": name}})
    );
    let seq: i64 = hit.headers["doelpoort-log-record"].to_str().unwrap().parse().unwrap();
    assert!(!hit.text.contains(&case) && !hit.text.contains(BSN));
    assert_eq!(
        lookup(&gw, "om", ask(OTHER_BSN)).await.body["known"],
        false,
        "another person is not known"
    );

    // Each answer is a lookup record: pseudonym, never the BSN; the hit names its case.
    let lookups = records(&gw, Kind::Lookup).await;
    assert_eq!(lookups.len(), 3);
    let pseudonym = gw.app().pseudonyms.pseudonym(&BSN.parse().unwrap());
    let (miss_record, hit_record) = (&lookups[0], &lookups[1]);
    assert_eq!(hit_record.seq, seq);
    for (record, recipient) in [(miss_record, POLITIE), (hit_record, OM)] {
        assert_eq!(record.entry.subject.as_deref(), Some(pseudonym.as_str()));
        assert_eq!(record.entry.recipient_oin.as_deref(), Some(recipient));
        assert_eq!(record.entry.source_oin.as_deref(), Some(ZVH));
        assert_eq!(record.entry.purpose.as_deref(), Some(PURPOSE));
        assert_eq!(record.entry.article.as_deref(), Some("art. 14"));
        assert_eq!(record.entry.covenant_version.as_deref(), Some("2026.1"));
        assert_eq!(record.entry.decision, Verdict::Allow);
        assert!(record.entry.request_id.is_some() && record.entry.trace_id.is_some());
        assert!(!format!("{record:?}").contains(BSN));
    }
    assert_eq!(miss_record.entry.case_id, None);
    assert_eq!(miss_record.entry.reason.as_deref(), Some("no hit"));
    assert_eq!(hit_record.entry.case_id.as_deref(), Some(case.as_str()));

    // A closed case is no longer discussed.
    let close = format!("/v1/cases/{case}/close");
    let r = gw
        .call(
            &gw.org(HOST),
            &["procesregisseur"],
            Method::POST,
            &close,
            Some(json!({"reason": "klaar"})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(lookup(&gw, "reclassering", ask(BSN)).await.body["known"], false);
    gw.stop().await;
}

async fn lookups_are_refused_for_other_roles_bad_input_and_floods(b: Backend) {
    let gw = Gateway::start_with(b, |c| c.limits.lookups_per_minute = 4).await;
    let (head, _) = gw.app().log.records().head().await.unwrap();

    // Bad input: 422, the BSN never echoed, nothing recorded.
    let r = lookup(&gw, "politie", ask("123456789")).await;
    r.assert_problem(422, "invalid_bsn");
    assert!(!r.text.contains("123456789"));
    let r = lookup(
        &gw,
        "politie",
        json!({"subject": {"bsn": BSN}, "purpose": "nieuwsgierigheid"}),
    )
    .await;
    r.assert_problem(422, "validation_failed");
    assert!(r.body["detail"].as_str().unwrap().contains("`nieuwsgierigheid`"));
    lookup(&gw, "politie", json!({"subject": {"bsn": BSN}}))
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(gw.app().log.records().head().await.unwrap().0, head);

    // The municipality is not a ZSM partner: refused, and the refusal is recorded.
    let r = lookup(&gw, "gemeente", ask(BSN)).await;
    r.assert_problem(403, "lookup_not_allowed");
    let refusals = records(&gw, Kind::Refusal).await;
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].entry.recipient_oin.as_deref(), Some(GEMEENTE));
    assert_eq!(refusals[0].entry.decision, Verdict::Deny);
    gw.call(
        &gw.org("politie"),
        &["privacy_officer"],
        Method::POST,
        "/v1/lookups",
        Some(ask(BSN)),
    )
    .await
    .assert_problem(403, "forbidden");

    // A ZSM partner that has not signed the covenant version in force is refused too.
    let unsigned = onboard(&gw, "00000099000000000053", "ketenpartner", &["politie"], false).await;
    gw.call(
        &unsigned,
        &["professional"],
        Method::POST,
        "/v1/lookups",
        Some(ask(BSN)),
    )
    .await
    .assert_problem(403, "covenant_not_signed");

    // Four lookups a minute per user, the two with bad input above counted: then 429 with Retry-After.
    for _ in 0..2 {
        assert_eq!(lookup(&gw, "politie", ask(BSN)).await.status, 200);
    }
    let r = lookup(&gw, "politie", ask(BSN)).await;
    r.assert_problem(429, "rate_limited");
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let before = records(&gw, Kind::Lookup).await.len();

    // Another professional of the same organisation has an allowance of their own.
    let politie = gw.org("politie");
    let mut claims = claims(&politie, &["professional"]);
    claims["sub"] = "professional-2".into();
    let token = mint(&politie.key, header(&politie.key), claims);
    let mut client = gw.connect(Some(&politie.identity)).await.unwrap();
    let r = client
        .send(Method::POST, "/v1/lookups", Some(&token), Some(ask(BSN)))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        records(&gw, Kind::Lookup).await.len(),
        before + 1,
        "a limited lookup is not recorded"
    );
    gw.stop().await;
}

/// Regression (found by the attack round): lookups were limited per token `sub` only, so a token with a new `sub`
/// was served at once after a 429. Each organisation has a budget of its own.
async fn an_organisation_has_a_lookup_budget_whatever_users_it_names(b: Backend) {
    let gw = Gateway::start_with(b, |c| {
        c.limits.lookups_per_minute = 2;
        c.limits.lookups_per_minute_per_organisation = 3;
    })
    .await;
    let politie = gw.org("politie");
    let as_user = |sub: &'static str| {
        let gw = &gw;
        let politie = politie.clone();
        async move {
            let mut claims = claims(&politie, &["professional"]);
            claims["sub"] = json!(sub);
            let token = mint(&politie.key, header(&politie.key), claims);
            let mut c = gw.connect(Some(&politie.identity)).await.unwrap();
            c.send(Method::POST, "/v1/lookups", Some(&token), Some(ask(BSN)))
                .await
                .unwrap()
        }
    };
    assert_eq!(as_user("agent-1").await.status, 200);
    assert_eq!(as_user("agent-1").await.status, 200);
    as_user("agent-1").await.assert_problem(429, "rate_limited");
    assert_eq!(
        as_user("agent-2").await.status,
        200,
        "another user has an allowance of its own"
    );
    let r = as_user("agent-3").await;
    r.assert_problem(429, "rate_limited");
    assert!(
        r.headers.contains_key("retry-after"),
        "the organisation's budget is spent"
    );
    assert_eq!(
        lookup(&gw, "om", ask(BSN)).await.status,
        200,
        "another organisation is not held back"
    );
    gw.stop().await;
}
