//! What the exchange takes in (requests, responses, shares) and what it shows (requests, released and withheld
//! items). Identifiers, times and statuses are typed; content is JSON as the source offered it.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::store::{AddresseeRow, RequestRow, RequestRows};
use crate::types::{AnswerStatus, CaseId, Instant, ItemId, MeetingId, Oin, RequestId};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    pub case_id: CaseId,
    pub meeting_id: MeetingId,
    pub purpose: String,
    #[schema(min_items = 1)]
    pub categories: Vec<String>,
    /// The member organisations asked (not the requester's own): an OIN, asked for all `categories`, or
    /// `{"oin","categories"}`, asked for those only (a subset of `categories`), each judged on its own.
    #[schema(min_items = 1)]
    pub addressees: Vec<Addressee>,
    /// RFC 3339; in the future.
    #[schema(format = DateTime)]
    pub due: String,
}

/// An organisation a request asks.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Addressee {
    /// Asked for every category of the request.
    #[schema(value_type = Oin)]
    All(String),
    /// Asked for these categories only.
    Some(ScopedAddressee),
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopedAddressee {
    #[schema(value_type = Oin)]
    pub oin: String,
    #[schema(min_items = 1)]
    pub categories: Vec<String>,
}

/// One item of content offered: a category and its content (a JSON string or object).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    pub category: String,
    #[schema(value_type = Object)]
    pub content: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResponse {
    /// At most `content.max_items` (100 by default).
    #[schema(min_items = 1, max_items = 100)]
    pub items: Vec<NewItem>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShare {
    pub case_id: CaseId,
    /// A purpose of the meeting's type; may be left out when the type has only one.
    pub purpose: Option<String>,
    /// At most `content.max_items` (100 by default).
    #[schema(min_items = 1, max_items = 100)]
    pub items: Vec<NewItem>,
}

/// A request as its requester or an addressee sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestView {
    pub id: RequestId,
    pub case_id: CaseId,
    pub meeting_id: MeetingId,
    pub purpose: String,
    pub categories: Vec<String>,
    pub requester_oin: Oin,
    pub due: Instant,
    pub created_at: Instant,
    pub addressees: Vec<AddresseeView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AddresseeView {
    pub oin: Oin,
    /// `open`, `answered`, `declined` or `expired`.
    pub status: AnswerStatus,
    pub reason: Option<String>,
    pub changed_at: Option<Instant>,
    /// The categories asked of this addressee.
    pub categories: Vec<String>,
}

/// An item released to the reader.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemView {
    pub id: ItemId,
    pub category: String,
    /// The JSON text as it was offered and sealed, released as it is (never parsed into values and written again).
    #[schema(value_type = Object)]
    pub content: Box<serde_json::value::RawValue>,
    pub source_oin: Oin,
    pub created_at: Instant,
    /// SHA-256 (hex) of the content's JSON text as offered; the disclosure record's `content_digest` is the SHA-256
    /// of the digests of the items it covers, each followed by a newline, in the order of this list.
    pub digest: String,
}

/// An item the reader may not receive now, and why (no content).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Withheld {
    pub source_oin: Oin,
    pub category: String,
    /// The decision point's refusal code.
    pub code: String,
}

/// What a reader gets: the items released to it, and those withheld.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Items {
    pub items: Vec<ItemView>,
    pub withheld: Vec<Withheld>,
}

/// A request read by its requester: the request and the responses it may receive.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestRead {
    #[serde(flatten)]
    pub request: RequestView,
    #[serde(flatten)]
    pub responses: Items,
}

/// The status of an addressee's answer at `now`: `expired` for an open one past its due date.
pub(super) fn status(a: &AddresseeRow, due: Instant, now: Instant) -> AnswerStatus {
    if a.status == AnswerStatus::Open && due <= now {
        AnswerStatus::Expired
    } else {
        a.status
    }
}

/// An addressee as the request's readers see it at `now`.
pub(super) fn addressee_view(a: AddresseeRow, request: &RequestRow, now: Instant) -> AddresseeView {
    AddresseeView {
        status: status(&a, request.due, now),
        categories: a.categories.clone().unwrap_or_else(|| request.categories.clone()),
        oin: a.oin,
        reason: a.reason,
        changed_at: a.changed_at,
    }
}

pub(super) fn request_view(r: RequestRow, addressees: Vec<AddresseeView>) -> RequestView {
    RequestView {
        id: r.id,
        case_id: r.case_id,
        meeting_id: r.meeting_id,
        purpose: r.purpose,
        categories: r.categories,
        requester_oin: r.requester_oin,
        due: r.due,
        created_at: r.created_at,
        addressees,
    }
}

/// A request as its requester reads it at `now`, with the responses released to it.
pub(super) fn request_read(rows: RequestRows, responses: Items, now: Instant) -> RequestRead {
    let request = &rows.request;
    let addressees = rows
        .addressees
        .into_iter()
        .map(|a| addressee_view(a, request, now))
        .collect();
    RequestRead {
        request: request_view(rows.request, addressees),
        responses,
    }
}
