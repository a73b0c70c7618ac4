//! The OpenAPI document, generated from the handlers' annotations.
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{admin, audit, cases, consent, covenant, error, exchange, lookups, meetings, system};
use crate::orgs::onboarding;

#[derive(OpenApi)]
#[openapi(
    info(title = "Doelpoort", description = "Secure information exchange for the partners of a Zorg- en Veiligheidshuis. \
        Every request needs a client certificate carrying the organisation's OIN (mutual TLS); every /v1 call except \
        this document needs a bearer token bound to that certificate (RFC 8705). Errors are RFC 9457 problem documents."),
    paths(system::whoami, system::healthz, admin::add, admin::list, admin::get_one, admin::credentials, admin::sign, admin::rotate_keys,
          admin::suspend, admin::reinstate, admin::offboard, admin::revoke, admin::actions, admin::reload_covenant, admin::reload_keys,
          audit::disclosures, audit::subject_report, audit::subject_report_post, audit::checkpoints, covenant::covenant,
          cases::report, cases::list, cases::get_one, cases::grant, cases::withdraw, cases::close,
          consent::record, consent::list, consent::withdraw, meetings::create, meetings::get_one, meetings::agenda, meetings::attendees,
          meetings::close, lookups::lookup, exchange::create_request, exchange::inbox, exchange::respond_to,
          exchange::decline, exchange::read_request, exchange::share, exchange::read_shares),
    components(schemas(error::Problem, system::WhoAmI, system::WhoAmIOrg, system::WhoAmIUser, system::Health,
        onboarding::NewOrg, onboarding::OrgView, onboarding::Credentials, onboarding::KeyView, onboarding::CertificateView, onboarding::Signature, admin::Reason, admin::KeysBody,
        admin::Revocation, admin::Revoked, admin::Created, admin::AdminAction, admin::CovenantReloaded, admin::KeysReloaded, crate::types::UserRole,
        audit::RecordPage, audit::NamedRecord, audit::SubjectQuery, crate::log::chain::Record, crate::log::chain::Kind, audit::SubjectReport,
        audit::SubjectDisclosure, audit::OrgRef, audit::Checkpoints, crate::log::Checkpoint, covenant::CovenantView,
        covenant::MeetingTypeView, covenant::PurposeView, covenant::CategoryView, cases::NewId,
        cases::NewMember, cases::Why, cases::MaybeWhy, crate::cases::NewCase, crate::cases::Subject, crate::cases::CaseView,
        crate::cases::Member, crate::cases::consent::NewConsent, crate::cases::consent::ConsentView, crate::cases::meetings::NewMeeting, crate::cases::meetings::NewAttendee,
        crate::cases::meetings::Declaration, crate::cases::meetings::SignedDeclaration, crate::cases::meetings::AgendaItem, crate::cases::meetings::MeetingView,
        crate::cases::meetings::Attendee, crate::cases::lookups::LookupRequest, crate::cases::lookups::LookupAnswer,
        crate::cases::lookups::Contact, covenant::PurposeView, crate::exchange::NewRequest, crate::exchange::NewItem,
        crate::exchange::NewResponse, crate::exchange::NewShare, crate::exchange::RequestView,
        crate::exchange::AddresseeView, crate::exchange::ItemView, crate::exchange::Withheld, crate::exchange::Items,
        crate::exchange::RequestRead, exchange::Shared)),
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

/// `GET /v1/openapi.json`
pub async fn document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
