//! Onboarding through the admin API and the command line, and every way admin input is refused.
use crate::both;
use crate::helpers::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use doelpoort::crypto::pki::TokenKeyPair;
use hyper::Method;
use serde_json::{json, Value};

both!(
    a_new_signatory_is_onboarded_and_can_call_in,
    admin_records_carry_the_trace_and_request_id_of_their_request,
    admin_input_is_validated,
    only_the_hosts_admins_may_administer,
    lifecycle_rules_protect_the_host_and_refuse_impossible_steps,
    command_line_onboarding_reaches_the_running_gateway,
    lifecycle_steps_and_withdrawals_need_no_body,
    an_administrator_sees_what_an_organisation_holds,
    a_key_registered_elsewhere_or_off_its_curve_is_refused,
    only_the_host_holds_the_hosts_role,
    an_offboarded_organisation_rejoins_with_a_new_membership,
    command_line_actions_name_the_operating_system_user,
);

const NEW_OIN: &str = "00000099000000000042";

fn new_org(key: &TokenKeyPair) -> Value {
    json!({
        "oin": NEW_OIN, "name": "Verslavingszorg Demo", "kind": "convenantpartner",
        "covenant_roles": ["zorgaanbieder"], "jwks": key.jwks(),
    })
}

async fn a_new_signatory_is_onboarded_and_can_call_in(b: Backend) {
    let gw = Gateway::start(b).await;
    let key = TokenKeyPair::generate().unwrap();
    let r = gw
        .admin(Method::POST, "/v1/admin/organisations", Some(new_org(&key)))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["id"], NEW_OIN);
    assert_eq!(r.body["status"], "active");

    let cert = gw.issue(NEW_OIN, |_| {});
    let org = Org {
        slug: "new",
        oin: NEW_OIN.into(),
        identity: (&cert).into(),
        thumbprint: cert.thumbprint.clone(),
        serial: cert.serial.clone(),
        key,
    };
    let who = gw.call(&org, &["professional"], Method::GET, "/v1/whoami", None).await;
    assert_eq!(who.status, 200, "{}", who.text);
    assert_eq!(who.body["organisation"]["signed_covenant_version"], Value::Null);

    let path = format!("/v1/admin/organisations/{NEW_OIN}/signatures");
    let sig = json!({"version": "2026.1", "signed_on": "2026-01-15", "signatory": "Raad van bestuur"});
    let r = gw.admin(Method::POST, &path, Some(sig.clone())).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["signatures"][0]["version"], "2026.1");
    gw.admin(Method::POST, &path, Some(sig))
        .await
        .assert_problem(409, "already_exists");
    let who = gw.call(&org, &["professional"], Method::GET, "/v1/whoami", None).await;
    assert_eq!(who.body["organisation"]["signed_covenant_version"], "2026.1");

    let r = gw
        .admin(Method::GET, &format!("/v1/admin/organisations/{NEW_OIN}"), None)
        .await;
    assert_eq!(r.body["name"], "Verslavingszorg Demo");
    let list = gw.admin(Method::GET, "/v1/admin/organisations", None).await;
    assert_eq!(list.body.as_array().unwrap().len(), 9);

    // Every admin action is recorded with who did it and when.
    let actions = gw.admin(Method::GET, "/v1/admin/actions?limit=2", None).await;
    let actions = actions.body.as_array().unwrap();
    assert_eq!(actions[0]["action"], "organisation.sign");
    assert_eq!(actions[1]["action"], "organisation.add");
    assert_eq!(actions[1]["target"], NEW_OIN);
    assert_eq!(actions[1]["actor_oin"], gw.org(HOST).oin.as_str());
    assert_eq!(actions[1]["actor_sub"], "professional-1");
    assert!(actions[1]["at"].as_str().unwrap().ends_with('Z'));
    gw.stop().await;
}

async fn admin_input_is_validated(b: Backend) {
    let gw = Gateway::start(b).await;
    let key = TokenKeyPair::generate().unwrap();
    let post = |body: Value| gw.admin(Method::POST, "/v1/admin/organisations", Some(body));
    let with = |k: &str, v: Value| {
        let mut o = new_org(&key);
        o[k] = v;
        o
    };
    post(with("oin", json!("0000009900000000004")))
        .await
        .assert_problem(422, "invalid_oin");
    // Found by schemathesis: a query that does not parse was a plain-text 400, not a problem document.
    for query in ["limit=9223372036854775808", "limit=many", "limit=1&limit=2&colour=red"] {
        gw.admin(Method::GET, &format!("/v1/admin/actions?{query}"), None)
            .await
            .assert_problem(422, "validation_failed");
    }
    post(with("oin", json!("0000009900000000004x")))
        .await
        .assert_problem(422, "invalid_oin");
    post(with("kind", json!("bakkerij")))
        .await
        .assert_problem(422, "validation_failed");
    post(with("covenant_roles", json!(["slager"])))
        .await
        .assert_problem(422, "validation_failed");
    post(with("covenant_roles", json!([])))
        .await
        .assert_problem(422, "validation_failed");
    post(with("name", json!("")))
        .await
        .assert_problem(422, "validation_failed");
    post(with("jwks", json!({"keys": "nope"})))
        .await
        .assert_problem(422, "validation_failed");
    post(with("jwks", json!([1])))
        .await
        .assert_problem(422, "validation_failed");
    let mut private = key.public_jwk.clone();
    private["d"] = json!("c2VjcmV0");
    post(with("jwks", json!({"keys": [private]})))
        .await
        .assert_problem(422, "validation_failed");
    let rsa = json!({"kty": "RSA", "kid": "r1", "n": "sXch", "e": "AQAB"});
    post(with("jwks", json!({"keys": [rsa]})))
        .await
        .assert_problem(422, "validation_failed");
    let mut short = key.public_jwk.clone();
    short["x"] = json!("AAAA");
    post(with("jwks", json!({"keys": [short]})))
        .await
        .assert_problem(422, "validation_failed");
    let mut extra = new_org(&key);
    extra["password"] = json!("x");
    post(extra).await.assert_problem(422, "validation_failed");
    // A wrong type is refused without quoting the value.
    let r = post(with("name", json!(123456782))).await;
    r.assert_problem(422, "validation_failed");
    assert!(r.body["detail"].as_str().unwrap().starts_with("name"), "{}", r.text);
    assert!(!r.text.contains("123456782"), "{}", r.text);
    // The one valid request goes through, the same again is a duplicate.
    assert_eq!(post(new_org(&key)).await.status, 201);
    post(new_org(&key)).await.assert_problem(409, "already_exists");
    let dup = with("oin", json!(gw.org("politie").oin));
    post(dup).await.assert_problem(409, "already_exists");
    gw.admin(Method::GET, "/v1/admin/organisations/00000099000000000077", None)
        .await
        .assert_problem(404, "unknown_organisation");
    let sig = json!({"version": "2026.1", "signed_on": "2999-01-01", "signatory": "x"});
    gw.admin(
        Method::POST,
        &format!("/v1/admin/organisations/{NEW_OIN}/signatures"),
        Some(sig),
    )
    .await
    .assert_problem(422, "validation_failed");
    gw.admin(
        Method::POST,
        "/v1/admin/revocations",
        Some(json!({"serial": "zz", "reason": "x"})),
    )
    .await
    .assert_problem(422, "validation_failed");
    gw.stop().await;
}

async fn only_the_hosts_admins_may_administer(b: Backend) {
    let gw = Gateway::start(b).await;
    let host = gw.org(HOST);
    let r = gw
        .call(&host, &["professional"], Method::GET, "/v1/admin/organisations", None)
        .await;
    r.assert_problem(403, "forbidden");
    let politie = gw.org("politie");
    let r = gw
        .call(
            &politie,
            &["professional", "privacy_officer"],
            Method::GET,
            "/v1/admin/organisations",
            None,
        )
        .await;
    r.assert_problem(403, "forbidden");
    let key = TokenKeyPair::generate().unwrap();
    let r = gw
        .call(
            &politie,
            &["professional"],
            Method::POST,
            "/v1/admin/organisations",
            Some(new_org(&key)),
        )
        .await;
    r.assert_problem(403, "forbidden");
    let r = gw
        .admin(Method::GET, &format!("/v1/admin/organisations/{NEW_OIN}"), None)
        .await;
    r.assert_problem(404, "unknown_organisation");
    gw.stop().await;
}

async fn lifecycle_rules_protect_the_host_and_refuse_impossible_steps(b: Backend) {
    let gw = Gateway::start(b).await;
    let host = gw.org(HOST).oin;
    let politie = gw.org("politie").oin;
    let step = |oin: &str, s: &str| format!("/v1/admin/organisations/{oin}/{s}");
    let reason = Some(json!({"reason": "test"}));
    gw.admin(Method::POST, &step(&host, "suspend"), reason.clone())
        .await
        .assert_problem(409, "invalid_state");
    gw.admin(Method::POST, &step(&host, "offboard"), reason.clone())
        .await
        .assert_problem(409, "invalid_state");
    gw.admin(Method::POST, &step(&politie, "reinstate"), reason.clone())
        .await
        .assert_problem(409, "invalid_state");
    gw.admin(Method::POST, &step(&politie, "suspend"), Some(json!({"reason": ""})))
        .await
        .assert_problem(422, "validation_failed");
    // A body that is not JSON is refused (none at all is no reason: see lifecycle_steps_and_withdrawals_need_no_body).
    let admin = gw.token(&gw.org(HOST), &["admin"]);
    let mut c = gw.connect(Some(&gw.org(HOST).identity)).await.unwrap();
    c.send_raw(
        Method::POST,
        &step(&politie, "suspend"),
        Some(&admin),
        "text/plain",
        b"x".to_vec(),
    )
    .await
    .unwrap()
    .assert_problem(415, "unsupported_media_type");
    assert_eq!(
        gw.admin(Method::POST, &step(&politie, "suspend"), reason.clone())
            .await
            .status,
        200
    );
    gw.admin(Method::POST, &step(&politie, "suspend"), reason)
        .await
        .assert_problem(409, "invalid_state");
    gw.stop().await;
}

async fn command_line_onboarding_reaches_the_running_gateway(b: Backend) {
    let gw = Gateway::start(b).await;
    let key = TokenKeyPair::generate().unwrap();
    let jwks = gw.dir.path().join("new-jwks.json");
    std::fs::write(&jwks, key.jwks().to_string()).unwrap();
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_doelpoort"))
            .args(args)
            .arg("--config")
            .arg(gw.config_path())
            .env("DOELPOORT_DATABASE_URL", &gw.app().config.database_url)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let jwks_arg = jwks.to_str().unwrap();
    let (code, _, err) = cli(&[
        "org",
        "add",
        "--oin",
        NEW_OIN,
        "--name",
        "Schuldhulp Demo",
        "--kind",
        "convenantpartner",
        "--roles",
        "zorgaanbieder",
        "--jwks",
        jwks_arg,
    ]);
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = cli(&[
        "org",
        "add",
        "--oin",
        "123",
        "--name",
        "x",
        "--kind",
        "ketenpartner",
        "--roles",
        "om",
        "--jwks",
        jwks_arg,
    ]);
    assert_eq!(code, Some(1));
    assert!(err.starts_with("doelpoort: oin: an OIN is exactly 20 digits"), "{err}");
    let out_dir = gw.dir.path().join("issued");
    let (code, out, err) = cli(&["cert", "issue", "--oin", NEW_OIN, "--out", out_dir.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("issued serial"), "{out}");
    gw.settle().await;

    let cert_pem = std::fs::read_to_string(out_dir.join("cert.pem")).unwrap();
    let der = rustls_pki_types::pem::PemObject::from_pem_slice(cert_pem.as_bytes()).unwrap();
    let facts = doelpoort::crypto::pki::cert_facts(&der).unwrap();
    let org = Org {
        slug: "new",
        oin: NEW_OIN.into(),
        identity: Identity {
            cert_pem,
            key_pem: std::fs::read_to_string(out_dir.join("key.pem")).unwrap(),
        },
        thumbprint: facts.thumbprint,
        serial: facts.serial,
        key,
    };
    let who = gw.call(&org, &["professional"], Method::GET, "/v1/whoami", None).await;
    assert_eq!(who.status, 200, "{}", who.text);
    assert_eq!(who.body["organisation"]["name"], "Schuldhulp Demo");

    let (code, _, err) = cli(&["org", "suspend", "--oin", NEW_OIN, "--reason", "audit"]);
    assert_eq!(code, Some(0), "{err}");
    gw.settle().await;
    assert!(
        !gets_http_response(&gw, Some(&org.identity)).await,
        "a suspended organisation's new connections get no HTTP response"
    );
    let (code, out, _) = cli(&["org", "list"]);
    assert_eq!(code, Some(0));
    assert!(
        out.lines().any(|l| l.starts_with(NEW_OIN) && l.contains("suspended")),
        "{out}"
    );
    gw.stop().await;
}

async fn admin_records_carry_the_trace_and_request_id_of_their_request(b: Backend) {
    let gw = Gateway::start(b).await;
    let host = gw.org(HOST);
    let politie = gw.org("politie");
    let token = token_for(&host, &["admin"]);
    let sent_trace = "0af7651916cd43dd8448eb211c80319c";
    let traceparent = format!("00-{sent_trace}-b7ad6b7169203331-01");
    for (path, body) in [
        (
            format!("/v1/admin/organisations/{}/suspend", politie.oin),
            json!({"reason": "onderzoek"}),
        ),
        ("/v1/admin/covenant/reload".to_owned(), json!({})),
        ("/v1/admin/keys/reload".to_owned(), json!({})),
    ] {
        let mut client = gw.connect(Some(&host.identity)).await.unwrap();
        let r = client
            .send_with(
                Method::POST,
                &path,
                Some(&token),
                &[("traceparent", &traceparent), ("content-type", "application/json")],
                serde_json::to_vec(&body).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        let record = gw.newest_admin_record().await;
        let span = r.headers["traceparent"]
            .to_str()
            .unwrap()
            .split('-')
            .nth(2)
            .unwrap()
            .to_owned();
        assert_eq!(record.entry.actor_oin.as_deref(), Some(host.oin.as_str()), "{path}");
        assert_eq!(record.entry.trace_id.as_deref(), Some(sent_trace), "{path}");
        assert_eq!(record.entry.span_id.as_deref(), Some(span.as_str()), "{path}");
        assert_eq!(
            record.entry.request_id.as_deref(),
            r.headers["x-request-id"].to_str().ok(),
            "{path}"
        );
    }
    // The command line has no request to link to.
    let out = gw.cli(&["org", "reinstate", "--oin", &politie.oin, "--reason", "klaar"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let record = gw.newest_admin_record().await;
    let sub = record.entry.actor_sub.clone().unwrap_or_default();
    assert!(sub.starts_with("cli:"), "{sub}");
    assert_eq!((record.entry.trace_id, record.entry.request_id), (None, None));
    gw.stop().await;
}

/// Regression (a newcomer's first curl): suspend, reinstate, offboard and withdrawing a member answered 415 without
/// a body, though their reason is optional. No body is no reason; a body that is not JSON is still refused.
async fn lifecycle_steps_and_withdrawals_need_no_body(b: Backend) {
    let gw = Gateway::start(b).await;
    let key = TokenKeyPair::generate().unwrap();
    let r = gw
        .admin(Method::POST, "/v1/admin/organisations", Some(new_org(&key)))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    for (step, status) in [
        ("suspend", "suspended"),
        ("reinstate", "active"),
        ("offboard", "offboarded"),
    ] {
        let r = gw
            .admin(Method::POST, &format!("/v1/admin/organisations/{NEW_OIN}/{step}"), None)
            .await;
        assert_eq!(
            (r.status.as_u16(), r.body["status"].as_str()),
            (200, Some(status)),
            "{step}: {}",
            r.text
        );
        let record = gw.newest_admin_record().await;
        assert_eq!(
            record.entry.action.as_deref(),
            Some(format!("organisation.{step}").as_str())
        );
        assert!(record.entry.detail.unwrap().contains(r#""reason":null"#));
    }

    let politie = gw.org("politie");
    let report = json!({"subject": {"bsn": "123456782"}, "summary": "Overlast"});
    let r = gw
        .call(&politie, &["professional"], Method::POST, "/v1/cases", Some(report))
        .await;
    let case = r.body["id"].as_str().unwrap().to_owned();
    let host = gw.org(HOST);
    let grant = json!({"oin": GEMEENTE, "reason": "betrokken"});
    let path = format!("/v1/cases/{case}/members");
    let r = gw
        .call(&host, &["procesregisseur"], Method::POST, &path, Some(grant))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let member = format!("{path}/{GEMEENTE}");
    let token = gw.token(&host, &["procesregisseur"]);
    let mut c = gw.connect(Some(&host.identity)).await.unwrap();
    c.send_raw(Method::DELETE, &member, Some(&token), "text/plain", b"x".to_vec())
        .await
        .unwrap()
        .assert_problem(415, "unsupported_media_type");
    let r = gw
        .call(&host, &["procesregisseur"], Method::DELETE, &member, None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    gw.stop().await;
}

/// Regression (found by the attack round): an administrator could not see an organisation's keys and
/// certificates without openssl archaeology.
async fn an_administrator_sees_what_an_organisation_holds(b: Backend) {
    let gw = Gateway::start(b).await;
    let politie = gw.org("politie");
    let path = format!("/v1/admin/organisations/{}/credentials", politie.oin);
    let r = gw.admin(Method::GET, &path, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["keys"][0]["kid"], politie.key.kid.as_str());
    assert_eq!(r.body["keys"][0]["alg"], "EdDSA");
    assert_eq!(
        r.body["keys"][0]["thumbprint"],
        politie.key.kid.as_str(),
        "the demo's kid is the RFC 7638 thumbprint"
    );
    assert!(r.body["keys"][0]["retired_at"].is_null());
    assert_eq!(r.body["certificates"][0]["serial"], politie.serial.as_str());
    assert_eq!(r.body["certificates"][0]["thumbprint"], politie.thumbprint.as_str());
    assert!(r.body["certificates"][0]["revoked_at"].is_null());

    let revoke = json!({"serial": politie.serial, "reason": "laptop kwijt"});
    assert_eq!(
        gw.admin(Method::POST, "/v1/admin/revocations", Some(revoke))
            .await
            .status,
        201
    );
    let r = gw.admin(Method::GET, &path, None).await;
    assert!(r.body["certificates"][0]["revoked_at"].is_string(), "{}", r.text);
    let out = gw.cli(&["org", "show", "--oin", &politie.oin]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        text.lines()
            .any(|l| l.starts_with("key\t") && l.contains(&politie.key.kid)),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("certificate\t") && l.contains(&politie.serial) && l.contains("revoked")),
        "{text}"
    );
    gw.admin(
        Method::GET,
        "/v1/admin/organisations/00000099000000000077/credentials",
        None,
    )
    .await
    .assert_problem(404, "unknown_organisation");
    gw.stop().await;
}

/// Regressions (found by the attack round): one public key was accepted for two organisations, and an off-curve
/// P-256 key (x=0, y=0) was accepted at onboarding to fail later as "claims malformed".
async fn a_key_registered_elsewhere_or_off_its_curve_is_refused(b: Backend) {
    let gw = Gateway::start(b).await;
    let politie = gw.org("politie");
    let mut org = new_org(&TokenKeyPair::generate().unwrap());
    org["jwks"] = politie.key.jwks();
    let r = gw
        .admin(Method::POST, "/v1/admin/organisations", Some(org.clone()))
        .await;
    r.assert_problem(422, "validation_failed");
    assert!(r.text.contains("registered for another organisation"), "{}", r.text);
    let rotate = format!("/v1/admin/organisations/{OM}/keys");
    gw.admin(Method::PUT, &rotate, Some(json!({"jwks": politie.key.jwks()})))
        .await
        .assert_problem(422, "validation_failed");

    let zero = URL_SAFE_NO_PAD.encode([0u8; 32]);
    org["jwks"] = json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "nul", "x": zero, "y": zero}]});
    let r = gw
        .admin(Method::POST, "/v1/admin/organisations", Some(org.clone()))
        .await;
    r.assert_problem(422, "validation_failed");
    assert!(
        r.text.contains("key 0") && r.text.contains("not a point on its curve"),
        "{}",
        r.text
    );
    let key = TokenKeyPair::generate().unwrap();
    org["jwks"] = json!({"keys": [key.public_jwk, with_kid(&key.public_jwk, "copy")]});
    let r = gw.admin(Method::POST, "/v1/admin/organisations", Some(org)).await;
    assert!(r.text.contains("the same key is listed twice"), "{}", r.text);
    gw.stop().await;
}

fn with_kid(jwk: &Value, kid: &str) -> Value {
    let mut jwk = jwk.clone();
    jwk["kid"] = json!(kid);
    jwk
}

/// Regression (found by the attack round): any organisation could be onboarded with the host's covenant role and
/// then administer the gateway.
async fn only_the_host_holds_the_hosts_role(b: Backend) {
    let gw = Gateway::start(b).await;
    let mut org = new_org(&TokenKeyPair::generate().unwrap());
    org["covenant_roles"] = json!(["zorgaanbieder", "zvh"]);
    let r = gw
        .admin(Method::POST, "/v1/admin/organisations", Some(org.clone()))
        .await;
    r.assert_problem(422, "validation_failed");
    assert!(
        r.text.contains("covenant_roles[1]") && r.text.contains("host"),
        "{}",
        r.text
    );
    org["covenant_roles"] = json!(["zorgaanbieder"]);
    let r = gw.admin(Method::POST, "/v1/admin/organisations", Some(org)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    gw.stop().await;
}

/// Regression (found by the attack round): an offboarded organisation could never sign again (its OIN stayed
/// taken). It now rejoins with a new membership: new keys, its old signatures no longer counting, its old
/// certificates still revoked.
async fn an_offboarded_organisation_rejoins_with_a_new_membership(b: Backend) {
    let gw = Gateway::start(b).await;
    let ggd = gw.org("ggd");
    let offboard = format!("/v1/admin/organisations/{}/offboard", ggd.oin);
    assert_eq!(gw.admin(Method::POST, &offboard, None).await.status, 200);
    gw.clock.advance(time::Duration::days(30));

    let key = TokenKeyPair::generate().unwrap();
    let mut org = new_org(&key);
    org["oin"] = json!(ggd.oin);
    org["name"] = json!("GGD Demo (opnieuw)");
    let r = gw
        .admin(Method::POST, "/v1/admin/organisations", Some(org.clone()))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "active");
    assert_eq!(
        r.body["signatures"],
        json!([]),
        "the signatures of the earlier membership do not count"
    );
    gw.admin(Method::POST, "/v1/admin/organisations", Some(org))
        .await
        .assert_problem(409, "already_exists");

    // Its old certificate stays revoked; its old key is retired.
    assert!(
        !gets_http_response(&gw, Some(&ggd.identity)).await,
        "its old certificate stays revoked"
    );
    let cert = gw.issue(&ggd.oin, |_| {});
    let rejoined = Org {
        slug: "ggd",
        oin: ggd.oin.clone(),
        identity: (&cert).into(),
        thumbprint: cert.thumbprint.clone(),
        serial: cert.serial.clone(),
        key,
    };
    let old_key = Org {
        key: ggd.key.clone(),
        ..rejoined.clone()
    };
    gw.call(&old_key, &["professional"], Method::GET, "/v1/whoami", None)
        .await
        .assert_problem(401, "token_invalid");
    let who = gw
        .call(&rejoined, &["professional"], Method::GET, "/v1/whoami", None)
        .await;
    assert_eq!(who.status, 200, "{}", who.text);
    assert_eq!(who.body["organisation"]["name"], "GGD Demo (opnieuw)");
    assert_eq!(who.body["organisation"]["signed_covenant_version"], Value::Null);

    let sig = json!({"version": "2026.1", "signed_on": "2026-02-15", "signatory": "Directeur publieke gezondheid"});
    let signatures = format!("/v1/admin/organisations/{}/signatures", ggd.oin);
    assert_eq!(gw.admin(Method::POST, &signatures, Some(sig)).await.status, 201);
    let who = gw
        .call(&rejoined, &["professional"], Method::GET, "/v1/whoami", None)
        .await;
    assert_eq!(who.body["organisation"]["signed_covenant_version"], "2026.1");
    let actions = gw.admin(Method::GET, "/v1/admin/actions?limit=2", None).await;
    assert_eq!(actions.body[1]["action"], "organisation.add");
    assert_eq!(actions.body[1]["detail"]["rejoins"], true, "{}", actions.text);
    gw.stop().await;
}

/// Regression (found by the attack round): command-line actions were recorded as `cli:unknown` without `$USER`,
/// and as whoever `$USER` named with it.
async fn command_line_actions_name_the_operating_system_user(b: Backend) {
    use std::os::unix::fs::MetadataExt as _;
    let gw = Gateway::start(b).await;
    let politie = gw.org("politie");
    let uid = std::fs::metadata("/proc/self").unwrap().uid();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let name = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.get(2) == Some(&uid.to_string().as_str()))
        .and_then(|f| f.first().map(|n| (*n).to_owned()));
    let user = match &name {
        Some(n) => format!("cli:uid={uid}({n})"),
        None => format!("cli:uid={uid}"),
    };
    let suspend = [
        "org",
        "suspend",
        "--oin",
        politie.oin.as_str(),
        "--actor",
        "J. de Vries",
    ];
    let out = gw.cli_with(&suspend, |c| {
        c.env("USER", "mallory");
    });
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let record = gw.newest_admin_record().await;
    assert_eq!(record.entry.actor_sub, Some(format!("{user} actor=J. de Vries")));

    let reinstate = ["org", "reinstate", "--oin", politie.oin.as_str()];
    let out = gw.cli_with(&reinstate, |c| {
        c.env_remove("USER");
    });
    let record = gw.newest_admin_record().await;
    if name.is_some() {
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(record.entry.actor_sub, Some(user));
    } else {
        assert_eq!(
            out.status.code(),
            Some(1),
            "a uid without a name and no --actor is refused"
        );
        assert_eq!(record.entry.target.as_deref(), Some(politie.oin.as_str()));
    }
    let out = gw.cli(&["org", "reinstate", "--oin", &politie.oin, "--actor", "J.\u{7}"]);
    let out2 = gw.cli(&["org", "reinstate", "--oin", &politie.oin, "--actor", " "]);
    for o in [out, out2] {
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(err.contains("--actor"), "{err}");
    }
    gw.stop().await;
}
