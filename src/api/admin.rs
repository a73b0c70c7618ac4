//! `/v1/admin/…`: onboarding and lifecycle of organisations, certificate revocation. Host `admin` role only.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::error::{ApiError, Problem};
use crate::api::extractors::Admin;
use crate::api::json::{Json, OptionalJson, Query};
use crate::app::AppState;
use crate::log::actor::AnyActor;
use crate::log::chain::Kind;
use crate::log::LogFilter;
use crate::orgs::onboarding::{self, Credentials, NewOrg, OrgView, Signature, Transition};

/// Why a lifecycle step is taken; the body may be left out.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// 1–500 characters without control characters, when given.
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeysBody {
    /// The new public token-signing keys (JWKS); they replace all current keys.
    #[schema(value_type = Object)]
    pub jwks: serde_json::Value,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    /// Certificate serial number, hexadecimal (1–20 bytes; `:` separators allowed).
    #[schema(pattern = "^(0*[0-9A-Fa-f]{1,40}|([0-9A-Fa-f]{2}:){0,19}[0-9A-Fa-f]{2})$")]
    pub serial: String,
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Revoked {
    pub id: String,
    pub serial: String,
    /// False when the certificate was revoked already.
    pub newly_revoked: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    /// The OIN of the organisation.
    pub id: String,
    #[serde(flatten)]
    pub organisation: OrgView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminAction {
    /// Sequence number of the action's record in the disclosure log.
    pub id: i64,
    pub at: String,
    pub actor_oin: Option<String>,
    pub actor_sub: String,
    pub action: String,
    pub target: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ActionsQuery {
    /// How many of the most recent actions (1–1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// Onboard a new organisation.
#[utoipa::path(post, path = "/v1/admin/organisations", tag = "admin", security(("bearer" = [])), request_body = NewOrg,
    responses((status = 201, body = Created), (status = 409, body = Problem), (status = 422, body = Problem),
              (status = 403, body = Problem)))]
pub async fn add(
    State(app): State<AppState>,
    Admin(actor): Admin,
    Json(body): Json<NewOrg>,
) -> Result<(StatusCode, axum::Json<Created>), ApiError> {
    let org = onboarding::add(
        &app.store,
        &app.covenant(),
        (&app.config.host_oin, app.clock.now()),
        &actor,
        &body,
    )
    .await?;
    app.registry_changed().await;
    Ok((
        StatusCode::CREATED,
        axum::Json(Created {
            id: org.oin.to_string(),
            organisation: org,
        }),
    ))
}

/// Every onboarded organisation.
#[utoipa::path(get, path = "/v1/admin/organisations", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = [OrgView]), (status = 403, body = Problem)))]
pub async fn list(State(app): State<AppState>, _: Admin) -> Result<axum::Json<Vec<OrgView>>, ApiError> {
    Ok(axum::Json(onboarding::list(&app.store).await?))
}

/// One organisation.
#[utoipa::path(get, path = "/v1/admin/organisations/{oin}", tag = "admin", security(("bearer" = [])),
    params(("oin" = crate::types::Oin, Path)), responses((status = 200, body = OrgView), (status = 404, body = Problem)))]
pub async fn get_one(
    State(app): State<AppState>,
    _: Admin,
    Path(oin): Path<String>,
) -> Result<axum::Json<OrgView>, ApiError> {
    Ok(axum::Json(onboarding::get(&app.store, &oin).await?))
}

/// The organisation's token keys (current and retired) and the certificates the gateway issued to it, with their
/// revocations: what a revocation needs to know.
#[utoipa::path(get, path = "/v1/admin/organisations/{oin}/credentials", tag = "admin", security(("bearer" = [])),
    params(("oin" = crate::types::Oin, Path)), responses((status = 200, body = Credentials), (status = 404, body = Problem)))]
pub async fn credentials(
    State(app): State<AppState>,
    _: Admin,
    Path(oin): Path<String>,
) -> Result<axum::Json<Credentials>, ApiError> {
    Ok(axum::Json(onboarding::credentials(&app.store, &oin).await?))
}

/// Record a covenant signature.
#[utoipa::path(post, path = "/v1/admin/organisations/{oin}/signatures", tag = "admin", security(("bearer" = [])),
    params(("oin" = crate::types::Oin, Path)), request_body = Signature,
    responses((status = 201, body = OrgView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn sign(
    State(app): State<AppState>,
    Admin(actor): Admin,
    Path(oin): Path<String>,
    Json(body): Json<Signature>,
) -> Result<(StatusCode, axum::Json<OrgView>), ApiError> {
    let org = onboarding::sign(&app.store, app.clock.now(), &actor, &oin, &body).await?;
    app.registry_changed().await;
    Ok((StatusCode::CREATED, axum::Json(org)))
}

/// Replace the organisation's token-signing keys.
#[utoipa::path(put, path = "/v1/admin/organisations/{oin}/keys", tag = "admin", security(("bearer" = [])),
    params(("oin" = crate::types::Oin, Path)), request_body = KeysBody,
    responses((status = 200, body = OrgView), (status = 422, body = Problem)))]
pub async fn rotate_keys(
    State(app): State<AppState>,
    Admin(actor): Admin,
    Path(oin): Path<String>,
    Json(body): Json<KeysBody>,
) -> Result<axum::Json<OrgView>, ApiError> {
    let org = onboarding::rotate_keys(&app.store, app.clock.now(), &actor, &oin, &body.jwks).await?;
    app.registry_changed().await;
    Ok(axum::Json(org))
}

async fn step(
    app: AppState,
    actor: AnyActor,
    oin: String,
    reason: Reason,
    step: Transition,
) -> Result<axum::Json<OrgView>, ApiError> {
    let org = onboarding::transition(
        &app.store,
        app.clock.now(),
        &actor,
        &app.config.host_oin,
        &oin,
        step,
        reason.reason.as_deref(),
    )
    .await?;
    app.registry_changed().await;
    Ok(axum::Json(org))
}

/// Suspend an organisation: its certificates and tokens are refused until it is reinstated.
#[utoipa::path(post, path = "/v1/admin/organisations/{oin}/suspend", tag = "admin", security(("bearer" = [])),
    params(("oin" = crate::types::Oin, Path)), request_body(content = Reason, description = "optional"), responses((status = 200, body = OrgView), (status = 409, body = Problem)))]
pub async fn suspend(
    State(app): State<AppState>,
    Admin(actor): Admin,
    Path(oin): Path<String>,
    OptionalJson(body): OptionalJson<Reason>,
) -> Result<axum::Json<OrgView>, ApiError> {
    step(app, actor, oin, body, Transition::Suspend).await
}

/// Reinstate a suspended organisation.
#[utoipa::path(post, path = "/v1/admin/organisations/{oin}/reinstate", tag = "admin", security(("bearer" = [])),
    params(("oin" = crate::types::Oin, Path)), request_body(content = Reason, description = "optional"), responses((status = 200, body = OrgView), (status = 409, body = Problem)))]
pub async fn reinstate(
    State(app): State<AppState>,
    Admin(actor): Admin,
    Path(oin): Path<String>,
    OptionalJson(body): OptionalJson<Reason>,
) -> Result<axum::Json<OrgView>, ApiError> {
    step(app, actor, oin, body, Transition::Reinstate).await
}

/// Offboard an organisation for good; the certificates the gateway issued to it are revoked.
#[utoipa::path(post, path = "/v1/admin/organisations/{oin}/offboard", tag = "admin", security(("bearer" = [])),
    params(("oin" = crate::types::Oin, Path)), request_body(content = Reason, description = "optional"), responses((status = 200, body = OrgView), (status = 409, body = Problem)))]
pub async fn offboard(
    State(app): State<AppState>,
    Admin(actor): Admin,
    Path(oin): Path<String>,
    OptionalJson(body): OptionalJson<Reason>,
) -> Result<axum::Json<OrgView>, ApiError> {
    step(app, actor, oin, body, Transition::Offboard).await
}

/// Revoke a client certificate by serial: new connections with it fail the handshake, open ones are refused at
/// their next request.
#[utoipa::path(post, path = "/v1/admin/revocations", tag = "admin", security(("bearer" = [])), request_body = Revocation,
    responses((status = 201, body = Revoked), (status = 200, body = Revoked), (status = 422, body = Problem)))]
pub async fn revoke(
    State(app): State<AppState>,
    Admin(actor): Admin,
    Json(body): Json<Revocation>,
) -> Result<(StatusCode, axum::Json<Revoked>), ApiError> {
    let serial = onboarding::normalise_serial(&body.serial)?;
    let newly_revoked =
        onboarding::revoke_certificate(&app.store, app.clock.now(), &actor, &serial, &body.reason).await?;
    app.registry_changed().await;
    let status = if newly_revoked {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        axum::Json(Revoked {
            id: serial.clone(),
            serial,
            newly_revoked,
        }),
    ))
}

/// The most recent administrative actions (who did what, when).
#[utoipa::path(get, path = "/v1/admin/actions", tag = "admin", security(("bearer" = [])), params(ActionsQuery),
    responses((status = 200, body = [AdminAction]), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn actions(
    State(app): State<AppState>,
    _: Admin,
    Query(q): Query<ActionsQuery>,
) -> Result<axum::Json<Vec<AdminAction>>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::validation("limit: must be 1–1000"));
    }
    let filter = LogFilter {
        kinds: vec![Kind::Admin],
        ..LogFilter::default()
    };
    let records = app.log.records().query(&filter, i64::MAX, true, limit).await?;
    Ok(axum::Json(
        records
            .into_iter()
            .map(|r| AdminAction {
                id: r.seq,
                at: r.at,
                actor_oin: r.entry.actor_oin,
                actor_sub: r.entry.actor_sub.unwrap_or_default(),
                action: r.entry.action.unwrap_or_default(),
                target: r.entry.target.unwrap_or_default(),
                detail: r
                    .entry
                    .detail
                    .and_then(|d| serde_json::from_str(&d).ok())
                    .unwrap_or(serde_json::Value::Null),
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CovenantReloaded {
    /// The version in force before the reload.
    pub before: String,
    /// The version in force now.
    pub after: String,
}

/// Puts the covenant files in force again (also done by SIGHUP). Files that do not check are refused with every
/// problem named, and the running version stays in force.
#[utoipa::path(post, path = "/v1/admin/covenant/reload", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = CovenantReloaded), (status = 403, body = Problem),
              (status = 422, body = Problem), (status = 503, body = Problem)))]
pub async fn reload_covenant(
    State(app): State<AppState>,
    Admin(actor): Admin,
) -> Result<axum::Json<CovenantReloaded>, ApiError> {
    match app.reload_covenant(&actor).await {
        Ok(r) => Ok(axum::Json(CovenantReloaded {
            before: r.before,
            after: r.after,
        })),
        Err(crate::app::ReloadError::Log(e)) => Err(e.into()),
        Err(crate::app::ReloadError::Covenant(e)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "covenant_invalid",
            format!("{e}; the running version stays in force"),
        )),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeysReloaded {
    /// Id (fingerprint, not the key) of the master key that wraps new data keys.
    pub current: String,
    /// Ids of the retired master keys still held to unwrap older data keys.
    pub retired: Vec<String>,
}

/// Reads the content master key files named in the configuration file again (also done by SIGHUP), for a
/// rotation without restart. Refused, with the running keys left in force, when a file does not read or when a
/// key that still wraps data keys would be dropped.
#[utoipa::path(post, path = "/v1/admin/keys/reload", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = KeysReloaded), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem), (status = 503, body = Problem)))]
pub async fn reload_keys(
    State(app): State<AppState>,
    Admin(actor): Admin,
) -> Result<axum::Json<KeysReloaded>, ApiError> {
    use crate::app::KeysReloadError as E;
    let kept = "; the running keys stay in force";
    match app.reload_keys(&actor).await {
        Ok(r) => Ok(axum::Json(KeysReloaded {
            current: r.current,
            retired: r.retired,
        })),
        Err(E::Log(e)) => Err(e.into()),
        Err(E::Store(e)) => Err(e.into()),
        Err(e @ E::StillInUse(_)) => Err(ApiError::new(StatusCode::CONFLICT, "key_in_use", format!("{e}{kept}"))),
        Err(e @ (E::Config(_) | E::Key(_))) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "keys_invalid",
            format!("{e}{kept}"),
        )),
    }
}
