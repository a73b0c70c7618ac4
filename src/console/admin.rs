//! The administrator's pages: organisations (onboard with a JWKS upload or paste, sign, suspend, reinstate,
//! offboard, keys and certificates, revoke) and people. Each action calls the function the admin API calls, with
//! its validation and messages; a refused action shows the form again with the message.
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::{page, problem, Dutch as _, Frame, Refusal, Visitor};
use crate::api::error::ApiError;
use crate::app::AppState;
use crate::edge::tls::TlsMaterial;
use crate::log::actor::AnyActor;
use crate::orgs::onboarding::{self, Credentials, NewOrg, OrgView, Signature, Transition};
use crate::orgs::people::{self, Credential, NewPerson, PersonStep, PersonView};
use crate::types::UserRole;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/admin/organisations", get(organisations).post(onboard))
        .route("/console/admin/organisations/{oin}", get(organisation))
        .route("/console/admin/organisations/{oin}/signatures", post(sign))
        .route("/console/admin/organisations/{oin}/keys", post(rotate_keys))
        .route("/console/admin/organisations/{oin}/{step}", post(lifecycle))
        .route("/console/admin/revocations", post(revoke))
        .route("/console/admin/people", get(people_page).post(add_person))
        .route("/console/admin/people/{oin}/{id}/{step}", post(person_step))
}

/// The host's administrator, as the records of their actions name them.
fn admin(v: &Visitor) -> Result<AnyActor, Refusal> {
    v.require(UserRole::Admin)?;
    Ok(v.ctx.actor(&v.caller).into())
}

#[derive(Template)]
#[template(path = "console/organisations.html")]
struct OrganisationsPage {
    frame: Frame,
    orgs: Vec<OrgView>,
    roles: Vec<String>,
    error: Option<String>,
    form: OnboardForm,
}

#[derive(Debug, Default)]
struct OnboardForm {
    oin: String,
    name: String,
    kind: String,
    roles: Vec<String>,
    jwks: String,
    municipalities: String,
}

async fn organisations(State(app): State<AppState>, v: Visitor) -> Result<Response, Refusal> {
    admin(&v)?;
    organisations_page(&app, &v, None, OnboardForm::default()).await
}

async fn organisations_page(
    app: &AppState,
    v: &Visitor,
    error: Option<String>,
    form: OnboardForm,
) -> Result<Response, Refusal> {
    let body = OrganisationsPage {
        frame: v.frame("Organisaties"),
        orgs: onboarding::list(&app.store).await?,
        roles: app.covenant().roles.iter().map(|r| r.id.clone()).collect(),
        error: error.clone(),
        form,
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, page(&body)).into_response())
}

/// Reads the onboarding form (multipart, for the JWKS file): text fields, every checked role, and the JWKS from
/// the file or else the pasted text.
async fn onboard_form(mut multipart: Multipart) -> Result<OnboardForm, String> {
    let mut form = OnboardForm::default();
    let mut file = String::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| "het formulier kon niet worden gelezen".to_owned())?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let text = field
            .text()
            .await
            .map_err(|_| "het formulier kon niet worden gelezen".to_owned())?;
        match name.as_str() {
            "oin" => form.oin = text.trim().to_owned(),
            "name" => form.name = text,
            "kind" => form.kind = text,
            "roles" => form.roles.push(text),
            "jwks" => form.jwks = text,
            "municipalities" => form.municipalities = text,
            "jwks_file" => file = text,
            _ => {}
        }
    }
    if !file.trim().is_empty() {
        form.jwks = file;
    }
    Ok(form)
}

async fn onboard(State(app): State<AppState>, v: Visitor, multipart: Multipart) -> Result<Response, Refusal> {
    let actor = admin(&v)?;
    let form = match onboard_form(multipart).await {
        Ok(f) => f,
        Err(e) => return organisations_page(&app, &v, Some(e), OnboardForm::default()).await,
    };
    let Ok(jwks) = serde_json::from_str::<serde_json::Value>(&form.jwks) else {
        let e = "jwks: is not a JSON document (upload the JWKS file or paste its text)".to_owned();
        return organisations_page(&app, &v, Some(e), form).await;
    };
    let new = NewOrg {
        oin: form.oin.clone(),
        name: form.name.clone(),
        kind: form.kind.clone(),
        covenant_roles: form.roles.clone(),
        jwks,
        municipalities: form
            .municipalities
            .split([',', ' '])
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    let added = onboarding::add(
        &app.store,
        &app.covenant(),
        (&app.config.host_oin, app.clock.now()),
        &actor,
        &new,
    )
    .await;
    match added {
        Ok(org) => {
            app.registry_changed().await;
            Ok(Redirect::to(&format!("/console/admin/organisations/{}", org.oin)).into_response())
        }
        Err(e) => {
            let message = problem(e.into())?;
            organisations_page(&app, &v, Some(message), form).await
        }
    }
}

#[derive(Template)]
#[template(path = "console/organisation.html")]
struct OrganisationPage {
    frame: Frame,
    org: OrgView,
    held: Credentials,
    people: Vec<PersonView>,
    version: String,
    today: String,
    error: Option<String>,
    is_host: bool,
}

async fn organisation(State(app): State<AppState>, v: Visitor, Path(oin): Path<String>) -> Result<Response, Refusal> {
    admin(&v)?;
    organisation_page(&app, &v, &oin, None).await
}

async fn organisation_page(app: &AppState, v: &Visitor, oin: &str, error: Option<String>) -> Result<Response, Refusal> {
    let org = onboarding::get(&app.store, oin).await?;
    let body = OrganisationPage {
        frame: v.frame(&org.name),
        held: onboarding::credentials(&app.store, oin).await?,
        people: people::list(&app.store, Some(oin)).await?,
        version: app.covenant().version.clone(),
        today: crate::types::Instant::from(app.clock.now())
            .to_string()
            .chars()
            .take(10)
            .collect(),
        is_host: org.oin == app.config.host_oin,
        error: error.clone(),
        org,
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, page(&body)).into_response())
}

/// After an action on an organisation: its page, with the message when the action was refused.
async fn after(app: &AppState, v: &Visitor, oin: &str, done: Result<(), ApiError>) -> Result<Response, Refusal> {
    match done {
        Ok(()) => {
            app.registry_changed().await;
            Ok(Redirect::to(&format!("/console/admin/organisations/{oin}")).into_response())
        }
        Err(e) => {
            let message = problem(e)?;
            organisation_page(app, v, oin, Some(message)).await
        }
    }
}

async fn sign(
    State(app): State<AppState>,
    v: Visitor,
    Path(oin): Path<String>,
    Form(sig): Form<Signature>,
) -> Result<Response, Refusal> {
    let actor = admin(&v)?;
    let done = onboarding::sign(&app.store, app.clock.now(), &actor, &oin, &sig).await;
    after(&app, &v, &oin, done.map(|_| ()).map_err(ApiError::from)).await
}

#[derive(Debug, Deserialize)]
struct KeysForm {
    jwks: String,
}

/// Replaces every current token key of the organisation (the way to revoke a key): tokens the old keys signed
/// are refused from then on.
async fn rotate_keys(
    State(app): State<AppState>,
    v: Visitor,
    Path(oin): Path<String>,
    Form(form): Form<KeysForm>,
) -> Result<Response, Refusal> {
    let actor = admin(&v)?;
    let Ok(jwks) = serde_json::from_str::<serde_json::Value>(&form.jwks) else {
        let e = "jwks: is not a JSON document".to_owned();
        return organisation_page(&app, &v, &oin, Some(e)).await;
    };
    let done = onboarding::rotate_keys(&app.store, app.clock.now(), &actor, &oin, &jwks).await;
    after(&app, &v, &oin, done.map(|_| ()).map_err(ApiError::from)).await
}

#[derive(Debug, Deserialize)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
}

async fn lifecycle(
    State(app): State<AppState>,
    v: Visitor,
    Path((oin, step)): Path<(String, String)>,
    Form(form): Form<ReasonForm>,
) -> Result<Response, Refusal> {
    let actor = admin(&v)?;
    let step = Transition::parse(&step).ok_or_else(|| ApiError::not_found("no such resource"))?;
    let reason = super::given(&form.reason);
    let done = onboarding::transition(
        &app.store,
        app.clock.now(),
        &actor,
        &app.config.host_oin,
        &oin,
        step,
        reason.as_deref(),
    )
    .await;
    after(&app, &v, &oin, done.map(|_| ()).map_err(ApiError::from)).await
}

#[derive(Debug, Deserialize)]
struct RevokeForm {
    oin: String,
    serial: String,
    reason: String,
}

async fn revoke(State(app): State<AppState>, v: Visitor, Form(form): Form<RevokeForm>) -> Result<Response, Refusal> {
    let actor = admin(&v)?;
    let done = onboarding::revoke_certificate(&app.store, app.clock.now(), &actor, &form.serial, &form.reason).await;
    after(&app, &v, &form.oin, done.map(|_| ()).map_err(ApiError::from)).await
}

#[derive(Template)]
#[template(path = "console/people.html")]
struct PeoplePage {
    frame: Frame,
    people: Vec<PersonView>,
    orgs: Vec<OrgView>,
    error: Option<String>,
    added: Option<String>,
}

async fn people_page(State(app): State<AppState>, v: Visitor) -> Result<Response, Refusal> {
    admin(&v)?;
    people_view(&app, &v, None, None).await
}

async fn people_view(
    app: &AppState,
    v: &Visitor,
    error: Option<String>,
    added: Option<String>,
) -> Result<Response, Refusal> {
    let body = PeoplePage {
        frame: v.frame("Personen"),
        people: people::list(&app.store, None).await?,
        orgs: onboarding::list(&app.store).await?,
        error: error.clone(),
        added,
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, page(&body)).into_response())
}

#[derive(Debug, Deserialize)]
struct PersonForm {
    oin: String,
    id: String,
    name: String,
    /// Comma-separated roles.
    roles: String,
    /// A PEM certificate request, or a PEM certificate of the organisation's own CA.
    pem: String,
}

async fn add_person(
    State(app): State<AppState>,
    v: Visitor,
    Form(form): Form<PersonForm>,
) -> Result<Response, Refusal> {
    let actor = admin(&v)?;
    let roles: Result<Vec<UserRole>, _> = form
        .roles
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::parse)
        .collect();
    let roles = match roles {
        Ok(r) => r,
        Err(e) => return people_view(&app, &v, Some(e.to_string()), None).await,
    };
    let credential = if form.pem.contains("CERTIFICATE REQUEST") {
        Credential::Csr(&form.pem)
    } else {
        Credential::Cert(&form.pem)
    };
    let new = NewPerson {
        oin: form.oin.clone(),
        id: form.id.clone(),
        name: form.name.clone(),
        roles,
    };
    let material = TlsMaterial::load(&app.config.tls).map_err(|e| ApiError::internal(&e))?;
    let done = people::add(
        &app.store,
        material.own_ca(),
        (app.clock.now(), &actor, &app.config.host_oin),
        &new,
        credential,
    )
    .await;
    match done {
        Ok(r) => {
            app.registry_changed().await;
            let signed = r.signed.map(|s| s.cert_pem);
            people_view(&app, &v, None, signed.or(Some(String::new()))).await
        }
        Err(e) => {
            let message = problem(e.into())?;
            people_view(&app, &v, Some(message), None).await
        }
    }
}

async fn person_step(
    State(app): State<AppState>,
    v: Visitor,
    Path((oin, id, step)): Path<(String, String, String)>,
) -> Result<Response, Refusal> {
    let actor = admin(&v)?;
    let step = PersonStep::parse(&step).ok_or_else(|| ApiError::not_found("no such resource"))?;
    match people::transition(&app.store, (app.clock.now(), &actor), &oin, &id, step).await {
        Ok(_) => {
            app.registry_changed().await;
            Ok(Redirect::to("/console/admin/people").into_response())
        }
        Err(e) => {
            let message = problem(e.into())?;
            people_view(&app, &v, Some(message), None).await
        }
    }
}
