//! Row ↔ record mapping: the column lists every `SELECT` uses and the functions that turn a
//! row into a record. JSON values are stored as TEXT written by serde_json, statuses as their
//! Logic Apps names.

use crate::error::{DbError, backend};
use hookflow_engine::{ActionStatus, RunStatus};
use hookflow_store::{ActionRecord, RunRecord, VersionRecord, WorkflowRecord};
use rusqlite::{Row, Rows};
use serde_json::Value;

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

/// Reads a row selected with [`workflow_columns`].
pub(crate) fn workflow(row: &Row<'_>) -> Result<WorkflowRecord, DbError> {
    Ok(WorkflowRecord {
        name: row.get(0)?,
        enabled: row.get(1)?,
        version_id: row.get(2)?,
        created_at: row.get(3)?,
        changed_at: row.get(4)?,
        primary_key: row.get(5)?,
        secondary_key: row.get(6)?,
    })
}

/// Reads a row selected with [`version_columns`].
pub(crate) fn version(row: &Row<'_>) -> Result<VersionRecord, DbError> {
    Ok(VersionRecord {
        workflow: row.get(0)?,
        version_id: row.get(1)?,
        created_at: row.get(2)?,
        document: json(row.get(3)?)?,
    })
}

/// Reads a row selected with [`run_columns`].
pub(crate) fn run(row: &Row<'_>) -> Result<RunRecord, DbError> {
    let status: String = row.get(4)?;
    Ok(RunRecord {
        id: row.get(0)?,
        workflow: row.get(1)?,
        version_id: row.get(2)?,
        trigger_name: row.get(3)?,
        status: status
            .parse::<RunStatus>()
            .map_err(|e| backend(format!("stored run status: {e}")))?,
        start_time: row.get(5)?,
        end_time: row.get(6)?,
        trigger: json(row.get(7)?)?.into(),
        outputs: optional_json(row.get(8)?)?,
        error: optional_json(row.get(9)?)?,
        seq: row.get(10)?,
        variables: optional_json(row.get(11)?)?,
    })
}

/// Reads a row selected with [`action_columns`].
pub(crate) fn action(row: &Row<'_>) -> Result<ActionRecord, DbError> {
    let status: String = row.get(2)?;
    Ok(ActionRecord {
        run_id: row.get(0)?,
        name: row.get(1)?,
        status: status
            .parse::<ActionStatus>()
            .map_err(|e| backend(format!("stored action status: {e}")))?,
        code: row.get(3)?,
        start_time: row.get(4)?,
        end_time: row.get(5)?,
        inputs: optional_json(row.get(6)?)?,
        outputs: optional_json(row.get(7)?)?,
        error: optional_json(row.get(8)?)?,
        repetition: row.get(9)?,
    })
}

/// Maps every remaining row. `query_map` would force the mapper to return a rusqlite error,
/// which cannot carry a JSON or status parse failure.
pub(crate) fn all<T>(
    mut rows: Rows<'_>,
    map: impl Fn(&Row<'_>) -> Result<T, DbError>,
) -> Result<Vec<T>, DbError> {
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(map(row)?);
    }
    Ok(out)
}

/// Maps the first row, if any.
pub(crate) fn first<T>(
    mut rows: Rows<'_>,
    map: impl Fn(&Row<'_>) -> Result<T, DbError>,
) -> Result<Option<T>, DbError> {
    rows.next()?.map(map).transpose()
}

/// The TEXT a JSON value is stored as. Written straight into a byte buffer: `Value`'s
/// `to_string` goes through `fmt::Display`, a `Formatter` call per piece (measured: 1.8×
/// the time for a run's trigger, on the writer thread).
pub(crate) fn json_text(value: &Value) -> String {
    serde_json::to_string(value).expect("a JSON value always serializes")
}

pub(crate) fn optional_json_text(value: Option<&Value>) -> Option<String> {
    value.map(json_text)
}

pub(crate) fn json(text: String) -> Result<Value, DbError> {
    Ok(serde_json::from_str(&text)?)
}

pub(crate) fn optional_json(text: Option<String>) -> Result<Option<Value>, DbError> {
    text.map(json).transpose()
}
