//! `GET /api/openapi.json`: the management API described as OpenAPI 3.1. The document is a
//! file kept beside the code and checked against the router by a test.

use crate::AppState;
use axum::{Router, http::header, response::IntoResponse, routing::get};

/// The OpenAPI document, as served.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route(
        "/openapi.json",
        get(|| async {
            ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
        }),
    )
}
