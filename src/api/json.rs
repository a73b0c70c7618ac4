//! Body and query extractors whose rejections are problem responses that never echo the input (serde messages
//! can quote input values, which may be personal data).
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::FromRequest;
use axum::http::StatusCode;

use super::error::ApiError;

#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// A JSON body that may be left out: no body at all reads as `T::default()`; a body must be JSON for `T`.
#[derive(Debug)]
pub struct OptionalJson<T>(pub T);

impl<T, S> FromRequest<S> for OptionalJson<T>
where
    T: serde::de::DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers();
        let length = headers
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok());
        let chunked = headers.contains_key(axum::http::header::TRANSFER_ENCODING);
        if length.is_none_or(|l| l.trim() == "0") && !chunked {
            return Ok(OptionalJson(T::default()));
        }
        let Json(body) = Json::<T>::from_request(req, state).await?;
        Ok(OptionalJson(body))
    }
}

/// Path parameters parsed into their types; one that does not parse names nothing, so it is 404 like any id
/// that does not exist.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

impl From<PathRejection> for ApiError {
    fn from(_: PathRejection) -> ApiError {
        ApiError::not_found("no such resource")
    }
}

impl From<QueryRejection> for ApiError {
    fn from(_: QueryRejection) -> ApiError {
        ApiError::validation(
            "the query string does not parse: a parameter is unknown, missing, repeated or of the wrong type",
        )
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body exceeds the configured limit",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the request body must be JSON with Content-Type: application/json",
            ),
            _ => ApiError::validation(safe_message(&r)),
        }
    }
}

/// Keeps serde's field path and the messages that name only our own fields; anything that may quote the input —
/// a value, or the name of a field we do not know (a client may put anything in a key) — is left out.
fn safe_message(r: &JsonRejection) -> String {
    let JsonRejection::JsonDataError(e) = r else {
        return "the request body is not valid JSON".into();
    };
    let text = e.body_text();
    let inner = text.split_once("target type: ").map_or(text.as_str(), |(_, rest)| rest);
    let (mut path, message) = match inner.split_once(": ") {
        Some((p, m)) if !p.contains(' ') => (Some(p), m),
        _ => (None, inner),
    };
    let message = message.split(" at line").next().unwrap_or(message);
    let safe = if message.starts_with("missing field") {
        message.to_owned()
    } else if message.starts_with("unknown field") {
        // The path ends in the unknown key itself.
        path = path.and_then(|p| p.rfind(['.', '[']).map(|i| &p[..i]));
        match message.split_once("`, ") {
            Some((_, expected)) => format!("unknown field, {expected}"),
            None => "unknown field".to_owned(),
        }
    } else {
        "has the wrong type or value".to_owned()
    };
    match path {
        Some(p) if !p.is_empty() => format!("{p}: {safe}"),
        _ => format!("request body: {safe}"),
    }
}
