//! SQL of webhook action waits: opened and closed by steps, resolved by a callback or by the
//! timeout sweep. Every resolution is a conditional update on `state = 'Waiting'`: of two
//! nodes resolving the same wait at once, the second waits for the first's row lock, then
//! re-checks the condition against the committed row and matches nothing. The winner appends
//! its event to the run's inbox in the same transaction.

use crate::error::DbError;
use crate::pool;
use crate::rows;
use crate::work;
use deadpool_postgres::GenericClient;
use hookflow_engine::Event;
use hookflow_store::{CallbackDelivery, CallbackOutcome, WaitRecord, WaitWrite};

pub(crate) async fn write(
    tx: &impl GenericClient,
    run_id: &str,
    wait: &WaitWrite,
) -> Result<(), DbError> {
    match wait {
        // Opening again replaces the row whole, as a new wait.
        WaitWrite::Open {
            action,
            opened_at,
            timeout_at,
        } => {
            pool::execute(
                tx,
                "INSERT INTO waits (run_id, action, state, opened_at, timeout_at) \
                 VALUES ($1, $2, 'Waiting', $3, $4) \
                 ON CONFLICT (run_id, action) DO UPDATE SET state = 'Waiting', \
                 opened_at = excluded.opened_at, timeout_at = excluded.timeout_at, \
                 delivery_key = NULL, resolved_at = NULL",
                &[&run_id, action, opened_at, timeout_at],
            )
            .await?;
        }
        WaitWrite::Close { action } => {
            pool::execute(
                tx,
                "UPDATE waits SET state = 'Closed' WHERE run_id = $1 AND action = $2 \
                 AND state = 'Waiting'",
                &[&run_id, action],
            )
            .await?;
        }
    }
    Ok(())
}

pub(crate) async fn accept_callback(
    tx: &impl GenericClient,
    delivery: &CallbackDelivery,
) -> Result<CallbackOutcome, DbError> {
    let won = pool::execute(
        tx,
        "UPDATE waits SET state = 'Callback', delivery_key = $3, resolved_at = $4 \
         WHERE run_id = $1 AND action = $2 AND state = 'Waiting'",
        &[
            &delivery.run_id,
            &delivery.action,
            &delivery.delivery_key,
            &delivery.now,
        ],
    )
    .await?;
    if won == 1 {
        let delivered = work::deliver(
            tx,
            &delivery.run_id,
            &delivery.event,
            delivery.now,
            &delivery.handoff,
        )
        .await?;
        return Ok(CallbackOutcome::Accepted(delivered));
    }
    let found = pool::query_opt(
        tx,
        "SELECT state, delivery_key FROM waits WHERE run_id = $1 AND action = $2",
        &[&delivery.run_id, &delivery.action],
    )
    .await?;
    let Some(row) = found else {
        return Ok(CallbackOutcome::NotFound);
    };
    let state: String = row.try_get(0)?;
    let key: Option<String> = row.try_get(1)?;
    Ok(
        if state == "Callback" && key.is_some() && key == delivery.delivery_key {
            CallbackOutcome::Repeat
        } else {
            CallbackOutcome::Refused { by: state }
        },
    )
}

/// Resolves due waits as timed out, each with a `WaitTimedOut` event. Waits another node is
/// resolving right now are skipped (it resolves them), not waited for.
pub(crate) async fn resolve_timeouts(
    tx: &impl GenericClient,
    now: i64,
    limit: u32,
) -> Result<u32, DbError> {
    let resolved = pool::query(
        tx,
        "WITH due AS MATERIALIZED ( \
             SELECT run_id, action FROM waits \
             WHERE state = 'Waiting' AND timeout_at <= $1 \
             ORDER BY timeout_at LIMIT $2 \
             FOR NO KEY UPDATE SKIP LOCKED) \
         UPDATE waits w SET state = 'TimedOut', resolved_at = $1 FROM due \
         WHERE w.run_id = due.run_id AND w.action = due.action AND w.state = 'Waiting' \
         RETURNING w.run_id, w.action, w.timeout_at",
        &[&now, &i64::from(limit)],
    )
    .await?;
    let mut due = Vec::with_capacity(resolved.len());
    for row in &resolved {
        let run_id: String = row.try_get(0)?;
        let action: String = row.try_get(1)?;
        let timeout_at: i64 = row.try_get(2)?;
        due.push((timeout_at, run_id, action));
    }
    // Events in timeout order, as the sweep found them (RETURNING has no order).
    due.sort();
    let count = u32::try_from(due.len()).unwrap_or(u32::MAX);
    for (_, run_id, action) in due {
        let event = serde_json::value::to_raw_value(&Event::WaitTimedOut { action })?;
        work::insert_event(tx, &run_id, &event, now).await?;
    }
    Ok(count)
}

/// Open waits with their run's workflow and the action's inputs, oldest first.
pub(crate) async fn list(
    db: &impl GenericClient,
    workflow: Option<&str>,
    limit: u32,
) -> Result<Vec<WaitRecord>, DbError> {
    let found = pool::query(
        db,
        "SELECT w.run_id, r.workflow, w.action, w.opened_at, w.timeout_at, a.inputs \
         FROM waits w JOIN runs r ON r.id = w.run_id \
         LEFT JOIN actions a ON a.run_id = w.run_id AND a.name = w.action \
         WHERE w.state = 'Waiting' AND ($1::text IS NULL OR r.workflow = $1) \
         ORDER BY w.opened_at, w.run_id, w.action LIMIT $2",
        &[&workflow, &i64::from(limit)],
    )
    .await?;
    rows::all(found, |row| {
        Ok(WaitRecord {
            run_id: row.try_get(0)?,
            workflow: row.try_get(1)?,
            action: row.try_get(2)?,
            opened_at: row.try_get(3)?,
            timeout_at: row.try_get(4)?,
            action_inputs: row.try_get(5)?,
        })
    })
}
