//! `/v1/cases/{id}/consent…`: record, list and withdraw the client's consent (members of the case; recording and
//! withdrawing only the case holder or an organisation whose sharing needs the consent).
use axum::extract::State;
use axum::http::StatusCode;

use super::cases::{MaybeWhy, NewId};
use super::error::{ApiError, Problem};
use super::json::{Json, OptionalJson, Path};
use super::trace::RequestContext;
use crate::app::AppState;
use crate::cases::consent::{ConsentView, Context, NewConsent};
use crate::edge::identity::Caller;
use crate::types::{CaseId, ConsentId, UserRole};

/// Record the client's consent: categories, the organisations they may go to, and until when.
#[utoipa::path(post, path = "/v1/cases/{id}/consent", tag = "cases", security(("bearer" = [])), params(("id" = crate::types::CaseId, Path)),
    request_body = NewConsent,
    responses((status = 201, body = NewId), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn record(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Path(id): Path<CaseId>,
    Json(body): Json<NewConsent>,
) -> Result<(StatusCode, axum::Json<NewId>), ApiError> {
    caller.require(UserRole::Professional)?;
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let keys = app.keyring();
    let context = Context {
        store: &app.store,
        covenant: &covenant,
        registry: &registry,
        keys: &keys,
    };
    let id = context.record(app.clock.now(), &ctx.actor(&caller), &id, &body).await?;
    Ok((StatusCode::CREATED, NewId::of(id)))
}

/// The consents recorded for a case, oldest first, withdrawn ones included.
#[utoipa::path(get, path = "/v1/cases/{id}/consent", tag = "cases", security(("bearer" = [])), params(("id" = crate::types::CaseId, Path)),
    responses((status = 200, body = [ConsentView]), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Path(id): Path<CaseId>,
) -> Result<axum::Json<Vec<ConsentView>>, ApiError> {
    caller.require(UserRole::Professional)?;
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let keys = app.keyring();
    let context = Context {
        store: &app.store,
        covenant: &covenant,
        registry: &registry,
        keys: &keys,
    };
    Ok(axum::Json(context.list(&ctx.actor(&caller), &id).await?))
}

/// The client withdraws a consent (GDPR art. 7(3)): from now on it lets nothing through.
#[utoipa::path(post, path = "/v1/cases/{id}/consent/{consent_id}/withdraw", tag = "cases",
    security(("bearer" = [])), params(("id" = crate::types::CaseId, Path)), request_body(content = MaybeWhy, description = "optional"),
    responses((status = 200, body = ConsentView), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn withdraw(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Path((id, consent_id)): Path<(CaseId, ConsentId)>,
    OptionalJson(body): OptionalJson<MaybeWhy>,
) -> Result<axum::Json<ConsentView>, ApiError> {
    caller.require(UserRole::Professional)?;
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let keys = app.keyring();
    let context = Context {
        store: &app.store,
        covenant: &covenant,
        registry: &registry,
        keys: &keys,
    };
    let actor = ctx.actor(&caller);
    let view = context
        .withdraw(app.clock.now(), &actor, (&id, &consent_id), body.reason.as_deref())
        .await?;
    Ok(axum::Json(view))
}
