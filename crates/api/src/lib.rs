//! Wire types of the management API (`/api/...`), shared by the server, which writes them,
//! and the CLI, which reads them. Field names follow Logic Apps' management API (camelCase,
//! `value` arrays, `nextLink` paging). Kept apart from the internal model on purpose: this is a
//! compatibility boundary, the model is not.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Every error body: `{"error": {"code": "...", "message": "...", "details": [...]}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable code, e.g. `InvalidDefinition`, `WorkflowNotFound`, `Unauthorized`.
    pub code: String,
    pub message: String,
    /// One entry per problem, for validation errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Problem>,
}

/// One problem in a definition: where and what.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

/// A list in ARM style.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct List<T> {
    pub value: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workflow {
    pub name: String,
    /// `Enabled` or `Disabled`.
    pub state: String,
    /// The current definition version.
    pub version: String,
    pub created_time: String,
    pub changed_time: String,
    pub definition: Value,
    /// `{name: {"value": ...}}`; secure values are replaced.
    pub parameters: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    pub version: String,
    pub created_time: String,
    pub definition: Value,
}

/// `POST .../listCallbackUrl` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListCallbackUrlRequest {
    /// `Primary` (default) or `Secondary`.
    #[serde(default)]
    pub key_type: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallbackUrl {
    pub value: String,
    pub method: String,
    pub base_path: String,
    pub queries: CallbackQueries,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relative_path: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relative_path_parameters: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallbackQueries {
    #[serde(rename = "api-version")]
    pub api_version: String,
    pub sp: String,
    pub sv: String,
    pub sig: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    /// The run id.
    pub name: String,
    pub workflow: String,
    /// The definition version the run executes (pinned at start).
    pub version: String,
    pub status: String,
    pub start_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    pub trigger: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionResult {
    pub name: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    /// For an action inside Foreach/Until: how many iterations it ran in (this result is the
    /// latest one; `.../repetitions` lists them all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repetition_count: Option<u64>,
}

/// One execution of an action inside Foreach/Until (`GET .../actions/{action}/repetitions`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionRepetition {
    /// The loop indexes as text, outermost first (`000001-000004`; `""` outside loops).
    pub name: String,
    /// The loop indexes, outermost first.
    pub indexes: Vec<u32>,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

/// Header carrying the run id on trigger responses.
pub const RUN_ID_HEADER: &str = "x-ms-workflow-run-id";

/// One entry of a trigger's history.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerHistory {
    /// The entry's id.
    pub name: String,
    /// `Fire`, `Subscribe` or `Unsubscribe`.
    pub kind: String,
    /// `Succeeded`, `Skipped` or `Failed`.
    pub status: String,
    pub start_time: String,
    pub end_time: String,
    /// The (first) run a fire started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    pub detail: Value,
}
