//! `/v1/admin/people…`: the people of organisations who use the console, and their lifecycle. Host `admin` role
//! only; the same rules as `doelpoort person …` (`orgs::people`).
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::api::error::{ApiError, Problem};
use crate::api::extractors::Admin;
use crate::api::json::{Json, Query};
use crate::app::AppState;
use crate::edge::tls::TlsMaterial;
use crate::orgs::people::{self, Credential, NewPerson, PersonStep, PersonView};

/// A person to register with a certificate: signed by the gateway's CA from their own request (`csr`), or from
/// the organisation's own CA (`certificate`). Exactly one of the two.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonBody {
    #[serde(flatten)]
    pub person: NewPerson,
    /// PEM certificate request (PKCS#10) whose subject names the OIN in its serialNumber.
    pub csr: Option<String>,
    /// PEM certificate from the organisation's own CA (a trust anchor of the gateway).
    pub certificate: Option<String>,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct PersonAdded {
    #[serde(flatten)]
    pub person: PersonView,
    /// The certificate the gateway's CA signed, PEM (with `csr`).
    pub certificate_pem: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PeopleQuery {
    /// Only the people of this organisation.
    #[param(pattern = "^[0-9]{20}$")]
    pub oin: Option<String>,
}

/// Register a person with a personal certificate.
#[utoipa::path(post, path = "/v1/admin/people", tag = "admin", security(("bearer" = [])), request_body = PersonBody,
    responses((status = 201, body = PersonAdded), (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn add(
    State(app): State<AppState>,
    Admin(actor): Admin,
    Json(body): Json<PersonBody>,
) -> Result<(StatusCode, axum::Json<PersonAdded>), ApiError> {
    let credential = match (&body.csr, &body.certificate) {
        (Some(csr), None) => Credential::Csr(csr),
        (None, Some(cert)) => Credential::Cert(cert),
        _ => return Err(ApiError::validation("give exactly one of csr and certificate")),
    };
    let material = TlsMaterial::load(&app.config.tls).map_err(|e| ApiError::internal(&e))?;
    let done = people::add(
        &app.store,
        material.own_ca(),
        (app.clock.now(), &actor, &app.config.host_oin),
        &body.person,
        credential,
    )
    .await?;
    app.registry_changed().await;
    let certificate_pem = done.signed.map(|s| s.cert_pem);
    Ok((
        StatusCode::CREATED,
        axum::Json(PersonAdded {
            person: done.person,
            certificate_pem,
        }),
    ))
}

/// Every registered person (of one organisation with `oin`).
#[utoipa::path(get, path = "/v1/admin/people", tag = "admin", security(("bearer" = [])), params(PeopleQuery),
    responses((status = 200, body = [PersonView]), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(app): State<AppState>,
    _: Admin,
    Query(q): Query<PeopleQuery>,
) -> Result<axum::Json<Vec<PersonView>>, ApiError> {
    Ok(axum::Json(people::list(&app.store, q.oin.as_deref()).await?))
}

/// One person with their certificates.
#[utoipa::path(get, path = "/v1/admin/people/{oin}/{id}", tag = "admin", security(("bearer" = [])),
    params(("oin" = crate::types::Oin, Path), ("id" = crate::types::PersonId, Path)),
    responses((status = 200, body = PersonView), (status = 404, body = Problem)))]
pub async fn get_one(
    State(app): State<AppState>,
    _: Admin,
    Path((oin, id)): Path<(String, String)>,
) -> Result<axum::Json<PersonView>, ApiError> {
    Ok(axum::Json(people::get(&app.store, &oin, &id).await?))
}

/// Suspend, reinstate or remove a person (`step` is `suspend`, `reinstate` or `remove`); refused at once.
#[utoipa::path(post, path = "/v1/admin/people/{oin}/{id}/{step}", tag = "admin", security(("bearer" = [])),
    params(("oin" = crate::types::Oin, Path), ("id" = crate::types::PersonId, Path),
           ("step" = String, Path, pattern = "^(suspend|reinstate|remove)$")),
    responses((status = 200, body = PersonView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn step(
    State(app): State<AppState>,
    Admin(actor): Admin,
    Path((oin, id, step)): Path<(String, String, String)>,
) -> Result<axum::Json<PersonView>, ApiError> {
    let step = PersonStep::parse(&step).ok_or_else(|| ApiError::not_found("no such resource"))?;
    let view = people::transition(&app.store, (app.clock.now(), &actor), &oin, &id, step).await?;
    app.registry_changed().await;
    Ok(axum::Json(view))
}
