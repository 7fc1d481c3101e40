//! SQL of webhook action waits: opened and closed by steps, resolved by a callback or by the
//! timeout sweep. Every resolution is a conditional update on `state = 'Waiting'`, so exactly
//! one of them wins, and the winner appends its event to the run's inbox in the same
//! transaction.

use crate::error::DbError;
use crate::rows;
use crate::work;
use hookflow_engine::Event;
use hookflow_store::{CallbackDelivery, CallbackOutcome, WaitRecord, WaitWrite};
use rusqlite::{Connection, OptionalExtension, params};

pub(crate) fn write(conn: &Connection, run_id: &str, wait: &WaitWrite) -> Result<(), DbError> {
    match wait {
        WaitWrite::Open {
            action,
            opened_at,
            timeout_at,
        } => {
            conn.prepare_cached(
                "INSERT OR REPLACE INTO waits (run_id, action, state, opened_at, timeout_at) \
                 VALUES (?1, ?2, 'Waiting', ?3, ?4)",
            )?
            .execute(params![run_id, action, opened_at, timeout_at])?;
        }
        WaitWrite::Close { action } => {
            conn.prepare_cached(
                "UPDATE waits SET state = 'Closed' WHERE run_id = ?1 AND action = ?2 \
                 AND state = 'Waiting'",
            )?
            .execute(params![run_id, action])?;
        }
    }
    Ok(())
}

pub(crate) fn accept_callback(
    conn: &Connection,
    delivery: &CallbackDelivery,
) -> Result<CallbackOutcome, DbError> {
    let won = conn
        .prepare_cached(
            "UPDATE waits SET state = 'Callback', delivery_key = ?3, resolved_at = ?4 \
             WHERE run_id = ?1 AND action = ?2 AND state = 'Waiting'",
        )?
        .execute(params![
            delivery.run_id,
            delivery.action,
            delivery.delivery_key,
            delivery.now
        ])?;
    if won == 1 {
        let delivered = work::deliver(
            conn,
            &delivery.run_id,
            &delivery.event,
            delivery.now,
            &delivery.handoff,
        )?;
        return Ok(CallbackOutcome::Accepted(delivered));
    }
    let found: Option<(String, Option<String>)> = conn
        .prepare_cached("SELECT state, delivery_key FROM waits WHERE run_id = ?1 AND action = ?2")?
        .query_row(params![delivery.run_id, delivery.action], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?;
    Ok(match found {
        None => CallbackOutcome::NotFound,
        Some((state, key))
            if state == "Callback" && key.is_some() && key == delivery.delivery_key =>
        {
            CallbackOutcome::Repeat
        }
        Some((state, _)) => CallbackOutcome::Refused { by: state },
    })
}

/// Resolves due waits as timed out, each with a `WaitTimedOut` event.
pub(crate) fn resolve_timeouts(conn: &Connection, now: i64, limit: u32) -> Result<u32, DbError> {
    let due: Vec<(String, String)> = {
        let mut select = conn.prepare_cached(
            "SELECT run_id, action FROM waits WHERE state = 'Waiting' AND timeout_at <= ?1 \
             ORDER BY timeout_at LIMIT ?2",
        )?;
        let rows = select.query_map(params![now, i64::from(limit)], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
        rows.collect::<Result<_, _>>()?
    };
    let mut resolve = conn.prepare_cached(
        "UPDATE waits SET state = 'TimedOut', resolved_at = ?3 \
         WHERE run_id = ?1 AND action = ?2 AND state = 'Waiting'",
    )?;
    let mut resolved = 0;
    for (run_id, action) in due {
        if resolve.execute(params![run_id, action, now])? == 1 {
            let event = serde_json::value::to_raw_value(&Event::WaitTimedOut { action })?;
            work::insert_event(conn, &run_id, &event, now)?;
            resolved += 1;
        }
    }
    Ok(resolved)
}

/// Open waits with their run's workflow and the action's inputs, oldest first.
pub(crate) fn list(
    conn: &Connection,
    workflow: Option<&str>,
    limit: u32,
) -> Result<Vec<WaitRecord>, DbError> {
    let mut select = conn.prepare_cached(
        "SELECT w.run_id, r.workflow, w.action, w.opened_at, w.timeout_at, a.inputs \
         FROM waits w JOIN runs r ON r.id = w.run_id \
         LEFT JOIN actions a ON a.run_id = w.run_id AND a.name = w.action \
         WHERE w.state = 'Waiting' AND (?1 IS NULL OR r.workflow = ?1) \
         ORDER BY w.opened_at LIMIT ?2",
    )?;
    let rows = select.query(params![workflow, i64::from(limit)])?;
    rows::all(rows, |row| {
        Ok(WaitRecord {
            run_id: row.get(0)?,
            workflow: row.get(1)?,
            action: row.get(2)?,
            opened_at: row.get(3)?,
            timeout_at: row.get(4)?,
            action_inputs: rows::optional_json(row.get(5)?)?,
        })
    })
}
