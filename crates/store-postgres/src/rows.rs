//! Row ↔ record mapping: the column lists every `SELECT` uses and the functions that turn a
//! row into a record. JSON values are `json` columns read and written as `serde_json::Value`
//! (the text as written, so key order survives), statuses are their Logic Apps names.

use crate::error::{DbError, backend};
use hookflow_engine::{ActionStatus, RunStatus};
use hookflow_store::{
    ActionRecord, RunRecord, SubscriptionRecord, SubscriptionState, TriggerHistoryRecord,
    VersionRecord, WorkflowRecord,
};
use tokio_postgres::Row;

// Column lists are macros rather than consts so `concat!` can splice them into the constant
// SQL texts the statement cache is keyed by.

macro_rules! workflow_columns {
    () => {
        "name, enabled, version_id, created_at, changed_at, primary_key, secondary_key"
    };
}
pub(crate) use workflow_columns;

macro_rules! version_columns {
    () => {
        "workflow, version_id, created_at, document"
    };
}
pub(crate) use version_columns;

macro_rules! run_columns {
    () => {
        "id, workflow, version_id, trigger_name, status, start_time, end_time, trigger, outputs, \
         error, seq, variables"
    };
}
pub(crate) use run_columns;

macro_rules! action_columns {
    () => {
        "run_id, name, status, code, start_time, end_time, inputs, outputs, error, repetition"
    };
}
pub(crate) use action_columns;

macro_rules! subscription_columns {
    () => {
        "id, workflow, trigger_name, version_id, state, target, fingerprint, callback_url, \
         subscribe_response, unsubscribe, attempts, next_attempt_at, last_error, created_at, \
         updated_at"
    };
}
pub(crate) use subscription_columns;

macro_rules! history_columns {
    () => {
        "id, workflow, trigger_name, kind, status, start_time, end_time, run_id, detail"
    };
}
pub(crate) use history_columns;

/// Reads a row selected with [`workflow_columns`].
pub(crate) fn workflow(row: &Row) -> Result<WorkflowRecord, DbError> {
    Ok(WorkflowRecord {
        name: row.try_get(0)?,
        enabled: row.try_get(1)?,
        version_id: row.try_get(2)?,
        created_at: row.try_get(3)?,
        changed_at: row.try_get(4)?,
        primary_key: row.try_get(5)?,
        secondary_key: row.try_get(6)?,
    })
}

/// Reads a row selected with [`version_columns`].
pub(crate) fn version(row: &Row) -> Result<VersionRecord, DbError> {
    Ok(VersionRecord {
        workflow: row.try_get(0)?,
        version_id: row.try_get(1)?,
        created_at: row.try_get(2)?,
        document: row.try_get(3)?,
    })
}

/// Reads a row selected with [`run_columns`].
pub(crate) fn run(row: &Row) -> Result<RunRecord, DbError> {
    let status: &str = row.try_get(4)?;
    Ok(RunRecord {
        id: row.try_get(0)?,
        workflow: row.try_get(1)?,
        version_id: row.try_get(2)?,
        trigger_name: row.try_get(3)?,
        status: status
            .parse::<RunStatus>()
            .map_err(|e| backend(format!("stored run status: {e}")))?,
        start_time: row.try_get(5)?,
        end_time: row.try_get(6)?,
        trigger: row.try_get::<_, serde_json::Value>(7)?.into(),
        outputs: row.try_get(8)?,
        error: row.try_get(9)?,
        seq: row.try_get(10)?,
        variables: row.try_get(11)?,
    })
}

/// Reads a row selected with [`action_columns`].
pub(crate) fn action(row: &Row) -> Result<ActionRecord, DbError> {
    let status: &str = row.try_get(2)?;
    Ok(ActionRecord {
        run_id: row.try_get(0)?,
        name: row.try_get(1)?,
        status: status
            .parse::<ActionStatus>()
            .map_err(|e| backend(format!("stored action status: {e}")))?,
        code: row.try_get(3)?,
        start_time: row.try_get(4)?,
        end_time: row.try_get(5)?,
        inputs: row.try_get(6)?,
        outputs: row.try_get(7)?,
        error: row.try_get(8)?,
        repetition: row.try_get(9)?,
    })
}

/// Reads a row selected with [`subscription_columns`].
pub(crate) fn subscription(row: &Row) -> Result<SubscriptionRecord, DbError> {
    let state: &str = row.try_get(4)?;
    Ok(SubscriptionRecord {
        id: row.try_get(0)?,
        workflow: row.try_get(1)?,
        trigger: row.try_get(2)?,
        version_id: row.try_get(3)?,
        state: SubscriptionState::parse(state)
            .ok_or_else(|| backend(format!("stored subscription state '{state}'")))?,
        target: row.try_get(5)?,
        fingerprint: row.try_get(6)?,
        callback_url: row.try_get(7)?,
        subscribe_response: row.try_get(8)?,
        unsubscribe: row.try_get(9)?,
        attempts: count(row.try_get(10)?)?,
        next_attempt_at: row.try_get(11)?,
        last_error: row.try_get(12)?,
        created_at: row.try_get(13)?,
        updated_at: row.try_get(14)?,
    })
}

/// Reads a row selected with [`history_columns`].
pub(crate) fn history(row: &Row) -> Result<TriggerHistoryRecord, DbError> {
    Ok(TriggerHistoryRecord {
        id: row.try_get(0)?,
        workflow: row.try_get(1)?,
        trigger: row.try_get(2)?,
        kind: row.try_get(3)?,
        status: row.try_get(4)?,
        start_time: row.try_get(5)?,
        end_time: row.try_get(6)?,
        run_id: row.try_get(7)?,
        detail: row.try_get(8)?,
    })
}

/// Maps every row.
pub(crate) fn all<T>(
    rows: Vec<Row>,
    map: impl Fn(&Row) -> Result<T, DbError>,
) -> Result<Vec<T>, DbError> {
    rows.iter().map(map).collect()
}

/// An `INTEGER` count column (attempts) as the records' `u32`.
pub(crate) fn count(value: i32) -> Result<u32, DbError> {
    u32::try_from(value).map_err(|_| backend(format!("stored count {value} is negative")))
}

/// A record's `u32` count as the `INTEGER` it is stored as.
pub(crate) fn count_param(value: u32) -> Result<i32, DbError> {
    i32::try_from(value).map_err(|_| backend(format!("count {value} is too large to store")))
}
