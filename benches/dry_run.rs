//! The covenant dry run over 1,000,000 recorded decisions (DOELPOORT_BENCH_RECORDS to change): reading the log
//! grouped and replaying every flow under a proposed covenant that drops the police's briefing rules, against the
//! peer the issue names — the per-decision cost of `Covenant::decide`, measured in the same run over the same
//! covenant, times the number of records. SQLite always; PostgreSQL too when DOELPOORT_BENCH_POSTGRES_URL names a
//! server. Run: `cargo bench --bench dry_run`.
//!
//! Records: seven in ten are disclosures of two categories (briefing or focus, six sources), two in ten lookups,
//! one in ten a `forbidden_category` refusal.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::needless_pass_by_value
)]

mod common;
use common::BenchDb;
use doelpoort::covenant::decision::{Party, Question};
use doelpoort::covenant::{Covenant, Texts};
use doelpoort::figures::evaluation::{dry_run, recorded, Window};
use doelpoort::log::chain::{Entry, Kind};
use doelpoort::orgs::registry::Snapshot;
use doelpoort::store::Store;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

const ROLES: [&str; 6] = ["politie", "om", "reclassering", "gemeente", "ggd", "zvh"];

/// The `i`-th recorded decision.
fn decision(i: i64) -> Entry {
    let lookup = i % 10 < 3 && i % 10 != 0;
    let kind = match i % 10 {
        0 => Kind::Refusal,
        1 | 2 => Kind::Lookup,
        _ => Kind::Disclosure,
    };
    Entry {
        source_oin: Some(format!("0000009900000000000{}", i % 6 + 1)),
        recipient_oin: Some("00000099000000000006".into()),
        meeting_type: (!lookup).then(|| if i % 2 == 0 { "briefing" } else { "focus" }.into()),
        purpose: Some(
            match (lookup, i % 2 == 0) {
                (true, _) => "zsm_afdoening",
                (false, true) => "weging",
                (false, false) => "integraal_plan",
            }
            .into(),
        ),
        categories: if lookup {
            Vec::new()
        } else {
            vec!["identificatie".into(), "betrokkenheid".into()]
        },
        covenant_version: Some("2026.1".into()),
        article: Some("art. 9 lid 1".into()),
        subject: Some(format!("{i:064x}")),
        reason: (kind == Kind::Refusal).then(|| "forbidden_category: not in the covenant".into()),
        ..Entry::new(kind)
    }
}

async fn load(store: &Store, pool: &sqlx::AnyPool, n: i64) {
    for (i, role) in ROLES.iter().enumerate() {
        sqlx::query(&format!(
            "INSERT INTO organisations (oin, name, kind, roles, status, created_at, updated_at) VALUES \
             ('0000009900000000000{}', '{role}', 'ketenpartner', '{role}', 'active', '2022-01-01', '2022-01-01')",
            i + 1
        ))
        .execute(pool)
        .await
        .unwrap();
    }
    // 2026-06-01T00:00:00Z.
    let at: doelpoort::types::Instant = time::OffsetDateTime::from_unix_timestamp(1_780_272_000).unwrap().into();
    let mut from = 1;
    while from <= n {
        let to = (from + 19_999).min(n);
        let mut tx = store.begin().await.unwrap();
        doelpoort::log::record_in(&mut tx, (from..=to).map(decision).collect(), at)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        from = to + 1;
    }
}

/// The peer: `decide` once per record, for a flow like the recorded ones.
fn decide_each(covenant: &Covenant, n: i64) -> f64 {
    let (police, zvh) = (vec!["politie".to_owned()], vec!["zvh".to_owned()]);
    let party = |roles| Party {
        roles,
        member: true,
        attends: true,
        signed: true,
        declaration: false,
        case_holder: false,
    };
    let t = Instant::now();
    for i in 0..n {
        let q = Question {
            source: party(&police),
            recipient: party(&zvh),
            meeting_type: "briefing",
            purpose: "weging",
            category: if i % 2 == 0 { "identificatie" } else { "betrokkenheid" },
            meeting_open: true,
            on_agenda: true,
            case_open: true,
            consent: true,
        };
        black_box(covenant.decide(black_box(&q)));
    }
    t.elapsed().as_secs_f64()
}

async fn bench(db: BenchDb, n: i64) {
    let store = db.open().await;
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let t = Instant::now();
    load(&store, &pool, n).await;
    println!(
        "{}: loaded {n} decision records in {:.1} s",
        db.label,
        t.elapsed().as_secs_f64()
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let old = Covenant::load(&dir).unwrap();
    let mut texts = Texts::read(&dir).unwrap();
    texts.policy = texts
        .policy
        .lines()
        .filter(|l| !l.starts_with("p, share, politie, briefing"))
        .collect::<Vec<_>>()
        .join("\n");
    let new = Covenant::from_texts(&dir, &texts).unwrap();
    let registry = Snapshot::from_rows(store.registry_rows().await.unwrap());
    let window = Window::parse(None, None).unwrap();
    let t = Instant::now();
    let groups = recorded(&store, &window).await.unwrap();
    let read = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let run = dry_run(&old, &new, &registry, &groups, window);
    let replay = t.elapsed().as_secs_f64();
    let peer = decide_each(&old, n);
    println!(
        "{}: dry run {:.3} s (grouped read {:.3} s over {} groups, replay {:.4} s): {} replayed, {} now refused; \
         peer decide() × {n} {:.3} s ({:.0} ns each); dry run = {:.2} × peer",
        db.label,
        read + replay,
        read,
        groups.len(),
        replay,
        run.replayed,
        run.now_refused.iter().map(|s| s.flows).sum::<i64>(),
        peer,
        peer * 1e9 / n as f64,
        (read + replay) / peer
    );
    pool.close().await;
    store.close().await;
    db.drop_database().await;
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let n: i64 = std::env::var("DOELPOORT_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    bench(BenchDb::sqlite("dry_run.db"), n).await;
    if let Some(db) = BenchDb::postgres("dry_run").await {
        bench(db, n).await;
    }
}
