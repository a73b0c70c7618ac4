//! The browser console under `/console/`: server-rendered Dutch pages (askama templates in `templates/console/`)
//! for the people of the organisations, identified by a registered personal certificate ([`person_of`]). Its
//! handlers call the same domain functions as the API and are held to the same rules: the person acts as a
//! [`Caller`] with their registered roles, and every read of personal data is recorded exactly as through the API.
//! Every response carries a strict CSP and no-store; every state change is a POST from our own origin. May use
//! everything the API may, and the API's shared handlers.
mod admin;
mod audit;
mod covenant;
mod process;
mod statistics;
mod work;

use askama::Template;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

use crate::api::error::ApiError;
use crate::api::trace::RequestContext;
use crate::app::AppState;
use crate::edge::conn::PeerCert;
use crate::edge::identity::{person_of, Caller, MissingRole};
use crate::log::chain::{Entry, Kind};
use crate::orgs::registry::Person;
use crate::types::{Oin, UserRole};

/// The policy every console response carries: nothing inline, nothing from elsewhere, no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLE: &str = include_str!("console.css");
const ICON: &str = include_str!("icon.svg");

/// The console's routes, under `/console/` (and `/`, which leads there), for the API router to serve beside its own.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(home))
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/static/console.css", get(style))
        .route("/console/static/icon.svg", get(icon))
        .route("/favicon.ico", get(icon))
        .merge(audit::routes())
        .merge(admin::routes())
        .merge(work::routes())
        .merge(process::routes())
        .merge(statistics::routes())
        .merge(covenant::routes())
        .route(
            "/console/{*rest}",
            get(|| async { Refusal::new(StatusCode::NOT_FOUND, "not_found", "Deze pagina bestaat niet.") }),
        )
        .layer(middleware::from_fn(guard))
}

/// Security headers on every response, and a state change only from a page of our own: browsers send the
/// client certificate on cross-site requests too, so a POST must say `Sec-Fetch-Site: same-origin` (or, from a
/// browser that sends none, an `Origin` that is ours). Only GET and HEAD change nothing.
async fn guard(req: Request, next: Next) -> Response {
    let safe = req.method() == Method::GET || req.method() == Method::HEAD;
    let mut response = if safe || (req.method() == Method::POST && same_origin(&req)) {
        next.run(req).await
    } else if req.method() == Method::POST {
        Refusal::new(
            StatusCode::FORBIDDEN,
            "cross_site_request",
            "Dit formulier kwam niet van een pagina van deze console en is daarom niet uitgevoerd.",
        )
        .into_response()
    } else {
        Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Deze handeling kan hier niet.",
        )
        .into_response()
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// `Sec-Fetch-Site: same-origin`, or no such header and an `Origin` naming the host the request was sent to.
fn same_origin(req: &Request) -> bool {
    let h = req.headers();
    if let Some(site) = h.get("sec-fetch-site") {
        return site.as_bytes() == b"same-origin";
    }
    let (Some(origin), Some(host)) = (h.get(header::ORIGIN), h.get(header::HOST)) else {
        return false;
    };
    origin.to_str().ok().and_then(|o| o.strip_prefix("https://")) == host.to_str().ok()
}

async fn icon() -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml")], ICON).into_response()
}

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

/// A registered, active person of an active organisation, as the caller the domain knows, with the request's
/// ids for the records their actions write.
pub struct Visitor {
    pub caller: Caller,
    pub person: Arc<Person>,
    pub ctx: RequestContext,
    /// The gateway's host organisation (whose officers may read every factsheet).
    pub host: Oin,
}

impl Visitor {
    /// Refuses unless the person holds `role`.
    fn require(&self, role: UserRole) -> Result<(), Refusal> {
        self.caller
            .require(role)
            .map_err(|e: MissingRole| Refusal::from(ApiError::from(e)))
    }

    fn frame(&self, title: &str) -> Frame {
        let has = |r| self.caller.has_role(r);
        Frame {
            title: title.to_owned(),
            name: self.person.name.clone(),
            organisation: self.caller.org.name.clone(),
            officer: has(UserRole::PrivacyOfficer),
            admin: has(UserRole::Admin),
            professional: has(UserRole::Professional),
            regisseur: has(UserRole::Procesregisseur),
            figures: self.may_read_figures(None)
                || (!self.caller.org.municipalities.is_empty() && has(UserRole::Professional)),
            steering: crate::figures::may_evaluate(&self.caller.org, &self.caller.user.roles, &self.host),
        }
    }

    /// Whether the person may read the factsheet of `municipality` (`None`: the region).
    fn may_read_figures(&self, municipality: Option<&str>) -> bool {
        crate::figures::may_read(&self.caller.org, &self.caller.user.roles, &self.host, municipality)
    }
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let Ok(ctx) = RequestContext::from_request_parts(parts, app).await;
        let peer = parts
            .extensions
            .get::<PeerCert>()
            .ok_or_else(|| Refusal::new(StatusCode::FORBIDDEN, "certificate_required", "Er is geen certificaat."))?;
        match person_of(&app.registry.current(), peer, &app.config.host_oin) {
            Ok((caller, person)) => Ok(Visitor {
                caller,
                person,
                ctx,
                host: app.config.host_oin.clone(),
            }),
            Err(e) => {
                let refusal = Refusal::from(ApiError::from(e));
                record_refusal(app, peer, &ctx, refusal.code).await;
                Err(refusal)
            }
        }
    }
}

/// A certificate turned away from the console is a refusal record (who tried, why): an officer can see who
/// knocked. The refusal stands whether or not the record could be written.
async fn record_refusal(app: &AppState, peer: &PeerCert, ctx: &RequestContext, code: &str) {
    let entry = Entry {
        actor_oin: Some(peer.oin.to_string()),
        actor_sub: Some(format!("certificate:{}", peer.serial)),
        action: Some("console.open".to_owned()),
        reason: Some(code.to_owned()),
        request_id: ctx.request_id.clone(),
        ..Entry::new(Kind::Refusal)
    };
    if let Err(e) = app.log.append(entry).await {
        tracing::warn!(error = %e, "could not record a refused console visit");
    }
}

/// What every page shows around its content: who you are and the links your roles open.
#[derive(Debug, Clone)]
pub struct Frame {
    pub title: String,
    pub name: String,
    pub organisation: String,
    pub officer: bool,
    pub admin: bool,
    pub professional: bool,
    pub regisseur: bool,
    /// May read some factsheet.
    pub figures: bool,
    /// May read the covenant's evaluation and dry-run a proposal.
    pub steering: bool,
}

/// The sequence numbers of the log records a page reveals a release under, as the page names them.
fn numbers(records: &[i64]) -> String {
    records.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

/// A form field's text, trimmed; `None` when left empty.
fn given(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// A refused action's message, to show above the form it came from; a missing resource or a failure of the
/// gateway is a refusal page instead.
fn problem(e: ApiError) -> Result<String, Refusal> {
    if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND {
        Ok(e.detail)
    } else {
        Err(e.into())
    }
}

/// Renders a template as a page (500 if it cannot be rendered, which a test would have caught).
fn page(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console template failed");
            Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Er ging iets mis.").into_response()
        }
    }
}

/// A refusal or error as a readable Dutch page with the API's stable code.
#[derive(Debug)]
pub struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

#[derive(Template)]
#[template(path = "console/refusal.html")]
struct RefusalPage<'a> {
    status: u16,
    code: &'a str,
    message: &'a str,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            code,
            message: message.into(),
        }
    }
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Refusal {
        let message = dutch(e.code).map_or_else(|| e.detail.clone(), str::to_owned);
        Refusal {
            status: e.status,
            code: e.code,
            message,
        }
    }
}

impl From<crate::orgs::onboarding::OnboardingError> for Refusal {
    fn from(e: crate::orgs::onboarding::OnboardingError) -> Refusal {
        ApiError::from(e).into()
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = RefusalPage {
            status: self.status.as_u16(),
            code: self.code,
            message: &self.message,
        }
        .render()
        .unwrap_or_else(|_| self.code.to_owned());
        (self.status, Html(body)).into_response()
    }
}

/// The Dutch sentence for a stable code; codes whose English detail says more (validation) keep it.
fn dutch(code: &str) -> Option<&'static str> {
    Some(match code {
        "not_a_person" => {
            "Dit certificaat is niet geregistreerd voor een persoon. De console opent alleen met een \
             persoonlijk certificaat; het certificaat van een organisatie is alleen voor de API."
        }
        "person_suspended" => {
            "Uw toegang is geschorst. Neem contact op met de beheerder van het Zorg- en Veiligheidshuis."
        }
        "person_removed" => "Uw toegang is ingetrokken.",
        "certificate_revoked" => "Dit certificaat is ingetrokken.",
        "unknown_organisation" => "De organisatie van dit certificaat is niet aangesloten.",
        "organisation_suspended" => "De organisatie van dit certificaat is geschorst.",
        "organisation_offboarded" => "De organisatie van dit certificaat is niet meer aangesloten.",
        "forbidden" => "Uw rollen geven geen toegang tot deze pagina.",
        "not_found" => "Deze pagina of dit gegeven bestaat niet (of u mag het niet zien).",
        "audit_unavailable" => {
            "Het verstrekkingenlog is nu niet beschikbaar; er worden geen gegevens getoond. Probeer het later opnieuw."
        }
        _ => return None,
    })
}

#[derive(Template)]
#[template(path = "console/home.html")]
struct Home {
    frame: Frame,
    oin: String,
    roles: Vec<&'static str>,
    /// For professionals: what their organisation was told (what, where to look, when), newest first.
    notifications: Vec<(&'static str, String, String)>,
}

async fn home(
    axum::extract::State(app): axum::extract::State<AppState>,
    visitor: Visitor,
) -> Result<Response, Refusal> {
    let roles = visitor.caller.user.roles.iter().map(|r| role_name(*r)).collect();
    let mut notifications = Vec::new();
    if visitor.caller.has_role(UserRole::Professional) {
        let told = crate::cases::notifications::newest(&app.store, &visitor.caller.org.oin)
            .await
            .map_err(ApiError::from)?;
        notifications = told.into_iter().map(notice).collect();
    }
    Ok(page(&Home {
        frame: visitor.frame("Start"),
        oin: visitor.caller.org.oin.to_string(),
        roles,
        notifications,
    }))
}

/// A notification as the start page shows it: a Dutch sentence, the page to look at, and when.
fn notice(n: crate::cases::notifications::Notification) -> (&'static str, String, String) {
    use crate::types::NotificationKind as K;
    let (what, link) = match n.kind {
        K::RequestReceived => (
            "Verzoek om informatie ontvangen",
            n.request_id.map(|r| format!("/console/requests/{r}")),
        ),
        K::CaseMemberAdded => (
            "Lid gemaakt van een casus",
            n.case_id.map(|c| format!("/console/cases/{c}")),
        ),
        K::HolderAppointed => ("Casushouder gemaakt", n.case_id.map(|c| format!("/console/cases/{c}"))),
        K::AgendaRequested => (
            "Casushouder vraagt de casus opnieuw te agenderen",
            n.case_id.map(|c| format!("/console/cases/{c}")),
        ),
        K::MeetingAttendeeAdded => (
            "Toegevoegd aan een overleg",
            n.meeting_id.map(|m| format!("/console/meetings/{m}")),
        ),
        K::ReportReceived => ("Nieuwe melding voor de intake", Some("/console/intake".to_owned())),
        K::ReportJoined => (
            "Nieuwe melding over een casus die u houdt",
            n.case_id.map(|c| format!("/console/cases/{c}")),
        ),
        K::WeighingOutcome => (
            "Uw melding is gewogen",
            n.case_id.map(|c| format!("/console/cases/{c}")),
        ),
    };
    (what, link.unwrap_or_default(), n.created_at.to_string())
}

/// A status as the Dutch pages name it (the API keeps the English codes).
pub trait Dutch {
    fn nl(&self) -> &'static str;
}

impl Dutch for crate::types::OrgStatus {
    fn nl(&self) -> &'static str {
        use crate::types::OrgStatus as S;
        match self {
            S::Active => "actief",
            S::Suspended => "geschorst",
            S::Offboarded => "afgemeld",
        }
    }
}

impl Dutch for crate::types::PersonStatus {
    fn nl(&self) -> &'static str {
        use crate::types::PersonStatus as S;
        match self {
            S::Active => "actief",
            S::Suspended => "geschorst",
            S::Removed => "verwijderd",
        }
    }
}

impl Dutch for crate::types::CheckState {
    fn nl(&self) -> &'static str {
        use crate::types::CheckState as S;
        match self {
            S::Due => "gepland",
            S::Overdue => "te laat",
            S::Done => "gedaan",
        }
    }
}

impl Dutch for crate::types::CheckStatus {
    fn nl(&self) -> &'static str {
        use crate::types::CheckStatus as S;
        match self {
            S::OpKoers => "op koers",
            S::Bijsturen => "bijsturen",
            S::Heragenderen => "opnieuw agenderen",
        }
    }
}

impl Dutch for crate::types::CaseStatus {
    fn nl(&self) -> &'static str {
        use crate::types::CaseStatus as S;
        match self {
            S::Open => "open",
            S::Closed => "gesloten",
            S::Purged => "vernietigd",
        }
    }
}

impl Dutch for crate::types::AnswerStatus {
    fn nl(&self) -> &'static str {
        use crate::types::AnswerStatus as S;
        match self {
            S::Open => "open",
            S::Answered => "beantwoord",
            S::Declined => "afgewezen",
            S::Expired => "verlopen",
        }
    }
}

/// The Dutch name of a role.
fn role_name(role: UserRole) -> &'static str {
    match role {
        UserRole::Professional => "professional",
        UserRole::Procesregisseur => "procesregisseur",
        UserRole::PrivacyOfficer => "privacyfunctionaris",
        UserRole::Admin => "beheerder",
    }
}
