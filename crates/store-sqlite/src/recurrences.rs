//! SQL of recurrence timers: one row per Recurrence trigger of an enabled workflow, holding
//! its next occurrence; claimed with a lease and fired by a conditional update (on the
//! occurrence and the lease) in the same transaction as the fire's runs.

use crate::error::DbError;
use crate::rows;
use hookflow_store::{Claim, RecurrenceFire, RecurrenceTimer};
use rusqlite::{Connection, Row, params};

const COLUMNS: &str = "workflow, trigger_name, recurrence, anchor, due_at";

/// Makes `timers` the workflow's timers; rows whose `recurrence` is unchanged are kept.
pub(crate) fn set(
    conn: &Connection,
    workflow: &str,
    timers: &[RecurrenceTimer],
) -> Result<(), DbError> {
    let mut upsert = conn.prepare_cached(
        "INSERT INTO recurrences (workflow, trigger_name, recurrence, anchor, due_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (workflow, trigger_name) DO UPDATE SET recurrence = excluded.recurrence, \
         anchor = excluded.anchor, due_at = excluded.due_at, \
         lease_owner = NULL, lease_until = NULL \
         WHERE recurrences.recurrence <> excluded.recurrence",
    )?;
    for timer in timers {
        upsert.execute(params![
            workflow,
            timer.trigger,
            rows::json_text(&timer.recurrence),
            timer.anchor,
            timer.due_at
        ])?;
    }
    let existing = list(conn, Some(workflow))?;
    let mut delete =
        conn.prepare_cached("DELETE FROM recurrences WHERE workflow = ?1 AND trigger_name = ?2")?;
    for row in existing {
        if !timers.iter().any(|t| t.trigger == row.trigger) {
            delete.execute(params![workflow, row.trigger])?;
        }
    }
    Ok(())
}

pub(crate) fn list(
    conn: &Connection,
    workflow: Option<&str>,
) -> Result<Vec<RecurrenceTimer>, DbError> {
    let mut select = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM recurrences WHERE ?1 IS NULL OR workflow = ?1 \
         ORDER BY workflow, trigger_name"
    ))?;
    rows::all(select.query([workflow])?, timer)
}

/// Leases up to `claim.limit` due timers with no live lease, earliest first.
pub(crate) fn claim(conn: &Connection, claim: &Claim) -> Result<Vec<RecurrenceTimer>, DbError> {
    let mut lease = conn.prepare_cached(&format!(
        "UPDATE recurrences SET lease_owner = ?3, lease_until = ?4 \
         WHERE rowid IN (SELECT rowid FROM recurrences \
             WHERE due_at <= ?1 AND (lease_until IS NULL OR lease_until < ?1) \
             ORDER BY due_at LIMIT ?2) \
         RETURNING {COLUMNS}"
    ))?;
    let leased = lease.query(params![
        claim.now,
        i64::from(claim.limit),
        claim.owner,
        claim.now.saturating_add(claim.lease_ms)
    ])?;
    let mut timers = rows::all(leased, timer)?;
    timers.sort_by_key(|t| t.due_at);
    Ok(timers)
}

/// Moves (or deletes) the timer if it is still at the occurrence and leased by the caller,
/// then records the fire. False, with nothing written, when the timer moved on.
pub(crate) fn fire(conn: &Connection, fire: &RecurrenceFire) -> Result<bool, DbError> {
    let moved = match fire.next {
        Some(next) => conn
            .prepare_cached(
                "UPDATE recurrences SET due_at = ?5, lease_owner = NULL, lease_until = NULL \
                 WHERE workflow = ?1 AND trigger_name = ?2 AND due_at = ?3 AND lease_owner = ?4",
            )?
            .execute(params![
                fire.workflow,
                fire.trigger,
                fire.occurrence,
                fire.owner,
                next
            ])?,
        None => conn
            .prepare_cached(
                "DELETE FROM recurrences \
                 WHERE workflow = ?1 AND trigger_name = ?2 AND due_at = ?3 AND lease_owner = ?4",
            )?
            .execute(params![
                fire.workflow,
                fire.trigger,
                fire.occurrence,
                fire.owner
            ])?,
    };
    if moved == 0 {
        return Ok(false);
    }
    if let Some(recorded) = &fire.fire {
        crate::triggers::record_fire(conn, recorded)?;
    }
    Ok(true)
}

fn timer(row: &Row<'_>) -> Result<RecurrenceTimer, DbError> {
    Ok(RecurrenceTimer {
        workflow: row.get(0)?,
        trigger: row.get(1)?,
        recurrence: rows::json(row.get(2)?)?,
        anchor: row.get(3)?,
        due_at: row.get(4)?,
    })
}
