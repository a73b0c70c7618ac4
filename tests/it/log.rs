//! The disclosure log: admin actions are chain records, concurrent appends are group-committed into one
//! contiguous chain, verification names every kind of tampering, checkpoints are signed, and a log that cannot
//! be written refuses instead of acknowledging.
use crate::both;
use crate::helpers::*;
use crate::tamper::{self, raw};
use doelpoort::log::chain::Record;
use doelpoort::log::chain::{Entry, Kind};
use doelpoort::log::checkpoint::seal;
use doelpoort::log::verify::{verify, VerifyError};
use doelpoort::log::{Log, LogError, LogFilter, Records};
use doelpoort::types::clock::SystemClock;
use std::sync::Arc;

both!(
    admin_actions_are_chain_records_and_the_chain_verifies,
    concurrent_appends_are_group_committed_into_one_chain,
    verification_names_altered_missing_reordered_and_inserted_records,
    checkpoints_are_signed_and_a_forged_one_is_named,
    an_unwritable_log_refuses_instead_of_acknowledging,
    queries_find_exactly_the_matching_records_across_many_bundles_and_pages,
    a_log_from_before_postings_is_indexed_before_the_gateway_serves,
);

fn disclosure(n: usize) -> Entry {
    Entry {
        source_oin: Some(GEMEENTE.into()),
        recipient_oin: Some(ZVH.into()),
        categories: vec!["leefgebieden".into()],
        purpose: Some(format!("weging-{n}")),
        ..Entry::new(Kind::Disclosure)
    }
}

fn broken_at(e: VerifyError) -> (i64, String) {
    match e {
        VerifyError::Broken { seq, problem } => (seq, problem),
        other => panic!("expected a broken record, got {other}"),
    }
}

/// The first break `verify` names in the log of `store`.
async fn first_break(gw: &Gateway, store: &doelpoort::store::Store) -> (i64, String) {
    let records = doelpoort::log::Records::new(store.clone());
    broken_at(verify(&records, &gw.app().trust(), |_, _| {}).await.unwrap_err())
}

async fn admin_actions_are_chain_records_and_the_chain_verifies(b: Backend) {
    let gw = Gateway::start(b).await;
    let records = gw.app().log.records();
    let (head, _) = records.head().await.unwrap();
    // The demo onboarded eight organisations: add, sign and certificate each.
    assert_eq!(head, FIXTURE);
    let report = verify(records, &gw.app().trust(), |_, _| {}).await.unwrap();
    assert_eq!(report.records, FIXTURE);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_doelpoort"))
        .args(["audit", "verify", "--config"])
        .arg(gw.config_path())
        .env("DOELPOORT_DATABASE_URL", &gw.app().config.database_url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("intact: {FIXTURE} records")));
    gw.stop().await;
}

async fn concurrent_appends_are_group_committed_into_one_chain(b: Backend) {
    let gw = Gateway::start(b).await;
    let store = gw.app().store.clone();
    let log = Log::start(
        store.clone(),
        Arc::new(SystemClock),
        1024,
        std::time::Duration::from_secs(10),
    );
    let tasks: Vec<_> = (0..200)
        .map(|n| {
            let log = log.clone();
            tokio::spawn(async move { log.append(disclosure(n)).await.unwrap() })
        })
        .collect();
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.unwrap().seq());
    }
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (FIXTURE + 1..FIXTURE + 201).collect::<Vec<i64>>(),
        "every record has its own place, no gaps"
    );
    let report = verify(log.records(), &gw.app().trust(), |_, _| {}).await.unwrap();
    assert_eq!(report.records, FIXTURE + 200);
    let records = log.records().page(FIXTURE, 1000).await.unwrap();
    let mut commit_times: Vec<&str> = records.iter().map(|r| r.at.as_str()).collect();
    commit_times.dedup();
    assert!(
        commit_times.len() < 200,
        "200 appends took {} commits: no group commit",
        commit_times.len()
    );
    gw.stop().await;
}

async fn verification_names_altered_missing_reordered_and_inserted_records(b: Backend) {
    let gw = Gateway::start(b).await;
    let store = gw.app().store.clone();
    // Each kind of tampering gets a fresh gateway (and so an intact chain of FIXTURE records). Altered:
    tamper::alter(&gw, 5, |e| e.target = Some("x".into())).await;
    let (seq, problem) = first_break(&gw, &store).await;
    assert_eq!(seq, 5);
    assert!(problem.contains("does not match"), "{problem}");
    gw.stop().await;

    let gw = Gateway::start(b).await;
    let store = gw.app().store.clone();
    tamper::remove(&gw, 7).await;
    let (seq, problem) = first_break(&gw, &store).await;
    assert_eq!(seq, 7);
    assert!(problem.contains("missing"), "{problem}");
    gw.stop().await;

    let gw = Gateway::start(b).await;
    let store = gw.app().store.clone();
    tamper::remove(&gw, FIXTURE).await;
    let (seq, problem) = first_break(&gw, &store).await;
    assert_eq!((seq, problem.contains("head names")), (FIXTURE, true), "{problem}");
    gw.stop().await;

    let gw = Gateway::start(b).await;
    let store = gw.app().store.clone();
    tamper::swap(&gw, 3, 4).await;
    let (seq, problem) = first_break(&gw, &store).await;
    assert_eq!(seq, 3);
    assert!(problem.contains("out of place"), "{problem}");
    gw.stop().await;

    let gw = Gateway::start(b).await;
    let store = gw.app().store.clone();
    tamper::copy_to(&gw, FIXTURE, FIXTURE + 1).await;
    let (seq, _) = first_break(&gw, &store).await;
    assert_eq!(seq, FIXTURE + 1, "a record appended behind the head's back");
    gw.stop().await;
}

async fn checkpoints_are_signed_and_a_forged_one_is_named(b: Backend) {
    let gw = Gateway::start(b).await;
    let app = gw.app();
    let records = app.log.records();
    let clock: doelpoort::types::clock::SharedClock = Arc::new(SystemClock);
    let sealed = seal(records, &app.notary, &clock).await.unwrap().unwrap();
    // The checkpoint covers every record before it and is itself the next record.
    assert_eq!((sealed.size, sealed.seq), (FIXTURE, FIXTURE + 1));
    assert!(
        seal(records, &app.notary, &clock).await.unwrap().is_none(),
        "nothing new to seal"
    );
    let c = app.trust().open(&sealed.note).expect("signed by the gateway's key");
    assert_eq!(c.size, FIXTURE as u64);
    assert_eq!(c.root, records.root(FIXTURE as u64).await.unwrap());
    assert!(sealed.note.starts_with(&format!("{}\n{FIXTURE}\n", app.notary.origin)));
    assert_eq!(verify(records, &app.trust(), |_, _| {}).await.unwrap().checkpoints, 1);

    // Under another key the checkpoint does not verify: a re-sealed log.
    let other = doelpoort::crypto::pki::TokenKeyPair::generate().unwrap();
    let path = gw.dir.path().join("other-key.pem");
    std::fs::write(&path, &other.private_pem).unwrap();
    let forger = doelpoort::crypto::CheckpointSigner::from_file(&path).unwrap();
    let foreign = doelpoort::log::verify::Trust {
        keys: vec![forger.public_key()],
        ..app.trust()
    };
    match verify(records, &foreign, |_, _| {}).await.unwrap_err() {
        VerifyError::Checkpoint { seq, problem } => {
            assert_eq!(seq, FIXTURE + 1);
            assert!(problem.contains("not signed by the log's checkpoint key"), "{problem}");
        }
        other => panic!("expected a checkpoint under a foreign key, got {other}"),
    }
    // A deleted checkpoint row is named, though its record is intact.
    raw(&gw, "DELETE FROM log_notes").await;
    match verify(records, &app.trust(), |_, _| {}).await.unwrap_err() {
        VerifyError::Checkpoint { seq, problem } => {
            assert_eq!(seq, FIXTURE + 1);
            assert!(problem.contains("deleted"), "{problem}");
        }
        other => panic!("expected a deleted checkpoint, got {other}"),
    }
    gw.stop().await;
}

async fn an_unwritable_log_refuses_instead_of_acknowledging(b: Backend) {
    let gw = Gateway::start(b).await;
    let store = doelpoort::store::Store::connect(&gw.app().config.database_url)
        .await
        .unwrap();
    let log = Log::start(
        store.clone(),
        Arc::new(SystemClock),
        64,
        std::time::Duration::from_secs(10),
    );
    assert!(log.append(disclosure(1)).await.is_ok());
    assert!(log.healthy().await);
    store.close().await;
    assert!(matches!(log.append(disclosure(2)).await, Err(LogError::Unavailable)));
    assert!(!log.healthy().await);
    let (head, _) = gw.app().log.records().head().await.unwrap();
    assert_eq!(head, FIXTURE + 1, "the refused record is not in the chain");
    gw.stop().await;
}

/// Appends 5,000 records in transactions of 100 (so bundles of up to 64 and a tree past 4,096 leaves), one second
/// apart per transaction: a common pair of organisations, a rare subject in every 700th record, a refusal in every
/// 97th, cases cycling through 40.
async fn many_records(gw: &Gateway) -> Vec<Record> {
    let start = time::OffsetDateTime::now_utc();
    for batch in 0..50i64 {
        let entries: Vec<Entry> = (0..100)
            .map(|i| {
                let n = batch * 100 + i;
                let mut e = disclosure(n as usize);
                e.kind = if n % 97 == 0 { Kind::Refusal } else { Kind::Disclosure };
                e.decision = Entry::new(e.kind).decision;
                e.subject = Some(if n % 700 == 3 {
                    "rare".into()
                } else {
                    format!("subject-{}", n % 11)
                });
                e.case_id = Some(format!("case-{}", n % 40));
                e
            })
            .collect();
        let mut tx = gw.app().store.begin().await.unwrap();
        let at = start + time::Duration::seconds(batch);
        doelpoort::log::record_in(&mut tx, entries, at.into()).await.unwrap();
        tx.commit().await.unwrap();
    }
    gw.app().log.records().page(0, 100_000).await.unwrap()
}

async fn queries_find_exactly_the_matching_records_across_many_bundles_and_pages(b: Backend) {
    let gw = Gateway::start(b).await;
    let all = many_records(&gw).await;
    let records = gw.app().log.records();
    let middle = all[all.len() / 2].at.clone();
    let later = all[all.len() * 3 / 4].at.clone();
    let filters = [
        LogFilter {
            subject: Some("rare".into()),
            ..LogFilter::default()
        },
        LogFilter {
            subject: Some("rare".into()),
            subject_cases: vec![("case-7".into(), middle.clone())],
            ..LogFilter::default()
        },
        LogFilter {
            scope: Some(ZVH.into()),
            kinds: vec![Kind::Refusal],
            ..LogFilter::default()
        },
        LogFilter {
            case_id: Some("case-7".into()),
            source: Some(GEMEENTE.into()),
            from: Some(middle.clone()),
            to: Some(later.clone()),
            ..LogFilter::default()
        },
        LogFilter {
            organisation: Some(ZVH.into()),
            allowed_only: true,
            through: Some(4_321),
            ..LogFilter::default()
        },
        LogFilter {
            recipient: Some(GEMEENTE.into()),
            ..LogFilter::default()
        },
        LogFilter {
            from: Some(later.clone()),
            ..LogFilter::default()
        },
    ];
    for f in &filters {
        let expected: Vec<i64> = all.iter().filter(|r| f.matches(r)).map(|r| r.seq).collect();
        assert_eq!(records.count(f).await.unwrap(), expected.len() as i64, "{f:?}");
        let ascending: Vec<i64> = records
            .query(f, 0, false, 100_000)
            .await
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect();
        assert_eq!(ascending, expected, "{f:?}");
        // Oldest first from the middle of a bundle, a page at a time: each page ends inside a bundle.
        let wanted: Vec<i64> = expected.iter().copied().filter(|&s| s > 1_000).collect();
        assert_eq!(paged(records, f, 1_000, false).await, wanted, "{f:?}");
        // Newest first from the middle of the log, a page at a time.
        let wanted: Vec<i64> = expected.iter().rev().copied().filter(|&s| s < 3_000).collect();
        assert_eq!(paged(records, f, 3_000, true).await, wanted, "{f:?}");
    }
    assert!(
        records.count(&filters[0]).await.unwrap() >= 7,
        "the rare subject lies in many bundles"
    );
    verify(records, &gw.app().trust(), |_, _| {}).await.unwrap();
    gw.stop().await;
}

/// The sequence numbers `filter` finds from `from` on, read seven records a page (newest first when `descending`).
async fn paged(records: &Records, filter: &LogFilter, from: i64, descending: bool) -> Vec<i64> {
    let (mut cursor, mut seqs) = (from, Vec::new());
    loop {
        let page = records.query(filter, cursor, descending, 7).await.unwrap();
        let Some(last) = page.last() else { return seqs };
        cursor = last.seq;
        seqs.extend(page.iter().map(|r| r.seq));
    }
}

async fn a_log_from_before_postings_is_indexed_before_the_gateway_serves(b: Backend) {
    let gw = Gateway::start(b).await;
    let all = many_records(&gw).await;
    let rare = LogFilter {
        subject: Some("rare".into()),
        ..LogFilter::default()
    };
    let expected: Vec<i64> = all.iter().filter(|r| rare.matches(r)).map(|r| r.seq).collect();
    raw(&gw, "DELETE FROM log_postings").await;
    raw(&gw, "UPDATE log_head SET unindexed = seq").await;
    let records = gw.app().log.records();
    assert!(records.query(&rare, 0, false, 100).await.unwrap().is_empty());
    // A gateway started on the database indexes the log before it serves.
    let second = gw.another_instance(Arc::new(gw.clock.clone())).await;
    let found: Vec<i64> = records
        .query(&rare, 0, false, 100)
        .await
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(found, expected);
    let pool = tamper::pool(&gw).await;
    let unindexed: i64 = sqlx::query_scalar("SELECT unindexed FROM log_head")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(unindexed, 0);
    pool.close().await;
    second.shutdown().await;
    gw.stop().await;
}
