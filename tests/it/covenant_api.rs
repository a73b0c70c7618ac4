//! `GET /v1/covenant` over real TLS: the version in force, meeting types with purposes and categories, and the
//! data categories with their confidentiality and consent conditions — for any identified caller.
use crate::both;
use crate::helpers::*;
use hyper::Method;

both!(the_covenant_in_force_is_published_to_callers);

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
    assert_eq!(ids, ["briefing", "focus", "nazorg", "radicalisering", "monitoring"]);
    assert_eq!(types[1]["purposes"][0]["id"], "integraal_plan");
    assert_eq!(
        types[2]["categories"],
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
        serde_json::json!(["politie", "om", "reclassering"])
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
