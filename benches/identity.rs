//! The per-request identity path — certificate → organisation → token → roles — with and without the cache of
//! verified tokens. The peer of the cached path is the uncached one (a full EdDSA verification per request);
//! the closing line prints their ratio, measured in the same run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::needless_pass_by_value
)]

use criterion::{black_box, criterion_group, Criterion};
use doelpoort::crypto::pki::TokenKeyPair;
use doelpoort::edge::conn::PeerCert;
use doelpoort::edge::identity::identify;
use doelpoort::edge::token::{sign, TokenRequest, TokenVerifier};
use doelpoort::orgs::registry::Snapshot;
use doelpoort::store::{KeyRow, OrgRow, RegistryRows};
use std::time::Instant;

const HOST: &str = "00000099000000000001";
const ORG: &str = "00000099000000000002";
const ORGS: usize = 40;

struct Fixture {
    snapshot: Snapshot,
    peer: PeerCert,
    authorization: String,
    now: i64,
}

fn fixture() -> Fixture {
    let key = TokenKeyPair::generate().unwrap();
    let mut rows = RegistryRows {
        generation: 1,
        ..RegistryRows::default()
    };
    for i in 1..=ORGS {
        let oin = format!("000000990000000000{i:02}");
        let org_key = if oin == ORG {
            key.clone()
        } else {
            TokenKeyPair::generate().unwrap()
        };
        rows.orgs.push(OrgRow {
            oin: oin.clone(),
            name: format!("Org {i}"),
            kind: "ketenpartner".into(),
            roles: "politie".into(),
            status: "active".into(),
            created_at: String::new(),
            updated_at: String::new(),
            member_since: None,
            municipalities: String::new(),
        });
        rows.keys.push(KeyRow {
            oin,
            kid: org_key.kid.clone(),
            alg: "EdDSA".into(),
            jwk: org_key.public_jwk.to_string(),
        });
    }
    rows.revoked = (0..100).map(|i| format!("{i:032x}")).collect();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let roles = vec!["professional".to_owned()];
    let token = sign(
        &key,
        &TokenRequest {
            issuer: ORG,
            audience: "doelpoort",
            sub: "agent-1",
            roles: &roles,
            thumbprint: "thumbprint-of-the-connection",
            iat: now,
            ttl_secs: 3600,
        },
    )
    .unwrap();
    Fixture {
        snapshot: Snapshot::from_rows(rows),
        peer: PeerCert {
            oin: ORG.parse().unwrap(),
            serial: "7f00aa".into(),
            thumbprint: "thumbprint-of-the-connection".into(),
        },
        authorization: format!("Bearer {token}"),
        now,
    }
}

fn run(f: &Fixture, tokens: &TokenVerifier) {
    let caller = identify(&f.snapshot, tokens, &f.peer, Some(&f.authorization), f.now).unwrap();
    black_box(caller);
}

fn bench(c: &mut Criterion) {
    let f = fixture();
    let cached = TokenVerifier::new("doelpoort", 30, HOST, 10_000);
    let uncached = TokenVerifier::new("doelpoort", 30, HOST, 0);
    let mut group = c.benchmark_group("identity");
    group.bench_function("cached", |b| b.iter(|| run(&f, &cached)));
    group.bench_function("uncached", |b| b.iter(|| run(&f, &uncached)));
    group.finish();
}

/// Same-run ratio of the two paths, printed as the closing line.
fn ratio() {
    let f = fixture();
    let cached = TokenVerifier::new("doelpoort", 30, HOST, 10_000);
    let uncached = TokenVerifier::new("doelpoort", 30, HOST, 0);
    let time = |tokens: &TokenVerifier, n: u32| {
        let start = Instant::now();
        for _ in 0..n {
            run(&f, tokens);
        }
        start.elapsed().as_secs_f64() / f64::from(n)
    };
    let (n_fast, n_slow) = (200_000, 5_000);
    time(&cached, 1_000);
    time(&uncached, 100);
    let fast = time(&cached, n_fast);
    let slow = time(&uncached, n_slow);
    println!(
        "identity path: cached {:.2} µs, uncached {:.2} µs per request; the cache is {:.1}x faster than full verification",
        fast * 1e6,
        slow * 1e6,
        slow / fast
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    ratio();
}
