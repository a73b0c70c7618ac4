//! `GET /v1/statistics/factsheet`: a municipality's or the region's factsheet over a year or a quarter, as JSON or
//! CSV, every figure through disclosure control; each factsheet asked for is an `admin` record, committed first.
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, Problem};
use super::json::Query;
use super::trace::RequestContext;
use crate::app::AppState;
use crate::edge::identity::Caller;
use crate::figures::factsheet::{self, Factsheet, Period};
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
    pub format: Option<String>,
}

/// A factsheet: reports by reporter, weighing outcomes, cases per meeting type, age band, gender, repeat reports
/// and closure outcomes, each count a whole number, `"<10"` (1–9) or `"."` (suppressed so no other can be
/// recomputed).
#[utoipa::path(get, path = "/v1/statistics/factsheet", tag = "figures", security(("bearer" = [])), params(FactsheetQuery),
    responses((status = 200, body = Factsheet), (status = 403, body = Problem), (status = 422, body = Problem),
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
