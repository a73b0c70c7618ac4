//! The ZVH process: `GET /v1/intake`, `POST /v1/cases/{id}/weighing`, `GET /v1/monitoring`,
//! `POST /v1/cases/{id}/monitoring` (the host's procesregisseur), and the case file `GET|POST
//! /v1/cases/{id}/file` (members).
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;

use super::cases::NewId;
use super::error::{ApiError, Problem};
use super::exchange::{exchange, respond, Shared};
use super::json::{Json, Path, Query};
use super::trace::RequestContext;
use crate::app::AppState;
use crate::cases::process::{self, CheckView, IntakeReport, NewCheck, NewWeighing};
use crate::edge::identity::Caller;
use crate::exchange::{Items, NewFileItems};
use crate::types::{CaseId, CheckState, UserRole};

/// Every report not weighed yet, oldest first (at most 100), with its summary where the covenant's intake rule
/// allows it; each summary shown is a recorded disclosure to the host (`doelpoort-log-record` names them).
#[utoipa::path(get, path = "/v1/intake", tag = "process", security(("bearer" = [])),
    responses((status = 200, body = [IntakeReport]), (status = 403, body = Problem), (status = 503, body = Problem)))]
pub async fn intake(State(app): State<AppState>, caller: Caller, ctx: RequestContext) -> Result<Response, ApiError> {
    caller.require(UserRole::Procesregisseur)?;
    let (covenant, registry, keys) = (app.covenant(), app.registry.current(), app.keyring());
    let read = process::intake(&app.store, &app.log, (&registry, &covenant, &keys), &ctx.actor(&caller)).await?;
    Ok(respond(read))
}

/// Record the weighing of a case in a briefing that has it on its agenda; its reporters are told the outcome.
#[utoipa::path(post, path = "/v1/cases/{id}/weighing", tag = "process", security(("bearer" = [])),
    params(("id" = crate::types::CaseId, Path)), request_body = NewWeighing,
    responses((status = 201, body = NewId), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn weigh(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Path(id): Path<CaseId>,
    Json(body): Json<NewWeighing>,
) -> Result<(StatusCode, axum::Json<NewId>), ApiError> {
    caller.require(UserRole::Procesregisseur)?;
    let covenant = app.covenant();
    let weighing = process::weigh(
        &app.store,
        (&covenant, app.clock.now()),
        &ctx.actor(&caller),
        &id,
        &body,
    )
    .await?;
    Ok((StatusCode::CREATED, NewId::of(weighing)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CheckQuery {
    /// Only checks in this state (`due`, `overdue`, `done`).
    pub state: Option<CheckState>,
}

/// The monitoring checks of open cases by due date: `due`, `overdue` (its date has passed) or `done`.
#[utoipa::path(get, path = "/v1/monitoring", tag = "process", security(("bearer" = [])), params(CheckQuery),
    responses((status = 200, body = [CheckView]), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn monitoring(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<CheckQuery>,
) -> Result<axum::Json<Vec<CheckView>>, ApiError> {
    caller.require(UserRole::Procesregisseur)?;
    Ok(axum::Json(
        process::checks(&app.store, app.clock.now(), None, q.state).await?,
    ))
}

/// Record a scheduled monitoring check of a case.
#[utoipa::path(post, path = "/v1/cases/{id}/monitoring", tag = "process", security(("bearer" = [])),
    params(("id" = crate::types::CaseId, Path)), request_body = NewCheck,
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn record_check(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Path(id): Path<CaseId>,
    Json(body): Json<NewCheck>,
) -> Result<StatusCode, ApiError> {
    caller.require(UserRole::Procesregisseur)?;
    let keys = app.keyring();
    process::record_check(&app.store, (&keys, app.clock.now()), &ctx.actor(&caller), &id, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The case file: the plan and progress shared about the case that you may receive, until the case closes.
#[utoipa::path(get, path = "/v1/cases/{id}/file", tag = "process", security(("bearer" = [])),
    params(("id" = crate::types::CaseId, Path)),
    responses((status = 200, body = Items), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 410, body = Problem), (status = 503, body = Problem)))]
pub async fn read_file(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Path(id): Path<CaseId>,
) -> Result<Response, ApiError> {
    caller.require(UserRole::Professional)?;
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let read = exchange(&app, &covenant, &registry)
        .read_file(&ctx.actor(&caller), &id)
        .await?;
    Ok(respond(read))
}

/// Add progress to the case file outside a meeting (the case holder, or the host), judged as a monitoring share.
#[utoipa::path(post, path = "/v1/cases/{id}/file", tag = "process", security(("bearer" = [])),
    params(("id" = crate::types::CaseId, Path)), request_body = NewFileItems,
    responses((status = 201, body = Shared), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem),
              (status = 503, body = Problem)))]
pub async fn add_to_file(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Path(id): Path<CaseId>,
    Json(body): Json<NewFileItems>,
) -> Result<(StatusCode, axum::Json<Shared>), ApiError> {
    caller.require(UserRole::Professional)?;
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let items = exchange(&app, &covenant, &registry)
        .add_to_file(&ctx.actor(&caller), &id, &body)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(Shared { items })))
}
