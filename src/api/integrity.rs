//! The log's verifiable side for privacy officers and their witnesses: the latest checkpoint as a signed note with
//! its cosignatures, inclusion and consistency proofs (RFC 6962), one record with its encoding, and witnesses'
//! cosignatures. Checkpoints and proofs hold only hashes, so serving them is not itself recorded; a record's
//! encoding is personal data and is released with the record of its read.
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::audit::{officer_scope, one_record, scoped_record, NamedRecord};
use super::error::ApiError;
use super::json::{Json, Path, Query};
use super::trace::RequestContext;
use crate::app::AppState;
use crate::edge::identity::Caller;
use crate::log::merkle::{consistency_ranges, inclusion_ranges, leaf_hash};
use crate::log::note::{self, Line};
use crate::log::{Released, StoredNote};

/// The latest checkpoint, a C2SP signed note, with the witnesses' cosignature lines after the gateway's signature.
#[utoipa::path(get, path = "/v1/audit/checkpoint", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = String, content_type = "text/plain"), (status = 403, body = crate::api::error::Problem),
              (status = 404, body = crate::api::error::Problem)))]
pub async fn checkpoint(State(app): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    officer_scope(&app, &caller)?;
    let records = app.log.records();
    let latest = records
        .latest_note()
        .await?
        .ok_or_else(|| ApiError::not_found("no checkpoint has been signed yet"))?;
    let mut text = latest.note.clone();
    for (_, line) in records.cosignatures(latest.size).await? {
        text.push_str(&line);
    }
    Ok(([(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// The record.
    #[param(minimum = 1)]
    pub seq: i64,
    /// The tree the proof is for (a checkpoint's size); default the latest checkpoint's.
    #[param(minimum = 1)]
    pub tree_size: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProof {
    pub leaf_index: u64,
    pub tree_size: u64,
    /// Hex hashes, leaf side first (RFC 6962 §2.1.1).
    pub path: Vec<String>,
}

/// 404 for a tree larger than the log has grown (proofs go no further).
async fn no_tree_beyond(app: &AppState, size: i64) -> Result<(), ApiError> {
    if size > app.log.records().tree_size().await? {
        return Err(ApiError::not_found("the log holds no tree of that size yet"));
    }
    Ok(())
}

/// The inclusion proof of record `seq` in the tree of `tree_size` records; a partner's officer gets proofs only
/// for records within its scope (404 for others, as for records that do not exist).
#[utoipa::path(get, path = "/v1/audit/proof/inclusion", tag = "audit", security(("bearer" = [])), params(InclusionQuery),
    responses((status = 200, body = InclusionProof), (status = 403, body = crate::api::error::Problem),
              (status = 404, body = crate::api::error::Problem), (status = 422, body = crate::api::error::Problem)))]
pub async fn inclusion(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<InclusionQuery>,
) -> Result<axum::Json<InclusionProof>, ApiError> {
    inclusion_proof(&app, &caller, q.seq, q.tree_size).await.map(axum::Json)
}

/// The inclusion proof of record `seq` in the tree of `tree_size` records (default: the latest checkpoint's), for
/// the API and the console alike.
///
/// # Errors
/// 403 for a caller who is no privacy officer, 404 for a record outside the officer's scope or a tree the log does
/// not hold, 422 for `seq` beyond `tree_size`.
pub async fn inclusion_proof(
    app: &AppState,
    caller: &Caller,
    seq: i64,
    tree_size: Option<i64>,
) -> Result<InclusionProof, ApiError> {
    let scope = officer_scope(app, caller)?;
    let records = app.log.records();
    let size = match tree_size {
        Some(size) => size,
        None => {
            records
                .latest_note()
                .await?
                .ok_or_else(|| ApiError::not_found("no checkpoint has been signed yet"))?
                .size
        }
    };
    no_tree_beyond(app, size).await?;
    if !(1..=size).contains(&seq) {
        return Err(ApiError::validation("seq and tree_size: 1 ≤ seq ≤ tree_size"));
    }
    if scoped_record(app, scope.as_ref(), seq).await?.1.is_none() {
        return Err(ApiError::not_found("no such record within your scope"));
    }
    let (index, size) = (seq as u64 - 1, size as u64);
    let path = records.range_hashes(&inclusion_ranges(index, size)).await?;
    Ok(InclusionProof {
        leaf_index: index,
        tree_size: size,
        path: path.iter().map(hex::encode).collect(),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The older tree's size.
    #[param(minimum = 1)]
    pub from: i64,
    /// The newer tree's size.
    #[param(minimum = 1)]
    pub to: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    /// Hex hashes (RFC 6962 §2.1.2).
    pub path: Vec<String>,
}

/// The consistency proof between the trees of `from` and `to` records.
#[utoipa::path(get, path = "/v1/audit/proof/consistency", tag = "audit", security(("bearer" = [])), params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProof), (status = 403, body = crate::api::error::Problem),
              (status = 404, body = crate::api::error::Problem), (status = 422, body = crate::api::error::Problem)))]
pub async fn consistency(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<ConsistencyQuery>,
) -> Result<axum::Json<ConsistencyProof>, ApiError> {
    consistency_proof(&app, &caller, q.from, q.to).await.map(axum::Json)
}

/// The consistency proof between the trees of `from` and `to` records, for the API and the console alike.
///
/// # Errors
/// 403 for a caller who is no privacy officer, 404 for a tree the log does not hold, 422 for `from` beyond `to`.
pub async fn consistency_proof(
    app: &AppState,
    caller: &Caller,
    from: i64,
    to: i64,
) -> Result<ConsistencyProof, ApiError> {
    officer_scope(app, caller)?;
    no_tree_beyond(app, to).await?;
    if !(1..=to).contains(&from) {
        return Err(ApiError::validation("from and to: 1 ≤ from ≤ to"));
    }
    let (from, to) = (from as u64, to as u64);
    let path = app.log.records().range_hashes(&consistency_ranges(from, to)).await?;
    Ok(ConsistencyProof {
        from,
        to,
        path: path.iter().map(hex::encode).collect(),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EncodedRecord {
    pub record: NamedRecord,
    /// `E(r)`, base64 (`docs/log-encoding.md`).
    pub encoding: String,
    /// `SHA-256(0x00 ‖ E(r))`, hex.
    pub leaf_hash: String,
}

/// One record and its encoding, within the officer's scope; released with the record of this read.
#[utoipa::path(get, path = "/v1/audit/records/{seq}", tag = "audit", security(("bearer" = [])),
    params(("seq" = i64, Path, minimum = 1)),
    responses((status = 200, body = EncodedRecord), (status = 403, body = crate::api::error::Problem),
              (status = 404, body = crate::api::error::Problem), (status = 503, body = crate::api::error::Problem)))]
pub async fn record(
    State(app): State<AppState>,
    caller: Caller,
    ctx: RequestContext,
    Path(seq): Path<i64>,
) -> Result<Released<axum::Json<EncodedRecord>>, ApiError> {
    let found = one_record(&app, &caller, &ctx, seq)
        .await?
        .ok_or_else(|| ApiError::not_found("no such record within your scope"))?;
    Ok(found.map(|record| {
        let encoding = record.record.encode();
        axum::Json(EncodedRecord {
            leaf_hash: hex::encode(leaf_hash(&encoding)),
            encoding: STANDARD.encode(&encoding),
            record,
        })
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Cosignature {
    /// The checkpoint's size.
    pub size: i64,
    /// The cosignature line, `— NAME BASE64\n` (`c2sp.org/tlog-cosignature`).
    #[schema(max_length = 300)]
    pub line: String,
    /// The witness's Ed25519 public key, base64 (pinned for the organisation at its first cosignature).
    #[schema(max_length = 64)]
    pub public_key: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Cosigned {
    pub size: i64,
    /// Whether this cosignature was new (`false`: the organisation had cosigned this checkpoint already).
    pub added: bool,
}

/// A witness's cosignature over a checkpoint the gateway signed: checked against the stored note and the
/// organisation's pinned witness key, then stored and served with the checkpoint.
#[utoipa::path(post, path = "/v1/audit/cosignatures", tag = "audit", security(("bearer" = [])), request_body = inline(Cosignature),
    responses((status = 201, body = Cosigned), (status = 200, body = Cosigned), (status = 403, body = crate::api::error::Problem),
              (status = 404, body = crate::api::error::Problem), (status = 409, body = crate::api::error::Problem),
              (status = 422, body = crate::api::error::Problem)))]
pub async fn cosign(
    State(app): State<AppState>,
    caller: Caller,
    Json(c): Json<Cosignature>,
) -> Result<Response, ApiError> {
    officer_scope(&app, &caller)?;
    let records = app.log.records();
    let stored: StoredNote = records
        .note(c.size)
        .await?
        .ok_or_else(|| ApiError::not_found("no checkpoint of that size"))?;
    let key = STANDARD
        .decode(c.public_key.trim())
        .ok()
        .filter(|k| k.len() == 32)
        .ok_or_else(|| ApiError::validation("public_key: an Ed25519 public key, base64"))?;
    let line = Line::parse(&c.line).ok_or_else(|| ApiError::validation("line: not a signature line"))?;
    let body = note::split(&stored.note)
        .map(|(body, _)| body)
        .ok_or_else(|| ApiError::internal(&"a stored checkpoint is not a note"))?;
    if note::verify_cosignature(&body, &line, &line.name, &key).is_none() {
        return Err(ApiError::validation(
            "line: not a valid cosignature of this checkpoint with this key",
        ));
    }
    let oin = caller.org.oin.to_string();
    let public_key = STANDARD.encode(&key);
    if let Some(pinned) = records.witness(&oin).await? {
        if pinned.public_key != public_key || pinned.name != line.name {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "witness_key_mismatch",
                "your organisation cosigns with another witness name or key; an administrator must reset it",
            ));
        }
    }
    let now = crate::types::clock::rfc3339(app.clock.now());
    let added = records
        .add_cosignature(&oin, (&line.name, &public_key), c.size, &line.text(), &now)
        .await?;
    let status = if added { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(Cosigned { size: c.size, added })).into_response())
}
