//! The console over real TLS with the demo people's personal certificates: each page for its roles and refused to
//! the rest (an organisation certificate, an unregistered, suspended or removed person, another role, another
//! organisation's officer for host records); the security headers on every response; a cross-site POST refused
//! and changing nothing; the reads recorded as through the API; people managed over the API and the command line.
use crate::both;
use crate::helpers::*;
use doelpoort::log::chain::Kind;
use doelpoort::log::LogFilter;
use hyper::Method;
use rustls_pki_types::pem::PemObject as _;
use serde_json::json;

both!(
    every_page_answers_its_roles_and_refuses_the_others,
    strangers_and_suspended_or_removed_people_are_refused_and_recorded,
    a_personal_certificate_opens_the_console_only,
    a_cross_site_post_is_refused_and_changes_nothing,
    console_reads_are_recorded_as_through_the_api,
    people_are_managed_over_the_api_and_the_command_line,
);

/// The demo people (`doelpoort demo`): slug and organisation slug.
const PEOPLE: [&str; 6] = [
    "zvh-fg",
    "zvh-beheerder",
    "zvh-regisseur",
    "politie-privacy",
    "gemeente-medewerker",
    "wijkteam-medewerker",
];

fn person(gw: &Gateway, slug: &str) -> Identity {
    gw.person(slug)
}

async fn get(gw: &Gateway, who: &Identity, path: &str) -> Response {
    let mut c = gw.connect(Some(who)).await.unwrap();
    c.send_with(Method::GET, path, None, &[], Vec::new()).await.unwrap()
}

/// A form POST as a page of the console sends it (`Sec-Fetch-Site: same-origin`), unless `headers` say otherwise.
async fn post(gw: &Gateway, who: &Identity, path: &str, form: &str, headers: &[(&str, &str)]) -> Response {
    let mut c = gw.connect(Some(who)).await.unwrap();
    let mut all = vec![("content-type", "application/x-www-form-urlencoded")];
    if headers.is_empty() {
        all.push(("sec-fetch-site", "same-origin"));
    }
    all.extend_from_slice(headers);
    c.send_with(Method::POST, path, None, &all, form.as_bytes().to_vec())
        .await
        .unwrap()
}

/// The rules every console response keeps.
#[track_caller]
fn assert_headers(r: &Response, path: &str) {
    let h = |n: &str| r.headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let csp = h("content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "{path}: CSP lacks {directive}: {csp}");
    }
    assert!(!csp.contains("unsafe"), "{path}: {csp}");
    assert_eq!(h("x-content-type-options"), "nosniff", "{path}");
    assert_eq!(h("referrer-policy"), "no-referrer", "{path}");
    assert_eq!(h("cache-control"), "no-store", "{path}");
}

/// A refusal page: its status, its stable code, in Dutch.
#[track_caller]
fn assert_refused(r: &Response, status: u16, code: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    assert!(
        r.text.contains(&format!("<code>{code}</code>")),
        "code {code}: {}",
        r.text
    );
    assert!(r.text.contains("lang=\"nl\""));
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/html"));
}

async fn every_page_answers_its_roles_and_refuses_the_others(b: Backend) {
    let gw = Gateway::start(b).await;
    // Page, and the people it opens for; everyone else is refused with 403.
    let pages: [(&str, &[&str]); 10] = [
        ("/console/", &PEOPLE),
        ("/console/audit", &["zvh-fg", "politie-privacy"]),
        ("/console/audit/subject-report", &["zvh-fg", "politie-privacy"]),
        ("/console/audit/integrity", &["zvh-fg", "politie-privacy"]),
        ("/console/admin/organisations", &["zvh-beheerder"]),
        ("/console/admin/organisations/00000099000000000002", &["zvh-beheerder"]),
        ("/console/admin/people", &["zvh-beheerder"]),
        (
            "/console/inbox",
            &["zvh-regisseur", "gemeente-medewerker", "wijkteam-medewerker"],
        ),
        (
            "/console/cases",
            &["zvh-regisseur", "gemeente-medewerker", "wijkteam-medewerker"],
        ),
        (
            "/console/meetings",
            &["zvh-regisseur", "gemeente-medewerker", "wijkteam-medewerker"],
        ),
    ];
    for slug in PEOPLE {
        let who = person(&gw, slug);
        for (path, allowed) in &pages {
            let r = get(&gw, &who, path).await;
            assert_headers(&r, path);
            if allowed.contains(&slug) {
                assert_eq!(r.status, 200, "{slug} at {path}: {}", r.text);
                assert!(r.text.contains("<html lang=\"nl\">"), "{path}");
                assert!(
                    !r.text.contains("<script") && !r.text.contains("style="),
                    "{path}: inline script or style"
                );
            } else {
                assert_refused(&r, 403, "forbidden");
            }
        }
    }
    // The organisation's own certificate opens the API only.
    let zvh = gw.org(HOST);
    for (path, _) in &pages {
        let r = get(&gw, &zvh.identity, path).await;
        assert_headers(&r, path);
        assert_refused(&r, 403, "not_a_person");
    }
    let fg = person(&gw, "zvh-fg");
    let missing = get(&gw, &fg, "/console/no-such-page").await;
    assert_headers(&missing, "/console/no-such-page");
    assert_refused(&missing, 404, "not_found");
    let css = get(&gw, &fg, "/console/static/console.css").await;
    assert_eq!(css.status, 200);
    assert_eq!(css.headers["content-type"], "text/css; charset=utf-8");
    assert_headers(&css, "console.css");
    let root = get(&gw, &fg, "/").await;
    assert_eq!(root.status, 303);
    assert_eq!(root.headers["location"], "/console/");
    gw.stop().await;
}

async fn strangers_and_suspended_or_removed_people_are_refused_and_recorded(b: Backend) {
    let gw = Gateway::start(b).await;
    // A certificate of the host's OIN from the gateway's CA that no person is registered with.
    let stranger: Identity = (&gw.issue(ZVH, |s| s.name = "Onbekende Persoon".into())).into();
    let r = get(&gw, &stranger, "/console/").await;
    assert_refused(&r, 403, "not_a_person");
    let refusals = gw
        .app()
        .log
        .records()
        .query(
            &LogFilter {
                kinds: vec![Kind::Refusal],
                actions: vec!["console.open".into()],
                ..LogFilter::default()
            },
            i64::MAX,
            true,
            10,
        )
        .await
        .unwrap();
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].entry.reason.as_deref(), Some("not_a_person"));
    assert_eq!(refusals[0].entry.actor_oin.as_deref(), Some(ZVH));

    let fg = person(&gw, "zvh-fg");
    assert_eq!(get(&gw, &fg, "/console/").await.status, 200);
    let path = format!("/v1/admin/people/{ZVH}/zvh-fg/suspend");
    assert_eq!(gw.admin(Method::POST, &path, None).await.status, 200);
    assert_refused(&get(&gw, &fg, "/console/audit").await, 403, "person_suspended");
    let path = format!("/v1/admin/people/{ZVH}/zvh-fg/reinstate");
    assert_eq!(gw.admin(Method::POST, &path, None).await.status, 200);
    assert_eq!(get(&gw, &fg, "/console/audit").await.status, 200);
    let path = format!("/v1/admin/people/{ZVH}/zvh-fg/remove");
    assert_eq!(gw.admin(Method::POST, &path, None).await.status, 200);
    assert_refused(&get(&gw, &fg, "/console/").await, 403, "person_removed");
    let path = format!("/v1/admin/people/{ZVH}/zvh-fg/reinstate");
    gw.admin(Method::POST, &path, None)
        .await
        .assert_problem(409, "invalid_state");
    assert_refused(&get(&gw, &fg, "/console/").await, 403, "person_removed");
    // A suspended organisation's people are refused with it, at the handshake like its own certificate.
    let gemeente = person(&gw, "gemeente-medewerker");
    let path = format!("/v1/admin/organisations/{GEMEENTE}/suspend");
    assert_eq!(gw.admin(Method::POST, &path, None).await.status, 200);
    assert!(!gets_http_response(&gw, Some(&gemeente)).await);
    let refused = gw.app().log.records();
    let count = refused
        .count(&LogFilter {
            kinds: vec![Kind::Refusal],
            actions: vec!["console.open".into()],
            ..LogFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(count, 4, "every refused visit is recorded");
    gw.stop().await;
}

async fn a_personal_certificate_opens_the_console_only(b: Backend) {
    let gw = Gateway::start(b).await;
    let fg = person(&gw, "zvh-fg");
    // A token the host's own token service bound to the person's certificate still opens no API route.
    let mut host = gw.org(HOST);
    let der = rustls_pki_types::CertificateDer::from_pem_slice(fg.cert_pem.as_bytes()).unwrap();
    host.thumbprint = doelpoort::crypto::pki::cert_facts(&der).unwrap().thumbprint;
    let token = gw.token(&host, &["privacy_officer"]);
    let mut c = gw.connect(Some(&fg)).await.unwrap();
    let r = c.send(Method::GET, "/v1/whoami", Some(&token), None).await.unwrap();
    r.assert_problem(403, "personal_certificate");
    let r = c
        .send(Method::GET, "/v1/audit/disclosures", Some(&token), None)
        .await
        .unwrap();
    r.assert_problem(403, "personal_certificate");
    gw.stop().await;
}

async fn a_cross_site_post_is_refused_and_changes_nothing(b: Backend) {
    let gw = Gateway::start(b).await;
    let admin = person(&gw, "zvh-beheerder");
    let path = format!("/console/admin/organisations/{GEMEENTE}/suspend");
    let form = "reason=csrf";
    for headers in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![("x-nothing", "1")],
    ] {
        let r = post(&gw, &admin, &path, form, &headers).await;
        assert_headers(&r, &path);
        assert_refused(&r, 403, "cross_site_request");
    }
    let org = format!("/v1/admin/organisations/{GEMEENTE}");
    assert_eq!(
        gw.admin(Method::GET, &org, None).await.body["status"],
        "active",
        "nothing changed"
    );
    // A PUT or DELETE is no way around it.
    let mut c = gw.connect(Some(&admin)).await.unwrap();
    let r = c
        .send_with(
            Method::DELETE,
            &path,
            None,
            &[("sec-fetch-site", "same-origin")],
            Vec::new(),
        )
        .await
        .unwrap();
    assert!(r.status == 405 || r.status == 403, "{}", r.status);
    // From our own origin (a browser that sends no Sec-Fetch-Site) it goes through.
    let r = post(&gw, &admin, &path, form, &[("origin", "https://localhost")]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(gw.admin(Method::GET, &org, None).await.body["status"], "suspended");
    let record = gw.newest_admin_record().await;
    assert_eq!(record.entry.action.as_deref(), Some("organisation.suspend"));
    assert_eq!(record.entry.actor_sub.as_deref(), Some("person:zvh-beheerder"));
    // A refused action shows its form again with the API's message, and changes nothing.
    let keys = format!("/console/admin/organisations/{GEMEENTE}/keys");
    let r = post(&gw, &admin, &keys, "jwks=%7B%22keys%22%3A%5B%5D%7D", &[]).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("Niet uitgevoerd"), "{}", r.text);
    assert_eq!(gw.newest_admin_record().await.seq, record.seq);
    gw.stop().await;
}

async fn console_reads_are_recorded_as_through_the_api(b: Backend) {
    let gw = Gateway::start(b).await;
    // A release to the police: a hit/no-hit answer, which the police officer may see and the host's too.
    let ask = json!({"subject": {"bsn": "123456782"}, "purpose": "zsm_afdoening"});
    let r = gw
        .call(
            &gw.org("politie"),
            &["professional"],
            Method::POST,
            "/v1/lookups",
            Some(ask),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let lookup_seq: i64 = r.headers["doelpoort-log-record"].to_str().unwrap().parse().unwrap();

    let fg = person(&gw, "zvh-fg");
    let page = get(&gw, &fg, "/console/audit").await;
    let seq: i64 = page.headers["doelpoort-log-record"].to_str().unwrap().parse().unwrap();
    assert!(
        page.text.contains(&format!("logrecord {seq}")),
        "the page names its record"
    );
    let record = gw.newest_admin_record().await;
    assert_eq!(record.seq, seq);
    assert_eq!(record.entry.action.as_deref(), Some("audit.disclosures"));
    assert_eq!(record.entry.actor_oin.as_deref(), Some(ZVH));
    assert_eq!(record.entry.actor_sub.as_deref(), Some("person:zvh-fg"));

    // The subject report: the BSN in the body only, the read recorded with the subject's pseudonym.
    let r = post(&gw, &fg, "/console/audit/subject-report", "bsn=123456782", &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Politie Eenheid Demo"), "{}", r.text);
    let record = gw.newest_admin_record().await;
    assert_eq!(record.entry.action.as_deref(), Some("audit.subject_report"));
    assert!(record.entry.subject.is_some());
    assert!(!record.to_string_lossy().contains("123456782"));
    let bad = post(&gw, &fg, "/console/audit/subject-report", "bsn=123456789", &[]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.text.contains("geen geldig BSN"));

    // One record in full, with its hashes; recorded too.
    let r = get(&gw, &fg, &format!("/console/audit/records/{lookup_seq}")).await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains(&record_hash(&gw, lookup_seq).await));
    assert_eq!(
        gw.newest_admin_record().await.entry.action.as_deref(),
        Some("audit.record")
    );

    // A partner's officer sees its own releases, not the host's records.
    let police = person(&gw, "politie-privacy");
    assert_eq!(
        get(&gw, &police, &format!("/console/audit/records/{lookup_seq}"))
            .await
            .status,
        200
    );
    let first = get(&gw, &police, "/console/audit/records/1").await;
    assert_refused(&first, 404, "not_found");
    let listed = get(&gw, &police, "/console/audit").await;
    assert!(listed.text.contains(&format!("/console/audit/records/{lookup_seq}\"")));
    assert!(!listed.text.contains("/console/audit/records/1\""));

    // An export is recorded with its count before it is written.
    let export = post(&gw, &police, "/console/audit/export", "format=csv&kind=lookup", &[]).await;
    assert_eq!(export.status, 200);
    assert!(export.text.starts_with("seq,at,kind"));
    assert_eq!(export.text.lines().count(), 2, "{}", export.text);
    let record = gw.newest_admin_record().await;
    assert_eq!(record.entry.action.as_deref(), Some("audit.export"));
    assert!(record.entry.detail.unwrap().contains("\"returned\":1"));
    gw.stop().await;
}

async fn record_hash(gw: &Gateway, seq: i64) -> String {
    gw.app().log.records().record_hash(seq).await.unwrap().unwrap()
}

trait Lossy {
    fn to_string_lossy(&self) -> String;
}

impl Lossy for doelpoort::log::chain::Record {
    fn to_string_lossy(&self) -> String {
        serde_json::to_string(self).unwrap()
    }
}

async fn people_are_managed_over_the_api_and_the_command_line(b: Backend) {
    let gw = Gateway::start(b).await;
    let Some(request) = openssl_request(&format!("/serialNumber={GEMEENTE}/CN=Anna Analist")) else {
        eprintln!("openssl is not installed here; skipping");
        return gw.stop().await;
    };
    let csr = std::fs::read_to_string(request.path().join("req.pem")).unwrap();
    let add = |body| gw.admin(Method::POST, "/v1/admin/people", Some(body));
    let new = |id: &str, roles: serde_json::Value| json!({"oin": GEMEENTE, "id": id, "name": "Anna Analist", "roles": roles, "csr": csr});
    add(new("anna", json!(["admin"])))
        .await
        .assert_problem(422, "validation_failed");
    add(new("a b", json!(["professional"])))
        .await
        .assert_problem(422, "validation_failed");
    add(new("anna", json!([])))
        .await
        .assert_problem(422, "validation_failed");
    let mut both_given = new("anna", json!(["professional"]));
    both_given["certificate"] = json!("x");
    add(both_given).await.assert_problem(422, "validation_failed");
    let mut elsewhere = new("anna", json!(["professional"]));
    elsewhere["oin"] = json!(POLITIE);
    add(elsewhere).await.assert_problem(422, "validation_failed");
    let mut unknown = new("anna", json!(["professional"]));
    unknown["oin"] = json!("00000099000000000077");
    add(unknown).await.assert_problem(404, "unknown_organisation");
    // Not for anyone but the host's admin.
    let r = gw
        .call(
            &gw.org("gemeente"),
            &["professional"],
            Method::POST,
            "/v1/admin/people",
            Some(new("anna", json!(["professional"]))),
        )
        .await;
    assert_eq!(r.status, 403);

    let r = add(new("anna", json!(["professional"]))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "active");
    let record = gw.newest_admin_record().await;
    assert_eq!(record.entry.action.as_deref(), Some("person.add"));
    assert_eq!(
        record.entry.target.as_deref(),
        Some(format!("{GEMEENTE}/anna").as_str())
    );
    add(new("anna", json!(["professional"])))
        .await
        .assert_problem(409, "already_exists");
    // The signed certificate with the person's own key opens the console.
    let anna = Identity {
        cert_pem: r.body["certificate_pem"].as_str().unwrap().to_owned(),
        key_pem: std::fs::read_to_string(request.path().join("key.pem")).unwrap(),
    };
    let home = get(&gw, &anna, "/console/").await;
    assert_eq!(home.status, 200, "{}", home.text);
    assert!(home.text.contains("Anna Analist"));
    let listed = gw
        .admin(Method::GET, &format!("/v1/admin/people?oin={GEMEENTE}"), None)
        .await;
    let ids: Vec<&str> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["anna", "gemeente-medewerker"]);
    let one = gw
        .admin(Method::GET, &format!("/v1/admin/people/{GEMEENTE}/anna"), None)
        .await;
    assert_eq!(one.body["certificates"][0]["source"], "csr");
    gw.admin(Method::GET, &format!("/v1/admin/people/{GEMEENTE}/nobody"), None)
        .await
        .assert_problem(404, "unknown_person");

    // The command line: a key and certificate made by the gateway's CA, with a PKCS#12 file for browsers.
    let out = gw.dir.path().join("cli-person");
    let done = gw.cli(&[
        "person",
        "add",
        "--oin",
        WIJKTEAM,
        "--id",
        "wendy",
        "--name",
        "Wendy Wijk",
        "--roles",
        "professional",
        "--out",
        out.to_str().unwrap(),
        "--p12-password",
        "geheim",
    ]);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let p12 = std::fs::read(out.join("person.p12")).unwrap();
    let store = p12_keystore::KeyStore::from_pkcs12(&p12, "geheim", p12_keystore::Pkcs12ImportPolicy::Strict).unwrap();
    let (_, chain) = store.private_key_chain().unwrap();
    assert!(chain.certs()[0].subject().contains("Wendy Wijk"));
    let refused = gw.cli(&[
        "person",
        "add",
        "--oin",
        WIJKTEAM,
        "--id",
        "w2",
        "--name",
        "W",
        "--roles",
        "procesregisseur",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("only for people of the host"));
    gw.settle().await;
    let wendy = Identity {
        cert_pem: std::fs::read_to_string(out.join("cert.pem")).unwrap(),
        key_pem: std::fs::read_to_string(out.join("key.pem")).unwrap(),
    };
    assert_eq!(get(&gw, &wendy, "/console/inbox").await.status, 200);
    let suspended = gw.cli(&["person", "suspend", "--oin", WIJKTEAM, "--id", "wendy"]);
    assert!(suspended.status.success());
    gw.settle().await;
    assert_refused(&get(&gw, &wendy, "/console/inbox").await, 403, "person_suspended");
    let listed = gw.cli(&["person", "list", "--oin", WIJKTEAM]);
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.contains("wendy\tsuspended"), "{text}");
    gw.stop().await;
}
