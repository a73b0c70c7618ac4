//! `POST /v1/lookups`: hit/no-hit for the roles the covenant allows. The answer leaves only with its `lookup`
//! record's receipt; over the per-user limit the caller gets 429 with `Retry-After`.
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, Problem};
use super::json::Json;
use super::trace::RequestContext;
use crate::app::AppState;
use crate::cases::lookups::{LookupAnswer, LookupError, LookupRequest, Lookups};
use crate::edge::identity::Caller;
use crate::types::UserRole;

/// Is this person discussed in the ZVH, and whom to contact? Nothing more.
#[utoipa::path(post, path = "/v1/lookups", tag = "lookups", security(("bearer" = [])), request_body = LookupRequest,
    responses((status = 200, body = LookupAnswer), (status = 403, body = Problem), (status = 422, body = Problem),
              (status = 429, body = Problem, headers(("retry-after" = u64, description = "seconds to wait"))),
              (status = 503, body = Problem)))]
pub async fn lookup(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Json(body): Json<LookupRequest>,
) -> Result<Response, ApiError> {
    caller.require(UserRole::Professional)?;
    let covenant = app.covenant();
    let registry = app.registry.current();
    let lookups = Lookups {
        store: &app.store,
        log: &app.log,
        pseudonyms: &app.pseudonyms,
        registry: &registry,
        covenant: &covenant,
        limiter: &app.lookup_limiter,
        host_oin: &app.config.host_oin,
    };
    let answer = lookups
        .lookup(
            &ctx.actor(&caller),
            &caller.org.covenant_roles,
            &caller.org.signed_versions,
            &body,
        )
        .await;
    match answer {
        Ok(released) => Ok(released.map(axum::Json).into_response()),
        Err(LookupError::RateLimited { retry_after }) => {
            let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            let mut response = ApiError::from(LookupError::RateLimited { retry_after }).into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}
