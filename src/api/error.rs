//! The one place where errors become HTTP responses: RFC 9457 `application/problem+json` with a stable `code`.
//! Every domain error converts into [`ApiError`] here, by its variant (never by a string); a 5xx says nothing
//! internal (the cause is logged in the request's span instead). No detail ever echoes personal data or a token.
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::cases::lookups::LookupError;
use crate::cases::meetings::MeetingError;
use crate::cases::CaseError;
use crate::covenant::decision::{Denial, Refusal};
use crate::edge::identity::{IdentityError, MissingRole};
use crate::edge::token::TokenError;
use crate::exchange::ExchangeError;
use crate::log::audit::AuditError;
use crate::log::LogError;
use crate::orgs::onboarding::OnboardingError;
use crate::store::StoreError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:doelpoort:problem:<code>`
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `token_invalid`.
    pub code: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            detail: detail.into(),
        }
    }

    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn validation(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    /// A 500 whose cause is logged, not shown.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the gateway could not complete the request",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error").to_owned();
        let body = Problem {
            kind: format!("urn:doelpoort:problem:{}", self.code),
            title,
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code.to_owned(),
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        response
    }
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> ApiError {
        match e {
            TokenError::Invalid(_) => ApiError::new(StatusCode::UNAUTHORIZED, "token_invalid", e.to_string()),
            TokenError::NotBound => ApiError::new(StatusCode::UNAUTHORIZED, "token_not_bound", e.to_string()),
            TokenError::RoleNotAllowed => ApiError::new(StatusCode::FORBIDDEN, "role_not_allowed", e.to_string()),
        }
    }
}

impl From<IdentityError> for ApiError {
    fn from(e: IdentityError) -> ApiError {
        let (status, code) = match &e {
            IdentityError::Token(t) => return t.clone().into(),
            IdentityError::NoToken => (StatusCode::UNAUTHORIZED, "token_invalid"),
            IdentityError::CertificateRevoked => (StatusCode::FORBIDDEN, "certificate_revoked"),
            IdentityError::UnknownOrganisation => (StatusCode::FORBIDDEN, "unknown_organisation"),
            IdentityError::Suspended => (StatusCode::FORBIDDEN, "organisation_suspended"),
            IdentityError::Offboarded => (StatusCode::FORBIDDEN, "organisation_offboarded"),
            IdentityError::PersonalCertificate => (StatusCode::FORBIDDEN, "personal_certificate"),
            IdentityError::NotAPerson => (StatusCode::FORBIDDEN, "not_a_person"),
            IdentityError::PersonSuspended => (StatusCode::FORBIDDEN, "person_suspended"),
            IdentityError::PersonRemoved => (StatusCode::FORBIDDEN, "person_removed"),
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> ApiError {
        let status = match r.denial {
            Denial::MeetingClosed | Denial::NotOnAgenda | Denial::CaseClosed => StatusCode::CONFLICT,
            Denial::UnknownMeetingType | Denial::UnknownPurpose | Denial::UnknownCategory => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Denial::NotMember(_)
            | Denial::NotAttendee(_)
            | Denial::NotSigned(_)
            | Denial::NoRule(_)
            | Denial::ConsentRequired
            | Denial::LookupNotAllowed => StatusCode::FORBIDDEN,
        };
        ApiError::new(status, r.denial.code(), r.detail)
    }
}

impl From<CaseError> for ApiError {
    fn from(e: CaseError) -> ApiError {
        match e {
            CaseError::InvalidBsn => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_bsn", e.to_string()),
            CaseError::Validation(_) => ApiError::validation(e.to_string()),
            CaseError::NotFound => ApiError::not_found("no such case"),
            CaseError::Closed => ApiError::new(StatusCode::CONFLICT, "case_closed", e.to_string()),
            CaseError::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "invalid_state", e.to_string()),
            CaseError::NotConsentParty(_) => ApiError::new(StatusCode::FORBIDDEN, "not_consent_party", e.to_string()),
            CaseError::NotHolder => ApiError::forbidden(e.to_string()),
            CaseError::MeetingClosed => ApiError::new(StatusCode::CONFLICT, "meeting_closed", e.to_string()),
            CaseError::NotOnAgenda => ApiError::new(StatusCode::CONFLICT, "not_on_agenda", e.to_string()),
            CaseError::Purged => ApiError::new(StatusCode::GONE, "purged", e.to_string()),
            CaseError::Seal(inner) => ApiError::internal(&inner),
            CaseError::Log(inner) => inner.into(),
            CaseError::Store(inner) => inner.into(),
        }
    }
}

impl From<MeetingError> for ApiError {
    fn from(e: MeetingError) -> ApiError {
        match e {
            MeetingError::Validation(_) => ApiError::validation(e.to_string()),
            MeetingError::NotFound => ApiError::not_found("no such meeting"),
            MeetingError::Closed => ApiError::new(StatusCode::CONFLICT, "meeting_closed", e.to_string()),
            MeetingError::CaseClosed => ApiError::new(StatusCode::CONFLICT, "case_closed", e.to_string()),
            MeetingError::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "invalid_state", e.to_string()),
            MeetingError::Store(inner) => inner.into(),
        }
    }
}

impl From<ExchangeError> for ApiError {
    fn from(e: ExchangeError) -> ApiError {
        let detail = e.to_string();
        match e {
            ExchangeError::Validation(_) => ApiError::validation(detail),
            ExchangeError::TooLarge(_) => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", detail),
            ExchangeError::NotFound(_) => ApiError::not_found(detail),
            ExchangeError::Purged => ApiError::new(StatusCode::GONE, "purged", detail),
            ExchangeError::CaseClosed => ApiError::new(StatusCode::CONFLICT, "case_closed", detail),
            ExchangeError::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "invalid_state", detail),
            ExchangeError::Refused(refusal) => refusal.into(),
            ExchangeError::Log(inner) => inner.into(),
            ExchangeError::Store(inner) => inner.into(),
            ExchangeError::Seal(inner) => ApiError::internal(&inner),
        }
    }
}

impl From<LookupError> for ApiError {
    fn from(e: LookupError) -> ApiError {
        match e {
            LookupError::InvalidBsn => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_bsn", e.to_string()),
            LookupError::Validation(_) => ApiError::validation(e.to_string()),
            LookupError::Refused(refusal) => refusal.into(),
            LookupError::RateLimited { .. } => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", e.to_string())
            }
            LookupError::Log(inner) => inner.into(),
            LookupError::Store(inner) => inner.into(),
        }
    }
}

impl From<MissingRole> for ApiError {
    fn from(e: MissingRole) -> ApiError {
        ApiError::forbidden(e.to_string())
    }
}

impl From<LogError> for ApiError {
    fn from(e: LogError) -> ApiError {
        match e {
            LogError::Unavailable => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "audit_unavailable", e.to_string()),
            LogError::Uncovered => ApiError::internal(&e),
        }
    }
}

impl From<AuditError> for ApiError {
    fn from(e: AuditError) -> ApiError {
        match e {
            AuditError::InvalidBsn => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_bsn", e.to_string()),
            AuditError::Invalid(_) | AuditError::Cursor => ApiError::validation(e.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "database unavailable");
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "audit_unavailable",
                "the gateway's database cannot be reached now; nothing was released",
            );
        }
        ApiError::internal(&e)
    }
}

impl From<OnboardingError> for ApiError {
    fn from(e: OnboardingError) -> ApiError {
        use OnboardingError as E;
        let e = match e {
            E::Store(inner) => return inner.into(),
            other => other,
        };
        let (status, code) = match &e {
            E::InvalidOin => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_oin"),
            E::Validation(_) | E::Jwks(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            E::Exists(_) => (StatusCode::CONFLICT, "already_exists"),
            E::NotFound => (StatusCode::NOT_FOUND, "unknown_organisation"),
            E::PersonNotFound => (StatusCode::NOT_FOUND, "unknown_person"),
            E::InvalidState { .. } | E::PersonState { .. } | E::HostProtected => {
                (StatusCode::CONFLICT, "invalid_state")
            }
            E::NoCa => (StatusCode::CONFLICT, "no_gateway_ca"),
            E::Store(inner) => return ApiError::internal(inner),
            E::Pki(inner) => return ApiError::internal(inner),
        };
        ApiError::new(status, code, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::covenant::decision::Side;
    use crate::crypto::envelope::SealError;
    use crate::crypto::pki::PkiError;
    use crate::edge::token::TokenError;
    use crate::types::UserRole;

    /// The status and code every domain error answers with: the refusal codes clients and the README rely on.
    #[track_caller]
    fn answers(e: impl Into<ApiError>, status: u16, code: &str) {
        let e = e.into();
        assert_eq!((e.status.as_u16(), e.code), (status, code), "{}", e.detail);
    }

    fn refusal(denial: Denial) -> Refusal {
        Refusal {
            denial,
            detail: "items[0] (`x`): why".into(),
        }
    }

    #[test]
    fn identity_and_token_refusals() {
        answers(TokenError::Invalid("bad"), 401, "token_invalid");
        answers(TokenError::NotBound, 401, "token_not_bound");
        answers(TokenError::RoleNotAllowed, 403, "role_not_allowed");
        answers(IdentityError::NoToken, 401, "token_invalid");
        answers(IdentityError::CertificateRevoked, 403, "certificate_revoked");
        answers(IdentityError::UnknownOrganisation, 403, "unknown_organisation");
        answers(IdentityError::Suspended, 403, "organisation_suspended");
        answers(IdentityError::Offboarded, 403, "organisation_offboarded");
        answers(IdentityError::Token(TokenError::NotBound), 401, "token_not_bound");
        answers(MissingRole(UserRole::Admin), 403, "forbidden");
    }

    #[test]
    fn every_denial_has_its_status() {
        for (denial, status, code) in [
            (Denial::UnknownMeetingType, 422, "validation_failed"),
            (Denial::UnknownPurpose, 422, "validation_failed"),
            (Denial::UnknownCategory, 422, "validation_failed"),
            (Denial::MeetingClosed, 409, "meeting_closed"),
            (Denial::NotOnAgenda, 409, "not_on_agenda"),
            (Denial::CaseClosed, 409, "case_closed"),
            (Denial::LookupNotAllowed, 403, "lookup_not_allowed"),
            (Denial::NotMember(Side::Source), 403, "not_member"),
            (Denial::NotAttendee(Side::Recipient), 403, "not_attendee"),
            (Denial::NotSigned(Side::Recipient), 403, "covenant_not_signed"),
            (Denial::NoRule(Side::Source), 403, "forbidden_category"),
            (Denial::ConsentRequired, 403, "consent_required"),
        ] {
            answers(refusal(denial), status, code);
        }
    }

    #[test]
    fn log_store_and_audit_errors() {
        answers(LogError::Unavailable, 503, "audit_unavailable");
        answers(LogError::Uncovered, 500, "internal_error");
        answers(
            StoreError::Database(sqlx::Error::PoolTimedOut),
            503,
            "audit_unavailable",
        );
        answers(StoreError::Corrupt("x"), 500, "internal_error");
        answers(AuditError::InvalidBsn, 422, "invalid_bsn");
        answers(AuditError::Invalid("limit: x".into()), 422, "validation_failed");
        answers(AuditError::Cursor, 422, "validation_failed");
    }

    #[test]
    fn onboarding_errors() {
        use OnboardingError as E;
        answers(E::InvalidOin, 422, "invalid_oin");
        answers(E::Validation("x".into()), 422, "validation_failed");
        answers(E::Jwks("x".into()), 422, "validation_failed");
        answers(E::Exists("organisation"), 409, "already_exists");
        answers(E::NotFound, 404, "unknown_organisation");
        answers(
            E::InvalidState {
                action: "suspend",
                status: "offboarded".into(),
            },
            409,
            "invalid_state",
        );
        answers(E::HostProtected, 409, "invalid_state");
        answers(E::NoCa, 409, "no_gateway_ca");
        answers(E::Store(StoreError::Corrupt("x")), 500, "internal_error");
        answers(E::Pki(PkiError::Parse), 500, "internal_error");
    }

    #[test]
    fn case_meeting_exchange_and_lookup_errors() {
        answers(CaseError::InvalidBsn, 422, "invalid_bsn");
        answers(CaseError::Validation("x".into()), 422, "validation_failed");
        answers(CaseError::NotFound, 404, "not_found");
        answers(CaseError::Closed, 409, "case_closed");
        answers(CaseError::Conflict("x"), 409, "invalid_state");
        answers(CaseError::NotConsentParty("x".into()), 403, "not_consent_party");
        answers(CaseError::Seal(SealError::Open), 500, "internal_error");
        answers(MeetingError::Validation("x".into()), 422, "validation_failed");
        answers(MeetingError::NotFound, 404, "not_found");
        answers(MeetingError::Closed, 409, "meeting_closed");
        answers(MeetingError::CaseClosed, 409, "case_closed");
        answers(MeetingError::Conflict("x"), 409, "invalid_state");
        answers(ExchangeError::Validation("x".into()), 422, "validation_failed");
        answers(ExchangeError::TooLarge("x".into()), 413, "payload_too_large");
        answers(ExchangeError::NotFound("request"), 404, "not_found");
        answers(ExchangeError::Purged, 410, "purged");
        answers(ExchangeError::CaseClosed, 409, "case_closed");
        answers(ExchangeError::Conflict("x".into()), 409, "invalid_state");
        answers(
            ExchangeError::Refused(refusal(Denial::ConsentRequired)),
            403,
            "consent_required",
        );
        answers(ExchangeError::Log(LogError::Unavailable), 503, "audit_unavailable");
        answers(ExchangeError::Seal(SealError::Open), 500, "internal_error");
        answers(LookupError::InvalidBsn, 422, "invalid_bsn");
        answers(LookupError::Validation("x".into()), 422, "validation_failed");
        answers(
            LookupError::Refused(refusal(Denial::LookupNotAllowed)),
            403,
            "lookup_not_allowed",
        );
        answers(
            LookupError::RateLimited {
                retry_after: std::time::Duration::from_secs(2),
            },
            429,
            "rate_limited",
        );
    }

    #[test]
    fn a_5xx_says_nothing_internal() {
        let e = ApiError::from(StoreError::Corrupt("case status"));
        assert!(!e.detail.contains("case status"), "{}", e.detail);
    }
}
