//! Who acts, as the log records it: the organisation and user behind a request (with the request and trace ids its
//! records carry), or an operator on the gateway's host, who acts for no organisation.
use crate::log::chain::Entry;
use crate::types::{CaseId, Oin};

/// One who acts. `O` is the organisation acted for: always one ([`Oin`], the default) for the exchange, cases and
/// lookups; perhaps none ([`AnyActor`]) for administration, which operators do too.
#[derive(Debug, Clone)]
pub struct Actor<O = Oin> {
    pub oin: O,
    pub sub: String,
    pub request_id: Option<String>,
    /// The trace and span id of the request (W3C Trace Context).
    pub trace: Option<(String, String)>,
}

/// One who may act for no organisation: a professional through the API, or an operator on the gateway's host.
pub type AnyActor = Actor<Option<Oin>>;

/// The organisation an actor acts for, if any.
pub trait ActsFor {
    fn organisation(&self) -> Option<&Oin>;
}

impl ActsFor for Oin {
    fn organisation(&self) -> Option<&Oin> {
        Some(self)
    }
}

impl ActsFor for Option<Oin> {
    fn organisation(&self) -> Option<&Oin> {
        self.as_ref()
    }
}

impl AnyActor {
    /// An operator on the gateway's host, named `sub` (`cli:uid=UID(NAME)`, `signal:SIGHUP`, `demo`).
    pub fn operator(sub: &str) -> AnyActor {
        Actor {
            oin: None,
            sub: sub.to_owned(),
            request_id: None,
            trace: None,
        }
    }
}

impl From<Actor> for AnyActor {
    fn from(a: Actor) -> AnyActor {
        Actor {
            oin: Some(a.oin),
            sub: a.sub,
            request_id: a.request_id,
            trace: a.trace,
        }
    }
}

impl<O: ActsFor> Actor<O> {
    /// `entry` marked with the id and trace of the request it belongs to: the one place where a record gets the
    /// ids that let a partner link it to its own processing log.
    pub fn stamp(&self, entry: Entry) -> Entry {
        let (trace_id, span_id) = self.trace.clone().unzip();
        Entry {
            request_id: self.request_id.clone(),
            trace_id,
            span_id,
            ..entry
        }
    }

    /// The `admin` record of `action` on `target`; `detail` holds no personal data of a subject.
    pub fn admin_entry(&self, action: &str, target: &str, detail: &serde_json::Value) -> Entry {
        self.stamp(Entry::admin(
            self.oin.organisation().map(Oin::to_string),
            &self.sub,
            action,
            target,
            detail.to_string(),
        ))
    }
}

impl Actor {
    /// The `admin` record of `action` on a case.
    pub fn case_entry(
        &self,
        action: &str,
        case_id: &CaseId,
        subject: Option<String>,
        detail: &serde_json::Value,
    ) -> Entry {
        Entry {
            case_id: Some(case_id.to_string()),
            subject,
            ..self.admin_entry(action, case_id.as_str(), detail)
        }
    }
}
