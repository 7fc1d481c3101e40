//! SQL of the work queues: the inbox (events waiting to be applied to runs, timers included)
//! and the outbox (effects waiting to be carried out), their leases, and the fenced step
//! commit that consumes one and fills both.
//!
//! A lease is live while `now <= lease_until`; an expired lease is as good as none, so work a
//! crashed worker held comes back by itself. Leases are only a way to avoid duplicate work:
//! correctness comes from the `seq` fence in [`commit_step`] (a stale worker writes nothing)
//! and from effects being idempotent on their id.

use crate::error::DbError;
use crate::rows;
use hookflow_store::{
    self as store, Claim, ClaimedRun, Delivered, EffectRecord, Handoff, InboxEvent, LeaseRun,
    NewEvent, StepCommit,
};
use rusqlite::{Connection, OptionalExtension, ToSql, params};
use serde_json::value::RawValue;
use std::collections::HashSet;

/// Appends an event to a run's inbox. The foreign key rejects an unknown run.
pub(crate) fn insert_event(
    conn: &Connection,
    run_id: &str,
    event: &RawValue,
    due_at: i64,
) -> Result<(), DbError> {
    conn.prepare_cached("INSERT INTO inbox (run_id, event, due_at) VALUES (?1, ?2, ?3)")?
        .execute(params![run_id, event.get(), due_at])?;
    Ok(())
}

/// Like [`insert_event`], but an unknown run is `NotFound` (the caller named it, e.g. from a
/// URL) rather than a constraint failure.
pub(crate) fn push_event(conn: &Connection, event: &NewEvent) -> Result<(), DbError> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO inbox (run_id, event, due_at) \
             SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM runs WHERE id = ?1)",
        )?
        .execute(params![event.run_id, event.event.get(), event.due_at])?;
    if inserted == 0 {
        return Err(store::Error::NotFound(format!("run {}", event.run_id)).into());
    }
    Ok(())
}

/// Leases up to `claim.limit` runs with due events and no live lease, oldest due event first.
pub(crate) fn claim_runs(conn: &Connection, claim: &Claim) -> Result<Vec<ClaimedRun>, DbError> {
    let limit = claim.limit as usize;
    let lease_until = claim.now.saturating_add(claim.lease_ms);

    // Walk the due events in due order and stop as soon as `limit` distinct runs are found:
    // the cost is the claimed work plus the events of runs in flight, not the backlog.
    // CROSS JOIN makes the inbox the outer loop, so that walk follows `inbox_by_due`.
    let mut picked = Vec::new();
    if limit > 0 {
        let mut seen = HashSet::new();
        let mut due = conn.prepare_cached(
            "SELECT i.run_id FROM inbox i CROSS JOIN runs r ON r.id = i.run_id \
             WHERE i.due_at <= ?1 AND (r.lease_until IS NULL OR r.lease_until < ?1) \
             ORDER BY i.due_at, i.id",
        )?;
        let mut found = due.query([claim.now])?;
        while let Some(row) = found.next()? {
            let run_id: String = row.get(0)?;
            if seen.insert(run_id.clone()) {
                picked.push(run_id);
                if picked.len() == limit {
                    break;
                }
            }
        }
    }

    let mut lease = conn.prepare_cached(
        "UPDATE runs SET lease_owner = ?2, lease_until = ?3 WHERE id = ?1 RETURNING seq",
    )?;
    let mut claimed = Vec::with_capacity(picked.len());
    for run_id in picked {
        let seq: i64 =
            lease.query_row(params![run_id, claim.owner, lease_until], |row| row.get(0))?;
        let events = due_events(conn, &run_id, claim.now)?;
        claimed.push(ClaimedRun {
            run_id,
            seq,
            events,
        });
    }
    Ok(claimed)
}

/// The run's events due at `now`, in order.
fn due_events(conn: &Connection, run_id: &str, now: i64) -> Result<Vec<InboxEvent>, DbError> {
    let mut select = conn.prepare_cached(
        "SELECT id, event, due_at FROM inbox WHERE run_id = ?1 AND due_at <= ?2 ORDER BY id",
    )?;
    let found = select.query(params![run_id, now])?;
    rows::all(found, |row| {
        Ok(InboxEvent {
            id: row.get(0)?,
            run_id: run_id.to_owned(),
            event: rows::json(row.get(1)?)?,
            due_at: row.get(2)?,
        })
    })
}

/// Leases the run to `lease.owner` if no live lease holds it, returning it claimed with its
/// due events; `None` when another step holds it (the regular claim finds the event later).
pub(crate) fn lease_run(
    conn: &Connection,
    run_id: &str,
    lease: &LeaseRun,
    now: i64,
) -> Result<Option<ClaimedRun>, DbError> {
    let seq: Option<i64> = conn
        .prepare_cached(
            "UPDATE runs SET lease_owner = ?2, lease_until = ?3 \
             WHERE id = ?1 AND (lease_until IS NULL OR lease_until < ?4) RETURNING seq",
        )?
        .query_row(
            params![run_id, lease.owner, now.saturating_add(lease.lease_ms), now],
            |row| row.get(0),
        )
        .optional()?;
    let Some(seq) = seq else {
        return Ok(None);
    };
    Ok(Some(ClaimedRun {
        run_id: run_id.to_owned(),
        seq,
        events: due_events(conn, run_id, now)?,
    }))
}

/// Applies a step if, and only if, the run is still at `expected_seq` and leased by the
/// step's owner. The fence goes first, as one conditional UPDATE (exactly-once transitions:
/// of two workers racing on the same `seq`, the second matches no row), so a stale step
/// returns before writing anything. A later failure (say, an event for an unknown run) is
/// undone by the writer's savepoint around this command.
///
/// With `keep`, the run stays leased (to `keep.0`, from `keep.1`) and is returned claimed at
/// its new `seq` with its events due then (`Store::commit_step_and_continue`).
pub(crate) fn commit_step(
    conn: &Connection,
    step: &StepCommit,
    keep: Option<(&LeaseRun, i64)>,
) -> Result<Option<ClaimedRun>, DbError> {
    if !advance(conn, step, Fence::Leased(&step.owner), keep)? {
        let error = if run_exists(conn, &step.run_id)? {
            store::Error::Conflict(step.run_id.clone())
        } else {
            store::Error::NotFound(format!("run {}", step.run_id))
        };
        return Err(error.into());
    }
    write_step_rows(conn, step)?;
    let Some((_, now)) = keep else {
        return Ok(None);
    };
    Ok(Some(ClaimedRun {
        run_id: step.run_id.clone(),
        seq: step.expected_seq + 1,
        events: due_events(conn, &step.run_id, now)?,
    }))
}

/// Which runs a step may advance.
#[derive(Clone, Copy)]
enum Fence<'a> {
    /// A claimed step's: the run is leased to this owner.
    Leased(&'a str),
    /// A step computed where its event arrived (`Handoff::step`): no live lease holds the
    /// run at this time, and no other event of it is due (it would come first).
    Free(i64),
}

/// The fence of a step: the run row moves to `seq + 1`, with the step's run fields, if the
/// run is at `step.expected_seq` and `fence` holds. False (nothing written) otherwise. The
/// lease is released, or kept as `keep` says.
fn advance(
    conn: &Connection,
    step: &StepCommit,
    fence: Fence<'_>,
    keep: Option<(&LeaseRun, i64)>,
) -> Result<bool, DbError> {
    let (lease_owner, lease_until) = match keep {
        Some((lease, now)) => (Some(&lease.owner), Some(now.saturating_add(lease.lease_ms))),
        None => (None, None),
    };
    // Static texts (no formatting per step): the fence's condition, with and without the
    // run's fields.
    macro_rules! advance_sql {
        ($set:literal) => {
            match &fence {
                Fence::Leased(_) => concat!(
                    "UPDATE runs SET ", $set, "seq = seq + 1, lease_owner = ?4, lease_until = ?5 \
                     WHERE id = ?1 AND seq = ?2 AND lease_owner = ?3"
                ),
                Fence::Free(_) => concat!(
                    "UPDATE runs SET ", $set, "seq = seq + 1, lease_owner = ?4, lease_until = ?5 \
                     WHERE id = ?1 AND seq = ?2 AND (lease_until IS NULL OR lease_until < ?3) \
                     AND NOT EXISTS (SELECT 1 FROM inbox WHERE run_id = ?1 AND due_at <= ?3)"
                ),
            }
        };
    }
    let fenced_by: &dyn ToSql = match &fence {
        Fence::Leased(owner) => owner,
        Fence::Free(now) => now,
    };
    let fenced = match &step.run {
        Some(update) => conn
            .prepare_cached(advance_sql!(
                "status = ?6, end_time = ?7, outputs = ?8, error = ?9, \
                 variables = coalesce(?10, variables), "
            ))?
            .execute(params![
                step.run_id,
                step.expected_seq,
                fenced_by,
                lease_owner,
                lease_until,
                update.status.as_str(),
                update.end_time,
                rows::optional_json_text(update.outputs.as_ref()),
                rows::optional_json_text(update.error.as_ref()),
                rows::optional_json_text(update.variables.as_ref()),
            ])?,
        None => conn.prepare_cached(advance_sql!(""))?.execute(params![
            step.run_id,
            step.expected_seq,
            fenced_by,
            lease_owner,
            lease_until
        ])?,
    };
    Ok(fenced == 1)
}

/// Gives a run the event recorded for it (a callback that won its wait, an effect's outcome)
/// as `handoff` asks: commits the step computed ahead with it when the run allows, else
/// appends the event and, if asked, leases the run when it is free.
pub(crate) fn deliver(
    conn: &Connection,
    run_id: &str,
    event: &RawValue,
    now: i64,
    handoff: &Handoff,
) -> Result<Delivered, DbError> {
    if let Some(step) = handoff.step.as_ref().filter(|step| step.run_id == run_id)
        && advance(conn, step, Fence::Free(now), None)?
    {
        write_step_rows(conn, step)?;
        return Ok(Delivered::Stepped);
    }
    insert_event(conn, run_id, event, now)?;
    let claimed = match &handoff.lease {
        Some(lease) => lease_run(conn, run_id, lease, now)?,
        None => None,
    };
    Ok(claimed.map_or(Delivered::Queued, Delivered::Claimed))
}

/// Everything a step writes besides its run row: consumed events, action rows, effects,
/// events, waits and ledger entries.
pub(crate) fn write_step_rows(conn: &Connection, step: &StepCommit) -> Result<(), DbError> {
    let mut consume = conn.prepare_cached("DELETE FROM inbox WHERE id = ?1 AND run_id = ?2")?;
    for event_id in &step.consumed_events {
        consume.execute(params![event_id, step.run_id])?;
    }
    // An upsert, not INSERT OR REPLACE: the row keeps its id, hence its place in
    // `list_actions`, when an action moves from Running to its result.
    let mut upsert = conn.prepare_cached(
        "INSERT INTO actions \
         (run_id, name, status, code, start_time, end_time, inputs, outputs, error, repetition) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
         ON CONFLICT (run_id, name, repetition) DO UPDATE SET status = excluded.status, \
         code = excluded.code, start_time = excluded.start_time, end_time = excluded.end_time, \
         inputs = excluded.inputs, outputs = excluded.outputs, error = excluded.error",
    )?;
    for action in &step.actions {
        // Stored under the step's run: a step only ever records its own run's actions.
        upsert.execute(params![
            step.run_id,
            action.name,
            action.status.as_str(),
            action.code,
            action.start_time,
            action.end_time,
            action.inputs.as_deref().map(RawValue::get),
            action.outputs.as_deref().map(RawValue::get),
            action.error.as_deref().map(RawValue::get),
            action.repetition,
        ])?;
    }
    // A run that ended sends nothing more: its retries and polls due later, and calls not yet
    // claimed, go. A call in flight (leased) completes into a run that ignores it.
    if step.run.as_ref().is_some_and(|u| u.status.is_terminal()) {
        conn.prepare_cached("DELETE FROM outbox WHERE run_id = ?1 AND lease_owner IS NULL")?
            .execute([&step.run_id])?;
    }
    for event in &step.new_events {
        insert_event(conn, &event.run_id, &event.event, event.due_at)?;
    }
    let mut intend =
        conn.prepare_cached("INSERT INTO outbox (run_id, effect, due_at) VALUES (?1, ?2, ?3)")?;
    for effect in &step.new_effects {
        intend.execute(params![step.run_id, effect.effect.get(), effect.due_at])?;
    }
    for wait in &step.waits {
        crate::waits::write(conn, &step.run_id, wait)?;
    }
    for subscription in &step.subscriptions {
        crate::triggers::put_subscription(conn, subscription)?;
    }
    Ok(())
}

/// Puts a leased effect back, due again at `due_at`.
pub(crate) fn retry_effect(
    conn: &Connection,
    effect_id: i64,
    owner: &str,
    due_at: i64,
) -> Result<(), DbError> {
    let moved = conn
        .prepare_cached(
            "UPDATE outbox SET due_at = ?3, lease_owner = NULL, lease_until = NULL \
             WHERE id = ?1 AND lease_owner = ?2",
        )?
        .execute(params![effect_id, owner, due_at])?;
    if moved == 0 {
        lease_lost(conn, effect_id)?;
    }
    Ok(())
}

/// After a write conditioned on holding an effect's lease matched nothing: `Conflict` when
/// the effect is still there (another owner took it over), `Ok` when it is gone (done).
fn lease_lost(conn: &Connection, effect_id: i64) -> Result<(), DbError> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM outbox WHERE id = ?1")?
        .exists([effect_id])?;
    if exists {
        return Err(store::Error::Conflict(format!("effect {effect_id}")).into());
    }
    tracing::debug!(effect_id, "effect already completed");
    Ok(())
}

/// Releases the run's lease if `owner` holds it; a lease already lost is left alone.
pub(crate) fn release_run(conn: &Connection, run_id: &str, owner: &str) -> Result<(), DbError> {
    let released = conn
        .prepare_cached(
            "UPDATE runs SET lease_owner = NULL, lease_until = NULL \
             WHERE id = ?1 AND lease_owner = ?2",
        )?
        .execute([run_id, owner])?;
    if released == 0 && !run_exists(conn, run_id)? {
        return Err(store::Error::NotFound(format!("run {run_id}")).into());
    }
    Ok(())
}

/// Leases up to `claim.limit` due effects with no live lease, oldest due first, counting the
/// attempt. `attempts` comes back as the count before this claim.
pub(crate) fn claim_effects(
    conn: &Connection,
    claim: &Claim,
) -> Result<Vec<EffectRecord>, DbError> {
    let mut lease = conn.prepare_cached(
        "UPDATE outbox SET lease_owner = ?3, lease_until = ?4, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM outbox \
             WHERE due_at <= ?1 AND (lease_until IS NULL OR lease_until < ?1) \
             ORDER BY due_at, id LIMIT ?2) \
         RETURNING id, run_id, effect, due_at, attempts - 1",
    )?;
    let leased = lease.query(params![
        claim.now,
        i64::from(claim.limit),
        claim.owner,
        claim.now.saturating_add(claim.lease_ms)
    ])?;
    let mut effects = rows::all(leased, |row| {
        Ok(EffectRecord {
            id: row.get(0)?,
            run_id: row.get(1)?,
            effect: rows::json(row.get(2)?)?,
            due_at: row.get(3)?,
            attempts: row.get(4)?,
        })
    })?;
    // RETURNING yields rows in no particular order.
    effects.sort_by_key(|effect| (effect.due_at, effect.id));
    Ok(effects)
}

/// Deletes the effect and appends its outcome, if `owner` holds its lease. An effect that is
/// already gone was completed before (by an earlier attempt whose lease had expired, or a
/// retried call): the duplicate outcome is dropped, so each effect feeds exactly one outcome
/// to its run. One leased by another owner is a `Conflict`: that owner records it.
pub(crate) fn complete_effect(
    conn: &Connection,
    effect_id: i64,
    owner: &str,
    outcome: &NewEvent,
    handoff: &Handoff,
) -> Result<Delivered, DbError> {
    let deleted = conn
        .prepare_cached("DELETE FROM outbox WHERE id = ?1 AND lease_owner = ?2")?
        .execute(params![effect_id, owner])?;
    if deleted == 0 {
        return lease_lost(conn, effect_id).map(|()| Delivered::Queued);
    }
    deliver(
        conn,
        &outcome.run_id,
        &outcome.event,
        outcome.due_at,
        handoff,
    )
}

/// The earliest time at which a claim could find work: unleased events and effects count at
/// their `due_at`, leased ones when their lease ends (one millisecond after `lease_until`,
/// as a lease is live up to and including it). Each branch reads an index in order, or only
/// the leased rows, so this stays cheap however long the backlog.
pub(crate) fn next_due(conn: &Connection) -> Result<Option<i64>, DbError> {
    let mut select = conn.prepare_cached(
        "SELECT min(due) FROM ( \
           SELECT (SELECT i.due_at FROM inbox i CROSS JOIN runs r ON r.id = i.run_id \
                   WHERE r.lease_until IS NULL ORDER BY i.due_at LIMIT 1) AS due \
           UNION ALL \
           SELECT (SELECT min(max(i.due_at, r.lease_until + 1)) \
                   FROM runs r CROSS JOIN inbox i ON i.run_id = r.id \
                   WHERE r.lease_until IS NOT NULL) \
           UNION ALL \
           SELECT (SELECT due_at FROM outbox WHERE lease_until IS NULL ORDER BY due_at LIMIT 1) \
           UNION ALL \
           SELECT (SELECT min(max(due_at, lease_until + 1)) FROM outbox \
                   WHERE lease_until IS NOT NULL) \
           UNION ALL \
           SELECT (SELECT timeout_at FROM waits WHERE state = 'Waiting' \
                   ORDER BY timeout_at LIMIT 1) \
           UNION ALL \
           SELECT (SELECT due_at FROM recurrences WHERE lease_until IS NULL \
                   ORDER BY due_at LIMIT 1) \
           UNION ALL \
           SELECT (SELECT min(max(due_at, lease_until + 1)) FROM recurrences \
                   WHERE lease_until IS NOT NULL))",
    )?;
    Ok(select.query_row([], |row| row.get(0))?)
}

pub(crate) fn release_all_leases(conn: &Connection) -> Result<(), DbError> {
    conn.prepare_cached(
        "UPDATE runs SET lease_owner = NULL, lease_until = NULL WHERE lease_until IS NOT NULL",
    )?
    .execute([])?;
    conn.prepare_cached(
        "UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_until IS NOT NULL",
    )?
    .execute([])?;
    conn.prepare_cached(
        "UPDATE recurrences SET lease_owner = NULL, lease_until = NULL \
         WHERE lease_until IS NOT NULL",
    )?
    .execute([])?;
    Ok(())
}

fn run_exists(conn: &Connection, run_id: &str) -> Result<bool, DbError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM runs WHERE id = ?1")?
        .exists([run_id])?)
}
