//! The person factor: certificate-bound bearer tokens and every way one is refused.
use crate::both;
use crate::helpers::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hyper::Method;
use serde_json::{json, Value};

both!(
    a_valid_token_identifies_organisation_and_professional,
    missing_and_malformed_tokens_are_refused,
    alg_none_and_hs256_keyed_with_the_public_key_are_refused,
    expired_early_and_overlong_tokens_are_refused,
    wrong_audience_issuer_and_typ_are_refused,
    unknown_kid_and_another_organisations_key_are_refused,
    a_token_bound_to_another_certificate_is_refused,
    host_only_roles_are_refused_for_partners,
    unknown_roles_fetchable_keys_and_string_times_are_refused,
    a_cached_token_stops_working_when_keys_rotate,
    a_sub_with_control_characters_is_refused,
);

/// Sends `token` as `org` to `/v1/whoami` and checks the refusal; the body must not echo the token.
async fn refused(gw: &Gateway, org: &Org, token: &str, status: u16, code: &str) {
    let mut c = gw.connect(Some(&org.identity)).await.unwrap();
    let r = c.send(Method::GET, "/v1/whoami", Some(token), None).await.unwrap();
    r.assert_problem(status, code);
    assert!(!r.text.contains(token), "the refusal echoes the token");
    assert!(!r.text.contains("professional-1"), "the refusal echoes the subject");
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

async fn a_valid_token_identifies_organisation_and_professional(b: Backend) {
    let gw = Gateway::start(b).await;
    let politie = gw.org("politie");
    let r = gw
        .call(
            &politie,
            &["professional", "privacy_officer"],
            Method::GET,
            "/v1/whoami",
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["organisation"]["oin"], politie.oin.as_str());
    assert_eq!(r.body["organisation"]["covenant_roles"], json!(["politie"]));
    assert_eq!(r.body["organisation"]["signed_covenant_version"], "2026.1");
    assert_eq!(r.body["organisation"]["host"], false);
    assert_eq!(
        r.body["user"],
        json!({"sub": "professional-1", "roles": ["professional", "privacy_officer"]})
    );
    let host = gw.org(HOST);
    let r = gw
        .call(&host, &["procesregisseur", "admin"], Method::GET, "/v1/whoami", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["organisation"]["host"], true);
    // A second use of the same token on a new connection (served from the cache) still works.
    let token = token_for(&politie, &["professional"]);
    for _ in 0..2 {
        let mut c = gw.connect(Some(&politie.identity)).await.unwrap();
        assert_eq!(
            c.send(Method::GET, "/v1/whoami", Some(&token), None)
                .await
                .unwrap()
                .status,
            200
        );
    }
    gw.stop().await;
}

async fn missing_and_malformed_tokens_are_refused(b: Backend) {
    let gw = Gateway::start(b).await;
    let politie = gw.org("politie");
    let mut c = gw.connect(Some(&politie.identity)).await.unwrap();
    let r = c.send(Method::GET, "/v1/whoami", None, None).await.unwrap();
    r.assert_problem(401, "token_invalid");
    assert_eq!(r.headers["www-authenticate"], "Bearer error=\"invalid_token\"");
    refused(&gw, &politie, "not-a-jwt", 401, "token_invalid").await;
    refused(&gw, &politie, "a.b.c", 401, "token_invalid").await;
    let good = token_for(&politie, &["professional"]);
    let tampered = format!("{}x", &good[..good.len() - 1]);
    refused(&gw, &politie, &tampered, 401, "token_invalid").await;
    gw.stop().await;
}

async fn alg_none_and_hs256_keyed_with_the_public_key_are_refused(b: Backend) {
    let gw = Gateway::start(b).await;
    let politie = gw.org("politie");
    let claims = claims(&politie, &["professional"]);
    let none_header = json!({"alg": "none", "typ": "JWT", "kid": politie.key.kid});
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(none_header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    refused(&gw, &politie, &unsigned, 401, "token_invalid").await;
    let x = politie.key.public_jwk["x"].as_str().unwrap();
    let hs_header = json!({"alg": "HS256", "typ": "JWT", "kid": politie.key.kid});
    for secret in [
        URL_SAFE_NO_PAD.decode(x).unwrap(),
        politie.key.public_jwk.to_string().into_bytes(),
    ] {
        let forged = mint_hs256(&secret, hs_header.clone(), claims.clone());
        refused(&gw, &politie, &forged, 401, "token_invalid").await;
    }
    gw.stop().await;
}

async fn expired_early_and_overlong_tokens_are_refused(b: Backend) {
    let gw = Gateway::start(b).await;
    let p = gw.org("politie");
    let base = claims(&p, &["professional"]);
    let n = now();
    let expired = with(
        with(with(base.clone(), "iat", json!(n - 1000)), "nbf", json!(n - 1000)),
        "exp",
        json!(n - 400),
    );
    refused(&gw, &p, &mint(&p.key, header(&p.key), expired), 401, "token_invalid").await;
    let early = with(with(base.clone(), "nbf", json!(n + 600)), "exp", json!(n + 900));
    refused(&gw, &p, &mint(&p.key, header(&p.key), early), 401, "token_invalid").await;
    let overlong = with(base.clone(), "exp", json!(n + 7200));
    refused(&gw, &p, &mint(&p.key, header(&p.key), overlong), 401, "token_invalid").await;
    let no_iat = {
        let mut c = base.clone();
        c.as_object_mut().unwrap().remove("iat");
        c
    };
    refused(&gw, &p, &mint(&p.key, header(&p.key), no_iat), 401, "token_invalid").await;
    // Inside the leeway is still fine.
    let just_expired = with(
        with(with(base, "iat", json!(n - 610)), "nbf", json!(n - 610)),
        "exp",
        json!(n - 10),
    );
    let mut c = gw.connect(Some(&p.identity)).await.unwrap();
    let r = c
        .send(
            Method::GET,
            "/v1/whoami",
            Some(&mint(&p.key, header(&p.key), just_expired)),
            None,
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    gw.stop().await;
}

async fn wrong_audience_issuer_and_typ_are_refused(b: Backend) {
    let gw = Gateway::start(b).await;
    let p = gw.org("politie");
    let base = claims(&p, &["professional"]);
    let aud = with(base.clone(), "aud", json!("another-gateway"));
    refused(&gw, &p, &mint(&p.key, header(&p.key), aud), 401, "token_invalid").await;
    let iss = with(base.clone(), "iss", json!(gw.org("om").oin));
    refused(&gw, &p, &mint(&p.key, header(&p.key), iss), 401, "token_invalid").await;
    let typ = with(header(&p.key), "typ", json!("id+jwt"));
    refused(&gw, &p, &mint(&p.key, typ, base.clone()), 401, "token_invalid").await;
    let no_typ = {
        let mut h = header(&p.key);
        h.as_object_mut().unwrap().remove("typ");
        h
    };
    refused(&gw, &p, &mint(&p.key, no_typ, base), 401, "token_invalid").await;
    gw.stop().await;
}

async fn unknown_kid_and_another_organisations_key_are_refused(b: Backend) {
    let gw = Gateway::start(b).await;
    let p = gw.org("politie");
    let om = gw.org("om");
    let base = claims(&p, &["professional"]);
    let unknown = with(header(&p.key), "kid", json!("no-such-key"));
    refused(&gw, &p, &mint(&p.key, unknown, base.clone()), 401, "token_invalid").await;
    let no_kid = {
        let mut h = header(&p.key);
        h.as_object_mut().unwrap().remove("kid");
        h
    };
    refused(&gw, &p, &mint(&p.key, no_kid, base.clone()), 401, "token_invalid").await;
    // Signed with the OM's key (and its kid), claiming to be the police.
    refused(
        &gw,
        &p,
        &mint(&om.key, header(&om.key), base.clone()),
        401,
        "token_invalid",
    )
    .await;
    // Signed with the OM's key under the police's kid.
    refused(&gw, &p, &mint(&om.key, header(&p.key), base), 401, "token_invalid").await;
    // The OM's own valid token, presented over the police's connection.
    refused(&gw, &p, &token_for(&om, &["professional"]), 401, "token_invalid").await;
    gw.stop().await;
}

async fn a_token_bound_to_another_certificate_is_refused(b: Backend) {
    let gw = Gateway::start(b).await;
    let p = gw.org("politie");
    let other = gw.org("om").thumbprint;
    let bound_elsewhere = with(claims(&p, &["professional"]), "cnf", json!({"x5t#S256": other}));
    refused(
        &gw,
        &p,
        &mint(&p.key, header(&p.key), bound_elsewhere),
        401,
        "token_not_bound",
    )
    .await;
    // The police's token, bound to its demo certificate, used over a second certificate of the police.
    let second = gw.issue(&p.oin, |_| {});
    let mut c = gw.connect(Some(&(&second).into())).await.unwrap();
    let token = token_for(&p, &["professional"]);
    c.send(Method::GET, "/v1/whoami", Some(&token), None)
        .await
        .unwrap()
        .assert_problem(401, "token_not_bound");
    let unbound = {
        let mut c = claims(&p, &["professional"]);
        c.as_object_mut().unwrap().remove("cnf");
        c
    };
    refused(&gw, &p, &mint(&p.key, header(&p.key), unbound), 401, "token_invalid").await;
    gw.stop().await;
}

async fn host_only_roles_are_refused_for_partners(b: Backend) {
    let gw = Gateway::start(b).await;
    let p = gw.org("politie");
    for role in ["procesregisseur", "admin"] {
        let t = token_for(&p, &["professional", role]);
        refused(&gw, &p, &t, 403, "role_not_allowed").await;
    }
    gw.stop().await;
}

async fn unknown_roles_fetchable_keys_and_string_times_are_refused(b: Backend) {
    let gw = Gateway::start(b).await;
    let p = gw.org("politie");
    refused(&gw, &p, &token_for(&p, &["superuser"]), 401, "token_invalid").await;
    let jku = with(header(&p.key), "jku", json!("https://attacker.example/jwks.json"));
    refused(
        &gw,
        &p,
        &mint(&p.key, jku, claims(&p, &["professional"])),
        401,
        "token_invalid",
    )
    .await;
    let x5u = with(header(&p.key), "x5u", json!("https://attacker.example/cert.pem"));
    refused(
        &gw,
        &p,
        &mint(&p.key, x5u, claims(&p, &["professional"])),
        401,
        "token_invalid",
    )
    .await;
    // CVE-2026-25537: exp as a string must not skip validation.
    let n = now();
    let stringly = with(claims(&p, &["professional"]), "exp", json!((n - 400).to_string()));
    refused(&gw, &p, &mint(&p.key, header(&p.key), stringly), 401, "token_invalid").await;
    gw.stop().await;
}

async fn a_cached_token_stops_working_when_keys_rotate(b: Backend) {
    let gw = Gateway::start(b).await;
    let p = gw.org("politie");
    let old = token_for(&p, &["professional"]);
    let mut c = gw.connect(Some(&p.identity)).await.unwrap();
    assert_eq!(
        c.send(Method::GET, "/v1/whoami", Some(&old), None)
            .await
            .unwrap()
            .status,
        200
    );
    let new_key = doelpoort::crypto::pki::TokenKeyPair::generate().unwrap();
    let path = format!("/v1/admin/organisations/{}/keys", p.oin);
    let r = gw
        .admin(Method::PUT, &path, Some(json!({"jwks": new_key.jwks()})))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    c.send(Method::GET, "/v1/whoami", Some(&old), None)
        .await
        .unwrap()
        .assert_problem(401, "token_invalid");
    let fresh = mint(&new_key, header(&new_key), claims(&p, &["professional"]));
    assert_eq!(
        c.send(Method::GET, "/v1/whoami", Some(&fresh), None)
            .await
            .unwrap()
            .status,
        200
    );
    gw.stop().await;
}

/// Regression (found by the attack round): a `sub` of `a\nb\0c` was accepted and shown in `/v1/whoami`. A sub is
/// 1–256 visible ASCII characters.
async fn a_sub_with_control_characters_is_refused(b: Backend) {
    let gw = Gateway::start(b).await;
    let p = gw.org("politie");
    for bad in ["a\nb\0c", "agent\u{202e}1", "two words", "", &"x".repeat(257)] {
        let token = mint(
            &p.key,
            header(&p.key),
            with(claims(&p, &["professional"]), "sub", json!(bad)),
        );
        refused(&gw, &p, &token, 401, "token_invalid").await;
    }
    let fine = mint(
        &p.key,
        header(&p.key),
        with(claims(&p, &["professional"]), "sub", json!("agent.0042@politie.nl")),
    );
    let mut c = gw.connect(Some(&p.identity)).await.unwrap();
    let r = c.send(Method::GET, "/v1/whoami", Some(&fine), None).await.unwrap();
    assert_eq!(r.body["user"]["sub"], "agent.0042@politie.nl", "{}", r.text);
    gw.stop().await;
}
