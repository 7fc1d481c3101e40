//! SQLite backend of the [`Store`] trait, the default storage: one group-committing writer
//! thread, a pool of readers.
//!
//! - Writes (claims included: they update leases) are commands sent to the writer thread
//!   (`writer.rs`), which commits whatever is queued in one transaction, so one fsync
//!   acknowledges many writes. A method returns only after its transaction is committed:
//!   callers may acknowledge their own clients then (acknowledge after durable).
//! - Reads run on a pool of connections (`reader.rs`) in `spawn_blocking`; in WAL mode they
//!   never wait for the writer and see every write whose method has returned.
//! - The SQL lives per aggregate: `workflows.rs`, `runs.rs` (history), `work.rs` (inbox,
//!   outbox, leases, step commit); `rows.rs` maps rows to records; `schema.rs` opens
//!   connections and migrates (`migrations/`).
//!
//! Every statement is constant text with bound parameters. The async methods must run inside
//! a tokio runtime (reads use `spawn_blocking`).

mod error;
mod reader;
mod recurrences;
mod rows;
mod runs;
mod schema;
mod triggers;
mod waits;
mod work;
mod workflows;
mod writer;

pub use schema::SCHEMA_VERSION;
pub use writer::WriteStats;

use async_trait::async_trait;
use hookflow_store::{
    self as store, ActionRecord, CallbackDelivery, CallbackOutcome, Claim, ClaimedRun, Delivered,
    Due, EffectRecord, Fire, FireOutcome, Handoff, LeaseRun, NewEvent, NewRun, RecurrenceFire,
    RecurrenceTimer, RunQuery, RunRecord, SaveOutcome, SaveWorkflow, StepCommit, Store,
    SubscriptionRecord, SubscriptionState, SubscriptionUpdate, TriggerHistoryRecord, VersionRecord,
    WaitRecord, WakeUps, WorkflowLock, WorkflowRecord,
};
use reader::Readers;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use writer::Writer;

/// Settings of the SQLite store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SqliteOptions {
    /// `PRAGMA synchronous = FULL` (the default): every commit is fsynced, so an acknowledged
    /// write survives power loss. `false` selects NORMAL, which survives a process crash but
    /// may lose the last commits on power loss; faster where fsync is slow.
    pub synchronous_full: bool,
    /// Read connections: at most this many reads run at once; all are kept open.
    pub readers: usize,
    /// The most write commands committed in one transaction.
    pub max_batch: usize,
    /// How long a statement waits for a lock held by another process, in milliseconds.
    pub busy_timeout_ms: u64,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            synchronous_full: true,
            readers: 8,
            max_batch: 256,
            busy_timeout_ms: 5_000,
        }
    }
}

/// The SQLite store. Dropping it stops the writer thread after it has committed the commands
/// already queued.
pub struct SqliteStore {
    writer: Writer,
    readers: Arc<Readers>,
    path: PathBuf,
    /// Fed in-process after writes that create work: one process owns the database.
    wake_ups: WakeUps,
    /// Serialises workflow changes: within this process is enough for the same reason.
    workflow_lock: Arc<tokio::sync::Mutex<()>>,
    /// Set by [`SqliteStore::open_temporary`]. Declared last so the directory is removed
    /// after the writer has closed its connection.
    _temp_dir: Option<tempfile::TempDir>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `path` and brings its schema up to date.
    /// A database with a newer schema than this code knows is refused.
    pub fn open(path: &Path, options: SqliteOptions) -> store::Result<SqliteStore> {
        let conn = schema::open_writer(path, &options)?;
        let writer = Writer::start(conn, options.max_batch)?;
        let readers = Readers::new(
            path.to_owned(),
            Duration::from_millis(options.busy_timeout_ms),
            options.readers,
        );
        Ok(SqliteStore {
            writer,
            readers: Arc::new(readers),
            path: path.to_owned(),
            wake_ups: WakeUps::default(),
            workflow_lock: Arc::default(),
            _temp_dir: None,
        })
    }

    /// Opens a fresh database in a new temporary directory, removed when the store is
    /// dropped. For tests and throw-away runs.
    pub fn open_temporary(options: SqliteOptions) -> store::Result<SqliteStore> {
        let dir = tempfile::Builder::new()
            .prefix("hookflow-store-")
            .tempdir()
            .map_err(|e| store::Error::Backend(format!("cannot create a temporary dir: {e}")))?;
        let store = SqliteStore::open(&dir.path().join("hookflow.db"), options)?;
        Ok(SqliteStore {
            _temp_dir: Some(dir),
            ..store
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Counters of the writer: commands executed and transactions committed.
    pub fn stats(&self) -> WriteStats {
        self.writer.stats()
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn save_workflow(&self, save: SaveWorkflow) -> store::Result<SaveOutcome> {
        self.writer
            .write(move |conn| workflows::save(conn, &save))
            .await
    }

    async fn set_workflow_enabled(
        &self,
        name: &str,
        enabled: bool,
        now: i64,
    ) -> store::Result<Option<WorkflowRecord>> {
        let name = name.to_owned();
        self.writer
            .write(move |conn| workflows::set_enabled(conn, &name, enabled, now))
            .await
    }

    async fn delete_workflow(&self, name: &str) -> store::Result<bool> {
        let name = name.to_owned();
        self.writer
            .write(move |conn| workflows::delete(conn, &name))
            .await
    }

    async fn get_workflow(&self, name: &str) -> store::Result<Option<WorkflowRecord>> {
        let name = name.to_owned();
        self.readers
            .read(move |conn| workflows::get(conn, &name))
            .await
    }

    async fn list_workflows(&self) -> store::Result<Vec<WorkflowRecord>> {
        self.readers.read(workflows::list).await
    }

    async fn list_versions(&self, workflow: &str) -> store::Result<Vec<VersionRecord>> {
        let workflow = workflow.to_owned();
        self.readers
            .read(move |conn| workflows::list_versions(conn, &workflow))
            .await
    }

    async fn get_version(&self, version_id: &str) -> store::Result<Option<VersionRecord>> {
        let version_id = version_id.to_owned();
        self.readers
            .read(move |conn| workflows::get_version(conn, &version_id))
            .await
    }

    async fn create_run(&self, run: NewRun) -> store::Result<()> {
        let run = Arc::new(run);
        let written = run.clone();
        self.writer
            .write(move |conn| runs::create(conn, &written))
            .await?;
        self.wake_ups.wake(Due::of_runs([&*run]));
        Ok(())
    }

    async fn get_run(&self, run_id: &str) -> store::Result<Option<RunRecord>> {
        let run_id = run_id.to_owned();
        self.readers
            .read(move |conn| runs::get(conn, &run_id))
            .await
    }

    async fn get_runs_with_actions(
        &self,
        run_ids: &[String],
    ) -> store::Result<Vec<(RunRecord, Vec<ActionRecord>)>> {
        let run_ids = run_ids.to_vec();
        self.readers
            .read(move |conn| runs::get_with_actions(conn, &run_ids))
            .await
    }

    async fn list_runs(&self, query: RunQuery) -> store::Result<Vec<RunRecord>> {
        self.readers
            .read(move |conn| runs::list(conn, &query))
            .await
    }

    async fn list_actions(&self, run_id: &str) -> store::Result<Vec<ActionRecord>> {
        let run_id = run_id.to_owned();
        self.readers
            .read(move |conn| runs::list_actions(conn, &run_id))
            .await
    }

    async fn get_action(&self, run_id: &str, name: &str) -> store::Result<Option<ActionRecord>> {
        let (run_id, name) = (run_id.to_owned(), name.to_owned());
        self.readers
            .read(move |conn| runs::get_action(conn, &run_id, &name))
            .await
    }

    async fn list_repetitions(&self, run_id: &str, name: &str) -> store::Result<Vec<ActionRecord>> {
        let (run_id, name) = (run_id.to_owned(), name.to_owned());
        self.readers
            .read(move |conn| runs::list_repetitions(conn, &run_id, &name))
            .await
    }

    async fn push_event(&self, event: NewEvent) -> store::Result<()> {
        self.writer
            .write(move |conn| work::push_event(conn, &event))
            .await?;
        self.wake_ups.wake(Due::RUNS);
        Ok(())
    }

    async fn claim_runs(&self, claim: Claim) -> store::Result<Vec<ClaimedRun>> {
        self.writer
            .write(move |conn| work::claim_runs(conn, &claim))
            .await
    }

    async fn commit_step(&self, step: StepCommit) -> store::Result<()> {
        let step = Arc::new(step);
        let written = step.clone();
        self.writer
            .write(move |conn| work::commit_step(conn, &written, None))
            .await?;
        self.wake_ups.wake(Due::of_step(&step));
        Ok(())
    }

    async fn commit_step_and_continue(
        &self,
        step: StepCommit,
        lease: LeaseRun,
        now: i64,
    ) -> store::Result<ClaimedRun> {
        let step = Arc::new(step);
        let written = step.clone();
        let claimed = self
            .writer
            .write(move |conn| work::commit_step(conn, &written, Some((&lease, now))))
            .await?
            .expect("a step committed with its lease kept comes back claimed");
        self.wake_ups.wake(Due::of_continued_step(&step));
        Ok(claimed)
    }

    async fn release_run(&self, run_id: &str, owner: &str) -> store::Result<()> {
        let (run_id, owner) = (run_id.to_owned(), owner.to_owned());
        self.writer
            .write(move |conn| work::release_run(conn, &run_id, &owner))
            .await
    }

    async fn claim_effects(&self, claim: Claim) -> store::Result<Vec<EffectRecord>> {
        self.writer
            .write(move |conn| work::claim_effects(conn, &claim))
            .await
    }

    async fn complete_effect(
        &self,
        effect_id: i64,
        owner: &str,
        outcome: NewEvent,
        handoff: Handoff,
    ) -> store::Result<Delivered> {
        let owner = owner.to_owned();
        let handoff = Arc::new(handoff);
        let written = handoff.clone();
        let delivered = self
            .writer
            .write(move |conn| work::complete_effect(conn, effect_id, &owner, &outcome, &written))
            .await?;
        self.wake_ups.wake(Due::of_delivery(&delivered, &handoff));
        Ok(delivered)
    }

    async fn next_due(&self) -> store::Result<Option<i64>> {
        self.readers.read(work::next_due).await
    }

    async fn release_all_leases(&self) -> store::Result<()> {
        self.writer.write(work::release_all_leases).await?;
        self.wake_ups.wake(Due::ALL);
        Ok(())
    }

    async fn set_recurrences(
        &self,
        workflow: &str,
        timers: Vec<RecurrenceTimer>,
    ) -> store::Result<()> {
        let workflow = workflow.to_owned();
        self.writer
            .write(move |conn| recurrences::set(conn, &workflow, &timers))
            .await
    }

    async fn list_recurrences(
        &self,
        workflow: Option<&str>,
    ) -> store::Result<Vec<RecurrenceTimer>> {
        let workflow = workflow.map(str::to_owned);
        self.readers
            .read(move |conn| recurrences::list(conn, workflow.as_deref()))
            .await
    }

    async fn claim_recurrences(&self, claim: Claim) -> store::Result<Vec<RecurrenceTimer>> {
        self.writer
            .write(move |conn| recurrences::claim(conn, &claim))
            .await
    }

    async fn fire_recurrence(&self, fire: RecurrenceFire) -> store::Result<bool> {
        self.writer
            .write(move |conn| recurrences::fire(conn, &fire))
            .await
    }

    async fn record_fire(&self, fire: Fire) -> store::Result<FireOutcome> {
        let fire = Arc::new(fire);
        let written = fire.clone();
        let outcome = self
            .writer
            .write(move |conn| triggers::record_fire(conn, &written))
            .await?;
        if outcome == FireOutcome::Recorded {
            self.wake_ups.wake(Due::of_runs(&fire.runs));
        }
        Ok(outcome)
    }

    async fn insert_subscription(&self, subscription: SubscriptionRecord) -> store::Result<()> {
        let owed = subscription.state == SubscriptionState::Unsubscribing;
        self.writer
            .write(move |conn| triggers::insert_subscription(conn, &subscription))
            .await?;
        if owed {
            self.wake_ups.wake(Due::UNSUBSCRIBES);
        }
        Ok(())
    }

    async fn update_subscription(&self, update: SubscriptionUpdate) -> store::Result<()> {
        let owed = update.record.state == SubscriptionState::Unsubscribing;
        self.writer
            .write(move |conn| triggers::update_subscription(conn, &update))
            .await?;
        if owed {
            self.wake_ups.wake(Due::UNSUBSCRIBES);
        }
        Ok(())
    }

    async fn claim_unsubscribes(&self, claim: Claim) -> store::Result<Vec<SubscriptionRecord>> {
        self.writer
            .write(move |conn| triggers::claim_unsubscribes(conn, &claim))
            .await
    }

    async fn list_subscriptions(
        &self,
        workflow: Option<&str>,
    ) -> store::Result<Vec<SubscriptionRecord>> {
        let workflow = workflow.map(str::to_owned);
        self.readers
            .read(move |conn| triggers::list_subscriptions(conn, workflow.as_deref()))
            .await
    }

    async fn list_owed_unsubscribes(&self, limit: u32) -> store::Result<Vec<SubscriptionRecord>> {
        self.readers
            .read(move |conn| triggers::list_owed_unsubscribes(conn, limit))
            .await
    }

    async fn add_trigger_history(&self, entry: TriggerHistoryRecord) -> store::Result<()> {
        self.writer
            .write(move |conn| triggers::add_history(conn, &entry))
            .await
    }

    async fn list_trigger_histories(
        &self,
        workflow: &str,
        trigger: &str,
        limit: u32,
    ) -> store::Result<Vec<TriggerHistoryRecord>> {
        let (workflow, trigger) = (workflow.to_owned(), trigger.to_owned());
        self.readers
            .read(move |conn| triggers::list_histories(conn, &workflow, &trigger, limit))
            .await
    }

    async fn set_workflow_key(
        &self,
        name: &str,
        secondary: bool,
        key: &str,
        now: i64,
    ) -> store::Result<Option<WorkflowRecord>> {
        let (name, key) = (name.to_owned(), key.to_owned());
        self.writer
            .write(move |conn| workflows::set_key(conn, &name, secondary, &key, now))
            .await
    }

    async fn accept_callback(&self, delivery: CallbackDelivery) -> store::Result<CallbackOutcome> {
        let delivery = Arc::new(delivery);
        let written = delivery.clone();
        let outcome = self
            .writer
            .write(move |conn| waits::accept_callback(conn, &written))
            .await?;
        if let CallbackOutcome::Accepted(delivered) = &outcome {
            self.wake_ups
                .wake(Due::of_delivery(delivered, &delivery.handoff));
        }
        Ok(outcome)
    }

    async fn resolve_timeouts(&self, now: i64, limit: u32) -> store::Result<u32> {
        let resolved = self
            .writer
            .write(move |conn| waits::resolve_timeouts(conn, now, limit))
            .await?;
        if resolved > 0 {
            self.wake_ups.wake(Due::RUNS);
        }
        Ok(resolved)
    }

    async fn list_waits(
        &self,
        workflow: Option<&str>,
        limit: u32,
    ) -> store::Result<Vec<WaitRecord>> {
        let workflow = workflow.map(str::to_owned);
        self.readers
            .read(move |conn| waits::list(conn, workflow.as_deref(), limit))
            .await
    }

    async fn retry_effect(&self, effect_id: i64, owner: &str, due_at: i64) -> store::Result<()> {
        let owner = owner.to_owned();
        self.writer
            .write(move |conn| work::retry_effect(conn, effect_id, &owner, due_at))
            .await?;
        self.wake_ups.wake(Due::EFFECTS);
        Ok(())
    }

    fn wake_ups(&self) -> &WakeUps {
        &self.wake_ups
    }

    async fn lock_workflow(&self, _name: &str) -> store::Result<WorkflowLock> {
        // One lock for all workflows: changes are rare, and one process owns the database.
        let guard = self.workflow_lock.clone().lock_owned().await;
        Ok(WorkflowLock::new(guard))
    }
}
