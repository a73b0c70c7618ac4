//! Identity and operations: `/v1/whoami`, `/healthz`, `/metrics`.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::extractors::peer_of;
use crate::app::AppState;
use crate::edge::identity::Caller;
use crate::types::{Oin, OrgKind, UserRole};

#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    pub organisation: WhoAmIOrg,
    pub user: WhoAmIUser,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmIOrg {
    pub oin: Oin,
    pub name: String,
    /// `ketenpartner`, `convenantpartner` or `incidenteel`.
    pub kind: OrgKind,
    pub covenant_roles: Vec<String>,
    /// The covenant version in force if this organisation signed it, otherwise null.
    pub signed_covenant_version: Option<String>,
    pub covenant_version_in_force: String,
    /// Whether this is the host organisation (the ZVH itself).
    pub host: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmIUser {
    pub sub: String,
    pub roles: Vec<UserRole>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `unavailable` (database unreachable) or `audit_unavailable` (the disclosure log cannot be written).
    pub status: &'static str,
    /// Why the log refuses every release until an operator acts, when its start-up check failed (no personal data:
    /// sequence numbers and hashes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The calling organisation and professional.
#[utoipa::path(get, path = "/v1/whoami", tag = "identity", security(("bearer" = [])),
    responses((status = 200, body = WhoAmI), (status = 401, body = crate::api::error::Problem),
              (status = 403, body = crate::api::error::Problem)))]
pub async fn whoami(State(app): State<AppState>, caller: Caller) -> axum::Json<WhoAmI> {
    let in_force = app.covenant().version.clone();
    let org = &caller.org;
    axum::Json(WhoAmI {
        organisation: WhoAmIOrg {
            oin: org.oin.clone(),
            name: org.name.clone(),
            kind: org.kind,
            covenant_roles: org.covenant_roles.clone(),
            signed_covenant_version: org.signed_versions.contains(&in_force).then(|| in_force.clone()),
            covenant_version_in_force: in_force,
            host: org.oin == app.config.host_oin,
        },
        user: WhoAmIUser {
            sub: caller.user.sub.clone(),
            roles: caller.user.roles.clone(),
        },
    })
}

/// Liveness and readiness for any client holding a valid certificate; no token needed.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn healthz(State(app): State<AppState>, req: axum::extract::Request) -> impl IntoResponse {
    let (parts, _) = req.into_parts();
    if let Err(e) = peer_of(&parts) {
        return e.into_response();
    }
    health_status(State(app)).await.into_response()
}

/// Health on the operators' listener: unavailable while the database cannot be reached or the disclosure log
/// cannot be written (then every release would be refused anyway).
pub async fn health_status(State(app): State<AppState>) -> (StatusCode, axum::Json<Health>) {
    let status = match app.store.ping().await {
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unavailable");
            "unavailable"
        }
        Ok(()) if !app.log.healthy().await => "audit_unavailable",
        Ok(()) => "ok",
    };
    let code = if status == "ok" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let reason = app.log.halted();
    (code, axum::Json(Health { status, reason }))
}

/// Prometheus text format.
pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
}
