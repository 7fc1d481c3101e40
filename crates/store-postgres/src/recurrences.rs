//! SQL of recurrence timers: one row per Recurrence trigger of an enabled workflow, holding
//! its next occurrence; claimed with a lease (`SKIP LOCKED`, so two nodes never claim the
//! same timer at once) and fired by a conditional update (on the occurrence and the lease) in
//! the same transaction as the fire's runs.

use crate::error::DbError;
use crate::pool;
use crate::rows;
use deadpool_postgres::GenericClient;
use hookflow_store::{Claim, RecurrenceFire, RecurrenceTimer};
use tokio_postgres::Row;

/// Makes `timers` the workflow's timers; rows whose `recurrence` is unchanged are kept.
pub(crate) async fn set(
    tx: &impl GenericClient,
    workflow: &str,
    timers: &[RecurrenceTimer],
) -> Result<(), DbError> {
    for timer in timers {
        pool::execute(
            tx,
            "INSERT INTO recurrences (workflow, trigger_name, recurrence, anchor, due_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (workflow, trigger_name) DO UPDATE SET \
             recurrence = excluded.recurrence, anchor = excluded.anchor, \
             due_at = excluded.due_at, lease_owner = NULL, lease_until = NULL \
             WHERE recurrences.recurrence <> excluded.recurrence",
            &[
                &workflow,
                &timer.trigger,
                &timer.recurrence.to_string(),
                &timer.anchor,
                &timer.due_at,
            ],
        )
        .await?;
    }
    let keep: Vec<&str> = timers.iter().map(|t| t.trigger.as_str()).collect();
    pool::execute(
        tx,
        "DELETE FROM recurrences WHERE workflow = $1 AND NOT (trigger_name = ANY($2))",
        &[&workflow, &keep],
    )
    .await?;
    Ok(())
}

pub(crate) async fn list(
    db: &impl GenericClient,
    workflow: Option<&str>,
) -> Result<Vec<RecurrenceTimer>, DbError> {
    let found = pool::query(
        db,
        "SELECT workflow, trigger_name, recurrence, anchor, due_at FROM recurrences \
         WHERE $1::text IS NULL OR workflow = $1 ORDER BY workflow, trigger_name",
        &[&workflow],
    )
    .await?;
    rows::all(found, timer)
}

/// Leases up to `claim.limit` due timers with no live lease, earliest first; timers another
/// claim holds locked are skipped.
pub(crate) async fn claim(
    db: &impl GenericClient,
    claim: &Claim,
) -> Result<Vec<RecurrenceTimer>, DbError> {
    let leased = pool::query(
        db,
        "WITH picked AS MATERIALIZED ( \
             SELECT workflow, trigger_name FROM recurrences \
             WHERE due_at <= $1 AND (lease_until IS NULL OR lease_until < $1) \
             ORDER BY due_at LIMIT $2 \
             FOR NO KEY UPDATE SKIP LOCKED) \
         UPDATE recurrences r SET lease_owner = $3, lease_until = $4 \
         FROM picked WHERE r.workflow = picked.workflow AND r.trigger_name = picked.trigger_name \
         RETURNING r.workflow, r.trigger_name, r.recurrence, r.anchor, r.due_at",
        &[
            &claim.now,
            &i64::from(claim.limit),
            &claim.owner,
            &claim.now.saturating_add(claim.lease_ms),
        ],
    )
    .await?;
    let mut timers = rows::all(leased, timer)?;
    timers.sort_by_key(|t| t.due_at);
    Ok(timers)
}

/// Moves (or deletes) the timer if it is still at the occurrence and leased by the caller,
/// then records the fire. False, with nothing written, when the timer moved on. Two nodes
/// firing the same occurrence: the second's update waits for the first's row lock, then
/// matches nothing.
pub(crate) async fn fire(tx: &impl GenericClient, fire: &RecurrenceFire) -> Result<bool, DbError> {
    let moved = match fire.next {
        Some(next) => {
            pool::execute(
                tx,
                "UPDATE recurrences SET due_at = $5, lease_owner = NULL, lease_until = NULL \
                 WHERE workflow = $1 AND trigger_name = $2 AND due_at = $3 AND lease_owner = $4",
                &[
                    &fire.workflow,
                    &fire.trigger,
                    &fire.occurrence,
                    &fire.owner,
                    &next,
                ],
            )
            .await?
        }
        None => {
            pool::execute(
                tx,
                "DELETE FROM recurrences \
                 WHERE workflow = $1 AND trigger_name = $2 AND due_at = $3 AND lease_owner = $4",
                &[&fire.workflow, &fire.trigger, &fire.occurrence, &fire.owner],
            )
            .await?
        }
    };
    if moved == 0 {
        return Ok(false);
    }
    if let Some(recorded) = &fire.fire {
        crate::triggers::record_fire(tx, recorded).await?;
    }
    Ok(true)
}

fn timer(row: &Row) -> Result<RecurrenceTimer, DbError> {
    let recurrence: String = row.try_get(2)?;
    Ok(RecurrenceTimer {
        workflow: row.try_get(0)?,
        trigger: row.try_get(1)?,
        recurrence: serde_json::from_str(&recurrence)
            .map_err(|e| crate::error::backend(format!("recurrence: {e}")))?,
        anchor: row.try_get(3)?,
        due_at: row.try_get(4)?,
    })
}
