//! The one place where errors become HTTP responses: RFC 9457 `application/problem+json` with a stable `code`.
//! Domain errors convert into [`ApiError`]; a 5xx says nothing internal (the cause is logged in the request's
//! span instead). No detail ever echoes personal data or a token.
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::covenant::decision::{Denial, Refusal};
use crate::edge::identity::{IdentityError, MissingRole};
use crate::edge::token::TokenError;
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
            E::InvalidState { .. } | E::HostProtected => (StatusCode::CONFLICT, "invalid_state"),
            E::NoCa => (StatusCode::CONFLICT, "no_gateway_ca"),
            E::Store(inner) => return ApiError::internal(inner),
            E::Pki(inner) => return ApiError::internal(inner),
        };
        ApiError::new(status, code, e.to_string())
    }
}
