//! W3C Trace Context: the trace id of an incoming `traceparent` is kept (or a new one made), the gateway's own
//! span gets a fresh id, and the response carries `traceparent` with both. Log records store the two, so a
//! partner can link our record to its own processing log (as the *Logboek Dataverwerkingen* standard does).
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::convert::Infallible;
use tower_http::request_id::RequestId;

use crate::edge::identity::Caller;
use crate::log::actor::Actor;

pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The trace this request belongs to and the gateway's span in it (lower-case hex, 32 and 16 digits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    pub trace_id: String,
    pub span_id: String,
}

impl Trace {
    fn header(&self) -> String {
        format!("00-{}-{}-01", self.trace_id, self.span_id)
    }
}

/// What a log record needs to know about the request it belongs to.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: Option<String>,
    pub trace: Trace,
}

impl RequestContext {
    /// The caller as the domain modules record it.
    pub fn actor(&self, caller: &Caller) -> Actor {
        Actor {
            oin: caller.org.oin.clone(),
            sub: caller.user.sub.clone(),
            request_id: self.request_id.clone(),
            trace: Some((self.trace.trace_id.clone(), self.trace.span_id.clone())),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let request_id = parts
            .extensions
            .get::<RequestId>()
            .and_then(|id| id.header_value().to_str().ok())
            .map(str::to_owned);
        let trace = parts.extensions.get::<Trace>().cloned().unwrap_or_else(|| Trace {
            trace_id: random_hex::<16>(),
            span_id: random_hex::<8>(),
        });
        Ok(RequestContext { request_id, trace })
    }
}

/// Middleware: who this request is in the logs and the records. The gateway makes its own request id (128 random
/// bits, hex); an `X-Request-Id` the caller sent is dropped first, so that nothing of the caller's choosing reaches
/// the records or the response (the caller links its own processing through `traceparent`, which is validated).
/// The trace id of a well-formed `traceparent` is kept, or a new one made; the gateway's span gets a fresh id.
/// Both are stored in the request (as [`RequestId`] and [`Trace`]) and answered with.
pub async fn request_context(mut req: Request, next: Next) -> Response {
    let random = crate::crypto::random_bytes::<40>();
    // Each id from its own bytes; an id of zeros is not valid (W3C), so one would get a last bit.
    let hex_of = |range: std::ops::Range<usize>| {
        let mut id = random.get(range).unwrap_or_default().to_vec();
        if let (true, Some(last)) = (id.iter().all(|b| *b == 0), id.last_mut()) {
            *last = 1;
        }
        hex::encode(id)
    };
    let request_id = HeaderValue::from_str(&hex_of(0..16)).ok();
    let trace = Trace {
        trace_id: req
            .headers()
            .get(TRACEPARENT)
            .and_then(|v| v.to_str().ok())
            .and_then(incoming_trace_id)
            .unwrap_or_else(|| hex_of(16..32)),
        span_id: hex_of(32..40),
    };
    let traceparent = HeaderValue::from_str(&trace.header()).ok();
    req.headers_mut().remove(REQUEST_ID);
    if let Some(id) = &request_id {
        req.headers_mut().insert(REQUEST_ID, id.clone());
        req.extensions_mut().insert(RequestId::new(id.clone()));
    }
    req.extensions_mut().insert(trace);
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    for (name, value) in [(REQUEST_ID, request_id), (TRACEPARENT, traceparent)] {
        if let Some(value) = value {
            headers.insert(name, value);
        }
    }
    response
}

/// The trace id of a well-formed `traceparent` (version `00`, or a later version read as `00` requires); `None`
/// for anything else, which then starts a new trace as the specification asks.
pub fn incoming_trace_id(value: &str) -> Option<String> {
    let mut parts = value.trim().split('-');
    let (version, trace_id, parent_id, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let extra = parts.next().is_some();
    let valid = is_hex(version, 2)
        && version != "ff"
        && !(version == "00" && extra)
        && is_hex(trace_id, 32)
        && is_hex(parent_id, 16)
        && is_hex(flags, 2)
        && trace_id.bytes().any(|b| b != b'0')
        && parent_id.bytes().any(|b| b != b'0');
    valid.then(|| trace_id.to_owned())
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub use crate::crypto::random_hex;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_well_formed_traceparents() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            incoming_trace_id(good).as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert!(incoming_trace_id("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later").is_some());
        for bad in [
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "",
        ] {
            assert_eq!(incoming_trace_id(bad), None, "{bad}");
        }
        assert_eq!(random_hex::<16>().len(), 32);
        assert_ne!(random_hex::<8>(), random_hex::<8>());
    }
}
