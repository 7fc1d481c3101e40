//! PostgreSQL backend of the [`Store`] trait, for several engine nodes sharing one database.
//!
//! - Same tables and semantics as the SQLite backend (`hookflow-store-sqlite`), own
//!   migrations (`migrations/`, applied by [`PostgresStore::connect`] under an advisory lock so
//!   nodes starting at once migrate once: `schema.rs`).
//! - Every trait method is one transaction on a pooled connection (`pool.rs`: deadpool with a
//!   statement cache per connection, `statement_timeout` on every connection). Reads of one
//!   statement run without `BEGIN`: a statement is its own transaction.
//! - Where SQLite relies on its single writer, this relies on row locks: claims lease with
//!   `FOR NO KEY UPDATE SKIP LOCKED`, the step fence and wait resolutions are conditional updates
//!   (the loser of a race waits for the winner's row lock, then matches nothing), delivery
//!   keys are taken with `INSERT ... ON CONFLICT` (`work.rs`, `waits.rs`, `triggers.rs`).
//! - The SQL lives per aggregate: `workflows.rs`, `runs.rs` (history), `work.rs` (inbox,
//!   outbox, leases, step commit), `triggers.rs`, `waits.rs`; `rows.rs` maps rows to records.
//!
//! Every statement is constant text with bound parameters; the one exception is the schema
//! name in DDL (`CREATE`/`DROP SCHEMA`), which is configuration checked to be a plain
//! identifier. The methods must run inside a tokio runtime (the pool spawns each
//! connection's task on it).

mod error;
mod locks;
mod pool;
mod recurrences;
mod rows;
mod runs;
mod schema;
mod triggers;
mod waits;
mod wake;
mod work;
mod workflows;

pub use schema::SCHEMA_VERSION;

use async_trait::async_trait;
use deadpool_postgres::{Object, Pool};
use error::DbError;
use hookflow_store::{
    self as store, ActionRecord, CallbackDelivery, CallbackOutcome, Claim, ClaimedRun, Delivered,
    Due, EffectRecord, Fire, FireOutcome, Handoff, LeaseRun, NewEvent, NewRun, RecurrenceFire,
    RecurrenceTimer, RunQuery, RunRecord, SaveOutcome, SaveWorkflow, StepCommit, Store,
    SubscriptionRecord, SubscriptionState, SubscriptionUpdate, TriggerHistoryRecord, VersionRecord,
    WaitRecord, WakeUps, WorkflowLock, WorkflowRecord,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The environment variable tests read the server's URL from.
pub const TEST_DATABASE_URL_ENV: &str = "HOOKFLOW_TEST_DATABASE_URL";

/// The URL tests use: `HOOKFLOW_TEST_DATABASE_URL`, else the local server of the development
/// and CI machines (`.ci/postgres.sh` starts it).
pub fn test_database_url() -> String {
    std::env::var(TEST_DATABASE_URL_ENV)
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Settings of the PostgreSQL store (the server itself is the URL given to
/// [`PostgresStore::connect`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresOptions {
    /// The most connections this node opens (its share of the server's `max_connections`).
    pub max_connections: usize,
    /// How long opening a connection may take, in milliseconds (the URL's `connect_timeout`
    /// wins when it has one).
    pub connect_timeout_ms: u64,
    /// How long a call waits for a free connection when all are in use, in milliseconds.
    pub acquire_timeout_ms: u64,
    /// `statement_timeout` of every connection, in milliseconds; 0 disables it.
    pub statement_timeout_ms: u64,
    /// The schema hookflow's tables live in (the `search_path` of every connection), created
    /// when missing: lower-case letters, digits and `_`. `None`: the server's default search
    /// path (usually `public`).
    pub schema: Option<String>,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            max_connections: 16,
            connect_timeout_ms: 5_000,
            acquire_timeout_ms: 30_000,
            statement_timeout_ms: 30_000,
            schema: None,
        }
    }
}

/// The PostgreSQL store: a pool of connections to one database. Cheap to share (`Arc`); any
/// number of stores, in this process or on other machines, may use the same database.
pub struct PostgresStore {
    pool: Pool,
    schema: Option<String>,
    /// The schema's notification channel (`wake.rs`).
    channel: String,
    /// Fed by this store's own commits and by the listener (other nodes' commits).
    wake_ups: Arc<WakeUps>,
    _listener: wake::Listener,
    lock_slots: locks::LockSlots,
    /// Set by [`PostgresStore::connect_temporary`]. Declared last so the pool is closed
    /// before the schema is dropped.
    _temporary: Option<pool::TemporarySchema>,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/dbname`, or
    /// the key=value form) and brings its schema up to date. Fails with a clear
    /// [`store::Error::Backend`] when the server is unreachable or the schema is from a
    /// newer hookflow.
    pub async fn connect(url: &str, options: PostgresOptions) -> store::Result<PostgresStore> {
        let config = pool::config(url, &options)?;
        PostgresStore::connect_with(config, options).await
    }

    async fn connect_with(
        config: tokio_postgres::Config,
        options: PostgresOptions,
    ) -> store::Result<PostgresStore> {
        let target = pool::describe(&config);
        let pool = pool::build(config.clone(), &options)?;
        let mut conn = pool.get().await.map_err(|e| {
            store::Error::Backend(format!(
                "cannot connect to PostgreSQL at {target} ({}); is the server running and the \
                 URL right?",
                DbError::from(e).message()
            ))
        })?;
        schema::migrate(&mut conn, options.schema.as_deref())
            .await
            .map_err(|e| {
                store::Error::Backend(format!(
                    "cannot set up the schema at {target}: {}",
                    e.message()
                ))
            })?;
        let channel = wake::channel(options.schema.as_deref());
        let wake_ups = Arc::new(WakeUps::default());
        let listener = wake::listen(config, channel.clone(), wake_ups.clone());
        let lock_slots = locks::LockSlots::new(options.max_connections);
        Ok(PostgresStore {
            pool,
            schema: options.schema,
            channel,
            wake_ups,
            _listener: listener,
            lock_slots,
            _temporary: None,
        })
    }

    /// Connects to a new, empty schema `hf_test_<random>` in the database at `url`, dropped
    /// (with everything in it) when the store is dropped. For tests: each gets its own
    /// schema, so they run in parallel against one server. `options.schema` is ignored.
    pub async fn connect_temporary(
        url: &str,
        options: PostgresOptions,
    ) -> store::Result<PostgresStore> {
        let name = format!("hf_test_{}", uuid::Uuid::new_v4().simple());
        // Made first, so a connect that fails half-way (after creating the schema) drops it.
        let temporary = pool::TemporarySchema {
            config: pool::config(
                url,
                &PostgresOptions {
                    schema: None,
                    ..options.clone()
                },
            )?,
            name: name.clone(),
        };
        let options = PostgresOptions {
            schema: Some(name.clone()),
            ..options
        };
        // Its sessions carry the schema's name, so the drop can end any left behind.
        let mut config = pool::config(url, &options)?;
        config.application_name(&name);
        let store = PostgresStore::connect_with(config, options).await?;
        Ok(PostgresStore {
            _temporary: Some(temporary),
            ..store
        })
    }

    /// The schema the tables live in, when one was configured.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    async fn conn(&self) -> Result<Object, DbError> {
        Ok(self.pool.get().await?)
    }

    /// Wakes this node's loops after a commit that made `due` work (other nodes hear of it
    /// through the `NOTIFY` in the transaction).
    fn woke<T>(&self, due: Due, written: store::Result<T>) -> store::Result<T> {
        if written.is_ok() {
            self.wake_ups.wake(due);
        }
        written
    }
}

/// Runs `$body` (an expression using `$tx`, a future of `Result<T, DbError>`) in one
/// transaction on a pooled connection and commits it, or rolls it back on an error: nothing
/// of a failed method is written. The rollback is awaited rather than left to the
/// transaction's drop, so the connection goes back to the pool idle, holding no locks.
macro_rules! in_transaction {
    ($store:expr, |$tx:ident| $body:expr) => {{
        let mut conn = $store.conn().await?;
        let $tx = conn.transaction().await.map_err(DbError::from)?;
        match $body.await {
            Ok(value) => {
                $tx.commit().await.map_err(DbError::from)?;
                Ok(value)
            }
            Err(failed) => {
                // A failed rollback leaves a broken connection, which the pool drops.
                if let Err(rollback) = $tx.rollback().await {
                    tracing::warn!(error = %error::postgres_message(&rollback), "rollback failed");
                }
                Err(failed.into())
            }
        }
    }};
}

/// Runs `$body` (an expression using `$db`) as a single statement on a pooled connection.
macro_rules! on_connection {
    ($store:expr, |$db:ident| $body:expr) => {{
        let $db = $store.conn().await?;
        Ok($body.await?)
    }};
}

#[async_trait]
impl Store for PostgresStore {
    async fn save_workflow(&self, save: SaveWorkflow) -> store::Result<SaveOutcome> {
        in_transaction!(self, |tx| workflows::save(&tx, &save))
    }

    async fn set_workflow_enabled(
        &self,
        name: &str,
        enabled: bool,
        now: i64,
    ) -> store::Result<Option<WorkflowRecord>> {
        on_connection!(self, |db| workflows::set_enabled(&db, name, enabled, now))
    }

    async fn delete_workflow(&self, name: &str) -> store::Result<bool> {
        on_connection!(self, |db| workflows::delete(&db, name))
    }

    async fn get_workflow(&self, name: &str) -> store::Result<Option<WorkflowRecord>> {
        on_connection!(self, |db| workflows::get(&db, name))
    }

    async fn list_workflows(&self) -> store::Result<Vec<WorkflowRecord>> {
        on_connection!(self, |db| workflows::list(&db))
    }

    async fn list_versions(&self, workflow: &str) -> store::Result<Vec<VersionRecord>> {
        on_connection!(self, |db| workflows::list_versions(&db, workflow))
    }

    async fn get_version(&self, version_id: &str) -> store::Result<Option<VersionRecord>> {
        on_connection!(self, |db| workflows::get_version(&db, version_id))
    }

    async fn create_run(&self, run: NewRun) -> store::Result<()> {
        let due = Due::of_runs([&run]);
        let written = in_transaction!(self, |tx| async {
            runs::create(&tx, &run).await?;
            wake::notify(&tx, &self.channel, due).await
        });
        self.woke(due, written)
    }

    async fn get_run(&self, run_id: &str) -> store::Result<Option<RunRecord>> {
        on_connection!(self, |db| runs::get(&db, run_id))
    }

    async fn get_runs_with_actions(
        &self,
        run_ids: &[String],
    ) -> store::Result<Vec<(RunRecord, Vec<ActionRecord>)>> {
        on_connection!(self, |db| runs::get_with_actions(&db, run_ids))
    }

    async fn list_runs(&self, query: RunQuery) -> store::Result<Vec<RunRecord>> {
        on_connection!(self, |db| runs::list(&db, &query))
    }

    async fn list_actions(&self, run_id: &str) -> store::Result<Vec<ActionRecord>> {
        on_connection!(self, |db| runs::list_actions(&db, run_id))
    }

    async fn get_action(&self, run_id: &str, name: &str) -> store::Result<Option<ActionRecord>> {
        on_connection!(self, |db| runs::get_action(&db, run_id, name))
    }

    async fn list_repetitions(&self, run_id: &str, name: &str) -> store::Result<Vec<ActionRecord>> {
        on_connection!(self, |db| runs::list_repetitions(&db, run_id, name))
    }

    async fn push_event(&self, event: NewEvent) -> store::Result<()> {
        let written = in_transaction!(self, |tx| async {
            work::push_event(&tx, &event).await?;
            wake::notify(&tx, &self.channel, Due::RUNS).await
        });
        self.woke(Due::RUNS, written)
    }

    async fn claim_runs(&self, claim: Claim) -> store::Result<Vec<ClaimedRun>> {
        in_transaction!(self, |tx| work::claim_runs(&tx, &claim))
    }

    async fn commit_step(&self, step: StepCommit) -> store::Result<()> {
        // Other nodes hear only of new work; the released lease matters to this node alone
        // (it held the run).
        let (due, news) = (Due::of_step(&step), Due::created_by_step(&step));
        let written = in_transaction!(self, |tx| async {
            work::commit_step(&tx, &step, None).await?;
            wake::notify(&tx, &self.channel, news).await
        });
        self.woke(due, written)
    }

    async fn commit_step_and_continue(
        &self,
        step: StepCommit,
        lease: LeaseRun,
        now: i64,
    ) -> store::Result<ClaimedRun> {
        let due = Due::of_continued_step(&step);
        let claimed = in_transaction!(self, |tx| async {
            let claimed = work::commit_step(&tx, &step, Some((&lease, now))).await?;
            wake::notify(&tx, &self.channel, due).await?;
            Ok::<_, DbError>(
                claimed.expect("a step committed with its lease kept comes back claimed"),
            )
        });
        self.woke(due, claimed)
    }

    async fn release_run(&self, run_id: &str, owner: &str) -> store::Result<()> {
        in_transaction!(self, |tx| work::release_run(&tx, run_id, owner))
    }

    async fn claim_effects(&self, claim: Claim) -> store::Result<Vec<EffectRecord>> {
        on_connection!(self, |db| work::claim_effects(&db, &claim))
    }

    async fn complete_effect(
        &self,
        effect_id: i64,
        owner: &str,
        outcome: NewEvent,
        handoff: Handoff,
    ) -> store::Result<Delivered> {
        let written: store::Result<(Delivered, Due)> = in_transaction!(self, |tx| async {
            let delivered =
                work::complete_effect(&tx, effect_id, owner, &outcome, &handoff).await?;
            let due = Due::of_delivery(&delivered, &handoff);
            wake::notify(&tx, &self.channel, due).await?;
            Ok::<_, DbError>((delivered, due))
        });
        let (delivered, due) = written?;
        self.wake_ups.wake(due);
        Ok(delivered)
    }

    async fn next_due(&self) -> store::Result<Option<i64>> {
        on_connection!(self, |db| work::next_due(&db))
    }

    async fn release_all_leases(&self) -> store::Result<()> {
        let written = in_transaction!(self, |tx| async {
            work::release_all_leases(&tx).await?;
            wake::notify(&tx, &self.channel, Due::ALL).await
        });
        self.woke(Due::ALL, written)
    }

    async fn set_recurrences(
        &self,
        workflow: &str,
        timers: Vec<RecurrenceTimer>,
    ) -> store::Result<()> {
        in_transaction!(self, |tx| recurrences::set(&tx, workflow, &timers))
    }

    async fn list_recurrences(
        &self,
        workflow: Option<&str>,
    ) -> store::Result<Vec<RecurrenceTimer>> {
        on_connection!(self, |db| recurrences::list(&db, workflow))
    }

    async fn claim_recurrences(&self, claim: Claim) -> store::Result<Vec<RecurrenceTimer>> {
        on_connection!(self, |db| recurrences::claim(&db, &claim))
    }

    async fn fire_recurrence(&self, fire: RecurrenceFire) -> store::Result<bool> {
        in_transaction!(self, |tx| recurrences::fire(&tx, &fire))
    }

    async fn record_fire(&self, fire: Fire) -> store::Result<FireOutcome> {
        let due = Due::of_runs(&fire.runs);
        let written = in_transaction!(self, |tx| async {
            let outcome = triggers::record_fire(&tx, &fire).await?;
            if outcome == FireOutcome::Recorded {
                wake::notify(&tx, &self.channel, due).await?;
            }
            Ok::<_, DbError>(outcome)
        });
        self.woke(due, written)
    }

    async fn insert_subscription(&self, subscription: SubscriptionRecord) -> store::Result<()> {
        let due = owed(&subscription);
        let written = in_transaction!(self, |tx| async {
            triggers::insert_subscription(&tx, &subscription).await?;
            wake::notify(&tx, &self.channel, due).await
        });
        self.woke(due, written)
    }

    async fn update_subscription(&self, update: SubscriptionUpdate) -> store::Result<()> {
        let due = owed(&update.record);
        let written = in_transaction!(self, |tx| async {
            triggers::update_subscription(&tx, &update).await?;
            wake::notify(&tx, &self.channel, due).await
        });
        self.woke(due, written)
    }

    async fn claim_unsubscribes(&self, claim: Claim) -> store::Result<Vec<SubscriptionRecord>> {
        on_connection!(self, |db| triggers::claim_unsubscribes(&db, &claim))
    }

    async fn list_subscriptions(
        &self,
        workflow: Option<&str>,
    ) -> store::Result<Vec<SubscriptionRecord>> {
        on_connection!(self, |db| triggers::list_subscriptions(&db, workflow))
    }

    async fn list_owed_unsubscribes(&self, limit: u32) -> store::Result<Vec<SubscriptionRecord>> {
        on_connection!(self, |db| triggers::list_owed_unsubscribes(&db, limit))
    }

    async fn add_trigger_history(&self, entry: TriggerHistoryRecord) -> store::Result<()> {
        on_connection!(self, |db| triggers::add_history(&db, &entry))
    }

    async fn list_trigger_histories(
        &self,
        workflow: &str,
        trigger: &str,
        limit: u32,
    ) -> store::Result<Vec<TriggerHistoryRecord>> {
        on_connection!(self, |db| triggers::list_histories(
            &db, workflow, trigger, limit
        ))
    }

    async fn accept_callback(&self, delivery: CallbackDelivery) -> store::Result<CallbackOutcome> {
        let written: store::Result<(CallbackOutcome, Due)> = in_transaction!(self, |tx| async {
            let outcome = waits::accept_callback(&tx, &delivery).await?;
            let due = match &outcome {
                CallbackOutcome::Accepted(delivered) => {
                    Due::of_delivery(delivered, &delivery.handoff)
                }
                _ => Due::default(),
            };
            wake::notify(&tx, &self.channel, due).await?;
            Ok::<_, DbError>((outcome, due))
        });
        let (outcome, due) = written?;
        self.wake_ups.wake(due);
        Ok(outcome)
    }

    async fn resolve_timeouts(&self, now: i64, limit: u32) -> store::Result<u32> {
        let written = in_transaction!(self, |tx| async {
            let resolved = waits::resolve_timeouts(&tx, now, limit).await?;
            if resolved > 0 {
                wake::notify(&tx, &self.channel, Due::RUNS).await?;
            }
            Ok::<_, DbError>(resolved)
        });
        self.woke(Due::RUNS, written)
    }

    async fn list_waits(
        &self,
        workflow: Option<&str>,
        limit: u32,
    ) -> store::Result<Vec<WaitRecord>> {
        on_connection!(self, |db| waits::list(&db, workflow, limit))
    }

    /// Due later, not now: other nodes find it by polling; this one is woken to look.
    async fn retry_effect(&self, effect_id: i64, owner: &str, due_at: i64) -> store::Result<()> {
        let written = on_connection!(self, |db| work::retry_effect(&db, effect_id, owner, due_at));
        self.woke(Due::EFFECTS, written)
    }

    async fn set_workflow_key(
        &self,
        name: &str,
        secondary: bool,
        key: &str,
        now: i64,
    ) -> store::Result<Option<WorkflowRecord>> {
        on_connection!(self, |db| workflows::set_key(
            &db, name, secondary, key, now
        ))
    }

    fn wake_ups(&self) -> &WakeUps {
        &self.wake_ups
    }

    async fn lock_workflow(&self, name: &str) -> store::Result<WorkflowLock> {
        Ok(
            locks::lock_workflow(&self.pool, &self.lock_slots, self.schema.as_deref(), name)
                .await?,
        )
    }
}

/// What writing a ledger entry makes due: an unsubscribe call, when it is owed one.
fn owed(subscription: &SubscriptionRecord) -> Due {
    if subscription.state == SubscriptionState::Unsubscribing {
        Due::UNSUBSCRIBES
    } else {
        Due::default()
    }
}
