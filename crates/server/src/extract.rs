//! Request plumbing shared by handlers: JSON and query extractors whose rejections use our
//! error shape, and the bearer-token guard of the management API.

use crate::{ApiError, AppState};
use axum::{
    extract::{
        FromRequest, FromRequestParts, Request, State,
        rejection::{BytesRejection, JsonRejection},
    },
    http::{StatusCode, header, request::Parts},
    middleware::Next,
    response::Response,
};

/// `axum::Json`, with bad or oversized bodies reported as `{"error": ...}`.
pub(crate) struct Json<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "PayloadTooLarge"
    } else {
        "InvalidJson"
    };
    ApiError::new(status, code, rejection.body_text())
}

/// `axum::extract::Query`, with a query string that does not parse reported as
/// `{"error": {"code": "BadRequest", ...}}`.
pub(crate) struct Query<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(ApiError::new(
                rejection.status(),
                "BadRequest",
                rejection.body_text(),
            )),
        }
    }
}

/// A body that could not be read (over the limit, or cut off), in our error shape.
pub(crate) fn body_rejection(rejection: BytesRejection) -> ApiError {
    let status = rejection.status();
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "PayloadTooLarge"
    } else {
        "BadRequest"
    };
    ApiError::new(status, code, rejection.body_text())
}

/// Requires `Authorization: Bearer <token>` when the server has a token.
pub(crate) async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(expected) = &state.options.api_token else {
        return Ok(next.run(request).await);
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let matches =
        given.is_some_and(|given| constant_time_eq(given.as_bytes(), expected.as_bytes()));
    if matches {
        Ok(next.run(request).await)
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "a valid bearer token is required",
        ))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
