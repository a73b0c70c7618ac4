//! A record as a Logboek Dataverwerkingen entry (Logius' standard, which follows OpenTelemetry spans): trace and
//! span id, name, start and end, status, the resource, and the `dpl.core` attributes. The data subject is the keyed
//! pseudonym, never the BSN; the rest of the record goes in `doelpoort.*` attributes, so an entry loses nothing that
//! the record holds. `docs/ldv.schema.json` describes one line.
use serde_json::{json, Map, Value};

use super::chain::{Kind, Record, Verdict};

/// `dpl.core.data_subject_id_type` of a pseudonym: HMAC-SHA256 of the BSN under the gateway's pseudonym key.
pub const SUBJECT_TYPE: &str = "urn:doelpoort:pseudonym:hmac-sha256:bsn";

/// The entry of one record.
pub fn entry(r: &Record) -> Value {
    let e = &r.entry;
    // A record made outside a request (the command line, a checkpoint) has no trace context: its ids are taken
    // from its own hash, so they are stable and unique per record.
    let trace_id = e.trace_id.clone().unwrap_or_else(|| r.hash.chars().take(32).collect());
    let span_id = e
        .span_id
        .clone()
        .unwrap_or_else(|| r.hash.chars().skip(32).take(16).collect());
    let status = match e.decision {
        Verdict::Allow => "STATUS_CODE_OK",
        Verdict::Deny => "STATUS_CODE_ERROR",
    };
    let mut attributes = Map::new();
    attributes.insert("dpl.core.processing_activity_id".into(), json!(activity(r)));
    if let Some(subject) = &e.subject {
        attributes.insert("dpl.core.data_subject_id".into(), json!(subject));
        attributes.insert("dpl.core.data_subject_id_type".into(), json!(SUBJECT_TYPE));
    }
    attributes.insert("doelpoort.seq".into(), json!(r.seq));
    attributes.insert("doelpoort.kind".into(), json!(e.kind.as_str()));
    attributes.insert("doelpoort.decision".into(), json!(e.decision.as_str()));
    attributes.insert("doelpoort.hash".into(), json!(r.hash));
    let optional = [
        ("doelpoort.source_oin", &e.source_oin),
        ("doelpoort.recipient_oin", &e.recipient_oin),
        ("doelpoort.actor_oin", &e.actor_oin),
        ("doelpoort.actor_sub", &e.actor_sub),
        ("doelpoort.case_id", &e.case_id),
        ("doelpoort.meeting_id", &e.meeting_id),
        ("doelpoort.meeting_type", &e.meeting_type),
        ("doelpoort.purpose", &e.purpose),
        ("doelpoort.covenant_version", &e.covenant_version),
        ("doelpoort.article", &e.article),
        ("doelpoort.request_id", &e.request_id),
        ("doelpoort.content_digest", &e.content_digest),
        ("doelpoort.reason", &e.reason),
        ("doelpoort.action", &e.action),
        ("doelpoort.target", &e.target),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            attributes.insert(key.into(), json!(v));
        }
    }
    if !e.categories.is_empty() {
        attributes.insert("doelpoort.categories".into(), json!(e.categories));
    }
    json!({
        "trace_id": trace_id,
        "span_id": span_id,
        "name": name(r),
        "start_time": r.at,
        "end_time": r.at,
        "status_code": status,
        "resource": {"name": "doelpoort", "version": env!("CARGO_PKG_VERSION")},
        "attributes": attributes,
    })
}

/// The processing activity: for an exchange the meeting type and purpose the covenant allows it for, for an
/// administrative record its action.
fn activity(r: &Record) -> String {
    let e = &r.entry;
    match (e.kind, &e.meeting_type, &e.purpose, &e.action) {
        (Kind::Admin, _, _, Some(action)) => format!("urn:doelpoort:activity:admin:{action}"),
        (_, Some(meeting), Some(purpose), _) => format!("urn:doelpoort:activity:{meeting}:{purpose}"),
        (kind, _, Some(purpose), _) => format!("urn:doelpoort:activity:{}:{purpose}", kind.as_str()),
        (kind, _, _, _) => format!("urn:doelpoort:activity:{}", kind.as_str()),
    }
}

fn name(r: &Record) -> String {
    match (&r.entry.kind, &r.entry.action) {
        (Kind::Admin, Some(action)) => action.clone(),
        (kind, _) => kind.as_str().to_owned(),
    }
}
