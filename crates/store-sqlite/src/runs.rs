//! SQL of the run aggregate as history sees it: creating runs, reading them back page by page,
//! and reading their action records. Stepping runs (leases, `seq`) is in `work.rs`.

use crate::error::DbError;
use crate::rows::{self, action_columns, run_columns};
use crate::work;
use hookflow_store::{ActionRecord, NewRun, RunQuery, RunRecord};
use rusqlite::{Connection, params};

/// Inserts the run and its first inbox event (due at once: at the run's start time).
/// Inserts a new run with its first event, or with its first step (`NewRun::first_fields`).
pub(crate) fn create(conn: &Connection, new: &NewRun) -> Result<(), DbError> {
    let run = &new.run;
    let first = new.first_fields();
    conn.prepare_cached(concat!(
        "INSERT INTO runs (",
        run_columns!(),
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    ))?
    .execute(params![
        run.id,
        run.workflow,
        run.version_id,
        run.trigger_name,
        first.status.as_str(),
        run.start_time,
        first.end_time,
        rows::json_text(&run.trigger),
        rows::optional_json_text(first.outputs),
        rows::optional_json_text(first.error),
        first.seq,
        rows::optional_json_text(first.variables),
    ])?;
    match &new.started {
        None => work::insert_event(conn, &run.id, &new.first_event, run.start_time),
        Some(step) => work::write_step_rows(conn, step),
    }
}

pub(crate) fn get(conn: &Connection, run_id: &str) -> Result<Option<RunRecord>, DbError> {
    let mut select = conn.prepare_cached(concat!(
        "SELECT ",
        run_columns!(),
        " FROM runs WHERE id = ?1"
    ))?;
    rows::first(select.query([run_id])?, rows::run)
}

/// The runs found and their action records, from one snapshot (a read transaction).
pub(crate) fn get_with_actions(
    conn: &Connection,
    run_ids: &[String],
) -> Result<Vec<(RunRecord, Vec<ActionRecord>)>, DbError> {
    let snapshot = conn.unchecked_transaction()?;
    let mut read = Vec::with_capacity(run_ids.len());
    for run_id in run_ids {
        if let Some(run) = get(&snapshot, run_id)? {
            read.push((run, list_actions(&snapshot, run_id)?));
        }
    }
    snapshot.commit()?;
    Ok(read)
}

// One constant statement per filter combination, rather than `(?x IS NULL OR ...)` in one:
// only a statement whose every condition is a plain index term lets SQLite seek straight to
// the page in `runs_by_workflow[_status]` instead of scanning from the newest run.
const LIST: &str = concat!(
    "SELECT ",
    run_columns!(),
    " FROM runs WHERE workflow = ?1 ORDER BY start_time DESC, id DESC LIMIT ?2"
);
const LIST_BEFORE: &str = concat!(
    "SELECT ",
    run_columns!(),
    " FROM runs WHERE workflow = ?1 AND (start_time, id) < (?3, ?4) \
     ORDER BY start_time DESC, id DESC LIMIT ?2"
);
const LIST_STATUS: &str = concat!(
    "SELECT ",
    run_columns!(),
    " FROM runs WHERE workflow = ?1 AND status = ?3 ORDER BY start_time DESC, id DESC LIMIT ?2"
);
const LIST_STATUS_BEFORE: &str = concat!(
    "SELECT ",
    run_columns!(),
    " FROM runs WHERE workflow = ?1 AND status = ?5 AND (start_time, id) < (?3, ?4) \
     ORDER BY start_time DESC, id DESC LIMIT ?2"
);

/// Newest first by `(start_time, id)`, strictly before `query.before` when given.
pub(crate) fn list(conn: &Connection, query: &RunQuery) -> Result<Vec<RunRecord>, DbError> {
    let workflow = &query.workflow;
    let limit = i64::from(query.limit);
    let status = query.status.map(|status| status.as_str());
    let sql = match (status, &query.before) {
        (None, None) => LIST,
        (None, Some(_)) => LIST_BEFORE,
        (Some(_), None) => LIST_STATUS,
        (Some(_), Some(_)) => LIST_STATUS_BEFORE,
    };
    let mut select = conn.prepare_cached(sql)?;
    let found = match (status, &query.before) {
        (None, None) => select.query(params![workflow, limit])?,
        (None, Some((time, id))) => select.query(params![workflow, limit, time, id])?,
        (Some(status), None) => select.query(params![workflow, limit, status])?,
        (Some(status), Some((time, id))) => {
            select.query(params![workflow, limit, time, id, status])?
        }
    };
    rows::all(found, rows::run)
}

/// In the order the actions were first recorded (the rowid order of `actions`).
pub(crate) fn list_actions(conn: &Connection, run_id: &str) -> Result<Vec<ActionRecord>, DbError> {
    let mut select = conn.prepare_cached(concat!(
        "SELECT ",
        action_columns!(),
        " FROM actions WHERE run_id = ?1 ORDER BY id"
    ))?;
    rows::all(select.query([run_id])?, rows::action)
}

pub(crate) fn get_action(
    conn: &Connection,
    run_id: &str,
    name: &str,
) -> Result<Option<ActionRecord>, DbError> {
    let mut select = conn.prepare_cached(concat!(
        "SELECT ",
        action_columns!(),
        " FROM actions WHERE run_id = ?1 AND name = ?2 AND repetition = ''"
    ))?;
    rows::first(select.query([run_id, name])?, rows::action)
}

/// Every execution of one action, by repetition (canonical text sorts like the indexes).
pub(crate) fn list_repetitions(
    conn: &Connection,
    run_id: &str,
    name: &str,
) -> Result<Vec<ActionRecord>, DbError> {
    let mut select = conn.prepare_cached(concat!(
        "SELECT ",
        action_columns!(),
        " FROM actions WHERE run_id = ?1 AND name = ?2 ORDER BY repetition"
    ))?;
    rows::all(select.query([run_id, name])?, rows::action)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every history page seeks into its index and reads it newest first, backwards: no
    /// statement sorts (`USE TEMP B-TREE FOR ORDER BY`) or scans the table, whatever the
    /// index's declared order (migration 8 made it ascending).
    #[test]
    fn history_pages_read_an_index_backwards_without_sorting() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::schema::open_writer(
            &dir.path().join("plan.db"),
            &crate::SqliteOptions::default(),
        )
        .unwrap_or_else(|_| panic!("cannot open the test database"));
        for (sql, index) in [
            (LIST, "runs_by_workflow "),
            (LIST_BEFORE, "runs_by_workflow "),
            (LIST_STATUS, "runs_by_workflow_status "),
            (LIST_STATUS_BEFORE, "runs_by_workflow_status "),
        ] {
            let mut explain = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let plan: Vec<String> = explain
                .query_map(
                    rusqlite::params_from_iter(vec![0; explain.parameter_count()]),
                    |row| row.get(3),
                )
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(plan.len(), 1, "{sql}: {plan:?}");
            assert!(
                plan[0].starts_with("SEARCH runs USING INDEX ") && plan[0].contains(index),
                "{sql}: {plan:?}"
            );
        }
    }
}
