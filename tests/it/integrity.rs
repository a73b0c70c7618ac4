//! The log's verifiable side as a partner meets it: proofs served over real TLS verify against the signed
//! checkpoint, officers see proofs only within their scope, witnesses' cosignatures are checked and pinned, a log
//! rewritten behind the gateway's back is named by `verify` (checkpoint roots, the interval, a partner's anchor),
//! and a gateway started on a log that does not agree with itself stays fail closed.
use crate::both;
use crate::helpers::*;
use crate::tamper::{self, raw};
use doelpoort::log::chain::{Entry, Kind, Record};
use doelpoort::log::checkpoint::seal;
use doelpoort::log::merkle::{leaf_hash, verify_consistency, verify_inclusion, Hash};
use doelpoort::log::note;
use doelpoort::log::verify::{verify, Trust, VerifyError};
use doelpoort::log::StoredNote;
use doelpoort::types::clock::SharedClock;
use hyper::Method;
use ring::signature::KeyPair as _;
use serde_json::{json, Value};
use std::sync::Arc;

both!(
    proofs_verify_against_the_signed_checkpoint_within_the_officers_scope,
    witnesses_cosignatures_are_checked_pinned_and_served,
    a_rewritten_log_is_named_by_its_checkpoints_the_interval_and_an_anchor,
    a_gateway_started_on_a_log_that_disagrees_stays_fail_closed,
    a_partners_witness_cosigns_what_extends_its_state_and_refuses_a_rewrite,
    the_console_shows_the_checkpoint_its_cosigners_and_proofs_within_scope,
    a_second_instance_starting_beside_a_busy_one_finds_the_log_intact,
    a_log_from_before_bundles_is_moved_into_bundles_and_a_broken_one_stays_fail_closed,
);

fn disclosure(source: &str, recipient: &str) -> Entry {
    Entry {
        source_oin: Some(source.into()),
        recipient_oin: Some(recipient.into()),
        categories: vec!["leefgebieden".into()],
        purpose: Some("plan_van_aanpak".into()),
        ..Entry::new(Kind::Disclosure)
    }
}

async fn sealed(gw: &Gateway) -> StoredNote {
    let clock: SharedClock = Arc::new(gw.clock.clone());
    seal(gw.app().log.records(), &gw.app().notary, &clock)
        .await
        .unwrap()
        .expect("records to seal")
}

async fn officer(gw: &Gateway, slug: &'static str, path: &str) -> Response {
    gw.call(&gw.org(slug), &["privacy_officer"], Method::GET, path, None)
        .await
}

fn hashes(v: &Value) -> Vec<Hash> {
    v["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hex::decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
        .collect()
}

/// The checkpoint the gateway serves, opened with the key and origin a partner was given.
async fn served_checkpoint(gw: &Gateway, slug: &'static str) -> (note::Checkpoint, String) {
    let r = officer(gw, slug, "/v1/audit/checkpoint").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let c = gw
        .app()
        .trust()
        .open(&r.text)
        .expect("a checkpoint signed by the gateway");
    (c, r.text)
}

/// The leaf hash of record `seq` as a partner computes it from the encoding the gateway hands out.
async fn leaf_of(gw: &Gateway, seq: i64) -> Hash {
    let r = officer(gw, HOST, &format!("/v1/audit/records/{seq}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    use base64::Engine as _;
    let encoding = base64::engine::general_purpose::STANDARD
        .decode(r.body["encoding"].as_str().unwrap())
        .unwrap();
    let leaf = leaf_hash(&encoding);
    assert_eq!(r.body["leaf_hash"], hex::encode(leaf));
    assert_eq!(r.body["record"]["seq"], seq);
    leaf
}

async fn proofs_verify_against_the_signed_checkpoint_within_the_officers_scope(b: Backend) {
    let gw = Gateway::start(b).await;
    let log = &gw.app().log;
    let r = officer(&gw, HOST, "/v1/audit/checkpoint").await;
    r.assert_problem(404, "not_found");
    let r = officer(&gw, HOST, "/v1/audit/proof/inclusion?seq=1").await;
    r.assert_problem(404, "not_found");
    let ours = log.append(disclosure(POLITIE, OM)).await.unwrap().seq();
    let theirs = log.append(disclosure(GEMEENTE, WIJKTEAM)).await.unwrap().seq();
    let first = sealed(&gw).await;
    let (c1, _) = served_checkpoint(&gw, HOST).await;
    assert_eq!((c1.size, first.size), (theirs as u64, theirs));

    // Every record's inclusion proof verifies against the signed root, from the encoding alone.
    for seq in 1..=theirs {
        let leaf = leaf_of(&gw, seq).await;
        let r = officer(&gw, HOST, &format!("/v1/audit/proof/inclusion?seq={seq}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["tree_size"], c1.size);
        let proof = hashes(&r.body);
        assert!(
            verify_inclusion(&leaf, seq as u64 - 1, c1.size, &proof, &c1.root),
            "record {seq}"
        );
        let mut wrong = leaf;
        wrong[0] ^= 1;
        assert!(!verify_inclusion(&wrong, seq as u64 - 1, c1.size, &proof, &c1.root));
    }

    // A later checkpoint extends the first: the consistency proof verifies, and a proof into the newer tree too.
    for _ in 0..5 {
        log.append(disclosure(GEMEENTE, ZVH)).await.unwrap();
    }
    let second = sealed(&gw).await;
    let (c2, _) = served_checkpoint(&gw, HOST).await;
    assert_eq!(c2.size, second.size as u64);
    assert!(
        second.size > first.seq,
        "the first checkpoint's own record is in the second tree"
    );
    let path = format!("/v1/audit/proof/consistency?from={}&to={}", c1.size, c2.size);
    let r = officer(&gw, HOST, &path).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(verify_consistency(
        c1.size,
        c2.size,
        &c1.root,
        &c2.root,
        &hashes(&r.body)
    ));
    let path = format!("/v1/audit/proof/inclusion?seq={ours}&tree_size={}", c2.size);
    let r = officer(&gw, "politie", &path).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let leaf = leaf_of(&gw, ours).await;
    assert!(verify_inclusion(
        &leaf,
        ours as u64 - 1,
        c2.size,
        &hashes(&r.body),
        &c2.root
    ));

    // A partner's officer gets proofs for its own records only; the rest is as absent as a record that is not.
    let path = format!("/v1/audit/proof/inclusion?seq={theirs}&tree_size={}", c2.size);
    officer(&gw, "politie", &path).await.assert_problem(404, "not_found");
    let r = officer(&gw, "politie", &format!("/v1/audit/records/{theirs}")).await;
    r.assert_problem(404, "not_found");
    let r = gw
        .call(
            &gw.org("politie"),
            &["professional"],
            Method::GET,
            "/v1/audit/checkpoint",
            None,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);

    // Bounds: a proof for a record or a tree the log does not hold is refused.
    let beyond = c2.size + 1_000;
    for path in [
        "/v1/audit/proof/inclusion?seq=0".to_owned(),
        "/v1/audit/proof/inclusion?seq=5&tree_size=4".to_owned(),
        format!("/v1/audit/proof/consistency?from={}&to={}", c2.size, c1.size),
        "/v1/audit/proof/consistency?from=0&to=3".to_owned(),
    ] {
        let r = officer(&gw, HOST, &path).await;
        assert_eq!(r.status, 422, "{path}: {}", r.text);
    }
    for path in [
        format!("/v1/audit/proof/inclusion?seq=1&tree_size={beyond}"),
        format!("/v1/audit/proof/consistency?from=1&to={beyond}"),
    ] {
        officer(&gw, HOST, &path).await.assert_problem(404, "not_found");
    }
    officer(&gw, HOST, "/v1/audit/proof/inclusion?seq=x")
        .await
        .assert_problem(422, "validation_failed");
    gw.stop().await;
}

/// A witness's Ed25519 key and the cosignature line it makes over a checkpoint note.
struct Witness {
    key: ring::signature::Ed25519KeyPair,
    name: &'static str,
}

impl Witness {
    fn new(name: &'static str) -> Witness {
        let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
        Witness {
            key: ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap(),
            name,
        }
    }

    fn public(&self) -> Vec<u8> {
        self.key.public_key().as_ref().to_vec()
    }

    fn cosign(&self, checkpoint_note: &str) -> String {
        let (body, _) = note::split(checkpoint_note).unwrap();
        note::cosignature_line(self.name, &self.public(), &body, 1_790_000_000, |m| {
            self.key.sign(m).as_ref().to_vec()
        })
        .text()
    }

    fn body(&self, size: i64, line: String) -> Value {
        use base64::Engine as _;
        json!({"size": size, "line": line, "public_key": base64::engine::general_purpose::STANDARD.encode(self.public())})
    }
}

async fn witnesses_cosignatures_are_checked_pinned_and_served(b: Backend) {
    let gw = Gateway::start(b).await;
    let checkpoint = sealed(&gw).await;
    let politie = gw.org("politie");
    let post = |body: Value| {
        let politie = politie.clone();
        let gw = &gw;
        async move {
            gw.call(
                &politie,
                &["privacy_officer"],
                Method::POST,
                "/v1/audit/cosignatures",
                Some(body),
            )
            .await
        }
    };
    let witness = Witness::new("politie.example/witness");
    let line = witness.cosign(&checkpoint.note);
    let r = post(witness.body(checkpoint.size, line.clone())).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["added"], true);
    let r = post(witness.body(checkpoint.size, line.clone())).await;
    assert_eq!(
        (r.status.as_u16(), r.body["added"].clone()),
        (200, json!(false)),
        "{}",
        r.text
    );

    // The checkpoint is served with the cosignature, which verifies under the witness's key.
    let served = officer(&gw, "gemeente", "/v1/audit/checkpoint").await;
    assert!(served.text.starts_with(&checkpoint.note), "{}", served.text);
    assert!(served.text.ends_with(&line), "{}", served.text);
    let (body, lines) = note::split(&served.text).unwrap();
    let cosigned = lines.iter().find(|l| l.name == witness.name).unwrap();
    assert!(note::verify_cosignature(&body, cosigned, witness.name, &witness.public()).is_some());

    // Refused: a line by another key than the one given, a checkpoint that does not exist, another key for the
    // same organisation (pinned at its first cosignature), and a caller who is no privacy officer.
    let other = Witness::new("politie.example/witness");
    let forged = other.cosign(&checkpoint.note);
    post(witness.body(checkpoint.size, forged.clone()))
        .await
        .assert_problem(422, "validation_failed");
    let r = post(witness.body(checkpoint.size + 7, line.clone())).await;
    r.assert_problem(404, "not_found");
    post(json!({"size": checkpoint.size, "line": "no line", "public_key": "AAAA"}))
        .await
        .assert_problem(422, "validation_failed");
    post(other.body(checkpoint.size, forged))
        .await
        .assert_problem(409, "witness_key_mismatch");
    let r = gw
        .call(
            &politie,
            &["professional"],
            Method::POST,
            "/v1/audit/cosignatures",
            Some(witness.body(checkpoint.size, line)),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    gw.stop().await;
}

/// What an attacker with the database can do: drop the records from `from` on, the tree and the checkpoints, and
/// append `entries` again through the gateway's own chain code (every hash recomputed, each at its old time).
async fn rewrite_from(gw: &Gateway, from: i64, entries: Vec<(String, Entry)>) {
    let records = gw.app().log.records();
    let prev = records.record(from - 1).await.unwrap().unwrap();
    tamper::truncate(gw, from - 1).await;
    raw(gw, "DELETE FROM log_notes").await;
    raw(gw, "DELETE FROM log_tiles").await;
    raw(
        gw,
        &format!(
            "UPDATE log_head SET seq = {}, hash = '{}', tree_size = 0",
            prev.seq, prev.hash
        ),
    )
    .await;
    records.build_tree(&at(0), 1000).await.unwrap();
    for (time, entry) in entries {
        let mut tx = gw.app().store.begin().await.unwrap();
        doelpoort::log::record_in(&mut tx, vec![entry], time.parse().unwrap())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
}

fn is_checkpoint(r: &Record) -> bool {
    doelpoort::log::verify::checkpoint_size(r).is_some()
}

async fn a_rewritten_log_is_named_by_its_checkpoints_the_interval_and_an_anchor(b: Backend) {
    let gw = Gateway::start(b).await;
    let app = gw.app();
    let records = app.log.records();
    for _ in 0..3 {
        app.log.append(disclosure(GEMEENTE, ZVH)).await.unwrap();
    }
    sealed(&gw).await;
    app.log.append(disclosure(POLITIE, OM)).await.unwrap();
    let anchor = sealed(&gw).await;
    let trust = |hours: i64, anchors: Vec<String>| {
        gw.clock.advance(time::Duration::hours(hours));
        Trust { anchors, ..app.trust() }
    };
    let intact = verify(records, &trust(0, vec![anchor.note.clone()]), |_, _| {})
        .await
        .unwrap();
    assert_eq!((intact.checkpoints, intact.anchors), (2, 1));
    let all = records.page(0, 1000).await.unwrap();
    let from = 5;
    let tail: Vec<(String, Entry)> = all
        .iter()
        .filter(|r| r.seq >= from)
        .map(|r| (r.at.clone(), r.entry.clone()))
        .collect();
    let altered = |keep_checkpoints: bool| -> Vec<(String, Entry)> {
        tail.iter()
            .zip(all.iter().filter(|r| r.seq >= from))
            .filter(|(_, r)| keep_checkpoints || !is_checkpoint(r))
            .map(|((time, e), r)| {
                let mut e = e.clone();
                if r.seq == from {
                    e.target = Some("rewritten".into());
                }
                (time.clone(), e)
            })
            .collect()
    };

    // Altered, the chain recomputed, the signed checkpoint records kept: their roots no longer match.
    rewrite_from(&gw, from, altered(true)).await;
    match verify(records, &trust(0, Vec::new()), |_, _| {}).await.unwrap_err() {
        VerifyError::Checkpoint { problem, .. } => assert!(problem.contains("root"), "{problem}"),
        other => panic!("expected a checkpoint over another tree, got {other}"),
    }

    // The checkpoints dropped as well: a chain that agrees with itself, but records older than the interval stand
    // without a checkpoint, and the partner's anchor is not extended.
    rewrite_from(&gw, from, altered(false)).await;
    assert!(
        verify(records, &trust(0, Vec::new()), |_, _| {}).await.is_ok(),
        "self-consistent at first"
    );
    match verify(records, &trust(0, vec![anchor.note.clone()]), |_, _| {})
        .await
        .unwrap_err()
    {
        VerifyError::Anchor { index, problem } => assert_eq!(index, 1, "the first anchor given: {problem}"),
        other => panic!("expected the anchor to be named, got {other}"),
    }
    match verify(records, &trust(1, Vec::new()), |_, _| {}).await.unwrap_err() {
        VerifyError::Interval { problem, .. } => assert!(problem.contains("checkpoint"), "{problem}"),
        other => panic!("expected a missing checkpoint, got {other}"),
    }
    gw.stop().await;
}

/// Starts a second server on the (tampered) database of `gw`, and reads its health and one recorded read.
async fn restarted(gw: &Gateway) -> (Response, Response) {
    let server = gw.another_instance(Arc::new(gw.clock.clone())).await;
    let host = gw.org(HOST);
    let mut c = Client::connect(server.addr, &gw.ca_pem, Some(&host.identity))
        .await
        .unwrap();
    let health = c.send(Method::GET, "/healthz", None, None).await.unwrap();
    let token = token_for(&host, &["privacy_officer"]);
    let read = c
        .send(Method::GET, "/v1/audit/disclosures?limit=1", Some(&token), None)
        .await
        .unwrap();
    drop(c);
    server.shutdown().await;
    (health, read)
}

async fn a_gateway_started_on_a_log_that_disagrees_stays_fail_closed(b: Backend) {
    let gw = Gateway::start(b).await;
    let records = gw.app().log.records();
    sealed(&gw).await;
    let (health, read) = restarted(&gw).await;
    assert_eq!(
        (health.status.as_u16(), read.status.as_u16()),
        (200, 200),
        "an intact log serves"
    );
    let (head, _) = records.head().await.unwrap();
    let last = records.record(head).await.unwrap().unwrap();
    let before = records.record(head - 1).await.unwrap().unwrap();
    raw(
        &gw,
        &format!("CREATE TABLE saved_bundle AS SELECT * FROM log_bundles WHERE last_seq = {head}"),
    )
    .await;
    raw(
        &gw,
        "CREATE TABLE saved_postings AS SELECT * FROM log_postings WHERE bundle IN (SELECT first_seq FROM saved_bundle)",
    )
    .await;

    let attacks: [(Attack, &str); 3] = [
        // The head moved back over an issued record: the next record would reuse its sequence number.
        (Attack::HeadBack, "the head names record"),
        // The newest record altered in place.
        (Attack::Alter, "the head's hash is not that of record"),
        // The tail cut off with the head and tree rewritten to match: the newest checkpoint's record is gone.
        (Attack::CutTail, "newest checkpoint"),
    ];
    let head_back = format!(
        "UPDATE log_head SET seq = {}, hash = '{}', tree_size = {}",
        before.seq, before.hash, before.seq
    );
    for (attack, why) in attacks {
        let sql = format!("{attack:?}");
        match attack {
            Attack::HeadBack => {
                raw(
                    &gw,
                    &format!("UPDATE log_head SET seq = {}, hash = '{}'", before.seq, before.hash),
                )
                .await;
            }
            Attack::Alter => tamper::alter(&gw, head, |e| e.target = Some("x".into())).await,
            Attack::CutTail => {
                tamper::truncate(&gw, before.seq).await;
                raw(&gw, &head_back).await;
            }
        }
        let (health, read) = restarted(&gw).await;
        assert_eq!(health.status, 503, "{sql}: {}", health.text);
        assert_eq!(health.body["status"], "audit_unavailable");
        let reason = health.body["reason"].as_str().unwrap();
        assert!(reason.contains(why), "{sql}: {reason}");
        read.assert_problem(503, "audit_unavailable");
        // Nothing was written on the tampered log (no read record, no checkpoint at shutdown).
        let written: Vec<i64> = records.page(head, 10).await.unwrap().iter().map(|r| r.seq).collect();
        assert!(written.is_empty(), "{sql}: records {written:?} written");
        restore(&gw, &last).await;
    }
    let (health, _) = restarted(&gw).await;
    assert_eq!(health.status, 200, "repaired: {}", health.text);
    gw.stop().await;
}

/// How the start-up check's test tampers with the newest record.
#[derive(Debug)]
enum Attack {
    /// The head moved back over an issued record.
    HeadBack,
    /// The newest record altered in place.
    Alter,
    /// The newest record gone, the head and the tree's size rewritten to match.
    CutTail,
}

/// Puts the saved newest record back, with the head and the tree's size at it.
async fn restore(gw: &Gateway, last: &Record) {
    raw(
        gw,
        "DELETE FROM log_bundles WHERE first_seq IN (SELECT first_seq FROM saved_bundle)",
    )
    .await;
    raw(gw, "INSERT INTO log_bundles SELECT * FROM saved_bundle").await;
    raw(
        gw,
        "DELETE FROM log_postings WHERE bundle IN (SELECT first_seq FROM saved_bundle)",
    )
    .await;
    raw(gw, "INSERT INTO log_postings SELECT * FROM saved_postings").await;
    raw(
        gw,
        &format!(
            "UPDATE log_head SET seq = {}, hash = '{}', tree_size = {}",
            last.seq, last.hash, last.seq
        ),
    )
    .await;
}

/// Runs `doelpoort witness` as the police would from cron, with its own certificate, token key and state.
fn witness(gw: &Gateway, state: &std::path::Path) -> std::process::Output {
    let dir = gw.dir.path();
    let org = dir.join("orgs/politie");
    std::process::Command::new(env!("CARGO_BIN_EXE_doelpoort"))
        .arg("witness")
        .arg("--url")
        .arg(format!("https://localhost:{}", gw.addr.port()))
        .arg("--ca")
        .arg(dir.join("ca/ca.pem"))
        .arg("--cert")
        .arg(org.join("cert.pem"))
        .arg("--key")
        .arg(org.join("key.pem"))
        .arg("--token-key")
        .arg(org.join("token-key.pem"))
        .arg("--audience")
        .arg(gw.config().audience)
        .arg("--state")
        .arg(state)
        .arg("--witness-key")
        .arg(dir.join("politie-witness.pem"))
        .output()
        .unwrap()
}

fn said(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn a_partners_witness_cosigns_what_extends_its_state_and_refuses_a_rewrite(b: Backend) {
    let gw = Gateway::start(b).await;
    let app = gw.app();
    let state = gw.dir.path().join("witness-state.json");
    let first = sealed(&gw).await;
    let out = witness(&gw, &state);
    assert!(out.status.success(), "{}", said(&out));
    assert!(
        said(&out).contains("trusting the gateway's checkpoint key"),
        "{}",
        said(&out)
    );
    let held: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert_eq!(held["size"], first.size);
    let served = officer(&gw, "om", "/v1/audit/checkpoint").await;
    assert!(
        served.text.contains(&format!("— {POLITIE}/witness ")),
        "{}",
        served.text
    );

    // A larger checkpoint that extends it is cosigned too.
    for _ in 0..4 {
        app.log.append(disclosure(POLITIE, OM)).await.unwrap();
    }
    let second = sealed(&gw).await;
    let out = witness(&gw, &state);
    assert!(out.status.success(), "{}", said(&out));
    assert!(
        said(&out).contains(&format!("extends the one of {} records", first.size)),
        "{}",
        said(&out)
    );
    let before = std::fs::read_to_string(&state).unwrap();
    assert!(before.contains(&format!("\"size\": {}", second.size)), "{before}");
    // The state file is an anchor for the host's own verification.
    let state_arg = state.to_str().unwrap();
    let out = gw.cli(&["audit", "verify", "--anchor", state_arg]);
    assert!(out.status.success(), "{}", said(&out));
    assert!(said(&out).contains("1 anchors extended"), "{}", said(&out));

    // The host rewrites the log and signs a larger checkpoint over it: refused, loudly, and the state kept.
    let tail: Vec<(String, Entry)> = records_from(&gw, 3)
        .await
        .into_iter()
        .filter(|r| !is_checkpoint(r))
        .map(|r| {
            (
                r.at,
                Entry {
                    target: Some("rewritten".into()),
                    ..r.entry
                },
            )
        })
        .collect();
    rewrite_from(&gw, 3, tail).await;
    for _ in 0..20 {
        app.log.append(disclosure(GEMEENTE, ZVH)).await.unwrap();
    }
    let forged = sealed(&gw).await;
    assert!(forged.size > second.size);
    let out = witness(&gw, &state);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(said(&out).contains("REFUSED to cosign"), "{}", said(&out));
    assert!(said(&out).contains("does not extend"), "{}", said(&out));
    assert_eq!(std::fs::read_to_string(&state).unwrap(), before, "the evidence is kept");
    let out = gw.cli(&["audit", "verify", "--anchor", state_arg]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let served = officer(&gw, "om", "/v1/audit/checkpoint").await;
    assert!(
        !served.text.contains("/witness "),
        "nobody cosigned the rewrite: {}",
        served.text
    );

    // Cut short below what the witness holds: refused as well.
    rewrite_from(&gw, 3, Vec::new()).await;
    sealed(&gw).await;
    let out = witness(&gw, &state);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(said(&out).contains("fewer than"), "{}", said(&out));
    gw.stop().await;
}

async fn records_from(gw: &Gateway, from: i64) -> Vec<Record> {
    gw.app().log.records().page(from - 1, 10_000).await.unwrap()
}

async fn page(gw: &Gateway, person: &str, path: &str) -> Response {
    let who = gw.person(person);
    let mut c = gw.connect(Some(&who)).await.unwrap();
    c.send_with(Method::GET, path, None, &[], Vec::new()).await.unwrap()
}

async fn the_console_shows_the_checkpoint_its_cosigners_and_proofs_within_scope(b: Backend) {
    let gw = Gateway::start(b).await;
    let r = page(&gw, "zvh-fg", "/console/audit/integrity").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.text.contains("Er is nog geen controlepunt ondertekend."),
        "{}",
        r.text
    );
    let ours = gw.app().log.append(disclosure(POLITIE, OM)).await.unwrap().seq();
    let theirs = gw.app().log.append(disclosure(GEMEENTE, ZVH)).await.unwrap().seq();
    let first = sealed(&gw).await;
    let witness = Witness::new("politie.example/witness");
    let body = witness.body(first.size, witness.cosign(&first.note));
    let r = gw
        .call(
            &gw.org("politie"),
            &["privacy_officer"],
            Method::POST,
            "/v1/audit/cosignatures",
            Some(body),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    for _ in 0..3 {
        gw.app().log.append(disclosure(GEMEENTE, ZVH)).await.unwrap();
    }
    let second = sealed(&gw).await;

    let r = page(
        &gw,
        "zvh-fg",
        &format!("/console/audit/integrity?seq={ours}&tree_size={}", first.size),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let root = hex::encode(gw.app().trust().open(&second.note).unwrap().root);
    assert!(
        r.text.contains(&format!("{} records", second.size)) && r.text.contains(&root),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("politie.example/witness"),
        "the witness is listed: {}",
        r.text
    );
    assert!(
        r.text.contains("Het bewijs klopt met de ondertekende wortel"),
        "{}",
        r.text
    );
    let path = format!("/console/audit/integrity?from={}&to={}", first.size, second.size);
    let r = page(&gw, "zvh-fg", &path).await;
    assert!(
        r.text.contains("Het bewijs klopt met de ondertekende wortel"),
        "{}",
        r.text
    );

    // The police's officer proves its own record, not another's; nonsense is named, not a failure.
    let r = page(&gw, "politie-privacy", &format!("/console/audit/integrity?seq={ours}")).await;
    assert!(r.text.contains("Het bewijs klopt"), "{}", r.text);
    let r = page(
        &gw,
        "politie-privacy",
        &format!("/console/audit/integrity?seq={theirs}"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.text.contains("Geen record met dat nummer binnen uw bereik"),
        "{}",
        r.text
    );
    assert!(!r.text.contains("Het bewijs klopt"), "{}", r.text);
    for bad in ["?seq=abc", "?seq=5&tree_size=2", "?from=9&to=3"] {
        let r = page(&gw, "zvh-fg", &format!("/console/audit/integrity{bad}")).await;
        assert_eq!(r.status, 200, "{bad}: {}", r.text);
        assert!(r.text.contains("class=\"error\""), "{bad}: {}", r.text);
    }
    let r = page(&gw, "gemeente-medewerker", "/console/audit/integrity").await;
    assert_eq!(r.status, 403, "{}", r.text);
    gw.stop().await;
}

/// Regression (found by `crash.py --instances 2`): the start-up check read the head, the records and the tree in
/// separate statements, so an instance starting while another appended found "the tree covers N records, the head
/// M" and stayed fail closed on an intact log. It now reads them under the head's lock.
async fn a_second_instance_starting_beside_a_busy_one_finds_the_log_intact(b: Backend) {
    let gw = Gateway::start(b).await;
    sealed(&gw).await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let (log, stop) = (gw.app().log.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    log.append(disclosure(GEMEENTE, ZVH)).await.unwrap();
                }
            })
        })
        .collect();
    for _ in 0..6 {
        let second = gw.another_instance(Arc::new(gw.clock.clone())).await;
        let halted = second.app.log.halted();
        second.shutdown().await;
        assert_eq!(halted, None, "an intact log under load");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    gw.stop().await;
}

/// Turns the log into one from before entry bundles: every record a row of `log_records` (with its stored hashes),
/// no bundles, no index rows and no tree. `damage` changes the rows first.
async fn as_legacy_log(gw: &Gateway, damage: Option<&str>) -> Vec<Record> {
    let records = gw.app().log.records();
    let all = records.page(0, 100_000).await.unwrap();
    let pool = tamper::pool(gw).await;
    let columns = doelpoort::log::chain::FIELDS.join(", ");
    let marks: Vec<String> = (1..=26).map(|i| format!("${i}")).collect();
    let sql = format!("INSERT INTO log_records ({columns}) VALUES ({})", marks.join(", "));
    for r in &all {
        let mut q = sqlx::query(&sql).bind(r.seq);
        for field in r.stored_fields().into_iter().skip(1) {
            q = q.bind(field);
        }
        q.execute(&pool).await.unwrap();
    }
    pool.close().await;
    for sql in [
        "DELETE FROM log_bundles",
        "DELETE FROM log_postings",
        "DELETE FROM log_tiles",
        "UPDATE log_head SET tree_size = 0",
    ]
    .into_iter()
    .chain(damage)
    {
        raw(gw, sql).await;
    }
    all
}

async fn a_log_from_before_bundles_is_moved_into_bundles_and_a_broken_one_stays_fail_closed(b: Backend) {
    let gw = Gateway::start(b).await;
    sealed(&gw).await;
    let before = as_legacy_log(&gw, None).await;
    let (health, read) = restarted(&gw).await;
    assert_eq!(
        (health.status.as_u16(), read.status.as_u16()),
        (200, 200),
        "{}",
        health.text
    );
    let records = gw.app().log.records();
    // Every record moved with its hashes; the restart's checkpoint followed them.
    let after = records.page(0, 100_000).await.unwrap();
    assert_eq!(after[..before.len()], before[..]);
    let report = verify(records, &gw.app().trust(), |_, _| {}).await.unwrap();
    assert_eq!(report.records as usize, after.len());
    let admin = records
        .count(&doelpoort::log::LogFilter {
            kinds: vec![Kind::Admin],
            ..Default::default()
        })
        .await
        .unwrap();
    let expected = after.iter().filter(|r| r.entry.kind == Kind::Admin).count();
    assert_eq!(admin as usize, expected, "the moved records are indexed");
    raw(&gw, "DELETE FROM log_records").await;

    // A legacy row that does not follow its chain is not moved, and the gateway does not serve.
    as_legacy_log(&gw, Some("UPDATE log_records SET target = 'x' WHERE seq = 3")).await;
    let (health, read) = restarted(&gw).await;
    assert_eq!(health.status, 503, "{}", health.text);
    assert!(
        health.body["reason"].as_str().unwrap().contains("chain"),
        "{}",
        health.text
    );
    read.assert_problem(503, "audit_unavailable");
    gw.stop().await;
}
