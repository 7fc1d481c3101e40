//! Triggers and webhook state: firing a Recurrence trigger now, the subscription ledger (`/api/subscriptions`, per workflow), each
//! trigger's history of fires and subscribe/unsubscribe attempts, and the webhook actions
//! waiting for their callbacks (`/api/waits`, per workflow).

use crate::{ApiError, AppState, extract::Query};
use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
};
use hookflow_api as api;
use hookflow_engine::format_time;
use serde::Deserialize;
use serde_json::Value;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/subscriptions", get(all_subscriptions))
        .route(
            "/workflows/{name}/subscriptions",
            get(workflow_subscriptions),
        )
        .route(
            "/workflows/{name}/triggers/{trigger}/histories",
            get(histories),
        )
        .route("/workflows/{name}/triggers/{trigger}/run", post(run))
        .route("/waits", get(all_waits))
        .route("/workflows/{name}/waits", get(workflow_waits))
}

async fn all_subscriptions(
    State(state): State<AppState>,
) -> Result<Json<api::List<Value>>, ApiError> {
    let value = state.handle.list_subscriptions(None).await?;
    Ok(Json(api::List {
        value,
        next_link: None,
    }))
}

async fn workflow_subscriptions(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<api::List<Value>>, ApiError> {
    let value = state.handle.list_subscriptions(Some(&name)).await?;
    Ok(Json(api::List {
        value,
        next_link: None,
    }))
}

#[derive(Debug, Deserialize)]
struct HistoryQuery {
    #[serde(alias = "$top")]
    top: Option<u32>,
}

/// Fires a Recurrence trigger now (Logic Apps' "Run trigger").
async fn run(
    State(state): State<AppState>,
    Path((name, trigger)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let run_id = state.handle.run_trigger(&name, &trigger).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "runId": run_id })),
    ))
}

async fn histories(
    State(state): State<AppState>,
    Path((name, trigger)): Path<(String, String)>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<api::List<api::TriggerHistory>>, ApiError> {
    let limit = query.top.unwrap_or(100).clamp(1, 1000);
    let entries = state
        .handle
        .trigger_histories(&name, &trigger, limit)
        .await?;
    let value = entries
        .into_iter()
        .map(|h| api::TriggerHistory {
            name: h.id,
            kind: h.kind,
            status: h.status,
            start_time: format_time(h.start_time),
            end_time: format_time(h.end_time),
            run: h.run_id,
            detail: h.detail,
        })
        .collect();
    Ok(Json(api::List {
        value,
        next_link: None,
    }))
}

#[derive(Debug, Deserialize)]
struct WaitsQuery {
    #[serde(alias = "$top")]
    top: Option<u32>,
}

/// Every webhook action waiting for its callback, oldest first.
async fn all_waits(
    State(state): State<AppState>,
    Query(query): Query<WaitsQuery>,
) -> Result<Json<api::List<Value>>, ApiError> {
    let limit = query.top.unwrap_or(1000).clamp(1, 10_000);
    let value = state.handle.list_waits(None, limit).await?;
    Ok(Json(api::List {
        value,
        next_link: None,
    }))
}

async fn workflow_waits(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<WaitsQuery>,
) -> Result<Json<api::List<Value>>, ApiError> {
    let limit = query.top.unwrap_or(1000).clamp(1, 10_000);
    let value = state.handle.list_waits(Some(&name), limit).await?;
    Ok(Json(api::List {
        value,
        next_link: None,
    }))
}
