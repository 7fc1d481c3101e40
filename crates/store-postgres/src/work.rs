//! SQL of the work queues: the inbox (events waiting to be applied to runs, timers included)
//! and the outbox (effects waiting to be carried out), their leases, and the fenced step
//! commit that consumes one and fills both.
//!
//! A lease is live while `now <= lease_until`; an expired lease is as good as none, so work a
//! crashed node held comes back by itself. Several nodes claim from the same tables: a claim
//! locks the rows it leases with `FOR NO KEY UPDATE SKIP LOCKED`, so two claims running at
//! once never lease the same run or effect (the second skips rows the first holds, and
//! re-checks the lease of rows the first has just committed). `NO KEY` because a lease never
//! changes a key: events appended meanwhile (their foreign key takes a `KEY SHARE` lock on
//! the run) do not wait for the claim. Leases only avoid duplicate work:
//! correctness comes from the `seq` fence in [`commit_step`] (a stale node writes nothing)
//! and from effects being idempotent on their id.

use crate::error::DbError;
use crate::pool;
use crate::rows;
use deadpool_postgres::GenericClient;
use hookflow_store::{
    self as store, Claim, ClaimedRun, Delivered, EffectRecord, Handoff, InboxEvent, LeaseRun,
    NewEffect, NewEvent, StepCommit,
};
use serde_json::value::RawValue;
use std::collections::{HashMap, HashSet, VecDeque};
use tokio_postgres::types::Json;

/// Appends an event to a run's inbox. The foreign key rejects an unknown run.
pub(crate) async fn insert_event(
    tx: &impl GenericClient,
    run_id: &str,
    event: &RawValue,
    due_at: i64,
) -> Result<(), DbError> {
    pool::execute(
        tx,
        "INSERT INTO inbox (run_id, event, due_at) VALUES ($1, $2, $3)",
        &[&run_id, &Json(event), &due_at],
    )
    .await?;
    Ok(())
}

/// Appends events in one statement, their ids in the order given.
async fn insert_events(tx: &impl GenericClient, events: &[NewEvent]) -> Result<(), DbError> {
    if events.is_empty() {
        return Ok(());
    }
    let run_ids: Vec<&str> = events.iter().map(|e| e.run_id.as_str()).collect();
    let bodies: Vec<Json<&RawValue>> = events.iter().map(|e| Json(&*e.event)).collect();
    let due: Vec<i64> = events.iter().map(|e| e.due_at).collect();
    pool::execute(
        tx,
        "INSERT INTO inbox (run_id, event, due_at) \
         SELECT run_id, event, due_at \
         FROM unnest($1::text[], $2::json[], $3::bigint[]) WITH ORDINALITY \
              AS n (run_id, event, due_at, ord) \
         ORDER BY ord",
        &[&run_ids, &bodies, &due],
    )
    .await?;
    Ok(())
}

/// Like [`insert_event`], but an unknown run is `NotFound` (the caller named it, e.g. from a
/// URL) rather than a constraint failure.
pub(crate) async fn push_event(tx: &impl GenericClient, event: &NewEvent) -> Result<(), DbError> {
    let inserted = pool::execute(
        tx,
        "INSERT INTO inbox (run_id, event, due_at) \
         SELECT $1::text, $2::json, $3::bigint WHERE EXISTS (SELECT 1 FROM runs WHERE id = $1)",
        &[&event.run_id, &Json(&*event.event), &event.due_at],
    )
    .await?;
    if inserted == 0 {
        return Err(store::Error::NotFound(format!("run {}", event.run_id)).into());
    }
    Ok(())
}

/// Leases up to `claim.limit` runs with due events and no live lease, oldest due event first.
///
/// Due events are read in due order, a page at a time, and their runs leased as they are
/// found; runs another claim holds locked are skipped, not waited for, and the walk goes on
/// to the next ones. The cost is the claimed work plus the events of runs in flight, not the
/// backlog.
pub(crate) async fn claim_runs(
    tx: &impl GenericClient,
    claim: &Claim,
) -> Result<Vec<ClaimedRun>, DbError> {
    let limit = claim.limit as usize;
    if limit == 0 {
        return Ok(Vec::new());
    }
    let lease_until = claim.now.saturating_add(claim.lease_ms);
    let page_size = limit.saturating_mul(4).max(64);
    let page = i64::try_from(page_size).unwrap_or(i64::MAX);

    let mut leased: Vec<(String, i64)> = Vec::with_capacity(limit);
    let mut seen = HashSet::new();
    let mut pending = VecDeque::new();
    let mut after = (i64::MIN, i64::MIN);
    let mut exhausted = false;
    while leased.len() < limit {
        if pending.is_empty() {
            if exhausted {
                break;
            }
            let due = pool::query(
                tx,
                "SELECT i.run_id, i.due_at, i.id FROM inbox i JOIN runs r ON r.id = i.run_id \
                 WHERE i.due_at <= $1 AND (r.lease_until IS NULL OR r.lease_until < $1) \
                   AND (i.due_at, i.id) > ($2, $3) \
                 ORDER BY i.due_at, i.id LIMIT $4",
                &[&claim.now, &after.0, &after.1, &page],
            )
            .await?;
            exhausted = due.len() < page_size;
            for row in &due {
                let run_id: String = row.try_get(0)?;
                after = (row.try_get(1)?, row.try_get(2)?);
                if seen.insert(run_id.clone()) {
                    pending.push_back(run_id);
                }
            }
            continue;
        }
        let take = (limit - leased.len()).min(pending.len());
        let batch: Vec<String> = pending.drain(..take).collect();
        let won = pool::query(
            tx,
            "WITH picked AS MATERIALIZED ( \
                 SELECT id FROM runs \
                 WHERE id = ANY($1) AND (lease_until IS NULL OR lease_until < $4) \
                 FOR NO KEY UPDATE SKIP LOCKED) \
             UPDATE runs r SET lease_owner = $2, lease_until = $3 FROM picked \
             WHERE r.id = picked.id RETURNING r.id, r.seq",
            &[&batch, &claim.owner, &lease_until, &claim.now],
        )
        .await?;
        let mut seqs = HashMap::with_capacity(won.len());
        for row in &won {
            seqs.insert(row.try_get::<_, String>(0)?, row.try_get::<_, i64>(1)?);
        }
        // In the order found (oldest due first), not the order RETURNING chose.
        for run_id in batch {
            if let Some(seq) = seqs.remove(&run_id) {
                leased.push((run_id, seq));
            }
        }
    }
    if leased.is_empty() {
        return Ok(Vec::new());
    }

    let run_ids: Vec<&str> = leased.iter().map(|(id, _)| id.as_str()).collect();
    let found = pool::query(
        tx,
        "SELECT id, run_id, event, due_at FROM inbox \
         WHERE run_id = ANY($1) AND due_at <= $2 ORDER BY id",
        &[&run_ids, &claim.now],
    )
    .await?;
    let mut events: HashMap<String, Vec<InboxEvent>> = HashMap::with_capacity(leased.len());
    for row in &found {
        let event = inbox_event(row)?;
        events.entry(event.run_id.clone()).or_default().push(event);
    }
    Ok(leased
        .into_iter()
        .map(|(run_id, seq)| ClaimedRun {
            events: events.remove(&run_id).unwrap_or_default(),
            run_id,
            seq,
        })
        .collect())
}

/// Applies a step if, and only if, the run is still at `expected_seq` and leased by the
/// step's owner. The fence goes first, as one conditional UPDATE (exactly-once transitions:
/// of two nodes racing on the same `seq`, the second waits for the first's row lock, then
/// re-checks the condition against the committed row and matches nothing), so a stale step
/// returns before writing anything. A later failure (say, an event for an unknown run) rolls
/// the whole transaction back.
///
/// With `keep`, the run stays leased (to `keep.0`, from `keep.1`) and is returned claimed at
/// its new `seq` with its events due then (`Store::commit_step_and_continue`).
pub(crate) async fn commit_step(
    tx: &impl GenericClient,
    step: &StepCommit,
    keep: Option<(&LeaseRun, i64)>,
) -> Result<Option<ClaimedRun>, DbError> {
    let (lease_owner, lease_until) = match keep {
        Some((lease, now)) => (Some(&lease.owner), Some(now.saturating_add(lease.lease_ms))),
        None => (None, None),
    };
    let fenced = match &step.run {
        Some(update) => {
            pool::execute(
                tx,
                "UPDATE runs SET status = $4, end_time = $5, outputs = $6, error = $7, \
                 variables = coalesce($8, variables), \
                 seq = seq + 1, lease_owner = $9, lease_until = $10 \
                 WHERE id = $1 AND seq = $2 AND lease_owner = $3",
                &[
                    &step.run_id,
                    &step.expected_seq,
                    &step.owner,
                    &update.status.as_str(),
                    &update.end_time,
                    &update.outputs,
                    &update.error,
                    &update.variables,
                    &lease_owner,
                    &lease_until,
                ],
            )
            .await?
        }
        None => {
            pool::execute(
                tx,
                "UPDATE runs SET seq = seq + 1, lease_owner = $4, lease_until = $5 \
                 WHERE id = $1 AND seq = $2 AND lease_owner = $3",
                &[
                    &step.run_id,
                    &step.expected_seq,
                    &step.owner,
                    &lease_owner,
                    &lease_until,
                ],
            )
            .await?
        }
    };
    if fenced == 0 {
        let error = if run_exists(tx, &step.run_id).await? {
            store::Error::Conflict(step.run_id.clone())
        } else {
            store::Error::NotFound(format!("run {}", step.run_id))
        };
        return Err(error.into());
    }
    write_step_rows(tx, step).await?;
    let Some((_, now)) = keep else {
        return Ok(None);
    };
    Ok(Some(ClaimedRun {
        run_id: step.run_id.clone(),
        seq: step.expected_seq + 1,
        events: due_events(tx, &step.run_id, now).await?,
    }))
}

/// Everything a step writes besides its run row: consumed events, action rows, effects,
/// events, waits and ledger entries.
pub(crate) async fn write_step_rows(
    tx: &impl GenericClient,
    step: &StepCommit,
) -> Result<(), DbError> {
    if !step.consumed_events.is_empty() {
        pool::execute(
            tx,
            "DELETE FROM inbox WHERE run_id = $1 AND id = ANY($2)",
            &[&step.run_id, &step.consumed_events],
        )
        .await?;
    }
    // An upsert, not delete-and-insert: the row keeps its id, hence its place in
    // `list_actions`, when an action moves from Running to its result. One statement per
    // action (not one `unnest`): a step may record the same execution twice, last one wins.
    for action in &step.actions {
        // Stored under the step's run: a step only ever records its own run's actions.
        pool::execute(
            tx,
            "INSERT INTO actions \
             (run_id, name, status, code, start_time, end_time, inputs, outputs, error, \
              repetition) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (run_id, name, repetition) DO UPDATE SET status = excluded.status, \
             code = excluded.code, start_time = excluded.start_time, \
             end_time = excluded.end_time, inputs = excluded.inputs, \
             outputs = excluded.outputs, error = excluded.error",
            &[
                &step.run_id,
                &action.name,
                &action.status.as_str(),
                &action.code,
                &action.start_time,
                &action.end_time,
                &action.inputs.as_deref().map(Json),
                &action.outputs.as_deref().map(Json),
                &action.error.as_deref().map(Json),
                &action.repetition,
            ],
        )
        .await?;
    }
    // A run that ended sends nothing more: its retries and polls due later, and calls not yet
    // claimed, go. A call in flight (leased) completes into a run that ignores it; a claim
    // racing this delete either leased the row first (it stays) or waits and finds it gone.
    if step.run.as_ref().is_some_and(|u| u.status.is_terminal()) {
        pool::execute(
            tx,
            "DELETE FROM outbox WHERE run_id = $1 AND lease_owner IS NULL",
            &[&step.run_id],
        )
        .await?;
    }
    insert_events(tx, &step.new_events).await?;
    insert_effects(tx, &step.run_id, &step.new_effects).await?;
    for wait in &step.waits {
        crate::waits::write(tx, &step.run_id, wait).await?;
    }
    for subscription in &step.subscriptions {
        crate::triggers::put_subscription(tx, subscription).await?;
    }
    Ok(())
}

/// Records a step's effects in one statement, their ids in the order given.
async fn insert_effects(
    tx: &impl GenericClient,
    run_id: &str,
    effects: &[NewEffect],
) -> Result<(), DbError> {
    if effects.is_empty() {
        return Ok(());
    }
    let bodies: Vec<Json<&RawValue>> = effects.iter().map(|e| Json(&*e.effect)).collect();
    let due: Vec<i64> = effects.iter().map(|e| e.due_at).collect();
    pool::execute(
        tx,
        "INSERT INTO outbox (run_id, effect, due_at) \
         SELECT $1, effect, due_at \
         FROM unnest($2::json[], $3::bigint[]) WITH ORDINALITY AS n (effect, due_at, ord) \
         ORDER BY ord",
        &[&run_id, &bodies, &due],
    )
    .await?;
    Ok(())
}

/// Puts an effect `owner` holds back, due again at `due_at`.
pub(crate) async fn retry_effect(
    db: &impl GenericClient,
    effect_id: i64,
    owner: &str,
    due_at: i64,
) -> Result<(), DbError> {
    let moved = pool::execute(
        db,
        "UPDATE outbox SET due_at = $3, lease_owner = NULL, lease_until = NULL \
         WHERE id = $1 AND lease_owner = $2",
        &[&effect_id, &owner, &due_at],
    )
    .await?;
    if moved == 0 {
        lease_lost(db, effect_id).await?;
    }
    Ok(())
}

/// After a write conditioned on holding an effect's lease matched nothing: `Conflict` when
/// the effect is still there (another owner took it over), `Ok` when it is gone (done).
async fn lease_lost(db: &impl GenericClient, effect_id: i64) -> Result<(), DbError> {
    let exists = pool::query_opt(db, "SELECT 1 FROM outbox WHERE id = $1", &[&effect_id])
        .await?
        .is_some();
    if exists {
        return Err(store::Error::Conflict(format!("effect {effect_id}")).into());
    }
    tracing::debug!(effect_id, "effect already completed");
    Ok(())
}

/// Releases the run's lease if `owner` holds it; a lease already lost is left alone.
pub(crate) async fn release_run(
    tx: &impl GenericClient,
    run_id: &str,
    owner: &str,
) -> Result<(), DbError> {
    let released = pool::execute(
        tx,
        "UPDATE runs SET lease_owner = NULL, lease_until = NULL \
         WHERE id = $1 AND lease_owner = $2",
        &[&run_id, &owner],
    )
    .await?;
    if released == 0 && !run_exists(tx, run_id).await? {
        return Err(store::Error::NotFound(format!("run {run_id}")).into());
    }
    Ok(())
}

/// Leases up to `claim.limit` due effects with no live lease, oldest due first, counting the
/// attempt. `attempts` comes back as the count before this claim. Effects another claim
/// holds locked are skipped.
pub(crate) async fn claim_effects(
    db: &impl GenericClient,
    claim: &Claim,
) -> Result<Vec<EffectRecord>, DbError> {
    let leased = pool::query(
        db,
        "WITH picked AS MATERIALIZED ( \
             SELECT id FROM outbox \
             WHERE due_at <= $1 AND (lease_until IS NULL OR lease_until < $1) \
             ORDER BY due_at, id LIMIT $2 \
             FOR NO KEY UPDATE SKIP LOCKED) \
         UPDATE outbox o SET lease_owner = $3, lease_until = $4, attempts = o.attempts + 1 \
         FROM picked WHERE o.id = picked.id \
         RETURNING o.id, o.run_id, o.effect, o.due_at, o.attempts - 1",
        &[
            &claim.now,
            &i64::from(claim.limit),
            &claim.owner,
            &claim.now.saturating_add(claim.lease_ms),
        ],
    )
    .await?;
    let mut effects = rows::all(leased, |row| {
        Ok(EffectRecord {
            id: row.try_get(0)?,
            run_id: row.try_get(1)?,
            effect: row.try_get(2)?,
            due_at: row.try_get(3)?,
            attempts: rows::count(row.try_get(4)?)?,
        })
    })?;
    // RETURNING yields rows in no particular order.
    effects.sort_by_key(|effect| (effect.due_at, effect.id));
    Ok(effects)
}

/// Deletes the effect and appends its outcome, if `owner` holds its lease. An effect that is
/// already gone was completed before (by an earlier attempt whose lease had expired, or a
/// retried call): the duplicate outcome is dropped, so each effect feeds exactly one outcome
/// to its run. One another owner has taken over is a `Conflict`: that owner records it. Two
/// nodes completing the same effect at once: the second's DELETE waits for the first's row
/// lock and then finds nothing.
pub(crate) async fn complete_effect(
    tx: &impl GenericClient,
    effect_id: i64,
    owner: &str,
    outcome: &NewEvent,
    handoff: &Handoff,
) -> Result<Delivered, DbError> {
    let deleted = pool::execute(
        tx,
        "DELETE FROM outbox WHERE id = $1 AND lease_owner = $2",
        &[&effect_id, &owner],
    )
    .await?;
    if deleted == 0 {
        return lease_lost(tx, effect_id).await.map(|()| Delivered::Queued);
    }
    deliver(tx, &outcome.run_id, &outcome.event, outcome.due_at, handoff).await
}

/// Gives a run the event recorded for it (a callback that won its wait, an effect's outcome)
/// as `handoff` asks: commits the step computed ahead with it when the run allows, else
/// appends the event and, if asked, leases the run when it is free.
pub(crate) async fn deliver(
    tx: &impl GenericClient,
    run_id: &str,
    event: &RawValue,
    now: i64,
    handoff: &Handoff,
) -> Result<Delivered, DbError> {
    if let Some(step) = handoff.step.as_ref().filter(|step| step.run_id == run_id)
        && advance_free(tx, step, now).await?
    {
        write_step_rows(tx, step).await?;
        return Ok(Delivered::Stepped);
    }
    insert_event(tx, run_id, event, now).await?;
    let claimed = match &handoff.lease {
        Some(lease) => lease_run(tx, run_id, lease, now).await?,
        None => None,
    };
    Ok(claimed.map_or(Delivered::Queued, Delivered::Claimed))
}

/// The fence of a step computed where its event arrived (`Handoff::step`): the run row moves
/// to `seq + 1` with the step's run fields if the run is at `step.expected_seq`, no live
/// lease holds it at `now` and no other event of it is due (it would come first). A run row
/// another transaction holds is skipped, not waited for: the caller holds its wait's or
/// effect's row, and waiting could deadlock with a step.
async fn advance_free(
    tx: &impl GenericClient,
    step: &StepCommit,
    now: i64,
) -> Result<bool, DbError> {
    macro_rules! picked {
        ($update:literal) => {
            concat!(
                "WITH picked AS MATERIALIZED ( \
                 SELECT id FROM runs WHERE id = $1 AND seq = $2 \
                 AND (lease_until IS NULL OR lease_until < $3) \
                 AND NOT EXISTS (SELECT 1 FROM inbox WHERE run_id = $1 AND due_at <= $3) \
                 FOR NO KEY UPDATE SKIP LOCKED) ",
                $update
            )
        };
    }
    let advanced = match &step.run {
        Some(update) => {
            pool::execute(
                tx,
                picked!(
                    "UPDATE runs r SET status = $4, end_time = $5, outputs = $6, \
                     error = $7, variables = coalesce($8, r.variables), seq = r.seq + 1, \
                     lease_owner = NULL, lease_until = NULL FROM picked WHERE r.id = picked.id"
                ),
                &[
                    &step.run_id,
                    &step.expected_seq,
                    &now,
                    &update.status.as_str(),
                    &update.end_time,
                    &update.outputs,
                    &update.error,
                    &update.variables,
                ],
            )
            .await?
        }
        None => {
            pool::execute(
                tx,
                picked!(
                    "UPDATE runs r SET seq = r.seq + 1, lease_owner = NULL, \
                     lease_until = NULL FROM picked WHERE r.id = picked.id"
                ),
                &[&step.run_id, &step.expected_seq, &now],
            )
            .await?
        }
    };
    Ok(advanced == 1)
}

/// Leases the run to `lease.owner` if no live lease holds it, returning it claimed with its
/// due events; `None` when another step holds it (a regular claim finds the event later).
/// A run row another transaction has locked is skipped, not waited for: this runs after the
/// caller locked other rows (its wait or effect), and waiting could deadlock with a step.
pub(crate) async fn lease_run(
    tx: &impl GenericClient,
    run_id: &str,
    lease: &LeaseRun,
    now: i64,
) -> Result<Option<ClaimedRun>, DbError> {
    let leased = pool::query_opt(
        tx,
        "WITH picked AS MATERIALIZED ( \
             SELECT id FROM runs WHERE id = $1 AND (lease_until IS NULL OR lease_until < $4) \
             FOR NO KEY UPDATE SKIP LOCKED) \
         UPDATE runs r SET lease_owner = $2, lease_until = $3 FROM picked \
         WHERE r.id = picked.id RETURNING r.seq",
        &[
            &run_id,
            &lease.owner,
            &now.saturating_add(lease.lease_ms),
            &now,
        ],
    )
    .await?;
    let Some(row) = leased else {
        return Ok(None);
    };
    Ok(Some(ClaimedRun {
        run_id: run_id.to_owned(),
        seq: row.try_get(0)?,
        events: due_events(tx, run_id, now).await?,
    }))
}

/// The run's events due at `now`, in order.
async fn due_events(
    tx: &impl GenericClient,
    run_id: &str,
    now: i64,
) -> Result<Vec<InboxEvent>, DbError> {
    pool::query(
        tx,
        "SELECT id, run_id, event, due_at FROM inbox \
         WHERE run_id = $1 AND due_at <= $2 ORDER BY id",
        &[&run_id, &now],
    )
    .await?
    .iter()
    .map(inbox_event)
    .collect()
}

/// An inbox row selected as `id, run_id, event, due_at`.
fn inbox_event(row: &tokio_postgres::Row) -> Result<InboxEvent, DbError> {
    Ok(InboxEvent {
        id: row.try_get(0)?,
        run_id: row.try_get(1)?,
        event: row.try_get(2)?,
        due_at: row.try_get(3)?,
    })
}

/// The earliest time at which a claim could find work: unleased events and effects count at
/// their `due_at`, leased ones when their lease ends (one millisecond after `lease_until`,
/// as a lease is live up to and including it), open waits at their timeout. Each branch
/// reads an index in order, or only the leased rows, so this stays cheap however long the
/// backlog. `least` ignores the NULLs of empty branches.
pub(crate) async fn next_due(db: &impl GenericClient) -> Result<Option<i64>, DbError> {
    let row = pool::query_one(
        db,
        "SELECT least( \
           (SELECT i.due_at FROM inbox i JOIN runs r ON r.id = i.run_id \
            WHERE r.lease_until IS NULL ORDER BY i.due_at LIMIT 1), \
           (SELECT min(greatest(i.due_at, r.lease_until + 1)) \
            FROM runs r JOIN inbox i ON i.run_id = r.id WHERE r.lease_until IS NOT NULL), \
           (SELECT due_at FROM outbox WHERE lease_until IS NULL ORDER BY due_at LIMIT 1), \
           (SELECT min(greatest(due_at, lease_until + 1)) FROM outbox \
            WHERE lease_until IS NOT NULL), \
           (SELECT timeout_at FROM waits WHERE state = 'Waiting' \
            ORDER BY timeout_at LIMIT 1), \
           (SELECT due_at FROM recurrences WHERE lease_until IS NULL \
            ORDER BY due_at LIMIT 1), \
           (SELECT min(greatest(due_at, lease_until + 1)) FROM recurrences \
            WHERE lease_until IS NOT NULL))",
        &[],
    )
    .await?;
    Ok(row.try_get(0)?)
}

pub(crate) async fn release_all_leases(tx: &impl GenericClient) -> Result<(), DbError> {
    pool::execute(
        tx,
        "UPDATE runs SET lease_owner = NULL, lease_until = NULL WHERE lease_until IS NOT NULL",
        &[],
    )
    .await?;
    pool::execute(
        tx,
        "UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_until IS NOT NULL",
        &[],
    )
    .await?;
    pool::execute(
        tx,
        "UPDATE recurrences SET lease_owner = NULL, lease_until = NULL \
         WHERE lease_until IS NOT NULL",
        &[],
    )
    .await?;
    Ok(())
}

async fn run_exists(db: &impl GenericClient, run_id: &str) -> Result<bool, DbError> {
    Ok(
        pool::query_opt(db, "SELECT 1 FROM runs WHERE id = $1", &[&run_id])
            .await?
            .is_some(),
    )
}
