//! The disclosure log: admin actions are chain records, concurrent appends are group-committed into one
//! contiguous chain, verification names every kind of tampering, checkpoints are signed, and a log that cannot
//! be written refuses instead of acknowledging.
use crate::both;
use crate::helpers::*;
use crate::tamper::{self, raw};
use doelpoort::log::chain::{Entry, Kind};
use doelpoort::log::checkpoint::seal;
use doelpoort::log::verify::{verify, VerifyError};
use doelpoort::log::{Log, LogError};
use doelpoort::types::clock::SystemClock;
use std::sync::Arc;

both!(
    admin_actions_are_chain_records_and_the_chain_verifies,
    concurrent_appends_are_group_committed_into_one_chain,
    verification_names_altered_missing_reordered_and_inserted_records,
    checkpoints_are_signed_and_a_forged_one_is_named,
    an_unwritable_log_refuses_instead_of_acknowledging,
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
