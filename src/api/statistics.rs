//! `GET /v1/statistics/factsheet`, `GET /v1/statistics/evaluation` and `POST /v1/statistics/dry-run`. The factsheet: a municipality's or the region's factsheet over a year or a quarter, as JSON or
//! CSV, every figure through disclosure control; each factsheet asked for is an `admin` record, committed first.
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, Problem};
use super::json::{Json, Query};
use super::trace::RequestContext;
use crate::app::AppState;
use crate::covenant::{Covenant, Texts};
use crate::edge::identity::Caller;
use crate::figures::evaluation::{self, DryRun, Evaluation, Window};
use crate::figures::factsheet::{self, Factsheet, Period};
use crate::log::Released;
use crate::types::is_municipality;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FactsheetQuery {
    /// A year (`2026`) or a quarter (`2026-Q3`); never a free range.
    #[param(pattern = "^[0-9]{4}(-Q[1-4])?$", example = "2026")]
    pub period: String,
    /// A CBS municipality code; left out, the region.
    #[param(pattern = "^GM[0-9]{4}$", example = "GM0268")]
    pub municipality: Option<String>,
    /// `json` (the default) or `csv`.
    #[param(pattern = "^(json|csv)$")]
    pub format: Option<String>,
}

/// A factsheet: reports by reporter, weighing outcomes, cases per meeting type, age band, gender, repeat reports
/// and closure outcomes, each count a whole number, `"<10"` (1–9) or `"."` (suppressed so no other can be
/// recomputed).
#[utoipa::path(get, path = "/v1/statistics/factsheet", tag = "figures", security(("bearer" = [])), params(FactsheetQuery),
    responses((status = 200, description = "the factsheet as JSON, or with `format=csv` as CSV (table, label, value)",
               content((Factsheet = "application/json"), (String = "text/csv"))), (status = 403, body = Problem), (status = 422, body = Problem),
              (status = 503, body = Problem)))]
pub async fn factsheet(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Query(q): Query<FactsheetQuery>,
) -> Result<Response, ApiError> {
    let period: Period = q.period.parse().map_err(ApiError::validation)?;
    let municipality = q.municipality.as_deref();
    if municipality.is_some_and(|m| !is_municipality(m)) {
        return Err(ApiError::validation("municipality: a CBS code, `GM` and four digits"));
    }
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::validation("format: json or csv")),
    };
    if !crate::figures::may_read(&caller.org, &caller.user.roles, &app.config.host_oin, municipality) {
        return Err(ApiError::forbidden(
            "factsheets are for the host's procesregisseur, privacy officer and admin, and for a municipality's \
             professionals for the municipalities their organisation is onboarded for",
        ));
    }
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let sheet = factsheet::factsheet(&app.store, (&covenant, &registry), &period, municipality).await?;
    let detail = serde_json::json!({"period": period.label, "municipality": municipality, "format": if csv { "csv" } else { "json" }});
    let entry = ctx
        .actor(&caller)
        .admin_entry("statistics.factsheet", municipality.unwrap_or("regio"), &detail);
    let released = app.log.release(sheet, vec![entry]).await?;
    Ok(if csv {
        released
            .map(|s| ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], factsheet::csv(&s)))
            .into_response()
    } else {
        released.map(axum::Json).into_response()
    })
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WindowQuery {
    /// First day, `YYYY-MM-DD`; left out, the first record.
    #[param(value_type = Option<String>, format = Date, example = "2026-01-01")]
    pub from: Option<String>,
    /// The day after the last, `YYYY-MM-DD`; left out, after the last record.
    #[param(value_type = Option<String>, format = Date, example = "2027-01-01")]
    pub to: Option<String>,
}

/// The window of an API call: as the console's, except that a date given empty is refused (the console's form
/// sends an empty field for one left out; an API caller leaves the parameter out).
fn api_window(from: Option<&str>, to: Option<&str>) -> Result<Window, ApiError> {
    for (name, value) in [("from", from), ("to", to)] {
        if value.is_some_and(|v| v.trim().is_empty()) {
            return Err(ApiError::validation(format!("{name}: a date YYYY-MM-DD")));
        }
    }
    Window::parse(from, to).map_err(ApiError::validation)
}

/// Refuses all but the host's procesregisseur, privacy officer and admin.
fn may_evaluate(app: &AppState, caller: &Caller) -> Result<(), ApiError> {
    if crate::figures::may_evaluate(&caller.org, &caller.user.roles, &app.config.host_oin) {
        return Ok(());
    }
    Err(ApiError::forbidden(
        "the covenant's evaluation is for the host's procesregisseur, privacy officer and admin",
    ))
}

/// The covenant's evaluation for the steering group: decisions per article, rules never used, recurring refusals,
/// partners that have not signed the version in force. Counts only; recorded as an `admin` record.
#[utoipa::path(get, path = "/v1/statistics/evaluation", tag = "figures", security(("bearer" = [])), params(WindowQuery),
    responses((status = 200, body = Evaluation), (status = 403, body = Problem), (status = 422, body = Problem),
              (status = 503, body = Problem)))]
pub async fn evaluation(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Query(q): Query<WindowQuery>,
) -> Result<Response, ApiError> {
    let released = evaluate(&app, &caller, &ctx, &q).await?;
    Ok(released.map(axum::Json).into_response())
}

/// The evaluation over `q`'s window, if `caller` may read it; its `admin` record committed first (the API and the
/// console both ask here).
///
/// # Errors
/// A bad window (422), a caller who may not (403), or the log or database failed.
pub async fn evaluate(
    app: &AppState,
    caller: &Caller,
    ctx: &RequestContext,
    q: &WindowQuery,
) -> Result<Released<Evaluation>, ApiError> {
    let window = api_window(q.from.as_deref(), q.to.as_deref())?;
    may_evaluate(app, caller)?;
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let groups = evaluation::recorded(&app.store, &window).await?;
    let body = evaluation::evaluate(&covenant, &registry, &groups, window.clone());
    let detail = serde_json::json!({"from": window.from, "to": window.to});
    let entry = ctx
        .actor(caller)
        .admin_entry("statistics.evaluation", &covenant.version, &detail);
    Ok(app.log.release(body, vec![entry]).await?)
}

/// A proposed covenant: its `covenant.toml` and `covenant_policy.csv` (either left out: the one in force; the casbin
/// model stays the one in force), replayed over the window's recorded decisions.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    pub metadata: Option<String>,
    pub policy: Option<String>,
    /// First day, `YYYY-MM-DD`; left out, the first record.
    #[schema(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// The day after the last, `YYYY-MM-DD`; left out, after the last record.
    #[schema(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
}

/// The covenant files in force, with a proposal's in their place.
///
/// # Errors
/// The files in force cannot be read, or the proposal is not a consistent covenant (422, naming each problem).
pub fn proposed(app: &AppState, metadata: Option<String>, policy: Option<String>) -> Result<Covenant, ApiError> {
    let current = Texts::read(&app.config.covenant_dir).map_err(|e| ApiError::internal(&e))?;
    let texts = Texts {
        metadata: metadata.unwrap_or(current.metadata),
        policy: policy.unwrap_or(current.policy),
        model: current.model,
    };
    Covenant::from_texts(std::path::Path::new("voorstel"), &texts).map_err(|e| ApiError::validation(e.to_string()))
}

/// A dry run of a proposed covenant over history: the flows it would refuse and the refusals it would allow, by
/// article and rule, with counts and no personal data, and what its files change. Recorded as an `admin` record.
#[utoipa::path(post, path = "/v1/statistics/dry-run", tag = "figures", security(("bearer" = [])), request_body = Proposal,
    responses((status = 200, body = DryRun), (status = 403, body = Problem), (status = 422, body = Problem),
              (status = 503, body = Problem)))]
pub async fn dry_run(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Json(p): Json<Proposal>,
) -> Result<Response, ApiError> {
    Ok(replay(&app, &caller, &ctx, p).await?.map(axum::Json).into_response())
}

/// The dry run of proposal `p`, if `caller` may ask; its `admin` record committed first (the API and the console
/// both ask here).
///
/// # Errors
/// A bad window or proposal (422), a caller who may not (403), or the log or database failed.
pub async fn replay(
    app: &AppState,
    caller: &Caller,
    ctx: &RequestContext,
    p: Proposal,
) -> Result<Released<DryRun>, ApiError> {
    let window = api_window(p.from.as_deref(), p.to.as_deref())?;
    may_evaluate(app, caller)?;
    let new = proposed(app, p.metadata, p.policy)?;
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let groups = evaluation::recorded(&app.store, &window).await?;
    let body = evaluation::dry_run(&covenant, &new, &registry, &groups, window.clone());
    let detail = serde_json::json!({"to_version": new.version, "from": window.from, "to": window.to});
    let entry = ctx
        .actor(caller)
        .admin_entry("covenant.dry_run", &covenant.version, &detail);
    Ok(app.log.release(body, vec![entry]).await?)
}
