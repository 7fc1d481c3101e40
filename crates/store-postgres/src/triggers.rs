//! SQL of trigger state: recording fires (runs + history + delivery key, atomically), the
//! subscription ledger and trigger history.

use crate::error::{DbError, backend};
use crate::pool;
use crate::rows::{self, history_columns, subscription_columns};
use crate::runs;
use deadpool_postgres::GenericClient;
use hookflow_store::{
    self as store, Claim, DedupKey, Fire, FireOutcome, SubscriptionRecord, SubscriptionUpdate,
    TriggerHistoryRecord,
};
use tokio_postgres::types::ToSql;

/// How many expired delivery keys one fire deletes on its way.
const EXPIRED_KEYS_PER_FIRE: i64 = 100;

/// Records a fire unless its delivery key was already seen (and has not expired).
pub(crate) async fn record_fire(
    tx: &impl GenericClient,
    fire: &Fire,
) -> Result<FireOutcome, DbError> {
    let now = fire.history.start_time;
    if let Some(dedup) = &fire.dedup {
        if let Some(answer) = claim_key(tx, dedup, now).await? {
            return Ok(FireOutcome::Duplicate { answer });
        }
        // Expired keys are dropped here, a bounded batch per fire (each fire adds at most
        // one), so the table holds about the retention window's worth of deliveries. After
        // our own key, and skipping rows other fires hold, so this never waits and two fires
        // cannot deadlock over each other's keys.
        pool::execute(
            tx,
            "DELETE FROM fire_keys f USING ( \
                 SELECT workflow, key FROM fire_keys WHERE expires_at < $1 \
                 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED) old \
             WHERE f.workflow = old.workflow AND f.key = old.key",
            &[&now, &EXPIRED_KEYS_PER_FIRE],
        )
        .await?;
    }
    for run in &fire.runs {
        runs::create(tx, run).await?;
    }
    add_history(tx, &fire.history).await?;
    Ok(FireOutcome::Recorded)
}

/// Takes the delivery key for this fire: `None` when it was new (or expired, and is now
/// ours), else the first delivery's answer. Two nodes taking the same key at once: the
/// second's insert waits for the first's transaction, then sees its key.
async fn claim_key(
    tx: &impl GenericClient,
    dedup: &DedupKey,
    now: i64,
) -> Result<Option<serde_json::Value>, DbError> {
    for _ in 0..3 {
        let taken = pool::execute(
            tx,
            "INSERT INTO fire_keys (workflow, key, answer, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (workflow, key) DO UPDATE \
             SET answer = excluded.answer, expires_at = excluded.expires_at \
             WHERE fire_keys.expires_at < $5",
            &[
                &dedup.workflow,
                &dedup.key,
                &dedup.answer,
                &dedup.expires_at,
                &now,
            ],
        )
        .await?;
        if taken == 1 {
            return Ok(None);
        }
        let found = pool::query_opt(
            tx,
            "SELECT answer FROM fire_keys WHERE workflow = $1 AND key = $2",
            &[&dedup.workflow, &dedup.key],
        )
        .await?;
        // Gone in between (expired and swept by another fire): take it on the next round.
        if let Some(row) = found {
            return Ok(Some(row.try_get(0)?));
        }
    }
    Err(backend(format!(
        "delivery key {} kept changing concurrently",
        dedup.key
    )))
}

/// Inserts the subscription or replaces every field of the one with its id.
pub(crate) async fn put_subscription(
    db: &impl GenericClient,
    sub: &SubscriptionRecord,
) -> Result<(), DbError> {
    write_entry(
        db,
        sub,
        concat!(
            "INSERT INTO subscriptions (",
            subscription_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (id) DO UPDATE SET workflow = excluded.workflow, \
             trigger_name = excluded.trigger_name, version_id = excluded.version_id, \
             state = excluded.state, target = excluded.target, \
             fingerprint = excluded.fingerprint, callback_url = excluded.callback_url, \
             subscribe_response = excluded.subscribe_response, \
             unsubscribe = excluded.unsubscribe, attempts = excluded.attempts, \
             next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error, \
             created_at = excluded.created_at, updated_at = excluded.updated_at"
        ),
        &[],
    )
    .await?;
    Ok(())
}

/// Adds a new ledger entry; `Conflict` when its id is taken.
pub(crate) async fn insert_subscription(
    db: &impl GenericClient,
    sub: &SubscriptionRecord,
) -> Result<(), DbError> {
    let inserted = write_entry(
        db,
        sub,
        concat!(
            "INSERT INTO subscriptions (",
            subscription_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (id) DO NOTHING"
        ),
        &[],
    )
    .await?;
    if inserted == 0 {
        return Err(store::Error::Conflict(format!("subscription {}", sub.id)).into());
    }
    Ok(())
}

/// Runs `sql` with every column of `sub` as `$1`..`$15` (in `subscription_columns!` order),
/// then `extra` as `$16`...; the rows it wrote.
async fn write_entry(
    db: &impl GenericClient,
    sub: &SubscriptionRecord,
    sql: &str,
    extra: &[&(dyn ToSql + Sync)],
) -> Result<u64, DbError> {
    let attempts = rows::count_param(sub.attempts)?;
    let state = sub.state.as_str();
    let columns: [&(dyn ToSql + Sync); 15] = [
        &sub.id,
        &sub.workflow,
        &sub.trigger,
        &sub.version_id,
        &state,
        &sub.target,
        &sub.fingerprint,
        &sub.callback_url,
        &sub.subscribe_response,
        &sub.unsubscribe,
        &attempts,
        &sub.next_attempt_at,
        &sub.last_error,
        &sub.created_at,
        &sub.updated_at,
    ];
    let params: Vec<&(dyn ToSql + Sync)> = columns.iter().chain(extra).copied().collect();
    pool::execute(db, sql, &params).await
}

/// Applies a ledger transition if the entry is still in the expected state (and leased by
/// the expected owner), releasing its lease. Of two nodes racing, the second waits for the
/// first's row lock, then re-checks the state and matches nothing.
pub(crate) async fn update_subscription(
    db: &impl GenericClient,
    update: &SubscriptionUpdate,
) -> Result<(), DbError> {
    let sub = &update.record;
    let changed = if update.remove {
        pool::execute(
            db,
            "DELETE FROM subscriptions \
             WHERE id = $1 AND state = $2 AND ($3::text IS NULL OR lease_owner = $3)",
            &[&sub.id, &update.expected.as_str(), &update.owner],
        )
        .await?
    } else {
        write_entry(
            db,
            sub,
            "UPDATE subscriptions SET workflow = $2, trigger_name = $3, version_id = $4, \
             state = $5, target = $6, fingerprint = $7, callback_url = $8, \
             subscribe_response = $9, unsubscribe = $10, attempts = $11, \
             next_attempt_at = $12, last_error = $13, created_at = $14, updated_at = $15, \
             lease_owner = NULL, lease_until = NULL \
             WHERE id = $1 AND state = $16 AND ($17::text IS NULL OR lease_owner = $17)",
            &[&update.expected.as_str(), &update.owner],
        )
        .await?
    };
    if changed == 0 {
        let exists = pool::query_opt(db, "SELECT 1 FROM subscriptions WHERE id = $1", &[&sub.id])
            .await?
            .is_some();
        let error = if exists {
            store::Error::Conflict(format!("subscription {}", sub.id))
        } else {
            store::Error::NotFound(format!("subscription {}", sub.id))
        };
        return Err(error.into());
    }
    match &update.history {
        Some(entry) => add_history(db, entry).await,
        None => Ok(()),
    }
}

/// Leases due unsubscribes nobody holds, earliest due first; entries another claim holds
/// locked are skipped.
pub(crate) async fn claim_unsubscribes(
    db: &impl GenericClient,
    claim: &Claim,
) -> Result<Vec<SubscriptionRecord>, DbError> {
    let leased = pool::query(
        db,
        concat!(
            "WITH picked AS MATERIALIZED ( \
                 SELECT id AS picked_id FROM subscriptions \
                 WHERE state = 'Unsubscribing' AND next_attempt_at <= $1 \
                   AND (lease_until IS NULL OR lease_until < $1) \
                 ORDER BY next_attempt_at LIMIT $2 \
                 FOR NO KEY UPDATE SKIP LOCKED) \
             UPDATE subscriptions s SET lease_owner = $3, lease_until = $4 \
             FROM picked WHERE s.id = picked.picked_id RETURNING ",
            subscription_columns!()
        ),
        &[
            &claim.now,
            &i64::from(claim.limit),
            &claim.owner,
            &claim.now.saturating_add(claim.lease_ms),
        ],
    )
    .await?;
    let mut found = rows::all(leased, rows::subscription)?;
    // RETURNING yields rows in no particular order.
    found.sort_by_key(|sub| sub.next_attempt_at);
    Ok(found)
}

pub(crate) async fn list_owed_unsubscribes(
    db: &impl GenericClient,
    limit: u32,
) -> Result<Vec<SubscriptionRecord>, DbError> {
    let found = pool::query(
        db,
        concat!(
            "SELECT ",
            subscription_columns!(),
            " FROM subscriptions WHERE state = 'Unsubscribing' ORDER BY next_attempt_at LIMIT $1"
        ),
        &[&i64::from(limit)],
    )
    .await?;
    rows::all(found, rows::subscription)
}

pub(crate) async fn list_subscriptions(
    db: &impl GenericClient,
    workflow: Option<&str>,
) -> Result<Vec<SubscriptionRecord>, DbError> {
    let found = match workflow {
        Some(workflow) => {
            pool::query(
                db,
                concat!(
                    "SELECT ",
                    subscription_columns!(),
                    " FROM subscriptions WHERE workflow = $1 ORDER BY created_at, id"
                ),
                &[&workflow],
            )
            .await?
        }
        None => {
            pool::query(
                db,
                concat!(
                    "SELECT ",
                    subscription_columns!(),
                    " FROM subscriptions ORDER BY created_at, id"
                ),
                &[],
            )
            .await?
        }
    };
    rows::all(found, rows::subscription)
}

pub(crate) async fn add_history(
    db: &impl GenericClient,
    entry: &TriggerHistoryRecord,
) -> Result<(), DbError> {
    pool::execute(
        db,
        concat!(
            "INSERT INTO trigger_histories (",
            history_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ),
        &[
            &entry.id,
            &entry.workflow,
            &entry.trigger,
            &entry.kind,
            &entry.status,
            &entry.start_time,
            &entry.end_time,
            &entry.run_id,
            &entry.detail,
        ],
    )
    .await?;
    Ok(())
}

/// Newest first (insertion order).
pub(crate) async fn list_histories(
    db: &impl GenericClient,
    workflow: &str,
    trigger: &str,
    limit: u32,
) -> Result<Vec<TriggerHistoryRecord>, DbError> {
    let found = pool::query(
        db,
        concat!(
            "SELECT ",
            history_columns!(),
            " FROM trigger_histories WHERE workflow = $1 AND trigger_name = $2 \
             ORDER BY seq DESC LIMIT $3"
        ),
        &[&workflow, &trigger, &i64::from(limit)],
    )
    .await?;
    rows::all(found, rows::history)
}
