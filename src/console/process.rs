//! The procesregisseur's pages: the intake queue (each summary shown is a recorded disclosure, named on the page),
//! the monitoring checks, and the case page's forms for the weighing, the case holder and a check; and the case
//! file for members, where the holder adds progress. Each acts through the same domain calls as the API.
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::work::{case_page, shown, unpack, Shown};
use super::{given, numbers, page, problem, Dutch as _, Frame, Refusal, Visitor};
use crate::api::error::ApiError;
use crate::api::exchange::exchange;
use crate::app::AppState;
use crate::cases::process::{self, CheckView, IntakeReport, NewCheck, NewWeighing};
use crate::exchange::{NewFileItems, NewItem, Read};
use crate::types::{CaseId, CheckStatus, UserRole};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/intake", get(intake))
        .route("/console/monitoring", get(monitoring))
        .route("/console/cases/{id}/weighing", post(weigh))
        .route("/console/cases/{id}/holder", post(holder))
        .route("/console/cases/{id}/monitoring", post(check))
        .route("/console/cases/{id}/file", get(file).post(add_to_file))
}

#[derive(Template)]
#[template(path = "console/intake.html")]
struct IntakePage {
    frame: Frame,
    reports: Vec<IntakeReport>,
    recorded: String,
}

async fn intake(State(app): State<AppState>, v: Visitor) -> Result<Response, Refusal> {
    v.require(UserRole::Procesregisseur)?;
    let (covenant, registry, keys) = (app.covenant(), app.registry.current(), app.keyring());
    let read = process::intake(
        &app.store,
        &app.log,
        (&registry, &covenant, &keys),
        &v.ctx.actor(&v.caller),
    )
    .await
    .map_err(ApiError::from)?;
    let (reports, records) = match read {
        Read::Released(r) => {
            let (records, body) = r.into_parts();
            (body, records)
        }
        Read::Nothing(body) => (body, Vec::new()),
    };
    let response = page(&IntakePage {
        frame: v.frame("Intake: meldingen om te wegen"),
        recorded: numbers(&records),
        reports,
    });
    Ok(super::audit::cite(&records, response))
}

#[derive(Template)]
#[template(path = "console/monitoring.html")]
struct MonitoringPage {
    frame: Frame,
    checks: Vec<CheckView>,
}

async fn monitoring(State(app): State<AppState>, v: Visitor) -> Result<Response, Refusal> {
    v.require(UserRole::Procesregisseur)?;
    let checks = process::checks(&app.store, app.clock.now(), None, None)
        .await
        .map_err(ApiError::from)?;
    Ok(page(&MonitoringPage {
        frame: v.frame("Monitoring"),
        checks,
    }))
}

#[derive(Debug, Deserialize)]
struct WeighForm {
    meeting_id: String,
    outcome: String,
    #[serde(default)]
    reason: String,
}

/// After a form on the case page: back to it, with the refusal above the forms when there was one.
async fn back(app: &AppState, v: &Visitor, id: &str, done: Result<(), ApiError>) -> Result<Response, Refusal> {
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/console/cases/{id}")).into_response()),
        Err(e) => case_page(app, v, id, Some(problem(e)?)).await,
    }
}

fn case_id(id: &str) -> Result<CaseId, Refusal> {
    id.parse().map_err(|_| ApiError::not_found("no such case").into())
}

async fn weigh(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<WeighForm>,
) -> Result<Response, Refusal> {
    v.require(UserRole::Procesregisseur)?;
    let cid = case_id(&id)?;
    let Ok(meeting_id) = form.meeting_id.trim().parse() else {
        return case_page(&app, &v, &id, Some("Vul het id van de briefing in (meeting-…).".into())).await;
    };
    let new = NewWeighing {
        meeting_id,
        outcome: form.outcome,
        reason: given(&form.reason),
    };
    let (covenant, actor) = (app.covenant(), v.ctx.actor(&v.caller));
    let done = process::weigh(&app.store, (&covenant, app.clock.now()), &actor, &cid, &new).await;
    back(&app, &v, &id, done.map(|_| ()).map_err(ApiError::from)).await
}

#[derive(Debug, Deserialize)]
struct HolderForm {
    oin: String,
    reason: String,
}

async fn holder(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<HolderForm>,
) -> Result<Response, Refusal> {
    v.require(UserRole::Procesregisseur)?;
    let cid = case_id(&id)?;
    let keys = app.keyring();
    let actor = v.ctx.actor(&v.caller);
    let reason = (form.oin.as_str(), form.reason.as_str());
    let done = crate::cases::appoint_holder(&app.store, (&keys, app.clock.now()), &actor, &cid, reason).await;
    back(&app, &v, &id, done.map_err(ApiError::from)).await
}

#[derive(Debug, Deserialize)]
struct CheckForm {
    moment: String,
    status: CheckStatus,
    #[serde(default)]
    note: String,
}

async fn check(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<CheckForm>,
) -> Result<Response, Refusal> {
    v.require(UserRole::Procesregisseur)?;
    let cid = case_id(&id)?;
    let new = NewCheck {
        moment: form.moment,
        status: form.status,
        note: given(&form.note),
    };
    let (keys, actor) = (app.keyring(), v.ctx.actor(&v.caller));
    let done = process::record_check(&app.store, (&keys, app.clock.now()), &actor, &cid, &new).await;
    back(&app, &v, &id, done.map_err(ApiError::from)).await
}

#[derive(Template)]
#[template(path = "console/file.html")]
struct FilePage {
    frame: Frame,
    case_id: String,
    items: Vec<Shown>,
    withheld: usize,
    recorded: String,
    error: Option<String>,
}

async fn file(State(app): State<AppState>, v: Visitor, Path(id): Path<String>) -> Result<Response, Refusal> {
    v.require(UserRole::Professional)?;
    file_page(&app, &v, &id, None).await
}

async fn file_page(app: &AppState, v: &Visitor, id: &str, error: Option<String>) -> Result<Response, Refusal> {
    let cid = case_id(id)?;
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let read = exchange(app, &covenant, &registry)
        .read_file(&v.ctx.actor(&v.caller), &cid)
        .await
        .map_err(ApiError::from)?;
    let (items, recorded) = unpack(read);
    Ok(page(&FilePage {
        frame: v.frame(&format!("Dossier van casus {cid}")),
        case_id: cid.to_string(),
        items: shown(&items, app),
        withheld: items.withheld.len(),
        recorded,
        error,
    }))
}

#[derive(Debug, Deserialize)]
struct ProgressForm {
    content: String,
}

async fn add_to_file(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<ProgressForm>,
) -> Result<Response, Refusal> {
    v.require(UserRole::Professional)?;
    let cid = case_id(&id)?;
    let Some(content) = given(&form.content) else {
        return file_page(&app, &v, &id, Some("Vul de voortgang in.".into())).await;
    };
    let new = NewFileItems {
        items: vec![NewItem {
            category: "voortgang".into(),
            content: serde_json::Value::String(content),
        }],
    };
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let done = exchange(&app, &covenant, &registry)
        .add_to_file(&v.ctx.actor(&v.caller), &cid, &new)
        .await;
    match done.map_err(ApiError::from) {
        Ok(_) => Ok(Redirect::to(&format!("/console/cases/{id}/file")).into_response()),
        Err(e) => file_page(&app, &v, &id, Some(problem(e)?)).await,
    }
}
