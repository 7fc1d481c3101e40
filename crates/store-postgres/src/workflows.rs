//! SQL of the workflow aggregate: the `workflows` rows (current version pointer, state, keys)
//! and the immutable `versions` they point at.

use crate::error::{DbError, backend};
use crate::pool;
use crate::rows::{self, version_columns, workflow_columns};
use deadpool_postgres::GenericClient;
use hookflow_store::{SaveOutcome, SaveWorkflow, VersionRecord, WorkflowRecord};

/// Adds the version, then creates the workflow or moves it to that version. Creation date and
/// keys are set on create only: re-saving must not invalidate callback URLs already handed out.
///
/// Create-or-update is `INSERT ... ON CONFLICT DO NOTHING` and, when that found the row, an
/// `UPDATE`: two nodes saving a new name at once cannot both create it (the second waits
/// for the first's insert and then updates). A workflow deleted between the two statements
/// is created on the next round.
pub(crate) async fn save(
    tx: &impl GenericClient,
    save: &SaveWorkflow,
) -> Result<SaveOutcome, DbError> {
    pool::execute(
        tx,
        "INSERT INTO versions (version_id, workflow, created_at, document) \
         VALUES ($1, $2, $3, $4)",
        &[&save.version_id, &save.name, &save.now, &save.document],
    )
    .await?;
    for _ in 0..3 {
        let inserted = pool::query_opt(
            tx,
            concat!(
                "INSERT INTO workflows (",
                workflow_columns!(),
                ") VALUES ($1, $2, $3, $4, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING ",
                workflow_columns!()
            ),
            &[
                &save.name,
                &save.enabled,
                &save.version_id,
                &save.now,
                &save.primary_key,
                &save.secondary_key,
            ],
        )
        .await?;
        if let Some(row) = inserted {
            let workflow = rows::workflow(&row)?;
            return Ok(SaveOutcome {
                created: true,
                workflow,
            });
        }
        let updated = pool::query_opt(
            tx,
            concat!(
                "UPDATE workflows SET enabled = $2, version_id = $3, changed_at = $4 \
                 WHERE name = $1 RETURNING ",
                workflow_columns!()
            ),
            &[&save.name, &save.enabled, &save.version_id, &save.now],
        )
        .await?;
        if let Some(row) = updated {
            let workflow = rows::workflow(&row)?;
            return Ok(SaveOutcome {
                created: false,
                workflow,
            });
        }
    }
    Err(backend(format!(
        "workflow {} kept being created and deleted concurrently",
        save.name
    )))
}

pub(crate) async fn set_enabled(
    db: &impl GenericClient,
    name: &str,
    enabled: bool,
    now: i64,
) -> Result<Option<WorkflowRecord>, DbError> {
    let row = pool::query_opt(
        db,
        concat!(
            "UPDATE workflows SET enabled = $2, changed_at = $3 WHERE name = $1 RETURNING ",
            workflow_columns!()
        ),
        &[&name, &enabled, &now],
    )
    .await?;
    row.as_ref().map(rows::workflow).transpose()
}

/// Deletes the workflow row only; its versions and runs stay for history.
pub(crate) async fn delete(db: &impl GenericClient, name: &str) -> Result<bool, DbError> {
    let deleted = pool::execute(db, "DELETE FROM workflows WHERE name = $1", &[&name]).await?;
    Ok(deleted > 0)
}

pub(crate) async fn get(
    db: &impl GenericClient,
    name: &str,
) -> Result<Option<WorkflowRecord>, DbError> {
    let row = pool::query_opt(
        db,
        concat!(
            "SELECT ",
            workflow_columns!(),
            " FROM workflows WHERE name = $1"
        ),
        &[&name],
    )
    .await?;
    row.as_ref().map(rows::workflow).transpose()
}

pub(crate) async fn list(db: &impl GenericClient) -> Result<Vec<WorkflowRecord>, DbError> {
    let found = pool::query(
        db,
        concat!(
            "SELECT ",
            workflow_columns!(),
            " FROM workflows ORDER BY name"
        ),
        &[],
    )
    .await?;
    rows::all(found, rows::workflow)
}

/// Newest first; versions saved in the same millisecond come out newest-inserted first.
pub(crate) async fn list_versions(
    db: &impl GenericClient,
    workflow: &str,
) -> Result<Vec<VersionRecord>, DbError> {
    let found = pool::query(
        db,
        concat!(
            "SELECT ",
            version_columns!(),
            " FROM versions WHERE workflow = $1 ORDER BY created_at DESC, seq DESC"
        ),
        &[&workflow],
    )
    .await?;
    rows::all(found, rows::version)
}

pub(crate) async fn get_version(
    db: &impl GenericClient,
    version_id: &str,
) -> Result<Option<VersionRecord>, DbError> {
    let row = pool::query_opt(
        db,
        concat!(
            "SELECT ",
            version_columns!(),
            " FROM versions WHERE version_id = $1"
        ),
        &[&version_id],
    )
    .await?;
    row.as_ref().map(rows::version).transpose()
}

/// Replaces the primary or secondary access key.
pub(crate) async fn set_key(
    db: &impl GenericClient,
    name: &str,
    secondary: bool,
    key: &str,
    now: i64,
) -> Result<Option<WorkflowRecord>, DbError> {
    // Two constant statements rather than a column name spliced into SQL.
    let sql = if secondary {
        concat!(
            "UPDATE workflows SET secondary_key = $2, changed_at = $3 WHERE name = $1 RETURNING ",
            workflow_columns!()
        )
    } else {
        concat!(
            "UPDATE workflows SET primary_key = $2, changed_at = $3 WHERE name = $1 RETURNING ",
            workflow_columns!()
        )
    };
    let row = pool::query_opt(db, sql, &[&name, &key, &now]).await?;
    row.as_ref().map(rows::workflow).transpose()
}
