//! SQL of the workflow aggregate: the `workflows` rows (current version pointer, state, keys)
//! and the immutable `versions` they point at.

use crate::error::DbError;
use crate::rows::{self, version_columns, workflow_columns};
use hookflow_store::{SaveOutcome, SaveWorkflow, VersionRecord, WorkflowRecord};
use rusqlite::{Connection, params};

/// Adds the version, then creates the workflow or moves it to that version. Creation date and
/// keys are set on create only: re-saving must not invalidate callback URLs already handed out.
pub(crate) fn save(conn: &Connection, save: &SaveWorkflow) -> Result<SaveOutcome, DbError> {
    conn.prepare_cached(
        "INSERT INTO versions (version_id, workflow, created_at, document) \
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        save.version_id,
        save.name,
        save.now,
        rows::json_text(&save.document)
    ])?;

    let created = !conn
        .prepare_cached("SELECT 1 FROM workflows WHERE name = ?1")?
        .exists([&save.name])?;
    let workflow = if created {
        let mut insert = conn.prepare_cached(concat!(
            "INSERT INTO workflows (",
            workflow_columns!(),
            ") VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6) RETURNING ",
            workflow_columns!()
        ))?;
        let returned = insert.query(params![
            save.name,
            save.enabled,
            save.version_id,
            save.now,
            save.primary_key,
            save.secondary_key
        ])?;
        rows::first(returned, rows::workflow)?
    } else {
        let mut update = conn.prepare_cached(concat!(
            "UPDATE workflows SET enabled = ?2, version_id = ?3, changed_at = ?4 \
             WHERE name = ?1 RETURNING ",
            workflow_columns!()
        ))?;
        let returned = update.query(params![save.name, save.enabled, save.version_id, save.now])?;
        rows::first(returned, rows::workflow)?
    };
    // RETURNING of a write that just succeeded always yields its row.
    let workflow = workflow.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    Ok(SaveOutcome { created, workflow })
}

pub(crate) fn set_enabled(
    conn: &Connection,
    name: &str,
    enabled: bool,
    now: i64,
) -> Result<Option<WorkflowRecord>, DbError> {
    let mut update = conn.prepare_cached(concat!(
        "UPDATE workflows SET enabled = ?2, changed_at = ?3 WHERE name = ?1 RETURNING ",
        workflow_columns!()
    ))?;
    rows::first(update.query(params![name, enabled, now])?, rows::workflow)
}

/// Deletes the workflow row only; its versions and runs stay for history.
pub(crate) fn delete(conn: &Connection, name: &str) -> Result<bool, DbError> {
    let deleted = conn
        .prepare_cached("DELETE FROM workflows WHERE name = ?1")?
        .execute([name])?;
    Ok(deleted > 0)
}

pub(crate) fn get(conn: &Connection, name: &str) -> Result<Option<WorkflowRecord>, DbError> {
    let mut select = conn.prepare_cached(concat!(
        "SELECT ",
        workflow_columns!(),
        " FROM workflows WHERE name = ?1"
    ))?;
    rows::first(select.query([name])?, rows::workflow)
}

pub(crate) fn list(conn: &Connection) -> Result<Vec<WorkflowRecord>, DbError> {
    let mut select = conn.prepare_cached(concat!(
        "SELECT ",
        workflow_columns!(),
        " FROM workflows ORDER BY name"
    ))?;
    rows::all(select.query([])?, rows::workflow)
}

/// Newest first; versions saved in the same millisecond come out newest-inserted first.
pub(crate) fn list_versions(
    conn: &Connection,
    workflow: &str,
) -> Result<Vec<VersionRecord>, DbError> {
    let mut select = conn.prepare_cached(concat!(
        "SELECT ",
        version_columns!(),
        " FROM versions WHERE workflow = ?1 ORDER BY created_at DESC, rowid DESC"
    ))?;
    rows::all(select.query([workflow])?, rows::version)
}

pub(crate) fn get_version(
    conn: &Connection,
    version_id: &str,
) -> Result<Option<VersionRecord>, DbError> {
    let mut select = conn.prepare_cached(concat!(
        "SELECT ",
        version_columns!(),
        " FROM versions WHERE version_id = ?1"
    ))?;
    rows::first(select.query([version_id])?, rows::version)
}

/// Replaces the primary or secondary access key.
pub(crate) fn set_key(
    conn: &Connection,
    name: &str,
    secondary: bool,
    key: &str,
    now: i64,
) -> Result<Option<WorkflowRecord>, DbError> {
    // Two constant statements rather than a column name spliced into SQL.
    let sql = if secondary {
        concat!(
            "UPDATE workflows SET secondary_key = ?2, changed_at = ?3 WHERE name = ?1 RETURNING ",
            workflow_columns!()
        )
    } else {
        concat!(
            "UPDATE workflows SET primary_key = ?2, changed_at = ?3 WHERE name = ?1 RETURNING ",
            workflow_columns!()
        )
    };
    let mut update = conn.prepare_cached(sql)?;
    rows::first(update.query(params![name, key, now])?, rows::workflow)
}
