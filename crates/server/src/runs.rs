//! `/api/workflows/{name}/runs`: run history (newest first, filtered, paged), each run's
//! actions with their inputs and outputs, and cancellation.

use crate::{ApiError, AppState, extract::Query};
use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
};
use hookflow_api as api;
use hookflow_engine::{Repetition, RunStatus, format_time};
use hookflow_store::{ActionRecord, RunRecord};
use serde::Deserialize;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/workflows/{name}/runs", get(list))
        .route("/workflows/{name}/runs/{run}", get(read))
        .route("/workflows/{name}/runs/{run}/cancel", post(cancel))
        .route("/workflows/{name}/runs/{run}/actions", get(actions))
        .route("/workflows/{name}/runs/{run}/actions/{action}", get(action))
        .route(
            "/workflows/{name}/runs/{run}/actions/{action}/repetitions",
            get(repetitions),
        )
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    status: Option<String>,
    /// Page size (`$top` in Logic Apps).
    #[serde(alias = "$top")]
    top: Option<u32>,
    /// Opaque cursor from a previous page's `nextLink`.
    before: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Json<api::List<api::Run>>, ApiError> {
    let status = match query.status.as_deref() {
        None => None,
        Some(text) => Some(
            text.parse::<RunStatus>()
                .map_err(|e| bad_request(format!("status: {e}")))?,
        ),
    };
    let limit = query.top.unwrap_or(50).clamp(1, 250);
    let before = match query.before.as_deref() {
        None => None,
        Some(cursor) => Some(
            parse_cursor(cursor)
                .ok_or_else(|| bad_request("before: not a cursor from nextLink".into()))?,
        ),
    };
    let runs = state.handle.list_runs(&name, status, limit, before).await?;
    let next_link = (runs.len() == limit as usize).then(|| {
        let last = runs.last().expect("a full page has a last run");
        let mut link = format!(
            "/api/workflows/{name}/runs?top={limit}&before={}-{}",
            last.start_time, last.id
        );
        if let Some(status) = status {
            link.push_str(&format!("&status={status}"));
        }
        link
    });
    Ok(Json(api::List {
        value: runs.into_iter().map(run_to_api).collect(),
        next_link,
    }))
}

async fn read(
    State(state): State<AppState>,
    Path((name, run)): Path<(String, String)>,
) -> Result<Json<api::Run>, ApiError> {
    Ok(Json(run_to_api(state.handle.get_run(&name, &run).await?)))
}

async fn cancel(
    State(state): State<AppState>,
    Path((name, run)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.handle.cancel_run(&name, &run).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn actions(
    State(state): State<AppState>,
    Path((name, run)): Path<(String, String)>,
) -> Result<Json<api::List<api::ActionResult>>, ApiError> {
    let actions = state.handle.list_actions(&name, &run).await?;
    Ok(Json(api::List {
        value: once_per_action(actions),
        next_link: None,
    }))
}

/// Each action once, in the order first recorded: its row outside loops, or its latest
/// repetition (highest indexes) with the number of repetitions.
fn once_per_action(records: Vec<ActionRecord>) -> Vec<api::ActionResult> {
    let mut order: Vec<String> = Vec::new();
    let mut by_name: std::collections::HashMap<String, (ActionRecord, u64)> =
        std::collections::HashMap::new();
    for record in records {
        match by_name.get_mut(&record.name) {
            Some((latest, count)) => {
                *count += 1;
                if record.repetition > latest.repetition {
                    *latest = record;
                }
            }
            None => {
                order.push(record.name.clone());
                by_name.insert(record.name.clone(), (record, 1));
            }
        }
    }
    order
        .into_iter()
        .filter_map(|name| by_name.remove(&name))
        .map(|(record, count)| {
            let repeated = !record.repetition.is_empty();
            api::ActionResult {
                repetition_count: repeated.then_some(count),
                ..action_to_api(record)
            }
        })
        .collect()
}

async fn action(
    State(state): State<AppState>,
    Path((name, run, action)): Path<(String, String, String)>,
) -> Result<Json<api::ActionResult>, ApiError> {
    let (record, count) = state.handle.get_action(&name, &run, &action).await?;
    Ok(Json(api::ActionResult {
        repetition_count: count,
        ..action_to_api(record)
    }))
}

async fn repetitions(
    State(state): State<AppState>,
    Path((name, run, action)): Path<(String, String, String)>,
) -> Result<Json<api::List<api::ActionRepetition>>, ApiError> {
    let records = state.handle.list_repetitions(&name, &run, &action).await?;
    Ok(Json(api::List {
        value: records.into_iter().map(repetition_to_api).collect(),
        next_link: None,
    }))
}

fn repetition_to_api(record: ActionRecord) -> api::ActionRepetition {
    let indexes = Repetition::parse(&record.repetition)
        .map(|r| r.0)
        .unwrap_or_default();
    api::ActionRepetition {
        name: record.repetition,
        indexes,
        status: record.status.to_string(),
        code: record.code,
        start_time: record.start_time.map(format_time),
        end_time: record.end_time.map(format_time),
        inputs: record.inputs,
        outputs: record.outputs,
        error: record.error,
    }
}

fn bad_request(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "BadRequest", message)
}

/// `<start_time>-<run id>`.
fn parse_cursor(cursor: &str) -> Option<(i64, String)> {
    let (time, id) = cursor.split_once('-')?;
    Some((time.parse().ok()?, id.to_owned()))
}

fn run_to_api(run: RunRecord) -> api::Run {
    api::Run {
        name: run.id,
        workflow: run.workflow,
        version: run.version_id,
        status: run.status.to_string(),
        start_time: format_time(run.start_time),
        end_time: run.end_time.map(format_time),
        trigger: std::sync::Arc::unwrap_or_clone(run.trigger),
        outputs: run.outputs,
        error: run.error,
    }
}

fn action_to_api(action: ActionRecord) -> api::ActionResult {
    api::ActionResult {
        name: action.name,
        status: action.status.to_string(),
        code: action.code,
        start_time: action.start_time.map(format_time),
        end_time: action.end_time.map(format_time),
        inputs: action.inputs,
        outputs: action.outputs,
        error: action.error,
        repetition_count: None,
    }
}
