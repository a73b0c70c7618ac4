//! Who is calling: the organisation from the connection's certificate (onboarded, active, certificate not
//! revoked) and the professional from a bearer token bound to that certificate. Handlers take a [`Caller`];
//! there is no other way to learn the caller.
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use std::sync::Arc;

use crate::api::error::ApiError;
use crate::app::AppState;
use crate::edge::conn::PeerCert;
use crate::edge::token::{TokenVerifier, VerifiedToken};
use crate::orgs::registry::{Organisation, Snapshot};
use crate::types::{OrgStatus, UserRole};

/// An identified organisation and professional.
#[derive(Debug, Clone)]
pub struct Caller {
    pub org: Arc<Organisation>,
    pub user: Arc<VerifiedToken>,
}

impl Caller {
    pub fn has_role(&self, role: UserRole) -> bool {
        self.user.roles.contains(&role)
    }

    /// Refuses with 403 unless the professional holds `role`.
    ///
    /// # Errors
    /// `forbidden` when the role is missing.
    pub fn require(&self, role: UserRole) -> Result<(), ApiError> {
        if self.has_role(role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this action needs the {} role",
                role.as_str()
            )))
        }
    }
}

/// The organisation behind a certificate, if it may use the gateway now.
///
/// # Errors
/// `certificate_revoked`, `unknown_organisation`, `organisation_suspended` or `organisation_offboarded`.
pub fn organisation_of(snapshot: &Snapshot, peer: &PeerCert) -> Result<Arc<Organisation>, ApiError> {
    if snapshot.is_revoked(&peer.serial) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "certificate_revoked",
            "the client certificate of this connection has been revoked",
        ));
    }
    let org = snapshot.organisation(&peer.oin).ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "unknown_organisation",
            "the organisation of this certificate is not onboarded",
        )
    })?;
    match org.status {
        OrgStatus::Active => Ok(org.clone()),
        OrgStatus::Suspended => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "organisation_suspended",
            "the organisation of this certificate is suspended",
        )),
        OrgStatus::Offboarded => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "organisation_offboarded",
            "the organisation of this certificate has been offboarded",
        )),
    }
}

/// The whole per-request identity path: certificate → organisation → token → roles.
///
/// # Errors
/// The refusals of [`organisation_of`] and of token verification.
pub fn identify(
    snapshot: &Snapshot,
    tokens: &TokenVerifier,
    peer: &PeerCert,
    authorization: Option<&str>,
    now: i64,
) -> Result<Caller, ApiError> {
    let org = organisation_of(snapshot, peer)?;
    let token = authorization
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "token_invalid",
                "an Authorization: Bearer token is required",
            )
        })?;
    let user = tokens.verify(token, &org, &peer.thumbprint, now, snapshot.generation)?;
    Ok(Caller { org, user })
}

/// The connection's certificate, placed on every request by the accept loop.
///
/// # Errors
/// A request that did not come through the TLS listener (never in production) is refused.
pub fn peer_of(parts: &Parts) -> Result<&PeerCert, ApiError> {
    parts.extensions.get::<PeerCert>().ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "certificate_required",
            "a client certificate is required",
        )
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let peer = peer_of(parts)?;
        let authorization = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let now = app.clock.now().unix_timestamp();
        identify(&app.registry.current(), &app.tokens, peer, authorization, now)
    }
}
