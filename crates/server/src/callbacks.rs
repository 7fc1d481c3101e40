//! Trigger callback URLs: `/workflows/{name}/triggers/{trigger}/paths/invoke[/{relative}]`.
//! The caller gets `202` (with the run id) once the run is durable, or the Response action's
//! answer; `401` for a bad signature, `404` for a disabled or unknown target, `405` for the
//! wrong method, `413` for a body over the limit. None of those starts a run.

use crate::{ApiError, AppState};
use axum::{
    Router,
    body::Bytes,
    extract::{Path, RawQuery, State, rejection::BytesRejection},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
    routing::any,
};
use hookflow_api::RUN_ID_HEADER;
use hookflow_runtime::{CallbackAnswer, Fired, InboundRequest, SyncReply};
use serde_json::{Value, json};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/workflows/{name}/triggers/{trigger}/paths/invoke",
            any(invoke_root),
        )
        .route(
            "/workflows/{name}/triggers/{trigger}/paths/invoke/{*relative}",
            any(invoke_relative),
        )
        .route(
            "/workflows/{name}/runs/{run}/actions/{action}/run",
            any(action_callback),
        )
}

async fn invoke_root(
    State(state): State<AppState>,
    Path((name, trigger)): Path<(String, String)>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    invoke(state, name, trigger, None, method, query, headers, body).await
}

async fn invoke_relative(
    State(state): State<AppState>,
    Path((name, trigger, relative)): Path<(String, String, String)>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    invoke(
        state,
        name,
        trigger,
        Some(relative),
        method,
        query,
        headers,
        body,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn invoke(
    state: AppState,
    name: String,
    trigger: String,
    relative_path: Option<String>,
    method: Method,
    query: Option<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request = inbound(method, query, headers, body, relative_path)?;
    let fired = state
        .handle
        .fire_trigger(&name, &trigger, request, state.options.inbound_timeout)
        .await?;
    Ok(match fired {
        Fired::Accepted { run_ids } | Fired::Duplicate { run_ids } => match run_ids.first() {
            Some(run_id) => with_run_id(StatusCode::ACCEPTED.into_response(), run_id),
            None => StatusCode::ACCEPTED.into_response(),
        },
        Fired::Skipped => StatusCode::ACCEPTED.into_response(),
        Fired::TimedOut { run_id } => with_run_id(
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "ResponseTimedOut",
                "the run did not answer within the inbound timeout; it goes on",
            )
            .into_response(),
            &run_id,
        ),
        Fired::Replied { run_id, reply } => with_run_id(reply_response(reply), &run_id),
    })
}

/// A service calling a waiting webhook action back: `200` once the resume is durable, `409`
/// when the action no longer waits.
#[allow(clippy::too_many_arguments)]
async fn action_callback(
    State(state): State<AppState>,
    Path((name, run, action)): Path<(String, String, String)>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request = inbound(method, query, headers, body, None)?;
    match state
        .handle
        .action_callback(&name, &run, &action, request)
        .await?
    {
        CallbackAnswer::Accepted => Ok(StatusCode::OK.into_response()),
        CallbackAnswer::Conflict(message) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "ActionNotWaiting",
            message,
        )),
    }
}

/// The request as the runtime takes it: decoded query pairs, canonical header names.
fn inbound(
    method: Method,
    query: Option<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    relative_path: Option<String>,
) -> Result<InboundRequest, ApiError> {
    let body = body.map_err(crate::extract::body_rejection)?;
    let query = query.map(|q| url_pairs(&q)).unwrap_or_default();
    let headers = headers
        .iter()
        .map(|(k, v)| {
            (
                canonical(k),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    Ok(InboundRequest {
        method: method.to_string(),
        relative_path,
        query,
        headers,
        body: body.to_vec(),
    })
}

fn reply_response(reply: SyncReply) -> Response {
    match reply {
        SyncReply::Response(message) => {
            let status = StatusCode::from_u16(message.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let has_content_type = message.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
            let (content_type, body) = match message.body {
                Value::Null => (None, Vec::new()),
                Value::String(text) => (Some("text/plain; charset=utf-8"), text.into_bytes()),
                other => (Some("application/json"), serde_json::to_vec(&other).expect("JSON serializes")),
            };
            let mut response = (status, body).into_response();
            let response_headers = response.headers_mut();
            if let (Some(content_type), false) = (content_type, has_content_type) {
                response_headers.insert("content-type", HeaderValue::from_static(content_type));
            }
            for (name, value) in message.headers {
                if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
                    response_headers.insert(name, value);
                }
            }
            response
        }
        // Logic Apps answers 502 when the run ends without its Response running.
        SyncReply::RunEnded { status, error } => (
            StatusCode::BAD_GATEWAY,
            axum::Json(json!({
                "error": {
                    "code": "NoResponse",
                    "message": format!("The run ended ({status}) without a Response action answering."),
                    "runError": error,
                }
            })),
        )
            .into_response(),
    }
}

fn with_run_id(mut response: Response, run_id: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(run_id) {
        response.headers_mut().insert(RUN_ID_HEADER, value);
    }
    response
}

/// Decoded `name=value` pairs of a query string.
fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// `content-type` → `Content-Type`: header names as Logic Apps shows them in outputs.
fn canonical(name: &HeaderName) -> String {
    name.as_str()
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}
