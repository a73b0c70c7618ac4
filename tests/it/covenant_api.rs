//! `GET /v1/covenant` over real TLS: the version in force, meeting types with purposes and categories, and the
//! data categories with their confidentiality and consent conditions — for any identified caller.
use crate::both;
use crate::helpers::*;
use hyper::Method;
use std::path::Path;

both!(
    the_covenant_in_force_is_published_to_callers,
    a_new_covenant_version_is_put_in_force_and_a_broken_one_refused,
);

async fn the_covenant_in_force_is_published_to_callers(b: Backend) {
    let gw = Gateway::start(b).await;
    let wijkteam = gw.org("wijkteam");
    let r = gw
        .call(&wijkteam, &["professional"], Method::GET, "/v1/covenant", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["version"], "2026.1");
    let types = r.body["meeting_types"].as_array().unwrap();
    let ids: Vec<&str> = types.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "briefing",
            "focus",
            "thematafel",
            "nazorg",
            "radicalisering",
            "monitoring"
        ]
    );
    assert_eq!(types[1]["purposes"][0]["id"], "integraal_plan");
    assert_eq!(
        types[3]["categories"],
        serde_json::json!(["identificatie", "detentie", "nazorg_domeinen"])
    );
    let categories = r.body["categories"].as_array().unwrap();
    assert_eq!(categories.len(), 13);
    let leef = categories.iter().find(|c| c["id"] == "leefgebieden").unwrap();
    assert_eq!(leef["requires_consent_from"], serde_json::json!(["wijkteam"]));
    assert_eq!(leef["confidential"], false);
    let id = categories.iter().find(|c| c["id"] == "identificatie").unwrap();
    assert_eq!(id["confidential"], true);
    assert_eq!(
        r.body["lookup_roles"],
        serde_json::json!(["politie", "om", "reclassering", "slachtofferhulp", "ggd", "rvdk"])
    );
    let anonymous = gw
        .connect(Some(&wijkteam.identity))
        .await
        .unwrap()
        .send(Method::GET, "/v1/covenant", None, None)
        .await
        .unwrap();
    anonymous.assert_problem(401, "token_invalid");
    gw.stop().await;
}

fn copy_policies(to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    for f in ["covenant.toml", "covenant_model.conf", "covenant_policy.csv"] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
}

fn set_version(dir: &Path, version: &str) {
    let path = dir.join("covenant.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text.lines().find(|l| l.starts_with("version = ")).unwrap().to_owned();
    std::fs::write(&path, text.replace(&line, &format!("version = \"{version}\""))).unwrap();
}

async fn version_in_force(gw: &Gateway) -> String {
    let r = gw
        .call(&gw.org("politie"), &["professional"], Method::GET, "/v1/covenant", None)
        .await;
    r.body["version"].as_str().unwrap().to_owned()
}

async fn a_new_covenant_version_is_put_in_force_and_a_broken_one_refused(b: Backend) {
    let policies = tempfile::tempdir().unwrap();
    copy_policies(policies.path());
    let dir = policies.path().to_owned();
    let gw = Gateway::start_with(b, move |c| c.covenant_dir = dir).await;
    assert_eq!(version_in_force(&gw).await, "2026.1");

    // Only the host's admins may reload.
    gw.call(
        &gw.org("politie"),
        &["admin"],
        Method::POST,
        "/v1/admin/covenant/reload",
        None,
    )
    .await
    .assert_problem(403, "role_not_allowed");

    set_version(policies.path(), "2027.1");
    let r = gw.admin(Method::POST, "/v1/admin/covenant/reload", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.body["before"].as_str(), r.body["after"].as_str()),
        (Some("2026.1"), Some("2027.1"))
    );
    assert_eq!(version_in_force(&gw).await, "2027.1");
    // Nobody has signed 2027.1 yet: whoami says so (and the decision point refuses their flows).
    let who = gw
        .call(&gw.org("gemeente"), &["professional"], Method::GET, "/v1/whoami", None)
        .await;
    assert_eq!(who.body["organisation"]["covenant_version_in_force"], "2027.1");
    assert_eq!(
        who.body["organisation"]["signed_covenant_version"],
        serde_json::Value::Null
    );
    let actions = gw.admin(Method::GET, "/v1/admin/actions?limit=1", None).await;
    assert_eq!(actions.body[0]["action"], "covenant.reload");
    assert_eq!(actions.body[0]["detail"]["before"], "2026.1");

    // A broken covenant is refused with its problems named; the running version stays in force.
    let policy = policies.path().join("covenant_policy.csv");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(
        &policy,
        format!("{text}\np, share, bakker, focus, *, leefgebieden, art. 1\n"),
    )
    .unwrap();
    set_version(policies.path(), "2028.1");
    let r = gw.admin(Method::POST, "/v1/admin/covenant/reload", None).await;
    r.assert_problem(422, "covenant_invalid");
    assert!(r.text.contains("unknown role `bakker`"), "{}", r.text);
    assert_eq!(version_in_force(&gw).await, "2027.1");
    std::fs::write(&policy, "this is, not a policy\n").unwrap();
    gw.admin(Method::POST, "/v1/admin/covenant/reload", None)
        .await
        .assert_problem(422, "covenant_invalid");

    // Corrected files go in force at the next reload (SIGHUP does the same: see demo_cli).
    std::fs::write(&policy, text).unwrap();
    let r = gw.admin(Method::POST, "/v1/admin/covenant/reload", None).await;
    assert_eq!(r.body["after"], "2028.1", "{}", r.text);
    assert_eq!(version_in_force(&gw).await, "2028.1");
    gw.stop().await;
}
