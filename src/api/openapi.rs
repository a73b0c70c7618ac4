//! The OpenAPI document, generated from the handlers' annotations.
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{admin, audit, cases, covenant, error, exchange, lookups, meetings, system};
use crate::onboarding;

#[derive(OpenApi)]
#[openapi(
    info(title = "Doelpoort", description = "Secure information exchange for the partners of a Zorg- en Veiligheidshuis. \
        Every request needs a client certificate carrying the organisation's OIN (mutual TLS); every /v1 call except \
        this document needs a bearer token bound to that certificate (RFC 8705). Errors are RFC 9457 problem documents."),
    paths(system::whoami, system::healthz, admin::add, admin::list, admin::get_one, admin::sign, admin::rotate_keys,
          admin::suspend, admin::reinstate, admin::offboard, admin::revoke, admin::actions, admin::reload_covenant,
          audit::disclosures, audit::subject_report, audit::checkpoints, covenant::covenant,
          cases::report, cases::list, cases::get_one, cases::grant, cases::withdraw, cases::close,
          cases::consent, meetings::create, meetings::get_one, meetings::agenda, meetings::attendees,
          meetings::close, lookups::lookup, exchange::create_request, exchange::inbox, exchange::respond_to,
          exchange::decline, exchange::read_request, exchange::share, exchange::read_shares),
    components(schemas(error::Problem, system::WhoAmI, system::WhoAmIOrg, system::WhoAmIUser, system::Health,
        onboarding::NewOrg, onboarding::OrgView, onboarding::Signature, admin::Reason, admin::KeysBody,
        admin::Revocation, admin::Revoked, admin::Created, admin::AdminAction, admin::CovenantReloaded, crate::domain::UserRole,
        crate::audit::Page, crate::log::chain::Record, crate::log::chain::Kind, audit::SubjectReport,
        audit::SubjectDisclosure, audit::OrgRef, audit::Checkpoints, crate::store::Checkpoint, covenant::CovenantView,
        covenant::MeetingTypeView, covenant::PurposeView, covenant::CategoryView, cases::CaseCreated,
        cases::NewMember, cases::Why, crate::cases::NewCase, crate::cases::Subject, crate::cases::CaseView,
        crate::cases::Member, crate::cases::NewConsent, crate::meetings::NewMeeting, crate::meetings::NewAttendee,
        crate::meetings::Declaration, crate::meetings::AgendaItem, crate::meetings::MeetingView,
        crate::meetings::Attendee, crate::lookups::LookupRequest, crate::lookups::LookupAnswer,
        crate::lookups::Contact, covenant::PurposeView, crate::exchange::NewRequest, crate::exchange::NewItem,
        crate::exchange::NewResponse, crate::exchange::NewShare, crate::exchange::RequestView,
        crate::exchange::AddresseeView, crate::exchange::ItemView, crate::exchange::Withheld, crate::exchange::Items,
        crate::exchange::RequestRead, exchange::Shared)),
    modifiers(&BearerAuth)
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

/// `GET /v1/openapi.json`
pub async fn document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
