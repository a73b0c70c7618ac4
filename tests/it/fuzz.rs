//! Fuzzing on stable Rust: property tests (proptest) over every parser of outside input. cargo-fuzz needs a nightly
//! toolchain, which the build machines cannot fetch, so these run in the ordinary test suite with proptest's
//! default number of cases (a short run); `benches/fuzz.sh` runs them long (`PROPTEST_CASES`).
//!
//! Targets: request bodies of every endpoint through the real JSON extractor (never a panic, never a 5xx, never an
//! echo of the input); the token path up to signature verification (never a panic; nothing but a correctly signed
//! token passes); the covenant files (never a panic; every malformed policy line is reported with its line); the
//! canonical log-record encoding (round trip, and only canonical bytes decode).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::extract::FromRequest;
use doelpoort::api::json::Json;
use doelpoort::log::chain::{decode, Entry, Kind, Record, Verdict};
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;

/// A marker that must never come back in an error.
const MARKER: &str = "QX7SECRET";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().unwrap()
}

/// Runs `body` through the API's JSON extractor for `T`, as a handler would receive it.
fn parse<T: serde::de::DeserializeOwned + Send + 'static>(
    rt: &tokio::runtime::Runtime,
    body: Vec<u8>,
) -> Result<Json<T>, doelpoort::api::error::ApiError> {
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
        .unwrap();
    rt.block_on(Json::<T>::from_request(request, &()))
}

fn extract<T: serde::de::DeserializeOwned + Send + 'static>(rt: &tokio::runtime::Runtime, body: Vec<u8>) {
    let result = parse::<T>(rt, body);
    if let Err(e) = result {
        assert!(e.status.is_client_error(), "{}", e.status);
        assert!(!e.detail.contains(MARKER), "the error echoes input: {}", e.detail);
    }
}

/// JSON-ish documents: valid JSON values with the marker in strings and keys, and arbitrary bytes.
fn bodies() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::json!(f)),
        "[a-z_]{0,12}".prop_map(|s| serde_json::Value::from(format!("{s}{MARKER}"))),
        "[0-9]{9,20}".prop_map(serde_json::Value::from),
    ];
    let keys = prop_oneof![
        Just("subject".to_owned()),
        Just("bsn".to_owned()),
        Just("summary".to_owned()),
        Just("items".to_owned()),
        Just("category".to_owned()),
        Just("content".to_owned()),
        Just("case_id".to_owned()),
        Just("categories".to_owned()),
        Just("oin".to_owned()),
        "[a-z]{1,8}".prop_map(|k| format!("{k}{MARKER}")),
    ];
    let value = leaf.prop_recursive(4, 32, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(keys.clone(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    });
    prop_oneof![
        value.prop_map(|v| serde_json::to_vec(&v).unwrap()),
        prop::collection::vec(any::<u8>(), 0..256),
    ]
}

proptest! {
    #[test]
    fn request_bodies_are_refused_with_a_4xx_that_echoes_nothing(body in bodies()) {
        let rt = runtime();
        extract::<doelpoort::cases::NewCase>(&rt, body.clone());
        extract::<doelpoort::cases::consent::NewConsent>(&rt, body.clone());
        extract::<doelpoort::cases::meetings::NewMeeting>(&rt, body.clone());
        extract::<doelpoort::cases::meetings::NewAttendee>(&rt, body.clone());
        extract::<doelpoort::cases::meetings::AgendaItem>(&rt, body.clone());
        extract::<doelpoort::cases::lookups::LookupRequest>(&rt, body.clone());
        extract::<doelpoort::exchange::NewRequest>(&rt, body.clone());
        extract::<doelpoort::exchange::NewResponse>(&rt, body.clone());
        extract::<doelpoort::exchange::NewShare>(&rt, body.clone());
        extract::<doelpoort::orgs::onboarding::NewOrg>(&rt, body.clone());
        extract::<doelpoort::orgs::onboarding::Signature>(&rt, body);
    }

    #[test]
    fn identifiers_from_outside_parse_only_when_well_formed(
        text in prop_oneof!["\\PC{0,40}", "[0-9]{9}", "[0-9]{20}", "case-[a-z0-9]{1,8}", "[0-9a-f]{64}"],
    ) {
        let digits = |n: usize| text.len() == n && text.bytes().all(|b| b.is_ascii_digit());
        if text.parse::<doelpoort::types::Bsn>().is_ok() {
            prop_assert!(digits(9), "a BSN is nine digits");
        }
        prop_assert_eq!(text.parse::<doelpoort::types::Oin>().is_ok(), digits(20));
        if let Ok(id) = text.parse::<doelpoort::types::CaseId>() {
            prop_assert_eq!(id.as_str(), text.as_str());
            prop_assert!(text.starts_with("case-") && text.len() > 5);
        }
        if let Ok(at) = text.parse::<doelpoort::types::Instant>() {
            prop_assert_eq!(at.to_string().parse::<doelpoort::types::Instant>().ok(), Some(at), "round trip");
        }
        let hex = text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit());
        prop_assert_eq!(doelpoort::log::chain::parse_hash(&text).is_some(), hex);
    }
}

/// An organisation with one registered Ed25519 key, and a verifier.
struct TokenFixture {
    org: doelpoort::orgs::registry::Organisation,
    key: doelpoort::crypto::pki::TokenKeyPair,
    verifier: doelpoort::edge::token::TokenVerifier,
}

const OIN: &str = "00000099000000000002";
const THUMBPRINT: &str = "fuzz-thumbprint";
const NOW: i64 = 1_800_000_000;

fn token_fixture() -> TokenFixture {
    let key = doelpoort::crypto::pki::TokenKeyPair::generate().unwrap();
    let accepted = doelpoort::crypto::jwks::parse_jwks(&key.jwks()).unwrap();
    let mut keys = HashMap::new();
    for k in accepted {
        keys.insert(
            k.kid.clone(),
            doelpoort::crypto::jwks::decoding_key(k.alg, &k.jwk).unwrap(),
        );
    }
    let org = doelpoort::orgs::registry::Organisation {
        oin: OIN.parse().unwrap(),
        name: "Fuzz".into(),
        kind: doelpoort::types::OrgKind::Ketenpartner,
        covenant_roles: vec!["politie".into()],
        municipalities: vec![],
        status: doelpoort::types::OrgStatus::Active,
        signed_versions: vec![],
        keys,
    };
    let verifier = doelpoort::edge::token::TokenVerifier::new("doelpoort", 30, "00000099000000000001", 0);
    TokenFixture { org, key, verifier }
}

fn signed(f: &TokenFixture) -> String {
    let roles = vec!["professional".to_owned()];
    doelpoort::edge::token::sign(
        &f.key,
        &doelpoort::edge::token::TokenRequest {
            issuer: OIN,
            audience: "doelpoort",
            sub: "fuzz",
            roles: &roles,
            thumbprint: THUMBPRINT,
            iat: NOW,
            ttl_secs: 600,
        },
    )
    .unwrap()
}

proptest! {
    #[test]
    fn tokens_that_are_not_exactly_as_signed_are_refused(
        garbage in "\\PC{0,300}",
        position in any::<prop::sample::Index>(),
        replacement in "[A-Za-z0-9_.=-]",
    ) {
        let f = token_fixture();
        let good = signed(&f);
        let verify = |t: &str| f.verifier.verify(t, &f.org, THUMBPRINT, NOW, 1);
        prop_assert!(verify(&good).is_ok());
        prop_assert!(verify(&garbage).is_err());
        // One character changed anywhere but the signature's last (whose low bits base64 may not use).
        let at = position.index(good.len() - 1);
        let mut mutated = good.clone();
        mutated.replace_range(at..=at, &replacement);
        if mutated != good {
            prop_assert!(verify(&mutated).is_err(), "accepted a token changed at {at}");
        }
    }
}

fn shipped(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("policies")
            .join(name),
    )
    .unwrap()
}

proptest! {
    #[test]
    fn covenant_files_are_checked_without_panics_and_bad_lines_are_named(
        lines in prop::collection::vec("[pa-z, *_.0-9#\"]{0,60}", 0..12),
        insert_at in any::<prop::sample::Index>(),
        toml_text in "\\PC{0,200}",
    ) {
        let mut policy: Vec<String> = shipped("covenant_policy.csv").lines().map(str::to_owned).collect();
        let at = insert_at.index(policy.len());
        for (i, l) in lines.iter().enumerate() {
            policy.insert(at + i, l.clone());
        }
        let text = policy.join("\n");
        let parsed = doelpoort::covenant::rules::parse_policy(&text);
        let metadata: doelpoort::covenant::Metadata = toml::from_str(&shipped("covenant.toml")).unwrap();
        let problems = doelpoort::covenant::check::check(&metadata, &shipped("covenant_model.conf"), &parsed);
        for bad in parsed.iter().filter_map(|p| p.as_ref().err()) {
            prop_assert!(problems.iter().any(|p| p.line == Some(bad.0)), "line {} not reported", bad.0);
        }
        let _ = toml::from_str::<doelpoort::covenant::Metadata>(&toml_text);
    }
}

fn text() -> impl Strategy<Value = Option<String>> {
    prop::option::of("\\PC{0,24}")
}

fn entries() -> impl Strategy<Value = Entry> {
    let kind = prop_oneof![
        Just(Kind::Disclosure),
        Just(Kind::Refusal),
        Just(Kind::Lookup),
        Just(Kind::Admin)
    ];
    (
        kind,
        prop::collection::vec(text(), 9),
        prop::collection::vec("\\PC{0,12}", 0..5),
        prop::collection::vec(text(), 4),
        prop_oneof![Just(Verdict::Allow), Just(Verdict::Deny)],
        prop::collection::vec(text(), 6),
    )
        .prop_map(|(kind, p, categories, r, decision, x)| Entry {
            kind,
            source_oin: p[0].clone(),
            recipient_oin: p[1].clone(),
            actor_oin: p[2].clone(),
            actor_sub: p[3].clone(),
            case_id: p[4].clone(),
            subject: p[5].clone(),
            meeting_id: p[6].clone(),
            meeting_type: p[7].clone(),
            purpose: p[8].clone(),
            categories,
            covenant_version: r[0].clone(),
            article: r[1].clone(),
            request_id: r[2].clone(),
            content_digest: r[3].clone(),
            decision,
            reason: x[0].clone(),
            action: x[1].clone(),
            target: x[2].clone(),
            detail: x[3].clone(),
            trace_id: x[4].clone(),
            span_id: x[5].clone(),
        })
}

proptest! {
    #[test]
    fn the_record_encoding_round_trips_and_only_canonical_bytes_decode(
        entry in entries(),
        seq in any::<i64>(),
        at in "\\PC{0,30}",
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
        noise in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let record = Record::chain(entry.clone(), seq, at.clone(), &[7u8; 32]);
        let bytes = record.encode();
        prop_assert_eq!(decode(&bytes), Some((seq, at, entry)));
        // A shortened or extended encoding is not an encoding.
        let short = cut.index(bytes.len());
        prop_assert!(decode(&bytes[..short]).is_none());
        let mut longer = bytes.clone();
        longer.push(0);
        prop_assert!(decode(&longer).is_none());
        // Whatever decodes re-encodes to exactly the same bytes (one encoding per record).
        let mut changed = bytes.clone();
        let i = flip.index(changed.len());
        changed[i] ^= 0x5a;
        for candidate in [changed, noise] {
            if let Some((seq, at, entry)) = decode(&candidate) {
                let again = Record::chain(entry, seq, at, &[7u8; 32]).encode();
                prop_assert_eq!(again, candidate);
            }
        }
    }
}

#[test]
fn the_fixture_token_verifies_so_the_refusals_above_mean_something() {
    let f = token_fixture();
    let t = f.verifier.verify(&signed(&f), &f.org, THUMBPRINT, NOW, 1).unwrap();
    assert_eq!(t.sub, "fuzz");
    let _ = Arc::clone(&t);
}

/// Regression (found by the property above): an unknown key was echoed in the error, and a client may put a BSN in
/// a key.
#[test]
fn an_unknown_key_is_not_echoed() {
    let rt = runtime();
    let body = br#"{"subject": {"bsn": "1"}, "summary": "x", "123456782": true}"#.to_vec();
    let e = parse::<doelpoort::cases::NewCase>(&rt, body).unwrap_err();
    assert_eq!(e.status, 422);
    assert!(!e.detail.contains("123456782"), "{}", e.detail);
    assert!(
        e.detail
            .contains("expected one of `subject`, `subjects`, `kind`, `municipality`, `profile`, `summary`"),
        "{}",
        e.detail
    );
}
