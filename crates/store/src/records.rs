//! The records the store keeps, as the runtime reads and writes them.

use hookflow_engine::{ActionStatus, RunStatus};
use serde_json::Value;

/// A workflow: its current version and state. The access keys sign callback URLs; they are
/// secrets and never leave the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowRecord {
    pub name: String,
    pub enabled: bool,
    /// The version new runs use.
    pub version_id: String,
    pub created_at: i64,
    pub changed_at: i64,
    pub primary_key: String,
    pub secondary_key: String,
}

/// One saved version of a workflow. Immutable: runs point at it.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRecord {
    pub workflow: String,
    pub version_id: String,
    pub created_at: i64,
    /// The saved document: `{"definition": ..., "parameters": {...}}`.
    pub document: Value,
}

/// Input of [`crate::Store::save_workflow`].
#[derive(Debug, Clone)]
pub struct SaveWorkflow {
    pub name: String,
    pub version_id: String,
    pub document: Value,
    pub enabled: bool,
    pub now: i64,
    /// Used only when the workflow is created.
    pub primary_key: String,
    pub secondary_key: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SaveOutcome {
    pub created: bool,
    pub workflow: WorkflowRecord,
}

/// A run as history shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub id: String,
    pub workflow: String,
    pub version_id: String,
    pub trigger_name: String,
    pub status: RunStatus,
    pub start_time: i64,
    pub end_time: Option<i64>,
    /// The trigger object (`{name, inputs, outputs, startTime, ...}`) the run started with.
    pub trigger: Value,
    /// The definition's `outputs` section, evaluated when the run ended.
    pub outputs: Option<Value>,
    /// `{code, message}` when the run failed.
    pub error: Option<Value>,
    /// Bumped by every committed step; fences concurrent writers.
    pub seq: i64,
}

/// One action execution of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionRecord {
    pub run_id: String,
    pub name: String,
    pub status: ActionStatus,
    /// `OK`, `BadRequest`, `ActionFailed`, `ActionSkipped`, ... (Logic Apps' `code`).
    pub code: Option<String>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub inputs: Option<Value>,
    pub outputs: Option<Value>,
    pub error: Option<Value>,
}

/// Input of [`crate::Store::create_run`]: the run (status Running, `seq` 0) and the first
/// event of its inbox.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub run: RunRecord,
    pub first_event: Value,
}

/// Filter and page of [`crate::Store::list_runs`].
#[derive(Debug, Clone)]
pub struct RunQuery {
    pub workflow: String,
    pub status: Option<RunStatus>,
    pub limit: u32,
    /// Keyset paging: only runs strictly older than this `(start_time, id)`.
    pub before: Option<(i64, String)>,
}

/// An event to append to a run's inbox, applied no earlier than `due_at` (a timer when in
/// the future).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub run_id: String,
    pub event: Value,
    pub due_at: i64,
}

/// An event in a run's inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxEvent {
    pub id: i64,
    pub run_id: String,
    pub event: Value,
    pub due_at: i64,
}

/// An outbound effect to carry out (at least once) and report back as an event.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEffect {
    pub effect: Value,
    pub due_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EffectRecord {
    pub id: i64,
    pub run_id: String,
    pub effect: Value,
    pub due_at: i64,
    /// How many times it was claimed before (0 on the first try): > 0 means a previous
    /// attempt may have gone out (crash or lease expiry).
    pub attempts: u32,
}

/// Parameters of a claim: who claims, when, for how long, how many.
#[derive(Debug, Clone)]
pub struct Claim {
    pub owner: String,
    pub now: i64,
    pub lease_ms: i64,
    pub limit: u32,
}

/// A leased run with its due events, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedRun {
    pub run_id: String,
    /// The run's `seq` at claim time; pass it back as [`StepCommit::expected_seq`].
    pub seq: i64,
    pub events: Vec<InboxEvent>,
}

/// Everything one engine step changed, committed atomically by [`crate::Store::commit_step`].
#[derive(Debug, Clone, Default)]
pub struct StepCommit {
    pub run_id: String,
    pub owner: String,
    pub expected_seq: i64,
    /// Inbox events this step applied.
    pub consumed_events: Vec<i64>,
    /// Inserted or replaced by `(run_id, name)`.
    pub actions: Vec<ActionRecord>,
    pub run: Option<RunUpdate>,
    pub new_events: Vec<NewEvent>,
    pub new_effects: Vec<NewEffect>,
}

/// The run fields a step may change.
#[derive(Debug, Clone, PartialEq)]
pub struct RunUpdate {
    pub status: RunStatus,
    pub end_time: Option<i64>,
    pub outputs: Option<Value>,
    pub error: Option<Value>,
}
