//! What a handler learns about its request: the connection's certificate, the identified [`Caller`] (through
//! [`identify`], the only way), and the host's administrator. Each refuses with a problem response before the
//! handler runs.
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};

use super::error::ApiError;
use super::trace::RequestContext;
use crate::app::AppState;
use crate::edge::conn::PeerCert;
use crate::edge::identity::{identify, Caller};
use crate::log::actor::AnyActor;
use crate::types::UserRole;

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
        Ok(identify(
            &app.registry.current(),
            &app.tokens,
            peer,
            authorization,
            now,
        )?)
    }
}

/// The host's administrator behind a request, with the request's ids for the records its actions write; refuses
/// (403) anyone without the `admin` role.
pub struct Admin(pub AnyActor);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, app).await?;
        caller.require(UserRole::Admin)?;
        let Ok(ctx) = RequestContext::from_request_parts(parts, app).await;
        Ok(Admin(ctx.actor(&caller).into()))
    }
}
