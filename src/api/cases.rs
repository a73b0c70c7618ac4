//! `/v1/cases…`: report, list and read (members only; others get 404 as if the case did not exist), grant and
//! withdraw membership and close (the host's procesregisseur).
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, Problem};
use super::json::{Json, OptionalJson, Path};
use super::trace::RequestContext;
use crate::app::AppState;
use crate::cases::{self, CaseView, NewCase};
use crate::edge::identity::Caller;
use crate::types::{CaseId, Oin, UserRole};

/// The id of a created object (a case, consent, meeting or request).
#[derive(Debug, Serialize, ToSchema)]
pub struct NewId {
    pub id: String,
}

impl NewId {
    pub fn of(id: impl std::fmt::Display) -> axum::Json<NewId> {
        axum::Json(NewId { id: id.to_string() })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    #[schema(pattern = "^[0-9]{20}$")]
    pub oin: String,
    #[schema(min_length = 1, max_length = 500, pattern = "\\S")]
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Why {
    /// Not blank; 1–500 characters.
    #[schema(min_length = 1, max_length = 500, pattern = "\\S")]
    pub reason: String,
}

/// Why, when the reason may be left out (and the body with it).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaybeWhy {
    /// 1–500 characters, when given.
    #[schema(min_length = 1, max_length = 500, pattern = "\\S")]
    pub reason: Option<String>,
}

/// Report a case (melding); the reporter's organisation becomes its first member and case holder.
#[utoipa::path(post, path = "/v1/cases", tag = "cases", security(("bearer" = [])), request_body = NewCase,
    responses((status = 201, body = NewId), (status = 403, body = Problem), (status = 422, body = Problem),
              (status = 503, body = Problem)))]
pub async fn report(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Json(body): Json<NewCase>,
) -> Result<(StatusCode, axum::Json<NewId>), ApiError> {
    caller.require(UserRole::Professional)?;
    let id = cases::report(
        &app.store,
        (&app.pseudonyms, &app.keyring()),
        (app.clock.now(), &app.config.host_oin),
        &ctx.actor(&caller),
        &body,
    )
    .await?;
    Ok((StatusCode::CREATED, NewId::of(id)))
}

/// Cases your organisation is a member of; for the host, every case (the newest 500).
#[utoipa::path(get, path = "/v1/cases", tag = "cases", security(("bearer" = [])),
    responses((status = 200, body = [CaseView]), (status = 401, body = Problem)))]
pub async fn list(State(app): State<AppState>, caller: Caller) -> Result<axum::Json<Vec<CaseView>>, ApiError> {
    let host = &app.config.host_oin;
    Ok(axum::Json(cases::list_for(&app.store, (&caller.org.oin, host)).await?))
}

/// One case with its process (reports, weighings, plan, checks), for its members and the host; 404 for everyone
/// else.
#[utoipa::path(get, path = "/v1/cases/{id}", tag = "cases", security(("bearer" = [])), params(("id" = crate::types::CaseId, Path)),
    responses((status = 200, body = CaseView), (status = 404, body = Problem)))]
pub async fn get_one(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<CaseId>,
) -> Result<axum::Json<CaseView>, ApiError> {
    Ok(axum::Json(
        cases::view_for(
            &app.store,
            app.clock.now(),
            &id,
            (&caller.org.oin, &app.config.host_oin),
        )
        .await?,
    ))
}

/// Grant an organisation access to a case.
#[utoipa::path(post, path = "/v1/cases/{id}/members", tag = "cases", security(("bearer" = [])), params(("id" = crate::types::CaseId, Path)),
    request_body = NewMember,
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn grant(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Path(id): Path<CaseId>,
    Json(body): Json<NewMember>,
) -> Result<StatusCode, ApiError> {
    caller.require(UserRole::Procesregisseur)?;
    let registry = app.registry.current();
    cases::grant(
        &app.store,
        (&registry, &app.keyring()),
        app.clock.now(),
        &ctx.actor(&caller),
        &id,
        &body.oin,
        &body.reason,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Appoint a member the case holder (casushouder), or transfer the holding; the new holder is notified.
#[utoipa::path(post, path = "/v1/cases/{id}/holder", tag = "cases", security(("bearer" = [])), params(("id" = crate::types::CaseId, Path)),
    request_body = NewMember,
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn appoint_holder(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Path(id): Path<CaseId>,
    Json(body): Json<NewMember>,
) -> Result<StatusCode, ApiError> {
    caller.require(UserRole::Procesregisseur)?;
    let actor = ctx.actor(&caller);
    cases::appoint_holder(
        &app.store,
        (&app.keyring(), app.clock.now()),
        &actor,
        &id,
        (&body.oin, &body.reason),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The case holder asks the host to put the case on an agenda again; the host is notified (`agenda_requested`).
#[utoipa::path(post, path = "/v1/cases/{id}/agenda-requests", tag = "cases", security(("bearer" = [])), params(("id" = crate::types::CaseId, Path)),
    request_body = Why,
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn request_agenda(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Path(id): Path<CaseId>,
    Json(body): Json<Why>,
) -> Result<StatusCode, ApiError> {
    caller.require(UserRole::Professional)?;
    let actor = ctx.actor(&caller);
    cases::request_agenda(
        &app.store,
        (&app.keyring(), app.clock.now(), &app.config.host_oin),
        &actor,
        &id,
        &body.reason,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Withdraw an organisation's access to a case.
#[utoipa::path(delete, path = "/v1/cases/{id}/members/{oin}", tag = "cases", security(("bearer" = [])), params(("id" = crate::types::CaseId, Path)),
    request_body(content = MaybeWhy, description = "optional"),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn withdraw(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Path((id, oin)): Path<(CaseId, Oin)>,
    OptionalJson(body): OptionalJson<MaybeWhy>,
) -> Result<StatusCode, ApiError> {
    caller.require(UserRole::Procesregisseur)?;
    cases::withdraw(
        &app.store,
        (&app.keyring(), app.clock.now()),
        &ctx.actor(&caller),
        &id,
        &oin,
        body.reason.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Why a case is closed, and what it achieved.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Closing {
    /// Not blank; 1–500 characters.
    #[schema(min_length = 1, max_length = 500, pattern = "\\S")]
    pub reason: String,
    /// Closure outcomes from the covenant (`GET /v1/covenant`), each once.
    #[serde(default)]
    pub outcomes: Vec<String>,
}

/// Close a case, with what it achieved; its retention period starts.
#[utoipa::path(post, path = "/v1/cases/{id}/close", tag = "cases", security(("bearer" = [])), params(("id" = crate::types::CaseId, Path)), request_body = Closing,
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem)))]
pub async fn close(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Path(id): Path<CaseId>,
    Json(body): Json<Closing>,
) -> Result<StatusCode, ApiError> {
    caller.require(UserRole::Procesregisseur)?;
    let covenant = app.covenant();
    let actor = ctx.actor(&caller);
    cases::close(
        &app.store,
        (&covenant, &app.keyring(), app.clock.now()),
        &actor,
        &id,
        (&body.reason, &body.outcomes),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
