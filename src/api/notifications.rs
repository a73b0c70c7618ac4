//! `/v1/notifications`: what the caller's organisation has been told, so nobody needs an id passed on by phone.
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, Problem};
use super::json::Query;
use crate::app::AppState;
use crate::cases::notifications::{self, Notification};
use crate::edge::identity::Caller;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct After {
    /// Only notifications with a higher id (default 0: from the first).
    #[param(minimum = 0)]
    pub after: Option<i64>,
}

/// The organisation's notifications after `after`, oldest first, at most 100 (a request to answer, a case it was
/// made a member of, a meeting it was added to).
#[utoipa::path(get, path = "/v1/notifications", tag = "cases", security(("bearer" = [])), params(After),
    responses((status = 200, body = [Notification]), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<After>,
) -> Result<axum::Json<Vec<Notification>>, ApiError> {
    let after = q.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::validation("after: must not be negative"));
    }
    Ok(axum::Json(
        notifications::after(&app.store, &caller.org.oin, after).await?,
    ))
}
