//! The organisation factor: every way a client certificate is refused, and organisation status.
use crate::both;
use crate::helpers::*;
use hyper::Method;
use rcgen::ExtendedKeyUsagePurpose;
use serde_json::json;
use time::{Duration, OffsetDateTime};

both!(
    a_valid_certificate_reaches_healthz_without_a_token,
    no_client_certificate_gets_no_http_response,
    a_certificate_from_an_unknown_ca_is_refused,
    an_expired_certificate_is_refused,
    a_not_yet_valid_certificate_is_refused,
    a_certificate_without_client_auth_usage_is_refused,
    a_certificate_without_an_oin_is_refused,
    a_trusted_certificate_of_an_unknown_organisation_gets_unknown_organisation,
    revocation_by_the_admin_api_refuses_new_and_open_connections,
    revocation_from_the_command_line_reaches_the_running_gateway,
    a_suspended_organisation_is_refused_until_reinstated,
    an_offboarded_organisation_is_refused_and_its_certificates_revoked,
);

async fn a_valid_certificate_reaches_healthz_without_a_token(b: Backend) {
    let gw = Gateway::start(b).await;
    let mut c = gw.connect(Some(&gw.org("politie").identity)).await.unwrap();
    let r = c.send(Method::GET, "/healthz", None, None).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"status": "ok"}));
    gw.stop().await;
}

async fn no_client_certificate_gets_no_http_response(b: Backend) {
    let gw = Gateway::start(b).await;
    assert!(!gets_http_response(&gw, None).await);
    gw.stop().await;
}

async fn a_certificate_from_an_unknown_ca_is_refused(b: Backend) {
    let gw = Gateway::start(b).await;
    let politie = gw.org("politie");
    let stranger =
        doelpoort::crypto::pki::CertificateAuthority::generate("Other CA", OffsetDateTime::now_utc()).unwrap();
    let cert = stranger
        .issue_client(&doelpoort::crypto::pki::ClientCertSpec::new(
            "Politie",
            &politie.oin,
            OffsetDateTime::now_utc(),
            30,
        ))
        .unwrap();
    assert!(!gets_http_response(&gw, Some(&(&cert).into())).await);
    assert!(
        gets_http_response(&gw, Some(&politie.identity)).await,
        "the peer with a good certificate passes"
    );
    gw.stop().await;
}

async fn an_expired_certificate_is_refused(b: Backend) {
    let gw = Gateway::start(b).await;
    let oin = gw.org("politie").oin;
    let now = OffsetDateTime::now_utc();
    let cert = gw.issue(&oin, |s| {
        s.not_before = now - Duration::days(30);
        s.not_after = now - Duration::days(1);
    });
    assert!(!gets_http_response(&gw, Some(&(&cert).into())).await);
    gw.stop().await;
}

async fn a_not_yet_valid_certificate_is_refused(b: Backend) {
    let gw = Gateway::start(b).await;
    let oin = gw.org("politie").oin;
    let now = OffsetDateTime::now_utc();
    let cert = gw.issue(&oin, |s| {
        s.not_before = now + Duration::days(1);
        s.not_after = now + Duration::days(30);
    });
    assert!(!gets_http_response(&gw, Some(&(&cert).into())).await);
    gw.stop().await;
}

async fn a_certificate_without_client_auth_usage_is_refused(b: Backend) {
    let gw = Gateway::start(b).await;
    let oin = gw.org("politie").oin;
    let server_only = gw.issue(&oin, |s| s.usages = vec![ExtendedKeyUsagePurpose::ServerAuth]);
    assert!(!gets_http_response(&gw, Some(&(&server_only).into())).await);
    let no_usage = gw.issue(&oin, |s| s.usages = vec![]);
    assert!(!gets_http_response(&gw, Some(&(&no_usage).into())).await);
    let good = gw.issue(&oin, |_| {});
    assert!(gets_http_response(&gw, Some(&(&good).into())).await);
    gw.stop().await;
}

async fn a_certificate_without_an_oin_is_refused(b: Backend) {
    let gw = Gateway::start(b).await;
    let none = gw.issue("00000099000000000002", |s| s.oin = None);
    assert!(!gets_http_response(&gw, Some(&(&none).into())).await);
    let short = gw.issue("0000009900000000000", |_| {});
    assert!(!gets_http_response(&gw, Some(&(&short).into())).await);
    gw.stop().await;
}

async fn a_trusted_certificate_of_an_unknown_organisation_gets_unknown_organisation(b: Backend) {
    let gw = Gateway::start(b).await;
    let cert = gw.issue("00000099000000000099", |_| {});
    let mut c = gw.connect(Some(&(&cert).into())).await.unwrap();
    let r = c.send(Method::GET, "/v1/whoami", Some("x.y.z"), None).await.unwrap();
    r.assert_problem(403, "unknown_organisation");
    assert!(
        !r.text.contains("00000099000000000099"),
        "no echo of the OIN: {}",
        r.text
    );
    gw.stop().await;
}

async fn revocation_by_the_admin_api_refuses_new_and_open_connections(b: Backend) {
    let gw = Gateway::start(b).await;
    let politie = gw.org("politie");
    let token = token_for(&politie, &["professional"]);
    let mut open = gw.connect(Some(&politie.identity)).await.unwrap();
    assert_eq!(
        open.send(Method::GET, "/v1/whoami", Some(&token), None)
            .await
            .unwrap()
            .status,
        200
    );

    let serial = format!("00:{}", politie.serial.to_uppercase());
    let r = gw
        .admin(
            Method::POST,
            "/v1/admin/revocations",
            Some(json!({"serial": serial, "reason": "key lost"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["serial"], politie.serial.as_str());

    open.send(Method::GET, "/v1/whoami", Some(&token), None)
        .await
        .unwrap()
        .assert_problem(403, "certificate_revoked");
    assert!(
        !gets_http_response(&gw, Some(&politie.identity)).await,
        "new handshakes fail"
    );
    let again = gw
        .admin(
            Method::POST,
            "/v1/admin/revocations",
            Some(json!({"serial": politie.serial, "reason": "again"})),
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["newly_revoked"], false);
    gw.stop().await;
}

async fn revocation_from_the_command_line_reaches_the_running_gateway(b: Backend) {
    let gw = Gateway::start(b).await;
    let om = gw.org("om");
    assert!(gets_http_response(&gw, Some(&om.identity)).await);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_doelpoort"))
        .args(["cert", "revoke", "--config"])
        .arg(gw.config_path())
        .args(["--serial", &om.serial, "--reason", "laptop stolen"])
        .env("DOELPOORT_DATABASE_URL", &gw.app().config.database_url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    gw.settle().await;
    assert!(!gets_http_response(&gw, Some(&om.identity)).await);
    assert!(gets_http_response(&gw, Some(&gw.org("politie").identity)).await);
    gw.stop().await;
}

async fn a_suspended_organisation_is_refused_until_reinstated(b: Backend) {
    let gw = Gateway::start(b).await;
    let politie = gw.org("politie");
    let path = format!("/v1/admin/organisations/{}/suspend", politie.oin);
    let r = gw
        .admin(
            Method::POST,
            &path,
            Some(json!({"reason": "covenant breach under review"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "suspended");
    gw.call(&politie, &["professional"], Method::GET, "/v1/whoami", None)
        .await
        .assert_problem(403, "organisation_suspended");

    let path = format!("/v1/admin/organisations/{}/reinstate", politie.oin);
    assert_eq!(
        gw.admin(Method::POST, &path, Some(json!({"reason": "cleared"})))
            .await
            .status,
        200
    );
    let r = gw
        .call(&politie, &["professional"], Method::GET, "/v1/whoami", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    gw.stop().await;
}

async fn an_offboarded_organisation_is_refused_and_its_certificates_revoked(b: Backend) {
    let gw = Gateway::start(b).await;
    let ggd = gw.org("ggd");
    let token = token_for(&ggd, &["professional"]);
    let mut open = gw.connect(Some(&ggd.identity)).await.unwrap();
    assert_eq!(
        open.send(Method::GET, "/v1/whoami", Some(&token), None)
            .await
            .unwrap()
            .status,
        200
    );
    let path = format!("/v1/admin/organisations/{}/offboard", ggd.oin);
    let r = gw
        .admin(Method::POST, &path, Some(json!({"reason": "left the covenant"})))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "offboarded");
    // The open connection's certificate was issued by the gateway, so offboarding revoked it.
    open.send(Method::GET, "/v1/whoami", Some(&token), None)
        .await
        .unwrap()
        .assert_problem(403, "certificate_revoked");
    assert!(!gets_http_response(&gw, Some(&ggd.identity)).await);
    // A certificate the gateway has no record of (made outside `cert issue`) is still refused by status.
    let other = gw.issue(&ggd.oin, |_| {});
    let mut c = gw.connect(Some(&(&other).into())).await.unwrap();
    c.send(Method::GET, "/v1/whoami", None, None)
        .await
        .unwrap()
        .assert_problem(403, "organisation_offboarded");
    let path = format!("/v1/admin/organisations/{}/reinstate", ggd.oin);
    gw.admin(Method::POST, &path, Some(json!({"reason": "undo"})))
        .await
        .assert_problem(409, "invalid_state");
    gw.stop().await;
}
