//! The HTTP API: thin handlers that turn HTTP into domain calls and domain errors into problem responses
//! ([`error`], the one place). The router, the extractors (the caller, the host's admin), one file per resource,
//! and the OpenAPI document. May use everything but `server` and `cli`.
pub(crate) mod admin;
pub(crate) mod audit;
pub(crate) mod cases;
pub(crate) mod consent;
pub(crate) mod covenant;
pub mod error;
pub(crate) mod exchange;
pub(crate) mod extractors;
pub(crate) mod integrity;
pub mod json;
pub(crate) mod lookups;
pub(crate) mod meetings;
pub(crate) mod notifications;
pub(crate) mod openapi;
pub(crate) mod people;
pub(crate) mod process;
pub(crate) mod statistics;
pub(crate) mod system;
pub(crate) mod trace;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::Router;
use std::time::{Duration, Instant};
use tower_http::request_id::RequestId;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::app::AppState;
use crate::log::Released;
use error::ApiError;

/// The sequence number of the log record a released response is covered by.
const LOG_RECORD: HeaderName = HeaderName::from_static("doelpoort-log-record");

/// The router of the TLS listener: the API, and `beside` it (the console) under the same limits and tracing.
pub fn router(app: AppState, beside: Router<AppState>) -> Router {
    let limits = app.config.limits.clone();
    Router::new()
        .route("/healthz", get(system::healthz))
        .route("/v1/whoami", get(system::whoami))
        .route("/v1/covenant", get(covenant::covenant))
        .route("/v1/cases", get(cases::list).post(cases::report))
        .route("/v1/cases/{id}", get(cases::get_one))
        .route("/v1/cases/{id}/members", post(cases::grant))
        .route("/v1/cases/{id}/members/{oin}", delete(cases::withdraw))
        .route("/v1/cases/{id}/holder", post(cases::appoint_holder))
        .route("/v1/cases/{id}/agenda-requests", post(cases::request_agenda))
        .route("/v1/cases/{id}/close", post(cases::close))
        .route("/v1/cases/{id}/weighing", post(process::weigh))
        .route("/v1/cases/{id}/monitoring", post(process::record_check))
        .route(
            "/v1/cases/{id}/file",
            get(process::read_file).post(process::add_to_file),
        )
        .route("/v1/intake", get(process::intake))
        .route("/v1/monitoring", get(process::monitoring))
        .route("/v1/statistics/factsheet", get(statistics::factsheet))
        .route("/v1/statistics/evaluation", get(statistics::evaluation))
        .route("/v1/statistics/dry-run", post(statistics::dry_run))
        .route("/v1/cases/{id}/consent", get(consent::list).post(consent::record))
        .route("/v1/cases/{id}/consent/{consent_id}/withdraw", post(consent::withdraw))
        .route("/v1/meetings", get(meetings::list).post(meetings::create))
        .route("/v1/meetings/{id}", get(meetings::get_one))
        .route("/v1/meetings/{id}/agenda", post(meetings::agenda))
        .route("/v1/meetings/{id}/attendees", post(meetings::attendees))
        .route("/v1/meetings/{id}/close", post(meetings::close))
        .route(
            "/v1/meetings/{id}/shares",
            get(exchange::read_shares).post(exchange::share),
        )
        .route("/v1/requests", post(exchange::create_request))
        .route("/v1/requests/{id}", get(exchange::read_request))
        .route("/v1/requests/{id}/responses", post(exchange::respond_to))
        .route("/v1/requests/{id}/decline", post(exchange::decline))
        .route("/v1/inbox", get(exchange::inbox))
        .route("/v1/notifications", get(notifications::list))
        .route("/v1/lookups", post(lookups::lookup))
        .route("/v1/openapi.json", get(openapi::document))
        .route("/v1/admin/organisations", get(admin::list).post(admin::add))
        .route("/v1/admin/organisations/{oin}", get(admin::get_one))
        .route("/v1/admin/organisations/{oin}/signatures", post(admin::sign))
        .route("/v1/admin/organisations/{oin}/credentials", get(admin::credentials))
        .route("/v1/admin/organisations/{oin}/keys", put(admin::rotate_keys))
        .route("/v1/admin/organisations/{oin}/suspend", post(admin::suspend))
        .route("/v1/admin/organisations/{oin}/reinstate", post(admin::reinstate))
        .route("/v1/admin/organisations/{oin}/offboard", post(admin::offboard))
        .route("/v1/admin/people", get(people::list).post(people::add))
        .route("/v1/admin/people/{oin}/{id}", get(people::get_one))
        .route("/v1/admin/people/{oin}/{id}/{step}", post(people::step))
        .route("/v1/admin/revocations", post(admin::revoke))
        .route("/v1/admin/actions", get(admin::actions))
        .route("/v1/admin/covenant/reload", post(admin::reload_covenant))
        .route("/v1/admin/keys/reload", post(admin::reload_keys))
        .route("/v1/audit/disclosures", get(audit::disclosures))
        .route(
            "/v1/audit/subject-report",
            get(audit::subject_report).post(audit::subject_report_post),
        )
        .route("/v1/audit/checkpoints", get(audit::checkpoints))
        .route("/v1/audit/checkpoint", get(integrity::checkpoint))
        .route("/v1/audit/proof/inclusion", get(integrity::inclusion))
        .route("/v1/audit/proof/consistency", get(integrity::consistency))
        .route("/v1/audit/records/{seq}", get(integrity::record))
        .route("/v1/audit/cosignatures", post(integrity::cosign))
        .merge(beside)
        .fallback(|| async { ApiError::not_found("no such resource") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this method is not allowed here",
            )
        })
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(limits.request_timeout_secs),
        ))
        .layer(middleware::from_fn(record_metrics))
        .layer(TraceLayer::new_for_http().make_span_with(span_for))
        .layer(middleware::from_fn(trace::request_context))
        .with_state(app)
}

/// A span per request with the route template and request id — never the query string, a token or a body.
fn span_for(req: &Request) -> tracing::Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str());
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-");
    let trace_id = req
        .extensions()
        .get::<trace::Trace>()
        .map_or("-", |t| t.trace_id.as_str());
    tracing::info_span!("request", method = %req.method(), route, request_id, trace_id)
}

/// Data whose log records are committed becomes a response that names them (`SEQ[,SEQ…]`), so the recipient
/// can cite them.
impl<T: IntoResponse> IntoResponse for Released<T> {
    fn into_response(self) -> Response {
        let (records, body) = self.into_parts();
        let mut response = body.into_response();
        let cited: Vec<String> = records.iter().map(i64::to_string).collect();
        if let Ok(v) = axum::http::HeaderValue::from_str(&cited.join(",")) {
            response.headers_mut().insert(LOG_RECORD, v);
        }
        response
    }
}

/// Request counts and latencies by route template, method and status.
async fn record_metrics(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("doelpoort_http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("doelpoort_http_request_duration_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    response
}

/// The plain operators' listener: Prometheus metrics and health.
pub fn operator_router(app: AppState) -> Router {
    Router::new()
        .route("/metrics", get(system::metrics))
        .route("/healthz", get(system::health_status))
        .with_state(app)
}
