//! `/v1/meetings…`: the host's procesregisseur convenes a meeting, sets its agenda and attendees and closes it;
//! attendees read it (everyone else gets 404).
use axum::extract::State;
use axum::http::StatusCode;

use super::cases::{NewId, Why};
use super::error::{ApiError, Problem};
use super::json::{Json, Path, Query};
use super::trace::RequestContext;
use crate::app::AppState;
use crate::cases::meetings::{self, AgendaItem, MeetingView, NewAttendee, NewMeeting};
use crate::edge::identity::Caller;
use crate::types::{Instant, MeetingId, UserRole};

/// Convene a meeting of a covenant meeting type; the convening organisation attends it.
#[utoipa::path(post, path = "/v1/meetings", tag = "meetings", security(("bearer" = [])), request_body = NewMeeting,
    responses((status = 201, body = NewId), (status = 403, body = Problem), (status = 422, body = Problem),
              (status = 503, body = Problem)))]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Json(body): Json<NewMeeting>,
) -> Result<(StatusCode, axum::Json<NewId>), ApiError> {
    caller.require(UserRole::Procesregisseur)?;
    let covenant = app.covenant();
    let id = meetings::create(&app.store, &covenant, app.clock.now(), &ctx.actor(&caller), &body).await?;
    Ok((StatusCode::CREATED, NewId::of(id)))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Window {
    /// Only meetings that end after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<String>,
    /// Only meetings that start before this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<String>,
}

fn instant(field: &str, text: Option<&str>) -> Result<Option<Instant>, ApiError> {
    text.map(|t| {
        t.parse::<Instant>()
            .map_err(|_| ApiError::validation(format!("{field}: must be an RFC 3339 instant")))
    })
    .transpose()
}

/// The meetings the caller's organisation attends whose window overlaps `from`–`to`, newest first (at most 200).
#[utoipa::path(get, path = "/v1/meetings", tag = "meetings", security(("bearer" = [])), params(Window),
    responses((status = 200, body = [MeetingView]), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<Window>,
) -> Result<axum::Json<Vec<MeetingView>>, ApiError> {
    let window = (instant("from", q.from.as_deref())?, instant("to", q.to.as_deref())?);
    Ok(axum::Json(
        meetings::attended_by(&app.store, app.clock.now(), &caller.org.oin, window).await?,
    ))
}

/// A meeting, for its attendees; 404 for everyone else.
#[utoipa::path(get, path = "/v1/meetings/{id}", tag = "meetings", security(("bearer" = [])), params(("id" = crate::types::MeetingId, Path)),
    responses((status = 200, body = MeetingView), (status = 404, body = Problem)))]
pub async fn get_one(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<MeetingId>,
) -> Result<axum::Json<MeetingView>, ApiError> {
    let view = meetings::view_as_attendee(&app.store, app.clock.now(), &id, &caller.org.oin).await?;
    Ok(axum::Json(view))
}

/// Put a case on the agenda.
#[utoipa::path(post, path = "/v1/meetings/{id}/agenda", tag = "meetings", security(("bearer" = [])), params(("id" = crate::types::MeetingId, Path)),
    request_body = AgendaItem,
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn agenda(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Path(id): Path<MeetingId>,
    Json(body): Json<AgendaItem>,
) -> Result<StatusCode, ApiError> {
    caller.require(UserRole::Procesregisseur)?;
    meetings::add_to_agenda(&app.store, app.clock.now(), &ctx.actor(&caller), &id, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add an attending organisation; an incidental one with its confidentiality declaration.
#[utoipa::path(post, path = "/v1/meetings/{id}/attendees", tag = "meetings", security(("bearer" = [])), params(("id" = crate::types::MeetingId, Path)),
    request_body = NewAttendee,
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn attendees(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Path(id): Path<MeetingId>,
    Json(body): Json<NewAttendee>,
) -> Result<StatusCode, ApiError> {
    caller.require(UserRole::Procesregisseur)?;
    let registry = app.registry.current();
    meetings::add_attendee(&app.store, &registry, app.clock.now(), &ctx.actor(&caller), &id, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Close a meeting; nothing is shared in it afterwards.
#[utoipa::path(post, path = "/v1/meetings/{id}/close", tag = "meetings", security(("bearer" = [])), params(("id" = crate::types::MeetingId, Path)), request_body = Why,
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn close(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Path(id): Path<MeetingId>,
    Json(body): Json<Why>,
) -> Result<StatusCode, ApiError> {
    caller.require(UserRole::Procesregisseur)?;
    meetings::close(&app.store, app.clock.now(), &ctx.actor(&caller), &id, &body.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}
