//! `/v1/requests…`, `/v1/inbox` and `/v1/meetings/{id}/shares`: thin handlers over [`crate::exchange`]. Reads of
//! content answer with the body the exchange released through the log, and nothing else.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::cases::{NewId, Why};
use super::error::{ApiError, Problem};
use super::json::{Json, Path, Query};
use super::trace::RequestContext;
use crate::app::AppState;
use crate::edge::identity::Caller;
use crate::exchange::{Exchange, Items, NewRequest, NewResponse, NewShare, Read, RequestRead, RequestView};
use crate::types::{CaseId, ItemId, MeetingId, RequestId, UserRole};

/// The exchange of this gateway, at this instant, under the covenant and registry the request started with.
pub(crate) fn exchange<'a>(
    app: &'a AppState,
    covenant: &'a crate::covenant::Covenant,
    registry: &'a crate::orgs::registry::Snapshot,
) -> Exchange<'a> {
    Exchange {
        store: &app.store,
        log: &app.log,
        keys: app.keyring(),
        registry,
        covenant,
        limits: &app.config.content,
        cache: &app.request_cache,
        now: app.clock.now(),
    }
}

pub(super) fn respond<T: Serialize>(read: Read<T>) -> Response {
    match read {
        Read::Released(released) => released.map(axum::Json).into_response(),
        Read::Nothing(body) => axum::Json(body).into_response(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Shared {
    /// Ids of the shared items.
    pub items: Vec<ItemId>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ShareQuery {
    #[param(value_type = String, pattern = "^case-[a-z0-9-]{1,64}$")]
    pub case_id: CaseId,
}

/// Ask member organisations of a case for categories, for a purpose of a meeting with the case on its agenda.
#[utoipa::path(post, path = "/v1/requests", tag = "exchange", security(("bearer" = [])), request_body = NewRequest,
    responses((status = 201, body = NewId), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem), (status = 503, body = Problem)))]
pub async fn create_request(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Json(body): Json<NewRequest>,
) -> Result<(StatusCode, axum::Json<NewId>), ApiError> {
    caller.require(UserRole::Professional)?;
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let id = exchange(&app, &covenant, &registry)
        .create_request(&ctx.actor(&caller), &body)
        .await?;
    Ok((StatusCode::CREATED, NewId::of(id)))
}

/// Requests addressed to your organisation, newest first.
#[utoipa::path(get, path = "/v1/inbox", tag = "exchange", security(("bearer" = [])),
    responses((status = 200, body = [RequestView]), (status = 403, body = Problem)))]
pub async fn inbox(State(app): State<AppState>, caller: Caller) -> Result<axum::Json<Vec<RequestView>>, ApiError> {
    caller.require(UserRole::Professional)?;
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let inbox = exchange(&app, &covenant, &registry).inbox(&caller.org.oin).await?;
    Ok(axum::Json(inbox))
}

/// Answer a request: every item is checked, and one forbidden item refuses the whole response.
#[utoipa::path(post, path = "/v1/requests/{id}/responses", tag = "exchange", security(("bearer" = [])), params(("id" = crate::types::RequestId, Path)),
    request_body = NewResponse,
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 410, body = Problem), (status = 413, body = Problem),
              (status = 422, body = Problem), (status = 503, body = Problem)))]
pub async fn respond_to(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Path(id): Path<RequestId>,
    Json(body): Json<NewResponse>,
) -> Result<StatusCode, ApiError> {
    caller.require(UserRole::Professional)?;
    let (covenant, registry) = (app.covenant(), app.registry.current());
    exchange(&app, &covenant, &registry)
        .respond(&ctx.actor(&caller), &id, &body)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Decline a request, with a reason.
#[utoipa::path(post, path = "/v1/requests/{id}/decline", tag = "exchange", security(("bearer" = [])), params(("id" = crate::types::RequestId, Path)),
    request_body = Why,
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
pub async fn decline(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Path(id): Path<RequestId>,
    Json(body): Json<Why>,
) -> Result<StatusCode, ApiError> {
    caller.require(UserRole::Professional)?;
    let (covenant, registry) = (app.covenant(), app.registry.current());
    exchange(&app, &covenant, &registry)
        .decline(&ctx.actor(&caller), &id, &body.reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The request and the responses you may receive now; each release is recorded before it is sent.
#[utoipa::path(get, path = "/v1/requests/{id}", tag = "exchange", security(("bearer" = [])), params(("id" = crate::types::RequestId, Path)),
    responses((status = 200, body = RequestRead), (status = 404, body = Problem), (status = 410, body = Problem),
              (status = 503, body = Problem)))]
pub async fn read_request(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Path(id): Path<RequestId>,
) -> Result<Response, ApiError> {
    caller.require(UserRole::Professional)?;
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let read = exchange(&app, &covenant, &registry)
        .read_request(&ctx.actor(&caller), &id)
        .await?;
    Ok(respond(read))
}

/// Share items about a case on the agenda with the other attendees of an open meeting.
#[utoipa::path(post, path = "/v1/meetings/{id}/shares", tag = "exchange", security(("bearer" = [])), params(("id" = crate::types::MeetingId, Path)),
    request_body = NewShare,
    responses((status = 201, body = Shared), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 410, body = Problem), (status = 413, body = Problem),
              (status = 422, body = Problem), (status = 503, body = Problem)))]
pub async fn share(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Path(id): Path<MeetingId>,
    Json(body): Json<NewShare>,
) -> Result<(StatusCode, axum::Json<Shared>), ApiError> {
    caller.require(UserRole::Professional)?;
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let items = exchange(&app, &covenant, &registry)
        .share(&ctx.actor(&caller), &id, &body)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(Shared { items })))
}

/// The items shared about a case in a meeting that you may receive now; each release is recorded first.
#[utoipa::path(get, path = "/v1/meetings/{id}/shares", tag = "exchange", security(("bearer" = [])),
    params(("id" = crate::types::MeetingId, Path), ShareQuery),
    responses((status = 200, body = Items), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 410, body = Problem), (status = 422, body = Problem), (status = 503, body = Problem)))]
pub async fn read_shares(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Path(id): Path<MeetingId>,
    Query(query): Query<ShareQuery>,
) -> Result<Response, ApiError> {
    caller.require(UserRole::Professional)?;
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let read = exchange(&app, &covenant, &registry)
        .read_shares(&ctx.actor(&caller), &id, &query.case_id)
        .await?;
    Ok(respond(read))
}
