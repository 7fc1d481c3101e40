//! `/api/workflows`: create or update (each save a new version), read, list, delete, enable,
//! disable, validate, versions, and trigger callback URLs.

use crate::{ApiError, AppState, extract::Json};
use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
    routing::{get, post},
};
use hookflow_api as api;
use hookflow_engine::format_time;
use hookflow_runtime::WorkflowView;
use serde_json::Value;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/workflows", get(list))
        .route("/workflows/{name}", get(read).put(save).delete(delete))
        .route("/workflows/{name}/enable", post(enable))
        .route("/workflows/{name}/disable", post(disable))
        .route("/workflows/{name}/validate", post(validate))
        .route("/workflows/{name}/versions", get(versions))
        .route(
            "/workflows/{name}/triggers/{trigger}/listCallbackUrl",
            post(list_callback_url),
        )
        .route(
            "/workflows/{name}/regenerateAccessKey",
            post(regenerate_access_key),
        )
}

async fn list(
    State(state): State<AppState>,
) -> Result<axum::Json<api::List<api::Workflow>>, ApiError> {
    let workflows = state.handle.list_workflows().await?;
    Ok(axum::Json(api::List {
        value: workflows.into_iter().map(to_api).collect(),
        next_link: None,
    }))
}

async fn read(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<axum::Json<api::Workflow>, ApiError> {
    Ok(axum::Json(to_api(state.handle.get_workflow(&name).await?)))
}

async fn save(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Json(document): Json<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let saved = state.handle.save_workflow(&name, &document).await?;
    let status = if saved.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(to_api(saved.workflow))))
}

async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.handle.delete_workflow(&name).await?;
    Ok(StatusCode::OK)
}

async fn enable(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<axum::Json<api::Workflow>, ApiError> {
    Ok(axum::Json(to_api(
        state.handle.set_enabled(&name, true).await?,
    )))
}

async fn disable(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<axum::Json<api::Workflow>, ApiError> {
    Ok(axum::Json(to_api(
        state.handle.set_enabled(&name, false).await?,
    )))
}

/// Validates a document without saving it; `name` is only part of the path for symmetry
/// with Logic Apps.
async fn validate(
    State(state): State<AppState>,
    Json(document): Json<Value>,
) -> Result<StatusCode, ApiError> {
    state.handle.validate_workflow(&document)?;
    Ok(StatusCode::OK)
}

async fn versions(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<axum::Json<api::List<api::Version>>, ApiError> {
    let versions = state.handle.list_versions(&name).await?;
    let value = versions
        .into_iter()
        .map(|v| api::Version {
            version: v.version_id,
            created_time: format_time(v.created_at),
            definition: v.document.get("definition").cloned().unwrap_or(Value::Null),
        })
        .collect();
    Ok(axum::Json(api::List {
        value,
        next_link: None,
    }))
}

async fn list_callback_url(
    State(state): State<AppState>,
    Path((name, trigger)): Path<(String, String)>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<axum::Json<api::CallbackUrl>, ApiError> {
    let body = body.map_err(crate::extract::body_rejection)?;
    // The body is optional (Logic Apps clients often send none).
    let request: api::ListCallbackUrlRequest = if body.iter().all(u8::is_ascii_whitespace) {
        api::ListCallbackUrlRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "InvalidJson",
                format!("request body: {e}"),
            )
        })?
    };
    let key_type = request.key_type.unwrap_or_else(|| "Primary".into());
    let secondary = match key_type.to_ascii_lowercase().as_str() {
        "primary" => false,
        "secondary" => true,
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                format!("keyType: '{key_type}' is not Primary or Secondary"),
            ));
        }
    };
    let url = state
        .handle
        .trigger_callback_url(&name, &trigger, secondary)
        .await?;
    Ok(axum::Json(api::CallbackUrl {
        value: url.value,
        method: url.method,
        base_path: url.base_path,
        queries: api::CallbackQueries {
            api_version: "2016-10-01".into(),
            sp: url.sp,
            sv: "1.0".into(),
            sig: url.sig,
        },
        relative_path: url.relative_path,
        relative_path_parameters: url.relative_path_parameters,
    }))
}

fn to_api(view: WorkflowView) -> api::Workflow {
    api::Workflow {
        name: view.record.name,
        state: if view.record.enabled {
            "Enabled"
        } else {
            "Disabled"
        }
        .into(),
        version: view.record.version_id,
        created_time: format_time(view.record.created_at),
        changed_time: format_time(view.record.changed_at),
        definition: view.definition,
        parameters: view.parameters,
    }
}

/// `POST .../regenerateAccessKey {"keyType": "Primary"|"Secondary"}`.
async fn regenerate_access_key(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Json(request): Json<api::ListCallbackUrlRequest>,
) -> Result<axum::Json<api::Workflow>, ApiError> {
    let secondary = match request
        .key_type
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("primary") => false,
        Some("secondary") => true,
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "keyType: Primary or Secondary is required",
            ));
        }
    };
    Ok(axum::Json(to_api(
        state.handle.regenerate_access_key(&name, secondary).await?,
    )))
}
