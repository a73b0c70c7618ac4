//! `doelpoort demo --seed N`: N synthetic cases over the past year, so that the figures, the evaluation and a dry
//! run show something. Every step goes through the gateway's own API — token verification, the covenant, the log
//! — on a gateway that runs on a seed clock, stepped from event to event in time order; only the TLS handshake is
//! left out (the requests carry the demo organisations' certificate facts as the edge would). The persons are made
//! up: numbers that pass the BSN's eleven test, drawn from a fixed sequence, so every seed gives the same history.
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use rustls_pki_types::pem::PemObject as _;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};
use tower::ServiceExt as _;

use super::demo::{DemoError, ORGS};
use crate::config::Config;
use crate::edge::conn::PeerCert;
use crate::edge::token::{self, TokenRequest};
use crate::types::clock::{rfc3339, Clock, ClockSleep};

/// The seed's three municipalities (CBS codes).
const MUNICIPALITIES: [&str; 3] = ["GM0268", "GM0252", "GM0209"];
/// Who reports, with weights.
const REPORTERS: [(&str, u64); 6] = [
    ("politie", 40),
    ("gemeente", 15),
    ("wijkteam", 15),
    ("ggd", 10),
    ("reclassering", 10),
    ("om", 10),
];
/// The weighing's outcomes, with weights; `radicalisering` stands for a focus outcome whose case goes to the
/// radicalisation table.
const OUTCOMES: [(&str, u64); 7] = [
    ("focus", 28),
    ("thematafel", 10),
    ("bilateraal", 10),
    ("vrijwillig_traject", 8),
    ("opschalen", 4),
    ("niet_oppakken", 28),
    ("radicalisering", 6),
];
const REASONS: [&str; 4] = ["belegd_elders", "uitgesteld", "informeren_volstond", "past_niet"];
const CLOSURES: [&str; 5] = [
    "procedures_gedeblokkeerd",
    "partijen_werken_samen",
    "voortgang_geboekt",
    "beheersbaar",
    "passende_zorg",
];

/// A clock the seed sets; its waits are real.
#[derive(Debug)]
struct SeedClock(Mutex<OffsetDateTime>);

impl SeedClock {
    fn set(&self, at: OffsetDateTime) {
        if let Ok(mut now) = self.0.lock() {
            *now = at;
        }
    }
}

impl Clock for SeedClock {
    fn now(&self) -> OffsetDateTime {
        self.0.lock().map_or_else(|_| OffsetDateTime::now_utc(), |t| *t)
    }

    fn sleep(&self, duration: std::time::Duration) -> ClockSleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A fixed sequence of numbers (splitmix64): the same seed, the same history.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        let i = usize::try_from(self.below(options.len() as u64)).unwrap_or(0);
        options.get(i).copied().unwrap_or_default()
    }

    fn weighted<'a>(&mut self, options: &[(&'a str, u64)]) -> &'a str {
        let mut roll = self.below(options.iter().map(|(_, w)| w).sum());
        for (option, weight) in options {
            if roll < *weight {
                return option;
            }
            roll -= weight;
        }
        ""
    }

    /// A nine-digit number that passes the BSN's eleven test.
    fn bsn(&mut self) -> String {
        loop {
            let digits: Vec<u64> = (0..8).map(|_| self.below(10)).collect();
            let sum: u64 = digits.iter().zip((2..=9).rev()).map(|(d, w)| d * w).sum();
            let last = sum % 11;
            if last < 10 && digits.first() != Some(&0) {
                let mut s: String = digits.iter().map(u64::to_string).collect();
                s.push_str(&last.to_string());
                return s;
            }
        }
    }
}

/// One step of a case's story.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Report,
    JoinedReport,
    Weigh,
    Meeting,
    Lookup,
    Check,
    Close,
}

/// What a case's story is, decided before it runs.
struct Story {
    reporter: &'static str,
    second_reporter: Option<&'static str>,
    bsn: String,
    municipality: &'static str,
    gender: &'static str,
    age_band: &'static str,
    outcome: &'static str,
    reason: &'static str,
    closes: Option<Vec<&'static str>>,
    case_id: Option<String>,
}

/// The gateway the seed talks to, and who is who.
struct Seeder {
    router: axum::Router,
    clock: Arc<SeedClock>,
    peers: HashMap<&'static str, (PeerCert, crate::crypto::pki::TokenKeyPair)>,
    audience: String,
    /// The problem code of the last refused call.
    last_refusal: Mutex<String>,
    /// Cases a story opened; a report that joins one of them leaves its own story without a case.
    opened: Mutex<std::collections::HashSet<String>>,
}

impl Seeder {
    /// Calls the API as `org` with `roles`; the answer's status and body.
    async fn call(
        &self,
        org: &str,
        roles: &[&str],
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let Some((peer, key)) = self.peers.get(org) else {
            return (StatusCode::INTERNAL_SERVER_ERROR, Value::Null);
        };
        let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
        let request = TokenRequest {
            issuer: peer.oin.as_str(),
            audience: &self.audience,
            sub: &format!("seed-{org}"),
            roles: &roles,
            thumbprint: &peer.thumbprint,
            iat: self.clock.now().unix_timestamp(),
            ttl_secs: 300,
        };
        let Ok(bearer) = token::sign(key, &request) else {
            return (StatusCode::INTERNAL_SERVER_ERROR, Value::Null);
        };
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {bearer}"));
        if body.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        let payload = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        let Ok(mut request) = builder.body(payload) else {
            return (StatusCode::INTERNAL_SERVER_ERROR, Value::Null);
        };
        request.extensions_mut().insert(peer.clone());
        let Ok(response) = self.router.clone().oneshot(request).await;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            if let Ok(mut last) = self.last_refusal.lock() {
                *last = format!(
                    "{} {}",
                    status.as_u16(),
                    body.get("code").and_then(Value::as_str).unwrap_or("")
                );
            }
        }
        (status, body)
    }

    async fn regisseur(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call("zvh", &["procesregisseur", "professional"], method, path, body)
            .await
    }

    /// Convenes a meeting of `kind` now, with `case` on its agenda and the organisations `attendees`.
    async fn meeting(&self, kind: &str, case: &str, attendees: &[&str]) -> Option<String> {
        let now = self.clock.now();
        let body = json!({"type": kind, "starts_at": rfc3339(now - Duration::minutes(5)),
            "ends_at": rfc3339(now + Duration::hours(2))});
        let (_, made) = self.regisseur(Method::POST, "/v1/meetings", Some(body)).await;
        let id = made.get("id").and_then(Value::as_str)?.to_owned();
        let agenda = json!({"case_id": case});
        self.regisseur(Method::POST, &format!("/v1/meetings/{id}/agenda"), Some(agenda))
            .await;
        for org in attendees {
            let oin = oin_of(org);
            self.regisseur(
                Method::POST,
                &format!("/v1/meetings/{id}/attendees"),
                Some(json!({"oin": oin})),
            )
            .await;
        }
        Some(id)
    }

    async fn share(&self, org: &str, meeting: &str, case: &str, categories: &[&str]) {
        let items: Vec<Value> = categories
            .iter()
            .map(|c| json!({"category": c, "content": format!("Synthetische gegevens ({c})")}))
            .collect();
        let body = json!({"case_id": case, "items": items});
        self.call(
            org,
            &["professional"],
            Method::POST,
            &format!("/v1/meetings/{meeting}/shares"),
            Some(body),
        )
        .await;
    }

    async fn read(&self, org: &str, meeting: &str, case: &str) {
        let path = format!("/v1/meetings/{meeting}/shares?case_id={case}");
        self.call(org, &["professional"], Method::GET, &path, None).await;
    }

    async fn add_member(&self, case: &str, org: &str) {
        let body = json!({"oin": oin_of(org), "reason": "Betrokken bij de aanpak"});
        self.regisseur(Method::POST, &format!("/v1/cases/{case}/members"), Some(body))
            .await;
    }
}

fn oin_of(slug: &str) -> &'static str {
    ORGS.iter().find(|o| o.slug == slug).map_or("", |o| o.oin)
}

/// What the seed made.
#[derive(Debug, Default)]
pub struct Seeded {
    pub cases: usize,
    pub steps: usize,
    /// Steps the gateway refused (a seed that does not fit the covenant any more shows here).
    pub failed: usize,
    /// Refused steps by kind.
    pub refused: BTreeMap<String, usize>,
}

/// Seeds `n` cases over the year before `end` into the demo in `dir`, whose organisations are onboarded.
///
/// # Errors
/// The gateway cannot start on the seed clock, or a demo organisation's files cannot be read.
pub async fn seed(config: &Config, dir: &Path, n: u32, end: OffsetDateTime) -> Result<Seeded, DemoError> {
    let start = end - Duration::days(365);
    let clock = Arc::new(SeedClock(Mutex::new(start)));
    let mut quiet = config.clone();
    quiet.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    quiet.metrics_listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let server = crate::server::start(quiet, clock.clone())
        .await
        .map_err(|e| DemoError::Seed(e.to_string()))?;
    let seeder = Seeder {
        router: crate::api::router(server.app.clone(), axum::Router::new()),
        clock: clock.clone(),
        peers: peers(dir)?,
        audience: config.audience.clone(),
        last_refusal: Mutex::new(String::new()),
        opened: Mutex::default(),
    };
    let mut dice = Dice(u64::from(n));
    let mut stories: Vec<Story> = (0..n).map(|_| story(&mut dice)).collect();
    repeat_subjects(&mut stories, &mut dice);
    let mut agenda: BTreeMap<(OffsetDateTime, usize, Step), ()> = BTreeMap::new();
    let spacing = Duration::days(330) / i32::try_from(n.max(1)).unwrap_or(1);
    for (i, s) in stories.iter().enumerate() {
        let t0 = start + spacing * i32::try_from(i).unwrap_or(0) + Duration::hours(8);
        for (step, days) in steps(s, &mut dice) {
            let at = t0 + Duration::days(days);
            if at < end {
                agenda.insert((at, i, step), ());
            }
        }
    }
    let mut seeded = Seeded {
        cases: stories.len(),
        ..Seeded::default()
    };
    // Checkpoints follow the seed clock, at the configured interval, as a gateway running through that year would
    // have sealed them (`audit verify` checks the interval over the records' times).
    let interval = Duration::seconds(i64::try_from(config.log.checkpoint_interval_secs.max(1)).unwrap_or(300));
    let shared: crate::types::clock::SharedClock = clock.clone();
    let records = server.app.log.records();
    let mut sealed_at = start;
    for (at, i, step) in agenda.into_keys() {
        if at - sealed_at > interval {
            seal(records, &server.app.notary, &shared).await?;
            sealed_at = clock.now();
        }
        clock.set(at);
        let Some(s) = stories.get_mut(i) else { continue };
        seeded.steps += 1;
        if !run(&seeder, s, step, i).await {
            seeded.failed += 1;
            let why = seeder.last_refusal.lock().map(|l| l.clone()).unwrap_or_default();
            *seeded.refused.entry(format!("{step:?}: {why}")).or_insert(0) += 1;
        }
    }
    seal(records, &server.app.notary, &shared).await?;
    clock.set(end);
    server.shutdown().await;
    Ok(seeded)
}

async fn seal(
    records: &crate::log::Records,
    notary: &crate::log::checkpoint::Notary,
    clock: &crate::types::clock::SharedClock,
) -> Result<(), DemoError> {
    crate::log::checkpoint::seal(records, notary, clock)
        .await
        .map(drop)
        .map_err(|e| DemoError::Seed(format!("a checkpoint could not be sealed: {e}")))
}

/// The certificate facts and token key of every demo organisation.
fn peers(dir: &Path) -> Result<HashMap<&'static str, (PeerCert, crate::crypto::pki::TokenKeyPair)>, DemoError> {
    let mut out = HashMap::new();
    for org in &ORGS {
        let org_dir = dir.join("orgs").join(org.slug);
        let read = |name: &str| {
            std::fs::read_to_string(org_dir.join(name)).map_err(|source| DemoError::Read {
                path: org_dir.join(name),
                source,
            })
        };
        let key = crate::crypto::pki::TokenKeyPair::from_pem(&read("token-key.pem")?)?;
        let cert = rustls_pki_types::CertificateDer::from_pem_slice(read("cert.pem")?.as_bytes())
            .map_err(|_| DemoError::Seed(format!("{}: cert.pem holds no certificate", org.slug)))?;
        let facts = crate::crypto::pki::cert_facts(&cert)?;
        let oin = org
            .oin
            .parse()
            .map_err(|_| DemoError::Seed(format!("{}: bad OIN", org.slug)))?;
        let peer = PeerCert {
            oin,
            serial: facts.serial,
            thumbprint: facts.thumbprint,
        };
        out.insert(org.slug, (peer, key));
    }
    Ok(out)
}

fn story(dice: &mut Dice) -> Story {
    let outcome = dice.weighted(&OUTCOMES);
    let reporter = dice.weighted(&REPORTERS);
    let takes_up = outcome != "niet_oppakken";
    Story {
        reporter,
        second_reporter: dice
            .chance(15)
            .then(|| dice.weighted(&REPORTERS))
            .filter(|r| *r != reporter),
        bsn: dice.bsn(),
        municipality: dice.pick(&MUNICIPALITIES),
        gender: dice.pick(&["man", "man", "man", "vrouw", "vrouw", "x", "onbekend"]),
        age_band: dice.pick(&["<18", "18-23", "18-23", "23+", "23+", "23+", "onbekend"]),
        outcome,
        reason: dice.pick(&REASONS),
        closes: (takes_up || dice.chance(50)).then(|| {
            let mut outcomes = vec![dice.pick(&CLOSURES)];
            if dice.chance(40) {
                outcomes.push(dice.pick(&CLOSURES));
            }
            outcomes.dedup();
            if takes_up {
                outcomes
            } else {
                Vec::new()
            }
        }),
        case_id: None,
    }
}

/// Some persons are reported again after their earlier case closed: a repeat report is a new case about them.
fn repeat_subjects(stories: &mut [Story], dice: &mut Dice) {
    let n = stories.len();
    for i in 0..n {
        if n < 10 || !dice.chance(18) {
            continue;
        }
        let earlier = usize::try_from(dice.below(u64::try_from(i).unwrap_or(0).max(1))).unwrap_or(0);
        let Some(bsn) = stories
            .get(earlier)
            .filter(|e| e.closes.is_some())
            .map(|e| e.bsn.clone())
        else {
            continue;
        };
        if let Some(s) = stories.get_mut(i) {
            s.bsn = bsn;
        }
    }
}

/// A story's steps and the day after its report each is taken.
fn steps(s: &Story, dice: &mut Dice) -> Vec<(Step, i64)> {
    let mut out = vec![
        (Step::Report, 0),
        (Step::Weigh, 3 + i64::try_from(dice.below(4)).unwrap_or(0)),
    ];
    if s.second_reporter.is_some() {
        out.push((Step::JoinedReport, 1));
    }
    if matches!(s.outcome, "focus" | "thematafel" | "radicalisering") {
        out.push((Step::Meeting, 10));
    }
    if s.outcome == "focus" {
        out.push((Step::Check, 18));
    }
    if dice.chance(12) {
        out.push((Step::Lookup, 5));
    }
    if s.closes.is_some() {
        out.push((Step::Close, 40 + i64::try_from(dice.below(80)).unwrap_or(0)));
    }
    out
}

/// Takes one step; whether the gateway accepted it.
async fn run(seeder: &Seeder, s: &mut Story, step: Step, i: usize) -> bool {
    let case = s.case_id.clone().unwrap_or_default();
    if step != Step::Report && case.is_empty() {
        return true;
    }
    match step {
        Step::Report => {
            let kind = if i % 9 == 4 { "gezin" } else { "persoon" };
            let mut subjects = vec![json!({"bsn": s.bsn})];
            if kind == "gezin" {
                subjects.push(
                    json!({"no_bsn": {"reason": "geen_gba", "family_name": format!("Demo{i}"),
                    "given_name": "Kind", "birth_date": "2015-03-01"}}),
                );
            }
            let body = json!({"subjects": subjects, "kind": kind, "municipality": s.municipality,
                "profile": {"gender": s.gender, "age_band": s.age_band},
                "summary": "Synthetische melding voor de demo"});
            let (status, made) = seeder
                .call(s.reporter, &["professional"], Method::POST, "/v1/cases", Some(body))
                .await;
            let id = made.get("id").and_then(Value::as_str).map(str::to_owned);
            let new = id
                .as_ref()
                .is_some_and(|id| seeder.opened.lock().is_ok_and(|mut o| o.insert(id.clone())));
            s.case_id = id.filter(|_| new);
            if i % 3 == 0 {
                seeder.regisseur(Method::GET, "/v1/intake", None).await;
            }
            status == StatusCode::CREATED
        }
        Step::JoinedReport => {
            let body = json!({"subject": {"bsn": s.bsn}, "summary": "Tweede synthetische melding"});
            let org = s.second_reporter.unwrap_or("politie");
            let (status, _) = seeder
                .call(org, &["professional"], Method::POST, "/v1/cases", Some(body))
                .await;
            seeder.regisseur(Method::GET, "/v1/intake", None).await;
            status == StatusCode::CREATED
        }
        Step::Weigh => weigh(seeder, s, &case).await,
        Step::Meeting => meeting(seeder, s, &case).await,
        Step::Check => {
            let body = json!({"moment": "1w", "status": "op_koers", "note": "Loopt volgens plan"});
            let (status, _) = seeder
                .regisseur(Method::POST, &format!("/v1/cases/{case}/monitoring"), Some(body))
                .await;
            status.is_success()
        }
        Step::Lookup => {
            let body = json!({"subject": {"bsn": s.bsn}, "purpose": "zsm_afdoening"});
            let (status, _) = seeder
                .call("om", &["professional"], Method::POST, "/v1/lookups", Some(body))
                .await;
            status.is_success()
        }
        Step::Close => {
            let outcomes = s.closes.clone().unwrap_or_default();
            let body = json!({"reason": "Afgerond in de demo", "outcomes": outcomes});
            let (status, _) = seeder
                .regisseur(Method::POST, &format!("/v1/cases/{case}/close"), Some(body))
                .await;
            status.is_success()
        }
    }
}

async fn weigh(seeder: &Seeder, s: &Story, case: &str) -> bool {
    let Some(briefing) = seeder.meeting("briefing", case, &[]).await else {
        return false;
    };
    let mut body = json!({"meeting_id": briefing, "outcome": s.outcome});
    if s.outcome == "radicalisering" {
        body = json!({"meeting_id": briefing, "outcome": "opschalen"});
    }
    if s.outcome == "niet_oppakken" {
        body = json!({"meeting_id": briefing, "outcome": "niet_oppakken", "reason": s.reason});
    }
    let path = format!("/v1/cases/{case}/weighing");
    let (status, _) = seeder.regisseur(Method::POST, &path, Some(body)).await;
    let close = json!({"reason": "Weging afgerond"});
    seeder
        .regisseur(Method::POST, &format!("/v1/meetings/{briefing}/close"), Some(close))
        .await;
    status.is_success()
}

/// The meeting the weighing sent the case to: members, shares, reads (some withheld by the covenant), a plan.
async fn meeting(seeder: &Seeder, s: &Story, case: &str) -> bool {
    let (kind, partners): (&str, &[&str]) = match s.outcome {
        "thematafel" => ("thematafel", &["gemeente", "wijkteam", "woningcorporatie"]),
        "radicalisering" => ("radicalisering", &["politie", "gemeente"]),
        _ => ("focus", &["politie", "gemeente", "wijkteam", "ggd"]),
    };
    seeder.add_member(case, "zvh").await;
    for org in partners {
        seeder.add_member(case, org).await;
    }
    let mut attendees = vec!["zvh"];
    attendees.extend_from_slice(partners);
    let Some(meeting) = seeder.meeting(kind, case, &attendees).await else {
        return false;
    };
    match kind {
        "focus" => {
            seeder
                .share("politie", &meeting, case, &["politie_samenvatting", "politie_details"])
                .await;
            seeder.share("ggd", &meeting, case, &["zorg_samenvatting"]).await;
            seeder.share("zvh", &meeting, case, &["plan_van_aanpak"]).await;
        }
        "thematafel" => {
            seeder.share("gemeente", &meeting, case, &["betrokkenheid"]).await;
            seeder.share("zvh", &meeting, case, &["plan_van_aanpak"]).await;
        }
        _ => {
            seeder
                .share("politie", &meeting, case, &["identificatie", "betrokkenheid"])
                .await;
            seeder.share("gemeente", &meeting, case, &["risicotaxatie"]).await;
        }
    }
    for org in &attendees {
        seeder.read(org, &meeting, case).await;
    }
    if kind == "focus" {
        let holder = json!({"oin": oin_of("wijkteam"), "reason": "Casushouder"});
        seeder
            .regisseur(Method::POST, &format!("/v1/cases/{case}/holder"), Some(holder))
            .await;
    }
    let close = json!({"reason": "Overleg afgerond"});
    let (status, _) = seeder
        .regisseur(Method::POST, &format!("/v1/meetings/{meeting}/close"), Some(close))
        .await;
    status.is_success()
}
