//! The privacy officer's pages: search the disclosure log (every filter of `/v1/audit/disclosures`, paged), one
//! record in full with its place in the chain, the subject report (the BSN only in a POST body), exports, and the
//! log's integrity. Each read is recorded through the API's own functions; the page names the records.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::{given, numbers, page, Frame, Refusal, Visitor};
use crate::api::audit::{one_record, report, search, NamedRecord, SubjectReport};
use crate::api::error::ApiError;
use crate::app::AppState;
use crate::log::audit::{self as log_audit, Filters, Format};
use crate::log::chain::{Record, FIELDS};
use crate::log::merkle::{leaf_hash, verify_consistency, verify_inclusion, Hash};
use crate::log::verify::Run;
use crate::log::StoredNote;
use crate::types::UserRole;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/audit", get(search_form).post(search_post))
        .route("/console/audit/records/{seq}", get(record))
        .route("/console/audit/subject-report", get(report_form).post(report_post))
        .route("/console/audit/export", post(export))
        .route("/console/audit/integrity", get(integrity))
        .route("/console/audit/integrity/verify", post(verify))
}

/// The search form as sent: every field text, empty meaning "any".
#[derive(Debug, Default, Clone, Deserialize)]
pub struct SearchForm {
    #[serde(default)]
    bsn: String,
    #[serde(default)]
    case_id: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    recipient: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    cursor: String,
    /// `csv` or `jsonl` for an export.
    #[serde(default)]
    format: String,
}

impl SearchForm {
    fn filters(&self) -> Filters {
        Filters {
            bsn: given(&self.bsn),
            case_id: given(&self.case_id),
            organisation: given(&self.organisation),
            source: given(&self.source),
            recipient: given(&self.recipient),
            kind: given(&self.kind),
            action: given(&self.action),
            from: given(&self.from),
            to: given(&self.to),
            cursor: given(&self.cursor),
            limit: Some(PAGE),
        }
    }
}

/// Records per console page.
const PAGE: i64 = 50;

/// A record as a row of the results table.
pub struct Row {
    seq: i64,
    at: String,
    kind: &'static str,
    decision: &'static str,
    source: String,
    recipient: String,
    actor: String,
    case_id: String,
    categories: String,
    article: String,
    what: String,
}

fn org_label(name: Option<&String>, oin: Option<&String>) -> String {
    match (name, oin) {
        (Some(n), _) => n.clone(),
        (None, Some(o)) => o.clone(),
        _ => String::new(),
    }
}

fn kind_nl(kind: crate::log::chain::Kind) -> &'static str {
    use crate::log::chain::Kind;
    match kind {
        Kind::Disclosure => "verstrekking",
        Kind::Refusal => "weigering",
        Kind::Lookup => "hit/no-hit",
        Kind::Admin => "beheer",
    }
}

impl From<&NamedRecord> for Row {
    fn from(n: &NamedRecord) -> Row {
        let e = &n.record.entry;
        Row {
            seq: n.record.seq,
            at: n.record.at.clone(),
            kind: kind_nl(e.kind),
            decision: if e.decision == crate::log::chain::Verdict::Allow {
                "toegestaan"
            } else {
                "geweigerd"
            },
            source: org_label(n.source_name.as_ref(), e.source_oin.as_ref()),
            recipient: org_label(n.recipient_name.as_ref(), e.recipient_oin.as_ref()),
            actor: format!(
                "{} {}",
                org_label(n.actor_name.as_ref(), e.actor_oin.as_ref()),
                e.actor_sub.clone().unwrap_or_default()
            ),
            case_id: e.case_id.clone().unwrap_or_default(),
            categories: e.categories.join(", "),
            article: e.article.clone().unwrap_or_default(),
            what: e.action.clone().or_else(|| e.reason.clone()).unwrap_or_default(),
        }
    }
}

/// An organisation to choose in a filter.
pub struct Choice {
    value: String,
    label: String,
}

fn organisations(app: &AppState) -> Vec<Choice> {
    let mut orgs: Vec<Choice> = app
        .registry
        .current()
        .organisations()
        .map(|o| Choice {
            value: o.oin.to_string(),
            label: o.name.clone(),
        })
        .collect();
    orgs.sort_by(|a, b| a.label.cmp(&b.label));
    orgs
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct SearchPage {
    frame: Frame,
    form: SearchForm,
    orgs: Vec<Choice>,
    kinds: Vec<Choice>,
    rows: Vec<Row>,
    next_cursor: Option<String>,
    recorded: String,
    searched: bool,
}

fn kinds() -> Vec<Choice> {
    [
        ("", "alle"),
        ("disclosure", "verstrekking"),
        ("refusal", "weigering"),
        ("lookup", "hit/no-hit"),
        ("admin", "beheer"),
    ]
    .into_iter()
    .map(|(v, l)| Choice {
        value: v.to_owned(),
        label: l.to_owned(),
    })
    .collect()
}

/// The records a page reveals are named in the page and in the `doelpoort-log-record` header, as the API does.
pub(super) fn cite(records: &[i64], mut response: Response) -> Response {
    let cited: Vec<String> = records.iter().map(i64::to_string).collect();
    if let Ok(v) = HeaderValue::from_str(&cited.join(",")) {
        response.headers_mut().insert("doelpoort-log-record", v);
    }
    response
}

async fn search_form(State(app): State<AppState>, v: Visitor) -> Result<Response, Refusal> {
    v.require(UserRole::PrivacyOfficer)?;
    run_search(&app, &v, SearchForm::default(), false).await
}

async fn search_post(
    State(app): State<AppState>,
    v: Visitor,
    Form(form): Form<SearchForm>,
) -> Result<Response, Refusal> {
    v.require(UserRole::PrivacyOfficer)?;
    run_search(&app, &v, form, true).await
}

async fn run_search(app: &AppState, v: &Visitor, form: SearchForm, searched: bool) -> Result<Response, Refusal> {
    let released = search(app, &v.caller, &v.ctx, &form.filters()).await?;
    let (records, found) = released.into_parts();
    let body = SearchPage {
        frame: v.frame("Verstrekkingen en weigeringen"),
        rows: found.records.iter().map(Row::from).collect(),
        next_cursor: found.next_cursor,
        orgs: organisations(app),
        kinds: kinds(),
        recorded: numbers(&records),
        form: SearchForm {
            cursor: String::new(),
            ..form
        },
        searched,
    };
    Ok(cite(&records, page(&body)))
}

#[derive(Template)]
#[template(path = "console/record.html")]
struct RecordPage {
    frame: Frame,
    seq: i64,
    fields: Vec<(&'static str, String)>,
    prev_hash: String,
    hash: String,
    sealed_by: Option<StoredNote>,
    recorded: String,
}

async fn record(State(app): State<AppState>, v: Visitor, Path(seq): Path<String>) -> Result<Response, Refusal> {
    v.require(UserRole::PrivacyOfficer)?;
    let seq: i64 = seq.parse().map_err(|_| ApiError::not_found("no such record"))?;
    let found = one_record(&app, &v.caller, &v.ctx, seq)
        .await?
        .ok_or_else(|| ApiError::not_found("no such record"))?;
    let (records, named) = found.into_parts();
    let sealed_by = app
        .log
        .records()
        .notes(seq.saturating_sub(1), 1)
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .next();
    let body = RecordPage {
        frame: v.frame(&format!("Logrecord {seq}")),
        seq,
        fields: fields(&named.record),
        prev_hash: named.record.prev_hash.clone(),
        hash: named.record.hash.clone(),
        sealed_by,
        recorded: numbers(&records),
    };
    Ok(cite(&records, page(&body)))
}

/// Every stored field of a record by name, in the order of the canonical encoding.
fn fields(record: &Record) -> Vec<(&'static str, String)> {
    FIELDS
        .iter()
        .zip(record.stored_fields())
        .map(|(name, value)| (*name, value.unwrap_or_else(|| "—".to_owned())))
        .collect()
}

#[derive(Template)]
#[template(path = "console/subject_report.html")]
struct ReportPage {
    frame: Frame,
    report: Option<SubjectReport>,
    recorded: String,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct BsnForm {
    #[serde(default)]
    bsn: String,
}

async fn report_form(v: Visitor) -> Result<Response, Refusal> {
    v.require(UserRole::PrivacyOfficer)?;
    Ok(page(&ReportPage {
        frame: v.frame("Inzageverzoek van een betrokkene"),
        report: None,
        recorded: String::new(),
        error: None,
    }))
}

async fn report_post(State(app): State<AppState>, v: Visitor, Form(form): Form<BsnForm>) -> Result<Response, Refusal> {
    v.require(UserRole::PrivacyOfficer)?;
    let frame = v.frame("Inzageverzoek van een betrokkene");
    match report(&app, &v.caller, &v.ctx, form.bsn.trim()).await {
        Ok(released) => {
            let (records, found) = released.into_parts();
            let body = ReportPage {
                frame,
                report: Some(found),
                recorded: numbers(&records),
                error: None,
            };
            Ok(cite(&records, page(&body)))
        }
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let body = ReportPage {
                frame,
                report: None,
                recorded: String::new(),
                error: Some("Dit is geen geldig BSN (negen cijfers die de elfproef doorstaan).".to_owned()),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&body)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Every record the filters select within the officer's scope, up to today's head, as a download; recorded (with
/// its count) before it is written, like `audit export`.
async fn export(State(app): State<AppState>, v: Visitor, Form(form): Form<SearchForm>) -> Result<Response, Refusal> {
    v.require(UserRole::PrivacyOfficer)?;
    let format = match form.format.as_str() {
        "csv" => Format::Csv,
        "jsonl" => Format::Jsonl,
        "ldv" => Format::Ldv,
        _ => return Err(ApiError::validation("format: csv, jsonl or ldv").into()),
    };
    let scope = crate::api::audit::officer_scope(&app, &v.caller)?;
    let filters = Filters {
        cursor: None,
        limit: None,
        ..form.filters()
    };
    let mut q = filters.parse(&app.pseudonyms, scope.as_ref()).map_err(ApiError::from)?;
    crate::api::audit::joined_cases(&app, &mut q.filter).await?;
    let records = app.log.records();
    q.filter.through = Some(records.head().await.map_err(ApiError::from)?.0);
    let matching = records.count(&q.filter).await.map_err(ApiError::from)?;
    let entry = log_audit::read_entry(
        "audit.export",
        &v.ctx.actor(&v.caller).into(),
        &q.filter,
        Some(usize::try_from(matching).unwrap_or(usize::MAX)),
    );
    let released = app.log.release((), vec![entry]).await.map_err(ApiError::from)?;
    let mut out = Vec::new();
    log_audit::export(records, &q.filter, format, &mut out)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let (kind, name) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "verstrekkingen.csv"),
        Format::Jsonl => ("application/x-ndjson", "verstrekkingen.jsonl"),
        Format::Ldv => ("application/x-ndjson", "verstrekkingen-ldv.jsonl"),
    };
    let response = (
        [
            (header::CONTENT_TYPE, kind.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        out,
    )
        .into_response();
    Ok(cite(released.records(), response))
}

#[derive(Template)]
#[template(path = "console/integrity.html")]
struct IntegrityPage {
    frame: Frame,
    head: i64,
    latest: Option<LatestCheckpoint>,
    witnesses: Vec<WitnessRow>,
    public_key: String,
    origin: String,
    ask: IntegrityAsk,
    inclusion: Option<Result<ProofView, String>>,
    consistency: Option<Result<ProofView, String>>,
    run: Run,
    running: bool,
}

/// The newest checkpoint as the page shows it.
struct LatestCheckpoint {
    note: StoredNote,
    root: String,
    /// Organisation name and OIN, and the witness's name, per cosignature.
    cosigners: Vec<(String, String)>,
}

struct WitnessRow {
    organisation: String,
    name: String,
    public_key: String,
    since: String,
}

/// A proof the gateway served and what checking it against the signed root found.
struct ProofView {
    title: String,
    path: Vec<String>,
    verdict: String,
    holds: bool,
}

/// The proof forms' fields, as typed.
#[derive(Debug, Default, Deserialize)]
struct IntegrityAsk {
    #[serde(default)]
    seq: String,
    #[serde(default)]
    tree_size: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

async fn integrity(
    State(app): State<AppState>,
    v: Visitor,
    Query(ask): Query<IntegrityAsk>,
) -> Result<Response, Refusal> {
    v.require(UserRole::PrivacyOfficer)?;
    let records = app.log.records();
    let head = records.head().await.map_err(ApiError::from)?.0;
    let latest = match records.latest_note().await.map_err(ApiError::from)? {
        Some(note) => Some(latest_checkpoint(&app, note).await?),
        None => None,
    };
    let witnesses = records
        .witnesses()
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .map(|w| WitnessRow {
            organisation: organisation_name(&app, &w.oin),
            name: w.name,
            public_key: w.public_key,
            since: w.since,
        })
        .collect();
    let inclusion = match given(&ask.seq) {
        Some(seq) => Some(inclusion_view(&app, &v, &seq, given(&ask.tree_size)).await?),
        None => None,
    };
    let consistency = match (given(&ask.from), given(&ask.to)) {
        (Some(from), Some(to)) => Some(consistency_view(&app, &v, &from, &to).await?),
        _ => None,
    };
    let run = app.verification.current();
    let body = IntegrityPage {
        frame: v.frame("Integriteit van het log"),
        head,
        latest,
        witnesses,
        public_key: app.checkpoint_public_key.clone(),
        origin: app.notary.origin.clone(),
        ask,
        inclusion,
        consistency,
        running: matches!(run, Run::Running { .. }),
        run,
    };
    Ok(page(&body))
}

fn organisation_name(app: &AppState, oin: &str) -> String {
    let name = crate::api::audit::name_of(&app.registry.current(), Some(oin));
    name.map_or_else(|| oin.to_owned(), |n| format!("{n} ({oin})"))
}

async fn latest_checkpoint(app: &AppState, note: StoredNote) -> Result<LatestCheckpoint, Refusal> {
    let root = app
        .trust()
        .open(&note.note)
        .map_or_else(|| "(handtekening klopt niet)".to_owned(), |c| hex::encode(c.root));
    let cosigners = app
        .log
        .records()
        .cosignatures(note.size)
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .map(|(oin, line)| {
            let witness = crate::log::note::Line::parse(&line).map_or_else(String::new, |l| l.name);
            (organisation_name(app, &oin), witness)
        })
        .collect();
    Ok(LatestCheckpoint { note, root, cosigners })
}

/// A proof's refusal in the officer's words; a failure of the gateway stays a refusal page.
fn proof_problem(e: ApiError) -> Result<String, Refusal> {
    match e.code {
        "not_found" => Ok(
            "Geen record met dat nummer binnen uw bereik, of het log heeft nog geen boom van die \
                           grootte."
                .to_owned(),
        ),
        "validation_failed" => Ok(
            "Het recordnummer moet tussen 1 en de boomgrootte liggen, en ‘van’ mag niet \
                                   groter zijn dan ‘tot’."
                .to_owned(),
        ),
        _ => Err(e.into()),
    }
}

fn number(text: &str) -> Option<i64> {
    text.parse().ok().filter(|n: &i64| *n >= 1)
}

fn hashes(path: &[String]) -> Option<Vec<Hash>> {
    path.iter().map(|h| hex::decode(h).ok()?.try_into().ok()).collect()
}

/// The root a partner would check against: the signed checkpoint of that size if there is one, else the tree as
/// the gateway computes it now (said so on the page).
async fn signed_root(app: &AppState, size: i64) -> Result<(Hash, bool), Refusal> {
    let records = app.log.records();
    if let Some(note) = records.note(size).await.map_err(ApiError::from)? {
        if let Some(c) = app.trust().open(&note.note) {
            return Ok((c.root, true));
        }
    }
    let root = records.root(size as u64).await.map_err(ApiError::from)?;
    Ok((root, false))
}

async fn inclusion_view(
    app: &AppState,
    v: &Visitor,
    seq: &str,
    tree_size: Option<String>,
) -> Result<Result<ProofView, String>, Refusal> {
    let Some(seq) = number(seq) else {
        return Ok(Err("Vul een recordnummer in (1 of hoger).".to_owned()));
    };
    let size = match tree_size.as_deref().map(number) {
        Some(None) => return Ok(Err("Vul als boomgrootte een getal in (1 of hoger).".to_owned())),
        Some(size) => size,
        None => None,
    };
    let proof = match crate::api::integrity::inclusion_proof(app, &v.caller, seq, size).await {
        Ok(p) => p,
        Err(e) => return proof_problem(e).map(Err),
    };
    let size = proof.tree_size as i64;
    let (root, signed) = signed_root(app, size).await?;
    let record = app.log.records().record(seq).await.map_err(ApiError::from)?;
    let holds = record.is_some_and(|r| {
        hashes(&proof.path).is_some_and(|path| {
            verify_inclusion(&leaf_hash(&r.encode()), proof.leaf_index, proof.tree_size, &path, &root)
        })
    });
    Ok(Ok(ProofView {
        title: format!("Record {seq} in de boom van {size} records"),
        verdict: verdict(holds, signed, size),
        path: proof.path,
        holds,
    }))
}

async fn consistency_view(
    app: &AppState,
    v: &Visitor,
    from: &str,
    to: &str,
) -> Result<Result<ProofView, String>, Refusal> {
    let (Some(from), Some(to)) = (number(from), number(to)) else {
        return Ok(Err("Vul twee boomgroottes in (1 of hoger).".to_owned()));
    };
    let proof = match crate::api::integrity::consistency_proof(app, &v.caller, from, to).await {
        Ok(p) => p,
        Err(e) => return proof_problem(e).map(Err),
    };
    let (old, old_signed) = signed_root(app, from).await?;
    let (new, new_signed) = signed_root(app, to).await?;
    let holds = hashes(&proof.path).is_some_and(|path| verify_consistency(proof.from, proof.to, &old, &new, &path));
    Ok(Ok(ProofView {
        title: format!("De boom van {to} records bevat die van {from} records ongewijzigd"),
        verdict: verdict(holds, old_signed && new_signed, to),
        path: proof.path,
        holds,
    }))
}

fn verdict(holds: bool, signed: bool, size: i64) -> String {
    match (holds, signed) {
        (true, true) => "Het bewijs klopt met de ondertekende wortel van het controlepunt.".to_owned(),
        (true, false) => format!(
            "Het bewijs klopt met de wortel die de gateway nu over {size} records berekent; er is geen controlepunt \
             van precies die grootte."
        ),
        (false, _) => "Het bewijs klopt NIET: het log is veranderd. Waarschuw de functionaris \
                       gegevensbescherming."
            .to_owned(),
    }
}

/// Starts a verification of the whole log in the background (one at a time); the integrity page shows its
/// progress and result.
async fn verify(State(app): State<AppState>, v: Visitor) -> Result<Response, Refusal> {
    v.require(UserRole::PrivacyOfficer)?;
    let now = || crate::types::Instant::from(app.clock.now()).to_string();
    if app.verification.start(now()) {
        let app = app.clone();
        tokio::spawn(async move {
            let result = crate::log::verify::verify(app.log.records(), &app.trust(), |done, total| {
                app.verification.progress(done, total);
            })
            .await
            .map_err(|e| e.to_string());
            let finished = crate::types::Instant::from(app.clock.now()).to_string();
            app.verification.finish(finished, result);
        });
    }
    Ok(axum::response::Redirect::to("/console/audit/integrity").into_response())
}
