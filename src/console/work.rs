//! The professional's pages: the inbox and answering a request item by item, the requests you made with the
//! answers you may receive, your organisation's cases, and meetings (share in one in session, read what you may
//! receive). Each reads and acts through the exchange exactly as the API does: content leaves only as the log
//! released it, and the page names the records.
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::{given, numbers, page, problem, Dutch as _, Frame, Refusal, Visitor};
use crate::api::error::ApiError;
use crate::api::exchange::exchange;
use crate::app::AppState;
use crate::cases::meetings::{attended_by, view_as_attendee, MeetingView};
use crate::cases::{list_for, view_for, CaseView};
use crate::exchange::{Items, NewItem, NewResponse, NewShare, Read, RequestView};
use crate::types::{CaseId, MeetingId, RequestId, UserRole};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/inbox", get(inbox))
        .route("/console/requests/{id}", get(request))
        .route("/console/requests/{id}/responses", post(answer))
        .route("/console/requests/{id}/decline", post(decline))
        .route("/console/cases", get(cases))
        .route("/console/cases/{id}", get(case))
        .route("/console/meetings", get(meetings))
        .route("/console/meetings/{id}", get(meeting))
        .route("/console/meetings/{id}/shares", post(share))
}

fn professional(v: &Visitor) -> Result<(), Refusal> {
    v.require(UserRole::Professional)
}

/// A released read: what it holds and the records it is covered by (none when nothing was released).
pub(super) fn unpack<T>(read: Read<T>) -> (T, String) {
    match read {
        Read::Released(r) => {
            let (records, body) = r.into_parts();
            (body, numbers(&records))
        }
        Read::Nothing(body) => (body, String::new()),
    }
}

/// An item as the page shows it: its content as text.
pub struct Shown {
    pub(super) category: String,
    pub(super) source: String,
    pub(super) content: String,
    pub(super) at: String,
}

pub(super) fn shown(items: &Items, app: &AppState) -> Vec<Shown> {
    let snapshot = app.registry.current();
    items
        .items
        .iter()
        .map(|i| Shown {
            category: i.category.clone(),
            source: snapshot
                .organisation(&i.source_oin)
                .map_or_else(|| i.source_oin.to_string(), |o| o.name.clone()),
            content: match serde_json::from_str(i.content.get()) {
                Ok(serde_json::Value::String(s)) => s,
                _ => i.content.get().to_owned(),
            },
            at: i.created_at.to_string(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "console/inbox.html")]
struct InboxPage {
    frame: Frame,
    requests: Vec<RequestView>,
}

async fn inbox(State(app): State<AppState>, v: Visitor) -> Result<Response, Refusal> {
    professional(&v)?;
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let requests = exchange(&app, &covenant, &registry)
        .inbox(&v.caller.org.oin)
        .await
        .map_err(ApiError::from)?;
    Ok(page(&InboxPage {
        frame: v.frame("Inbox: verzoeken om informatie"),
        requests,
    }))
}

#[derive(Template)]
#[template(path = "console/request.html")]
struct RequestPage {
    frame: Frame,
    request: RequestView,
    /// Open for this organisation to answer.
    to_answer: bool,
    /// The categories asked of this organisation.
    own: Vec<String>,
    /// The answers released to the requester, when this organisation asked.
    answers: Vec<Shown>,
    withheld: Vec<(String, String)>,
    recorded: String,
    error: Option<String>,
}

async fn request(State(app): State<AppState>, v: Visitor, Path(id): Path<String>) -> Result<Response, Refusal> {
    professional(&v)?;
    request_page(&app, &v, &id, None).await
}

async fn request_page(app: &AppState, v: &Visitor, id: &str, error: Option<String>) -> Result<Response, Refusal> {
    let id: RequestId = id.parse().map_err(|_| ApiError::not_found("no such request"))?;
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let ex = exchange(app, &covenant, &registry);
    let oin = &v.caller.org.oin;
    let inbox = ex.inbox(oin).await.map_err(ApiError::from)?;
    let frame = v.frame("Verzoek om informatie");
    if let Some(request) = inbox.into_iter().find(|r| r.id == id) {
        let mine = request.addressees.iter().find(|a| &a.oin == oin);
        let to_answer = mine.is_some_and(|a| a.status == crate::types::AnswerStatus::Open);
        let own = mine.map(|a| a.categories.clone()).unwrap_or_default();
        let body = RequestPage {
            frame,
            request,
            to_answer,
            own,
            answers: Vec::new(),
            withheld: Vec::new(),
            recorded: String::new(),
            error,
        };
        return Ok(page(&body));
    }
    let read = ex
        .read_request(&v.ctx.actor(&v.caller), &id)
        .await
        .map_err(ApiError::from)?;
    let (read, recorded) = unpack(read);
    let body = RequestPage {
        frame,
        answers: shown(&read.responses, app),
        withheld: read
            .responses
            .withheld
            .iter()
            .map(|w| (w.category.clone(), w.code.clone()))
            .collect(),
        request: read.request,
        to_answer: false,
        own: Vec::new(),
        recorded,
        error,
    };
    Ok(page(&body))
}

/// The answer form: one text field per category (`item_CATEGORY`); the items left empty are not answered.
#[derive(Debug, Deserialize)]
struct AnswerForm {
    #[serde(flatten)]
    fields: std::collections::BTreeMap<String, String>,
}

impl AnswerForm {
    fn items(&self) -> Vec<NewItem> {
        self.fields
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("item_")?, given(v)?)))
            .map(|(category, text)| NewItem {
                category: category.to_owned(),
                content: serde_json::Value::String(text),
            })
            .collect()
    }
}

async fn answer(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Result<Response, Refusal> {
    professional(&v)?;
    let rid: RequestId = id.parse().map_err(|_| ApiError::not_found("no such request"))?;
    let items = form.items();
    if items.is_empty() {
        return request_page(&app, &v, &id, Some("Vul ten minste één onderdeel in.".to_owned())).await;
    }
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let done = exchange(&app, &covenant, &registry)
        .respond(&v.ctx.actor(&v.caller), &rid, &NewResponse { items })
        .await;
    match done.map_err(ApiError::from) {
        Ok(()) => Ok(Redirect::to("/console/inbox").into_response()),
        Err(e) => request_page(&app, &v, &id, Some(problem(e)?)).await,
    }
}

#[derive(Debug, Deserialize)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
}

async fn decline(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<ReasonForm>,
) -> Result<Response, Refusal> {
    professional(&v)?;
    let rid: RequestId = id.parse().map_err(|_| ApiError::not_found("no such request"))?;
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let done = exchange(&app, &covenant, &registry)
        .decline(&v.ctx.actor(&v.caller), &rid, &form.reason)
        .await;
    match done.map_err(ApiError::from) {
        Ok(()) => Ok(Redirect::to("/console/inbox").into_response()),
        Err(e) => request_page(&app, &v, &id, Some(problem(e)?)).await,
    }
}

#[derive(Template)]
#[template(path = "console/cases.html")]
struct CasesPage {
    frame: Frame,
    cases: Vec<CaseView>,
}

async fn cases(State(app): State<AppState>, v: Visitor) -> Result<Response, Refusal> {
    professional(&v)?;
    let cases = list_for(&app.store, (&v.caller.org.oin, &app.config.host_oin))
        .await
        .map_err(ApiError::from)?;
    Ok(page(&CasesPage {
        frame: v.frame("Casussen van uw organisatie"),
        cases,
    }))
}

#[derive(Template)]
#[template(path = "console/case.html")]
struct CasePage {
    frame: Frame,
    case: CaseView,
    outcomes: Vec<String>,
    reasons: Vec<String>,
    moments: Vec<String>,
    error: Option<String>,
}

async fn case(State(app): State<AppState>, v: Visitor, Path(id): Path<String>) -> Result<Response, Refusal> {
    professional(&v)?;
    case_page(&app, &v, &id, None).await
}

/// The case page: its facts and process, and for the procesregisseur the forms that move it on.
pub(super) async fn case_page(
    app: &AppState,
    v: &Visitor,
    id: &str,
    error: Option<String>,
) -> Result<Response, Refusal> {
    let id: CaseId = id.parse().map_err(|_| ApiError::not_found("no such case"))?;
    let case = view_for(
        &app.store,
        app.clock.now(),
        &id,
        (&v.caller.org.oin, &app.config.host_oin),
    )
    .await
    .map_err(ApiError::from)?;
    let covenant = app.covenant();
    let ids = |list: &[crate::covenant::Purpose]| list.iter().map(|p| p.id.clone()).collect();
    Ok(page(&CasePage {
        frame: v.frame(&format!("Casus {id}")),
        outcomes: ids(&covenant.weighing.outcomes),
        reasons: ids(&covenant.weighing.reasons),
        moments: covenant.monitoring.moments.iter().map(|m| m.id.clone()).collect(),
        case,
        error,
    }))
}

#[derive(Template)]
#[template(path = "console/meetings.html")]
struct MeetingsPage {
    frame: Frame,
    meetings: Vec<MeetingView>,
}

/// `?id=` of the form that opens a meeting by its id.
#[derive(Debug, Deserialize)]
struct OpenMeeting {
    id: Option<String>,
}

async fn meetings(
    State(app): State<AppState>,
    v: Visitor,
    axum::extract::Query(open): axum::extract::Query<OpenMeeting>,
) -> Result<Response, Refusal> {
    professional(&v)?;
    if let Some(id) = open.id.as_deref().and_then(|id| id.trim().parse::<MeetingId>().ok()) {
        return Ok(Redirect::to(&format!("/console/meetings/{id}")).into_response());
    }
    let meetings = attended_by(&app.store, app.clock.now(), &v.caller.org.oin, (None, None))
        .await
        .map_err(ApiError::from)?;
    Ok(page(&MeetingsPage {
        frame: v.frame("Overleggen"),
        meetings,
    }))
}

#[derive(Template)]
#[template(path = "console/meeting.html")]
struct MeetingPage {
    frame: Frame,
    meeting: MeetingView,
    /// Per case on the agenda: what this organisation may receive, and the records of that read.
    received: Vec<(String, Vec<Shown>, usize, String)>,
    categories: Vec<String>,
    purposes: Vec<String>,
    error: Option<String>,
}

async fn meeting(State(app): State<AppState>, v: Visitor, Path(id): Path<String>) -> Result<Response, Refusal> {
    professional(&v)?;
    meeting_page(&app, &v, &id, None).await
}

async fn meeting_page(app: &AppState, v: &Visitor, id: &str, error: Option<String>) -> Result<Response, Refusal> {
    let id: MeetingId = id.parse().map_err(|_| ApiError::not_found("no such meeting"))?;
    let meeting = view_as_attendee(&app.store, app.clock.now(), &id, &v.caller.org.oin)
        .await
        .map_err(ApiError::from)?;
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let ex = exchange(app, &covenant, &registry);
    let mut received = Vec::new();
    for case_id in &meeting.agenda {
        let read = ex
            .read_shares(&v.ctx.actor(&v.caller), &id, case_id)
            .await
            .map_err(ApiError::from)?;
        let (items, recorded) = unpack(read);
        received.push((case_id.to_string(), shown(&items, app), items.withheld.len(), recorded));
    }
    let kind = covenant.meeting_type(&meeting.meeting_type);
    let purposes = kind
        .map(|t| t.purposes.iter().map(|p| p.id.clone()).collect())
        .unwrap_or_default();
    let categories = kind.map(|t| t.categories.clone()).unwrap_or_default();
    let body = MeetingPage {
        frame: v.frame(&format!("Overleg {id}")),
        categories,
        purposes,
        meeting,
        received,
        error,
    };
    Ok(page(&body))
}

/// The share form: the case, the purpose, and one category with its text.
#[derive(Debug, Deserialize)]
struct ShareForm {
    case_id: String,
    #[serde(default)]
    purpose: String,
    category: String,
    content: String,
}

async fn share(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<ShareForm>,
) -> Result<Response, Refusal> {
    professional(&v)?;
    let mid: MeetingId = id.parse().map_err(|_| ApiError::not_found("no such meeting"))?;
    let Ok(case_id) = form.case_id.parse::<CaseId>() else {
        return meeting_page(&app, &v, &id, Some("Kies een casus van de agenda.".to_owned())).await;
    };
    let Some(content) = given(&form.content) else {
        return meeting_page(&app, &v, &id, Some("Vul de informatie in die u deelt.".to_owned())).await;
    };
    let new = NewShare {
        case_id,
        purpose: given(&form.purpose),
        items: vec![NewItem {
            category: form.category.clone(),
            content: serde_json::Value::String(content),
        }],
    };
    let (covenant, registry) = (app.covenant(), app.registry.current());
    let done = exchange(&app, &covenant, &registry)
        .share(&v.ctx.actor(&v.caller), &mid, &new)
        .await;
    match done.map_err(ApiError::from) {
        Ok(_) => Ok(Redirect::to(&format!("/console/meetings/{id}")).into_response()),
        Err(e) => meeting_page(&app, &v, &id, Some(problem(e)?)).await,
    }
}
