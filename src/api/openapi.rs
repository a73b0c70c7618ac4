//! The OpenAPI document, generated from the handlers' annotations.
use axum::extract::State;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::app::AppState;
use crate::covenant::Covenant;

use super::{
    admin, audit, cases, consent, covenant, error, exchange, integrity, lookups, meetings, notifications, people,
    process, statistics, system,
};
use crate::orgs::onboarding;

#[derive(OpenApi)]
#[openapi(
    info(title = "Doelpoort", description = "Secure information exchange for the partners of a Zorg- en Veiligheidshuis. \
        Every request needs a client certificate carrying the organisation's OIN (mutual TLS); every /v1 call except \
        this document needs a bearer token bound to that certificate (RFC 8705). Errors are RFC 9457 problem documents."),
    paths(system::whoami, system::healthz, admin::add, admin::list, admin::get_one, admin::credentials, admin::sign, admin::rotate_keys,
          admin::suspend, admin::reinstate, admin::offboard, admin::revoke, admin::actions, admin::reload_covenant, admin::reload_keys,
          people::add, people::list, people::get_one, people::step,
          audit::disclosures, audit::subject_report, audit::subject_report_post, audit::checkpoints, integrity::checkpoint, integrity::inclusion, integrity::consistency, integrity::record, integrity::cosign, covenant::covenant,
          cases::report, cases::list, cases::get_one, cases::grant, cases::withdraw, cases::appoint_holder, cases::request_agenda, cases::close,
          consent::record, consent::list, consent::withdraw, meetings::list, meetings::create, meetings::get_one, meetings::agenda, meetings::attendees,
          meetings::close, lookups::lookup, exchange::create_request, exchange::inbox, notifications::list, exchange::respond_to,
          exchange::decline, exchange::read_request, exchange::share, exchange::read_shares,
          process::intake, process::weigh, process::monitoring, process::record_check, process::read_file, process::add_to_file, statistics::factsheet,
          statistics::evaluation, statistics::dry_run),
    components(schemas(error::Problem, system::WhoAmI, system::WhoAmIOrg, system::WhoAmIUser, system::Health,
        onboarding::NewOrg, onboarding::OrgView, onboarding::Credentials, onboarding::KeyView, onboarding::CertificateView, onboarding::Signature, admin::Reason, admin::KeysBody,
        people::PersonBody, people::PersonAdded, crate::orgs::people::NewPerson, crate::orgs::people::PersonView,
        crate::orgs::people::PersonCertificate, crate::types::PersonStatus, crate::types::PersonId,
        admin::Revocation, admin::Revoked, admin::Created, admin::AdminAction, admin::CovenantReloaded, admin::KeysReloaded, crate::types::UserRole,
        audit::RecordPage, audit::NamedRecord, audit::SubjectQuery, crate::log::chain::Record, crate::log::chain::Kind, audit::SubjectReport,
        audit::SubjectDisclosure, audit::OrgRef, audit::Checkpoints, crate::log::Checkpoint, covenant::CovenantView,
        covenant::MeetingTypeView, covenant::PurposeView, covenant::WeighingRulesView, covenant::MomentView, covenant::CategoryView, cases::NewId,
        cases::NewMember, cases::Why, cases::MaybeWhy, crate::cases::NewCase, crate::cases::Subject, crate::cases::CaseView,
        crate::cases::Member, cases::Closing, crate::cases::notifications::Notification, crate::types::NotificationKind, crate::cases::consent::NewConsent, crate::cases::consent::ConsentView, crate::cases::meetings::NewMeeting, crate::cases::meetings::NewAttendee,
        crate::cases::meetings::Declaration, crate::cases::meetings::SignedDeclaration, crate::cases::meetings::AgendaItem, crate::cases::meetings::MeetingView,
        crate::cases::meetings::Attendee, crate::cases::lookups::LookupRequest, crate::cases::lookups::LookupAnswer,
        crate::cases::lookups::Contact, covenant::PurposeView, crate::exchange::NewRequest, crate::exchange::NewItem,
        crate::exchange::NewResponse, crate::exchange::NewShare, crate::exchange::RequestView,
        crate::exchange::AddresseeView, crate::exchange::ItemView, crate::exchange::Withheld, crate::exchange::Items,
        crate::exchange::RequestRead, exchange::Shared, crate::exchange::NewFileItems,
        crate::cases::NoBsn, crate::cases::Profile, crate::cases::CaseProcess, crate::cases::ReportView, crate::cases::PlanView,
        crate::cases::process::IntakeReport, crate::cases::process::NewWeighing, crate::cases::process::WeighingView,
        crate::cases::process::CheckView, crate::cases::process::NewCheck, crate::types::ReportKind, crate::types::NoBsnReason,
        crate::types::Gender, crate::types::AgeBand, crate::types::CheckStatus, crate::types::CheckState,
        crate::types::ReportId, crate::types::WeighingId, crate::figures::factsheet::Factsheet,
        crate::figures::factsheet::Table, crate::figures::factsheet::Row, crate::figures::control::Cell,
        crate::figures::evaluation::Evaluation, crate::figures::evaluation::DryRun, crate::figures::evaluation::Window,
        crate::figures::evaluation::ArticleUse, crate::figures::evaluation::UnusedRule,
        crate::figures::evaluation::Recurring, crate::figures::evaluation::Unsigned, crate::figures::evaluation::Shift,
        crate::figures::evaluation::Route, crate::covenant::diff::Change, crate::covenant::diff::Part,
        crate::covenant::diff::How, crate::api::statistics::Proposal)),
    modifiers(&BearerAuth, &ProblemResponses)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .build(),
                ),
            );
        }
    }
}

/// Every error is an RFC 9457 problem document (`application/problem+json`), and every operation can meet the
/// refusals that come before its handler: a missing or bad token, a missing role, a body that is too large, not
/// JSON or not valid, a request that takes too long, a log that cannot be written. Said once here rather than on
/// each handler.
struct ProblemResponses;

const PROBLEM: &str = "#/components/schemas/Problem";

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete];
            for op in operations.into_iter().flatten() {
                for response in op.responses.responses.values_mut() {
                    if let RefOr::T(r) = response {
                        relabel_problem(r);
                    }
                }
                let mut common = vec![
                    ("401", "no valid token bound to this connection's certificate"),
                    ("403", "the caller's organisation or roles may not do this"),
                    ("408", "the request took too long"),
                    (
                        "503",
                        "the disclosure log or the database cannot be written now; nothing was released",
                    ),
                ];
                if op.request_body.is_some() {
                    common.push(("413", "the body is too large"));
                    common.push(("415", "the body is not JSON"));
                }
                if op.request_body.is_some() || op.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
                    common.push(("422", "the input does not validate"));
                }
                if op.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
                    common.push(("404", "no such resource"));
                }
                for (status, why) in common {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| RefOr::T(problem(why)));
                }
            }
        }
    }
}

fn problem(description: &str) -> utoipa::openapi::Response {
    let content = utoipa::openapi::ContentBuilder::new()
        .schema(Some(utoipa::openapi::Ref::new(PROBLEM)))
        .build();
    utoipa::openapi::ResponseBuilder::new()
        .description(description)
        .content("application/problem+json", content)
        .build()
}

/// A response documented with the `Problem` schema is served as `application/problem+json`.
fn relabel_problem(response: &mut utoipa::openapi::Response) {
    use utoipa::openapi::RefOr;
    let is_problem = response
        .content
        .get("application/json")
        .is_some_and(|c| matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location == PROBLEM));
    if is_problem {
        if let Some(content) = response.content.shift_remove("application/json") {
            response.content.insert("application/problem+json".to_owned(), content);
        }
    }
}

/// `GET /v1/openapi.json`: the document, with the ids of the covenant in force as the values its fields take.
pub async fn document(State(app): State<AppState>) -> axum::Json<serde_json::Value> {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    name_covenant_ids(&mut doc, &app.covenant());
    axum::Json(doc)
}

/// Restricts the fields that take a covenant id (meeting type, category, purpose, role) to the ids of `covenant`,
/// so that a client generated from the document offers only values the gateway accepts.
pub fn name_covenant_ids(doc: &mut serde_json::Value, covenant: &Covenant) {
    let ids = |mut ids: Vec<&str>| {
        ids.sort_unstable();
        ids.dedup();
        serde_json::json!(ids)
    };
    let categories = ids(covenant.categories.iter().map(|c| c.id.as_str()).collect());
    let purposes = ids(covenant
        .meeting_types
        .iter()
        .flat_map(|m| m.purposes.iter().map(|p| p.id.as_str()))
        .collect());
    let lookup_purposes = ids(covenant.lookup_purposes.iter().map(|p| p.id.as_str()).collect());
    let meeting_types = ids(covenant.meeting_types.iter().map(|m| m.id.as_str()).collect());
    // The host's role is not offered: only the host organisation holds it, and it is onboarded already.
    let roles = ids(covenant
        .roles
        .iter()
        .map(|r| r.id.as_str())
        .filter(|r| *r != covenant.host_role)
        .collect());
    // (field, its ids, a list of them, a list that refuses a repeated id rather than counting it once)
    let fields = [
        ("/NewMeeting/properties/type", &meeting_types, false, false),
        ("/NewItem/properties/category", &categories, false, false),
        ("/NewRequest/properties/categories", &categories, true, false),
        ("/NewConsent/properties/categories", &categories, true, false),
        ("/NewRequest/properties/purpose", &purposes, false, false),
        ("/NewShare/properties/purpose", &purposes, false, false),
        ("/LookupRequest/properties/purpose", &lookup_purposes, false, false),
        ("/NewOrg/properties/covenant_roles", &roles, true, true),
    ];
    let Some(schemas) = doc.pointer_mut("/components/schemas") else {
        return;
    };
    for (field, values, list, unique) in fields {
        let Some(schema) = schemas.pointer_mut(field).and_then(|f| f.as_object_mut()) else {
            continue;
        };
        if list {
            schema.insert("items".into(), serde_json::json!({"type": "string", "enum": values}));
            if unique {
                schema.insert("uniqueItems".into(), serde_json::json!(true));
            }
            continue;
        }
        let mut values = values.clone();
        let nullable = schema
            .get("type")
            .and_then(|t| t.as_array())
            .is_some_and(|t| t.contains(&"null".into()));
        if let (true, Some(values)) = (nullable, values.as_array_mut()) {
            values.push(serde_json::Value::Null);
        }
        schema.insert("enum".into(), values);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn doc() -> Value {
        let covenant = Covenant::load(std::path::Path::new("policies")).unwrap();
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        name_covenant_ids(&mut doc, &covenant);
        doc
    }

    /// Regression (schemathesis): fourteen operations had a `{id}` in their path and no parameter for it.
    #[test]
    fn every_path_parameter_is_declared() {
        let doc = doc();
        for (path, ops) in doc["paths"].as_object().unwrap() {
            let names: Vec<&str> = path.split('{').skip(1).filter_map(|p| p.split('}').next()).collect();
            for (method, op) in ops.as_object().unwrap() {
                let declared: Vec<&str> = op["parameters"]
                    .as_array()
                    .map(|ps| {
                        ps.iter()
                            .filter(|p| p["in"] == "path")
                            .map(|p| p["name"].as_str().unwrap())
                            .collect()
                    })
                    .unwrap_or_default();
                assert_eq!(declared, names, "{method} {path}");
            }
        }
    }

    /// The limits the code enforces are the ones the document states (schemathesis ST202 found them hidden).
    #[test]
    fn the_document_states_the_limits_the_gateway_enforces() {
        let doc = doc();
        let schema = |pointer: &str| {
            doc["components"]["schemas"]
                .pointer(pointer)
                .cloned()
                .unwrap_or_default()
        };
        assert_eq!(
            schema("/NewCase/properties/summary/maxLength"),
            crate::cases::SUMMARY_MAX
        );
        assert_eq!(schema("/Why/properties/reason/maxLength"), crate::cases::REASON_MAX);
        assert_eq!(
            schema("/NewMember/properties/reason/maxLength"),
            crate::cases::REASON_MAX
        );
        assert_eq!(
            schema("/NewConsent/properties/categories/maxItems"),
            crate::cases::consent::SCOPE_MAX
        );
        assert_eq!(schema("/NewMember/properties/oin/pattern"), "^[0-9]{20}$");
        let case_id = schema("/CaseId/pattern");
        assert_eq!(case_id, "^case-[a-z0-9-]{1,64}$");
        let limit = doc["paths"]["/v1/audit/disclosures"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "limit")
            .cloned()
            .unwrap();
        assert_eq!(limit["schema"]["maximum"], crate::log::audit::MAX_PAGE);
        assert_eq!(limit["schema"]["minimum"], 1);
        // The covenant's ids in force, and null where the field may be left out.
        let types = schema("/NewMeeting/properties/type/enum");
        assert!(types.as_array().unwrap().contains(&Value::from("focus")), "{types}");
        let purposes = schema("/NewShare/properties/purpose/enum");
        assert!(purposes.as_array().unwrap().contains(&Value::Null), "{purposes}");
        let roles = schema("/NewOrg/properties/covenant_roles/items/enum");
        assert!(
            !roles.as_array().unwrap().contains(&Value::from("zvh")),
            "the host's role is not offered"
        );
    }
}
