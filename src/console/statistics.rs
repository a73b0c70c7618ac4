//! The factsheet page: a municipality's or the region's figures for a year or a quarter, as tables and as bar
//! charts drawn on the server in SVG (no script), with the CSV beside them; every figure as disclosure control
//! published it, and every view recorded as the API records it.
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::{page, Frame, Refusal, Visitor};
use crate::api::error::ApiError;
use crate::app::AppState;
use crate::figures::control::Cell;
use crate::figures::factsheet::{self, Factsheet, Period};
use crate::types::is_municipality;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/statistics", get(statistics))
        .route("/console/statistics.csv", get(download))
}

/// `?period=&municipality=` of the form; a municipality left empty asks for the region.
#[derive(Debug, Default, Deserialize)]
struct Ask {
    period: Option<String>,
    municipality: Option<String>,
}

/// One bar: its label, the figure as published, and its length (0 for a suppressed figure, which has no bar).
struct Bar {
    label: String,
    shown: String,
    width: u64,
    y: usize,
}

struct Chart {
    id: String,
    title: &'static str,
    total: String,
    withheld: bool,
    bars: Vec<Bar>,
    height: usize,
}

#[derive(Template)]
#[template(path = "console/statistics.html")]
struct StatisticsPage {
    frame: Frame,
    period: String,
    municipality: String,
    region_total: String,
    charts: Vec<Chart>,
    csv: String,
}

/// The Dutch caption of a table.
fn title(id: &str) -> &'static str {
    match id {
        "reports_by_reporter" => "Meldingen per melder",
        "weighing_outcomes" => "Uitkomst van de weging",
        "cases_by_meeting_type" => "Casussen per soort overleg",
        "age_band" => "Leeftijd",
        "gender" => "Geslacht (of gezin, groep)",
        "repeat_reports" => "Personen naar aantal meldingen",
        "closure_outcomes" => "Bereikt bij het afsluiten",
        _ => "Tabel",
    }
}

/// Longest bar, in SVG units.
const BAR_MAX: u64 = 320;
/// Height of one bar's line, in SVG units.
const LINE: usize = 22;

fn chart(t: &factsheet::Table) -> Chart {
    let max = t.rows.iter().filter_map(|r| match r.values.first() {
        Some(Cell::Shown(n)) => Some(*n),
        _ => None,
    });
    let max = max.max().unwrap_or(0).max(1);
    let bars: Vec<Bar> = t
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let cell = r.values.first().copied().unwrap_or(Cell::Shown(0));
            Bar {
                label: r.label.clone(),
                shown: cell.to_string(),
                width: match cell {
                    Cell::Shown(n) => n * BAR_MAX / max,
                    _ => 0,
                },
                y: i * LINE,
            }
        })
        .collect();
    Chart {
        id: t.id.clone(),
        title: title(&t.id),
        total: t.total.to_string(),
        withheld: t.withheld,
        height: bars.len() * LINE,
        bars,
    }
}

/// The asked-for factsheet, if the visitor may read it; recorded before it is shown.
async fn read(app: &AppState, v: &Visitor, ask: &Ask) -> Result<(Factsheet, Vec<i64>), Refusal> {
    let period: Period = ask
        .period
        .as_deref()
        .unwrap_or(&app.clock.now().year().to_string())
        .parse()
        .map_err(ApiError::validation)?;
    let municipality = ask.municipality.as_deref().map(str::trim).filter(|m| !m.is_empty());
    if municipality.is_some_and(|m| !is_municipality(m)) {
        return Err(ApiError::validation("municipality: a CBS code, `GM` and four digits").into());
    }
    if !v.may_read_figures(municipality) {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Deze cijfers zijn voor de procesregisseur, de FG en de beheerder van het ZVH, en voor een gemeente \
             over de gemeenten waarvoor zij is aangesloten.",
        ));
    }
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let sheet = factsheet::factsheet(&app.store, (&covenant, &registry), &period, municipality)
        .await
        .map_err(ApiError::from)?;
    let detail = serde_json::json!({"period": period.label, "municipality": municipality, "format": "console"});
    let entry = v
        .ctx
        .actor(&v.caller)
        .admin_entry("statistics.factsheet", municipality.unwrap_or("regio"), &detail);
    let (records, sheet) = app
        .log
        .release(sheet, vec![entry])
        .await
        .map_err(ApiError::from)?
        .into_parts();
    Ok((sheet, records))
}

async fn statistics(State(app): State<AppState>, v: Visitor, Query(ask): Query<Ask>) -> Result<Response, Refusal> {
    let ask = Ask {
        municipality: ask
            .municipality
            .or_else(|| v.caller.org.municipalities.first().cloned()),
        ..ask
    };
    let (sheet, records) = read(&app, &v, &ask).await?;
    let municipality = sheet.municipality.clone().unwrap_or_default();
    let csv = format!(
        "/console/statistics.csv?period={}&municipality={municipality}",
        sheet.period
    );
    let body = StatisticsPage {
        frame: v.frame("Cijfers"),
        period: sheet.period.clone(),
        region_total: sheet.region_total.to_string(),
        charts: sheet.tables.iter().map(chart).collect(),
        municipality,
        csv,
    };
    Ok(super::audit::cite(&records, page(&body)))
}

async fn download(State(app): State<AppState>, v: Visitor, Query(ask): Query<Ask>) -> Result<Response, Refusal> {
    let (sheet, records) = read(&app, &v, &ask).await?;
    let name = format!(
        "attachment; filename=\"factsheet-{}-{}.csv\"",
        sheet.municipality.as_deref().unwrap_or("regio"),
        sheet.period
    );
    let response = (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        factsheet::csv(&sheet),
    )
        .into_response();
    Ok(super::audit::cite(&records, response))
}
