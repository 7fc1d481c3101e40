//! SQL of trigger state: recording fires (runs + history + delivery key, atomically), the
//! subscription ledger and trigger history.

use crate::error::{DbError, backend};
use crate::rows;
use crate::runs;
use hookflow_store::{
    self as store, Claim, Fire, FireOutcome, SubscriptionRecord, SubscriptionState,
    SubscriptionUpdate, TriggerHistoryRecord,
};
use rusqlite::{Connection, Row, ToSql, params};

/// Records a fire unless its delivery key was already seen (and has not expired).
pub(crate) fn record_fire(conn: &Connection, fire: &Fire) -> Result<FireOutcome, DbError> {
    let now = fire.history.start_time;
    if let Some(dedup) = &fire.dedup {
        // Expired keys are dropped here, where they would otherwise be found: the table holds
        // no more than the retention window's worth of deliveries.
        conn.prepare_cached("DELETE FROM fire_keys WHERE expires_at < ?1")?
            .execute([now])?;
        let mut select =
            conn.prepare_cached("SELECT answer FROM fire_keys WHERE workflow = ?1 AND key = ?2")?;
        let found = rows::first(select.query(params![dedup.workflow, dedup.key])?, |row| {
            rows::json(row.get(0)?)
        })?;
        if let Some(answer) = found {
            return Ok(FireOutcome::Duplicate { answer });
        }
        conn.prepare_cached(
            "INSERT INTO fire_keys (workflow, key, answer, expires_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            dedup.workflow,
            dedup.key,
            rows::json_text(&dedup.answer),
            dedup.expires_at
        ])?;
    }
    for run in &fire.runs {
        runs::create(conn, run)?;
    }
    add_history(conn, &fire.history)?;
    Ok(FireOutcome::Recorded)
}

macro_rules! subscription_columns {
    () => {
        "id, workflow, trigger_name, version_id, state, target, fingerprint, callback_url, \
         subscribe_response, unsubscribe, attempts, next_attempt_at, last_error, created_at, \
         updated_at"
    };
}

pub(crate) fn put_subscription(conn: &Connection, sub: &SubscriptionRecord) -> Result<(), DbError> {
    write_entry(
        conn,
        sub,
        concat!(
            "INSERT OR REPLACE INTO subscriptions (",
            subscription_columns!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
        ),
        &[],
    )?;
    Ok(())
}

/// Runs `sql` with every column of `sub` as `?1`..`?15` (in `subscription_columns!` order),
/// then `extra` as `?16`...; the rows it changed.
fn write_entry(
    conn: &Connection,
    sub: &SubscriptionRecord,
    sql: &str,
    extra: &[&dyn ToSql],
) -> Result<usize, DbError> {
    let columns = params![
        sub.id,
        sub.workflow,
        sub.trigger,
        sub.version_id,
        sub.state.as_str(),
        sub.target,
        sub.fingerprint,
        sub.callback_url,
        rows::optional_json_text(sub.subscribe_response.as_ref()),
        rows::optional_json_text(sub.unsubscribe.as_ref()),
        sub.attempts,
        sub.next_attempt_at,
        sub.last_error,
        sub.created_at,
        sub.updated_at,
    ];
    let params: Vec<&dyn ToSql> = columns
        .iter()
        .copied()
        .chain(extra.iter().copied())
        .collect();
    Ok(conn.prepare_cached(sql)?.execute(params.as_slice())?)
}

/// Adds a new ledger entry; `Conflict` when its id is taken.
pub(crate) fn insert_subscription(
    conn: &Connection,
    sub: &SubscriptionRecord,
) -> Result<(), DbError> {
    let taken = conn
        .prepare_cached("SELECT 1 FROM subscriptions WHERE id = ?1")?
        .exists([&sub.id])?;
    if taken {
        return Err(store::Error::Conflict(format!("subscription {}", sub.id)).into());
    }
    put_subscription(conn, sub)
}

/// Applies a ledger transition if the entry is still in the expected state (and leased by
/// the expected owner), releasing its lease.
pub(crate) fn update_subscription(
    conn: &Connection,
    update: &SubscriptionUpdate,
) -> Result<(), DbError> {
    let sub = &update.record;
    let changed = if update.remove {
        conn.prepare_cached(
            "DELETE FROM subscriptions \
             WHERE id = ?1 AND state = ?2 AND (?3 IS NULL OR lease_owner = ?3)",
        )?
        .execute(params![sub.id, update.expected.as_str(), update.owner])?
    } else {
        write_entry(
            conn,
            sub,
            "UPDATE subscriptions SET workflow = ?2, trigger_name = ?3, version_id = ?4, \
             state = ?5, target = ?6, fingerprint = ?7, callback_url = ?8, \
             subscribe_response = ?9, unsubscribe = ?10, attempts = ?11, \
             next_attempt_at = ?12, last_error = ?13, created_at = ?14, updated_at = ?15, \
             lease_owner = NULL, lease_until = NULL \
             WHERE id = ?1 AND state = ?16 AND (?17 IS NULL OR lease_owner = ?17)",
            &[&update.expected.as_str(), &update.owner],
        )?
    };
    if changed == 0 {
        let exists = conn
            .prepare_cached("SELECT 1 FROM subscriptions WHERE id = ?1")?
            .exists([&sub.id])?;
        let error = if exists {
            store::Error::Conflict(format!("subscription {}", sub.id))
        } else {
            store::Error::NotFound(format!("subscription {}", sub.id))
        };
        return Err(error.into());
    }
    match &update.history {
        Some(entry) => add_history(conn, entry),
        None => Ok(()),
    }
}

/// Leases due unsubscribes nobody holds, earliest due first.
pub(crate) fn claim_unsubscribes(
    conn: &Connection,
    claim: &Claim,
) -> Result<Vec<SubscriptionRecord>, DbError> {
    let mut lease = conn.prepare_cached(concat!(
        "UPDATE subscriptions SET lease_owner = ?3, lease_until = ?4 \
         WHERE id IN (SELECT id FROM subscriptions \
             WHERE state = 'Unsubscribing' AND next_attempt_at <= ?1 \
               AND (lease_until IS NULL OR lease_until < ?1) \
             ORDER BY next_attempt_at LIMIT ?2) \
         RETURNING ",
        subscription_columns!()
    ))?;
    let leased = lease.query(params![
        claim.now,
        i64::from(claim.limit),
        claim.owner,
        claim.now.saturating_add(claim.lease_ms)
    ])?;
    let mut found = rows::all(leased, subscription)?;
    // RETURNING yields rows in no particular order.
    found.sort_by_key(|sub| sub.next_attempt_at);
    Ok(found)
}

pub(crate) fn list_subscriptions(
    conn: &Connection,
    workflow: Option<&str>,
) -> Result<Vec<SubscriptionRecord>, DbError> {
    match workflow {
        Some(workflow) => {
            let mut select = conn.prepare_cached(concat!(
                "SELECT ",
                subscription_columns!(),
                " FROM subscriptions WHERE workflow = ?1 ORDER BY created_at, id"
            ))?;
            rows::all(select.query([workflow])?, subscription)
        }
        None => {
            let mut select = conn.prepare_cached(concat!(
                "SELECT ",
                subscription_columns!(),
                " FROM subscriptions ORDER BY created_at, id"
            ))?;
            rows::all(select.query([])?, subscription)
        }
    }
}

pub(crate) fn list_owed_unsubscribes(
    conn: &Connection,
    limit: u32,
) -> Result<Vec<SubscriptionRecord>, DbError> {
    let mut select = conn.prepare_cached(concat!(
        "SELECT ",
        subscription_columns!(),
        " FROM subscriptions WHERE state = 'Unsubscribing' ORDER BY next_attempt_at LIMIT ?1"
    ))?;
    rows::all(select.query([i64::from(limit)])?, subscription)
}

fn subscription(row: &Row<'_>) -> Result<SubscriptionRecord, DbError> {
    let state: String = row.get(4)?;
    Ok(SubscriptionRecord {
        id: row.get(0)?,
        workflow: row.get(1)?,
        trigger: row.get(2)?,
        version_id: row.get(3)?,
        state: SubscriptionState::parse(&state)
            .ok_or_else(|| backend(format!("stored subscription state '{state}'")))?,
        target: row.get(5)?,
        fingerprint: row.get(6)?,
        callback_url: row.get(7)?,
        subscribe_response: rows::optional_json(row.get(8)?)?,
        unsubscribe: rows::optional_json(row.get(9)?)?,
        attempts: row.get(10)?,
        next_attempt_at: row.get(11)?,
        last_error: row.get(12)?,
        created_at: row.get(13)?,
        updated_at: row.get(14)?,
    })
}

pub(crate) fn add_history(conn: &Connection, entry: &TriggerHistoryRecord) -> Result<(), DbError> {
    conn.prepare_cached(
        "INSERT INTO trigger_histories \
         (id, workflow, trigger_name, kind, status, start_time, end_time, run_id, detail) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        entry.id,
        entry.workflow,
        entry.trigger,
        entry.kind,
        entry.status,
        entry.start_time,
        entry.end_time,
        entry.run_id,
        rows::json_text(&entry.detail),
    ])?;
    Ok(())
}

pub(crate) fn list_histories(
    conn: &Connection,
    workflow: &str,
    trigger: &str,
    limit: u32,
) -> Result<Vec<TriggerHistoryRecord>, DbError> {
    let mut select = conn.prepare_cached(
        "SELECT id, workflow, trigger_name, kind, status, start_time, end_time, run_id, detail \
         FROM trigger_histories WHERE workflow = ?1 AND trigger_name = ?2 \
         ORDER BY seq DESC LIMIT ?3",
    )?;
    rows::all(
        select.query(params![workflow, trigger, i64::from(limit)])?,
        |row| {
            Ok(TriggerHistoryRecord {
                id: row.get(0)?,
                workflow: row.get(1)?,
                trigger: row.get(2)?,
                kind: row.get(3)?,
                status: row.get(4)?,
                start_time: row.get(5)?,
                end_time: row.get(6)?,
                run_id: row.get(7)?,
                detail: rows::json(row.get(8)?)?,
            })
        },
    )
}
