//! SQL of the run aggregate as history sees it: creating runs, reading them back page by page,
//! and reading their action records. Stepping runs (leases, `seq`) is in `work.rs`.

use crate::error::DbError;
use crate::pool;
use crate::rows::{self, action_columns, run_columns};
use crate::work;
use deadpool_postgres::GenericClient;
use hookflow_store::{ActionRecord, NewRun, RunQuery, RunRecord};
use std::collections::HashMap;

/// Inserts the run and its first inbox event (due at once: at the run's start time).
/// Inserts a new run with its first event, or with its first step (`NewRun::first_fields`).
pub(crate) async fn create(tx: &impl GenericClient, new: &NewRun) -> Result<(), DbError> {
    let run = &new.run;
    let first = new.first_fields();
    pool::execute(
        tx,
        concat!(
            "INSERT INTO runs (",
            run_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ),
        &[
            &run.id,
            &run.workflow,
            &run.version_id,
            &run.trigger_name,
            &first.status.as_str(),
            &run.start_time,
            &first.end_time,
            &*run.trigger,
            &first.outputs,
            &first.error,
            &first.seq,
            &first.variables,
        ],
    )
    .await?;
    match &new.started {
        None => work::insert_event(tx, &run.id, &new.first_event, run.start_time).await,
        Some(step) => work::write_step_rows(tx, step).await,
    }
}

pub(crate) async fn get(
    db: &impl GenericClient,
    run_id: &str,
) -> Result<Option<RunRecord>, DbError> {
    let row = pool::query_opt(
        db,
        concat!("SELECT ", run_columns!(), " FROM runs WHERE id = $1"),
        &[&run_id],
    )
    .await?;
    row.as_ref().map(rows::run).transpose()
}

/// The runs found and their action records: both queries pipelined on one connection, one
/// round trip.
pub(crate) async fn get_with_actions(
    db: &impl GenericClient,
    run_ids: &[String],
) -> Result<Vec<(RunRecord, Vec<ActionRecord>)>, DbError> {
    let ids: &[&(dyn tokio_postgres::types::ToSql + Sync)] = &[&run_ids];
    let runs = pool::query(
        db,
        concat!("SELECT ", run_columns!(), " FROM runs WHERE id = ANY($1)"),
        ids,
    );
    let actions = pool::query(
        db,
        concat!(
            "SELECT ",
            action_columns!(),
            " FROM actions WHERE run_id = ANY($1) ORDER BY id"
        ),
        ids,
    );
    let (runs, actions) = tokio::try_join!(runs, actions)?;
    let mut by_run: HashMap<String, Vec<ActionRecord>> = HashMap::new();
    for row in &actions {
        let action = rows::action(row)?;
        by_run
            .entry(action.run_id.clone())
            .or_default()
            .push(action);
    }
    runs.iter()
        .map(|row| {
            let run = rows::run(row)?;
            let actions = by_run.remove(&run.id).unwrap_or_default();
            Ok((run, actions))
        })
        .collect()
}

// One constant statement per filter combination, rather than `($x IS NULL OR ...)` in one:
// only a statement whose every condition is a plain index term lets the planner seek
// straight to the page in `runs_by_workflow[_status]` with a generic plan.
const LIST: &str = concat!(
    "SELECT ",
    run_columns!(),
    " FROM runs WHERE workflow = $1 ORDER BY start_time DESC, id DESC LIMIT $2"
);
const LIST_BEFORE: &str = concat!(
    "SELECT ",
    run_columns!(),
    " FROM runs WHERE workflow = $1 AND (start_time, id) < ($3, $4) \
     ORDER BY start_time DESC, id DESC LIMIT $2"
);
const LIST_STATUS: &str = concat!(
    "SELECT ",
    run_columns!(),
    " FROM runs WHERE workflow = $1 AND status = $3 ORDER BY start_time DESC, id DESC LIMIT $2"
);
const LIST_STATUS_BEFORE: &str = concat!(
    "SELECT ",
    run_columns!(),
    " FROM runs WHERE workflow = $1 AND status = $5 AND (start_time, id) < ($3, $4) \
     ORDER BY start_time DESC, id DESC LIMIT $2"
);

/// Newest first by `(start_time, id)`, strictly before `query.before` when given.
pub(crate) async fn list(
    db: &impl GenericClient,
    query: &RunQuery,
) -> Result<Vec<RunRecord>, DbError> {
    let workflow = &query.workflow;
    let limit = i64::from(query.limit);
    let status = query.status.map(|status| status.as_str());
    let found = match (status, &query.before) {
        (None, None) => pool::query(db, LIST, &[workflow, &limit]).await?,
        (None, Some((time, id))) => {
            pool::query(db, LIST_BEFORE, &[workflow, &limit, time, id]).await?
        }
        (Some(status), None) => pool::query(db, LIST_STATUS, &[workflow, &limit, &status]).await?,
        (Some(status), Some((time, id))) => {
            pool::query(
                db,
                LIST_STATUS_BEFORE,
                &[workflow, &limit, time, id, &status],
            )
            .await?
        }
    };
    rows::all(found, rows::run)
}

/// Every repetition, in the order the executions were first recorded (the identity order
/// of `actions`).
pub(crate) async fn list_actions(
    db: &impl GenericClient,
    run_id: &str,
) -> Result<Vec<ActionRecord>, DbError> {
    let found = pool::query(
        db,
        concat!(
            "SELECT ",
            action_columns!(),
            " FROM actions WHERE run_id = $1 ORDER BY id"
        ),
        &[&run_id],
    )
    .await?;
    rows::all(found, rows::action)
}

pub(crate) async fn get_action(
    db: &impl GenericClient,
    run_id: &str,
    name: &str,
) -> Result<Option<ActionRecord>, DbError> {
    let row = pool::query_opt(
        db,
        concat!(
            "SELECT ",
            action_columns!(),
            " FROM actions WHERE run_id = $1 AND name = $2 AND repetition = ''"
        ),
        &[&run_id, &name],
    )
    .await?;
    row.as_ref().map(rows::action).transpose()
}

/// Every execution of one action, by repetition (canonical text sorts like the indexes, in
/// the column's bytewise collation).
pub(crate) async fn list_repetitions(
    db: &impl GenericClient,
    run_id: &str,
    name: &str,
) -> Result<Vec<ActionRecord>, DbError> {
    let found = pool::query(
        db,
        concat!(
            "SELECT ",
            action_columns!(),
            " FROM actions WHERE run_id = $1 AND name = $2 ORDER BY repetition"
        ),
        &[&run_id, &name],
    )
    .await?;
    rows::all(found, rows::action)
}
