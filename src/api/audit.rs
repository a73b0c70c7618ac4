//! The privacy officers' view of the disclosure log: records by filter, the GDPR subject report, and the signed
//! checkpoints. Reads of records are themselves recorded, and the answer leaves only with that record's receipt.
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;
use super::trace::RequestContext;
use crate::app::AppState;
use crate::covenant::Covenant;
use crate::edge::identity::Caller;
use crate::log::audit::{self, Filters, Page, SUBJECT_REPORT_MAX};
use crate::log::chain::Record;
use crate::log::Released;
use crate::log::StoredNote;
use crate::orgs::registry::Snapshot;
use crate::types::{Oin, UserRole};

/// A partner's officer sees its own organisation's records; the host's officer (the FG) sees all.
pub(crate) fn officer_scope(app: &AppState, caller: &Caller) -> Result<Option<Oin>, ApiError> {
    caller.require(UserRole::PrivacyOfficer)?;
    Ok((caller.org.oin != app.config.host_oin).then(|| caller.org.oin.clone()))
}

fn query<T>(q: Result<Query<T>, QueryRejection>, names: &str) -> Result<T, ApiError> {
    q.map(|Query(v)| v)
        .map_err(|_| ApiError::validation(format!("the query does not parse; its parameters are {names}")))
}

/// A record with the names, in the registry now, of the organisations it names.
#[derive(Debug, Serialize, ToSchema)]
pub struct NamedRecord {
    #[serde(flatten)]
    pub record: Record,
    pub source_name: Option<String>,
    pub recipient_name: Option<String>,
    pub actor_name: Option<String>,
}

/// One page of records, newest first, and the cursor of the next when there may be more.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordPage {
    pub records: Vec<NamedRecord>,
    pub next_cursor: Option<String>,
}

impl RecordPage {
    fn named(snapshot: &Snapshot, page: Page) -> RecordPage {
        let records = page
            .records
            .into_iter()
            .map(|record| {
                let e = &record.entry;
                NamedRecord {
                    source_name: name_of(snapshot, e.source_oin.as_deref()),
                    recipient_name: name_of(snapshot, e.recipient_oin.as_deref()),
                    actor_name: name_of(snapshot, e.actor_oin.as_deref()),
                    record,
                }
            })
            .collect();
        RecordPage {
            records,
            next_cursor: page.next_cursor,
        }
    }
}

/// The registered name of the organisation with this OIN, if any.
/// The name of the organisation an OIN of a record names, if it is onboarded.
pub(crate) fn name_of(snapshot: &Snapshot, oin: Option<&str>) -> Option<String> {
    let oin: Oin = oin?.parse().ok()?;
    snapshot.organisation(&oin).map(|o| o.name.clone())
}

/// Disclosure-log records, newest first, by subject, case, organisation, source, recipient, kind, action and
/// period.
#[utoipa::path(get, path = "/v1/audit/disclosures", tag = "audit", security(("bearer" = [])), params(Filters),
    responses((status = 200, body = RecordPage), (status = 403, body = crate::api::error::Problem),
              (status = 422, body = crate::api::error::Problem), (status = 503, body = crate::api::error::Problem)))]
pub async fn disclosures(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    filters: Result<Query<Filters>, QueryRejection>,
) -> Result<Released<axum::Json<RecordPage>>, ApiError> {
    officer_scope(&app, &caller)?;
    let filters = query(
        filters,
        "bsn, case_id, organisation, source, recipient, kind, action, from, to, cursor and limit",
    )?;
    Ok(search(&app, &caller, &ctx, &filters).await?.map(axum::Json))
}

/// One page of the records `filters` select within the officer's scope, released with the record of this read:
/// the API's and the console's search.
///
/// # Errors
/// Not a privacy officer; filters that do not parse; the log unavailable.
pub(crate) async fn search(
    app: &AppState,
    caller: &Caller,
    ctx: &RequestContext,
    filters: &Filters,
) -> Result<Released<RecordPage>, ApiError> {
    let scope = officer_scope(app, caller)?;
    let mut q = filters.parse(&app.pseudonyms, scope.as_ref())?;
    joined_cases(app, &mut q.filter).await?;
    let records = app.log.records().query(&q.filter, q.before, true, q.limit).await?;
    let page = Page::new(&app.pseudonyms, &q, records);
    let entry = audit::read_entry(
        "audit.disclosures",
        &ctx.actor(caller).into(),
        &q.filter,
        Some(page.records.len()),
    );
    let page = RecordPage::named(&app.registry.current(), page);
    Ok(app.log.release(page, vec![entry]).await?)
}

/// The record with sequence number `seq`, if it is within the officer's scope, released with the record of this
/// read (none when there is no such record: nothing was read).
///
/// # Errors
/// Not a privacy officer; the log unavailable.
/// Record `seq` if it lies within `scope` (the organisation an officer sees records of; `None`: all), with the
/// filter that found it: the one place the scope of a single record is decided.
pub(crate) async fn scoped_record(
    app: &AppState,
    scope: Option<&Oin>,
    seq: i64,
) -> Result<(crate::log::LogFilter, Option<Record>), ApiError> {
    let filter = crate::log::LogFilter {
        scope: scope.map(ToString::to_string),
        through: Some(seq),
        ..Default::default()
    };
    let found = app.log.records().query(&filter, seq.saturating_add(1), true, 1).await?;
    Ok((filter, found.into_iter().find(|r| r.seq == seq)))
}

pub(crate) async fn one_record(
    app: &AppState,
    caller: &Caller,
    ctx: &RequestContext,
    seq: i64,
) -> Result<Option<Released<NamedRecord>>, ApiError> {
    let scope = officer_scope(app, caller)?;
    let (filter, record) = scoped_record(app, scope.as_ref(), seq).await?;
    let Some(record) = record else {
        return Ok(None);
    };
    let entry = audit::read_entry("audit.record", &ctx.actor(caller).into(), &filter, Some(1));
    let page = RecordPage::named(
        &app.registry.current(),
        Page {
            records: vec![record],
            next_cursor: None,
        },
    );
    let record = page.records.into_iter().next();
    let Some(record) = record else { return Ok(None) };
    Ok(Some(app.log.release(record, vec![entry]).await?))
}

#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubjectQuery {
    /// The data subject's BSN (nine digits passing the elfproef).
    #[schema(pattern = "^[0-9]{9}$")]
    #[param(pattern = "^[0-9]{9}$")]
    pub bsn: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectReport {
    /// Every release of data about this person to an organisation, newest first.
    pub disclosures: Vec<SubjectDisclosure>,
    /// More than 10,000 releases: the oldest are left out; use `/v1/audit/disclosures` to page through all.
    pub truncated: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgRef {
    pub oin: String,
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectDisclosure {
    pub at: String,
    /// `disclosure` (case data) or `lookup` (a hit/no-hit answer).
    pub kind: String,
    pub recipient: Option<OrgRef>,
    pub source: Option<OrgRef>,
    pub case_id: Option<String>,
    pub meeting_id: Option<String>,
    pub meeting_type: Option<String>,
    pub purpose: Option<String>,
    pub categories: Vec<String>,
    /// Those of `categories` the covenant marks confidential (to be weighed before the report goes to the person).
    pub confidential_categories: Vec<String>,
    pub covenant_version: Option<String>,
    pub article: Option<String>,
    /// The log record, to be looked up in `/v1/audit/disclosures`.
    pub seq: i64,
}

/// For a GDPR access request: every organisation that received data about this person.
#[utoipa::path(get, path = "/v1/audit/subject-report", tag = "audit", security(("bearer" = [])), params(SubjectQuery),
    responses((status = 200, body = SubjectReport), (status = 403, body = crate::api::error::Problem),
              (status = 422, body = crate::api::error::Problem), (status = 503, body = crate::api::error::Problem)))]
pub async fn subject_report(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    q: Result<Query<SubjectQuery>, QueryRejection>,
) -> Result<Released<axum::Json<SubjectReport>>, ApiError> {
    let bsn = query(q, "bsn")?.bsn;
    Ok(report(&app, &caller, &ctx, &bsn).await?.map(axum::Json))
}

/// The subject report with the BSN in the body, so that it need not travel in a URL (and land in access logs).
#[utoipa::path(post, path = "/v1/audit/subject-report", tag = "audit", security(("bearer" = [])),
    request_body = SubjectQuery,
    responses((status = 200, body = SubjectReport), (status = 403, body = crate::api::error::Problem),
              (status = 422, body = crate::api::error::Problem), (status = 503, body = crate::api::error::Problem)))]
pub async fn subject_report_post(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    body: super::json::Json<SubjectQuery>,
) -> Result<Released<axum::Json<SubjectReport>>, ApiError> {
    Ok(report(&app, &caller, &ctx, &body.0.bsn).await?.map(axum::Json))
}

/// The subject report for `bsn` within the officer's scope, released with the record of this read: the API's
/// and the console's.
///
/// # Errors
/// Not a privacy officer; not a BSN; the log unavailable.
/// Widens a search for a subject to the cases it joined later (a family's or group's other members).
pub(crate) async fn joined_cases(app: &AppState, filter: &mut crate::log::LogFilter) -> Result<(), ApiError> {
    if let Some(subject) = &filter.subject {
        filter.subject_cases = app.store.cases_joined_by(subject).await?;
    }
    Ok(())
}

pub(crate) async fn report(
    app: &AppState,
    caller: &Caller,
    ctx: &RequestContext,
    bsn: &str,
) -> Result<Released<SubjectReport>, ApiError> {
    let scope = officer_scope(app, caller)?;
    let subject = audit::subject_of(&app.pseudonyms, bsn)?;
    let mut filter = audit::subject_filter(subject, scope.as_ref());
    joined_cases(app, &mut filter).await?;
    let mut records = app
        .log
        .records()
        .query(&filter, i64::MAX, true, SUBJECT_REPORT_MAX + 1)
        .await?;
    let truncated = records.len() as i64 > SUBJECT_REPORT_MAX;
    records.truncate(SUBJECT_REPORT_MAX as usize);
    let entry = audit::read_entry(
        "audit.subject_report",
        &ctx.actor(caller).into(),
        &filter,
        Some(records.len()),
    );
    let (snapshot, covenant) = (app.registry.current(), app.covenant());
    let report = SubjectReport {
        disclosures: records
            .into_iter()
            .map(|r| disclosure_of(&snapshot, &covenant, r))
            .collect(),
        truncated,
    };
    Ok(app.log.release(report, vec![entry]).await?)
}

/// One release as the report shows it, with organisation names from the registry snapshot.
fn disclosure_of(snapshot: &Snapshot, covenant: &Covenant, r: Record) -> SubjectDisclosure {
    let org = |oin: Option<String>| {
        oin.map(|oin| OrgRef {
            name: name_of(snapshot, Some(&oin)),
            oin,
        })
    };
    let e = r.entry;
    let confidential_categories = e
        .categories
        .iter()
        .filter(|c| covenant.category(c).is_some_and(|c| c.confidential))
        .cloned()
        .collect();
    SubjectDisclosure {
        at: r.at,
        kind: e.kind.as_str().to_owned(),
        recipient: org(e.recipient_oin),
        source: org(e.source_oin),
        case_id: e.case_id,
        meeting_id: e.meeting_id,
        meeting_type: e.meeting_type,
        purpose: e.purpose,
        categories: e.categories,
        confidential_categories,
        covenant_version: e.covenant_version,
        article: e.article,
        seq: r.seq,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CheckpointQuery {
    /// Checkpoints over more records than this (default 0).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Checkpoints {
    /// The key that signs checkpoints now (Ed25519, base64url).
    pub public_key: String,
    /// The checkpoints' origin line and key name.
    pub origin: String,
    /// Oldest first.
    pub checkpoints: Vec<StoredNote>,
}

/// Signed checkpoints of the disclosure log, so a partner can hold the operator to a tree it saw. They hold no
/// personal data, so fetching them is not itself recorded (that would move the head at every poll).
#[utoipa::path(get, path = "/v1/audit/checkpoints", tag = "audit", security(("bearer" = [])), params(CheckpointQuery),
    responses((status = 200, body = Checkpoints), (status = 403, body = crate::api::error::Problem),
              (status = 422, body = crate::api::error::Problem)))]
pub async fn checkpoints(
    State(app): State<AppState>,
    caller: Caller,
    q: Result<Query<CheckpointQuery>, QueryRejection>,
) -> Result<axum::Json<Checkpoints>, ApiError> {
    officer_scope(&app, &caller)?;
    let q = query(q, "after and limit")?;
    let limit = q.limit.unwrap_or(audit::DEFAULT_PAGE);
    if !(1..=audit::MAX_PAGE).contains(&limit) {
        return Err(ApiError::validation("limit: must be 1–1000"));
    }
    let after = q.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::validation("after: must not be negative"));
    }
    Ok(axum::Json(Checkpoints {
        public_key: app.checkpoint_public_key.clone(),
        origin: app.notary.origin.clone(),
        checkpoints: app.log.records().notes(after, limit).await?,
    }))
}
