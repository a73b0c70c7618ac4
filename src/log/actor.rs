//! Who acts: the organisation and user behind a request, with the request and trace ids its log records carry.
use crate::log::chain::Entry;
use crate::types::{CaseId, Oin};

#[derive(Debug, Clone)]
pub struct Actor {
    pub oin: Oin,
    pub sub: String,
    pub request_id: Option<String>,
    pub trace: Option<(String, String)>,
}

/// `entry` marked with the request id and the (trace id, span id) of the request it belongs to: the one place
/// where a record gets the ids that let a partner link it to its own processing log.
pub fn stamp(entry: Entry, request_id: Option<&String>, trace: Option<&(String, String)>) -> Entry {
    let (trace_id, span_id) = trace.cloned().unzip();
    Entry {
        request_id: request_id.cloned(),
        trace_id,
        span_id,
        ..entry
    }
}

impl Actor {
    /// Stamps `entry` with this actor's request and trace ids.
    pub fn stamp(&self, entry: Entry) -> Entry {
        stamp(entry, self.request_id.as_ref(), self.trace.as_ref())
    }

    /// The `admin` record of `action` on `target`; `detail` holds no personal data of a subject.
    pub fn admin_entry(&self, action: &str, target: &str, detail: serde_json::Value) -> Entry {
        self.stamp(Entry::admin(
            Some(self.oin.to_string()),
            &self.sub,
            action,
            target,
            detail.to_string(),
        ))
    }

    /// The `admin` record of `action` on a case.
    pub fn case_entry(
        &self,
        action: &str,
        case_id: &CaseId,
        subject: Option<String>,
        detail: serde_json::Value,
    ) -> Entry {
        Entry {
            case_id: Some(case_id.to_string()),
            subject,
            ..self.admin_entry(action, case_id.as_str(), detail)
        }
    }
}
