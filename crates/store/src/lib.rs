//! The storage interface every backend implements (SQLite, PostgreSQL), and the
//! records it stores.
//!
//! The engine's run state is not one blob: a run is a [`RunRecord`] plus one [`ActionRecord`]
//! per action execution, so a step writes only the rows it changed ([`StepCommit`]). Work waits
//! as rows, never as tasks: events to apply to runs sit in an *inbox* (with a due time, which is
//! how timers are stored), outbound effects sit in an *outbox*. Both are claimed with leases so
//! several engine nodes can share one database, and every write that changes a run is fenced
//! by the run's `seq` so a node that lost its lease cannot overwrite newer state.
//!
//! Times are Unix milliseconds (`i64`); the runtime owns the clock and passes `now` in.

mod records;
#[cfg(feature = "testing")]
pub mod testing;
mod wake;

pub use records::*;
pub use wake::{Due, WakeUps, WorkflowLock};

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The run's `seq` moved on (another worker stepped it) or its lease was lost: the caller's
    /// view is stale, nothing was written.
    #[error("run {0} was changed concurrently; step discarded")]
    Conflict(String),
    /// A referenced record does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The backend failed (IO, corruption, connection).
    #[error("storage backend error: {0}")]
    Backend(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The storage interface. One implementation per backend; the runtime holds it as
/// `Arc<dyn Store>`. Every method is one transaction.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- Workflows and their versions -------------------------------------------------------

    /// Creates or updates a workflow, adding `save.version` as its new current version, in one
    /// transaction. Keys are set only on create.
    async fn save_workflow(&self, save: SaveWorkflow) -> Result<SaveOutcome>;
    /// Sets enabled/disabled. `None` when no such workflow.
    async fn set_workflow_enabled(
        &self,
        name: &str,
        enabled: bool,
        now: i64,
    ) -> Result<Option<WorkflowRecord>>;
    /// Deletes the workflow and its versions' current pointer (versions and runs stay for
    /// history). Returns false when there was none.
    async fn delete_workflow(&self, name: &str) -> Result<bool>;
    async fn get_workflow(&self, name: &str) -> Result<Option<WorkflowRecord>>;
    /// All workflows, ordered by name.
    async fn list_workflows(&self) -> Result<Vec<WorkflowRecord>>;
    /// Versions of a workflow, newest first.
    async fn list_versions(&self, workflow: &str) -> Result<Vec<VersionRecord>>;
    async fn get_version(&self, version_id: &str) -> Result<Option<VersionRecord>>;

    // --- Runs and history -------------------------------------------------------------------

    /// Records a new run and its first inbox event, in one transaction. When this returns the
    /// run is durable: only then may the trigger's caller be acknowledged.
    async fn create_run(&self, run: NewRun) -> Result<()>;
    async fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>>;
    /// Runs' rows, each with its action records (as `list_actions`), in one round trip:
    /// what steps restore runs from (the scheduler reads every run of a claim it does not
    /// hold in memory at once). Runs not found are left out; the order is unspecified. A
    /// run's row and actions are consistent with each other when no step of the run commits
    /// meanwhile, as when the caller holds the run's lease.
    async fn get_runs_with_actions(
        &self,
        run_ids: &[String],
    ) -> Result<Vec<(RunRecord, Vec<ActionRecord>)>>;
    /// Runs of a workflow, newest first (by `start_time`, then id).
    async fn list_runs(&self, query: RunQuery) -> Result<Vec<RunRecord>>;
    /// Action records of a run (every repetition), in the order they started.
    async fn list_actions(&self, run_id: &str) -> Result<Vec<ActionRecord>>;
    /// The record of an action outside loops (repetition `""`).
    async fn get_action(&self, run_id: &str, name: &str) -> Result<Option<ActionRecord>>;
    /// Every record of one action (each iteration of a looped action), ordered by repetition.
    /// `name` matches exactly.
    async fn list_repetitions(&self, run_id: &str, name: &str) -> Result<Vec<ActionRecord>>;

    // --- Work: the inbox (events to apply to runs) and the outbox (effects to carry out) ----

    /// Appends an event to a run's inbox (e.g. a cancel request). Fails with `NotFound` when
    /// the run does not exist.
    async fn push_event(&self, event: NewEvent) -> Result<()>;
    /// Leases up to `claim.limit` runs that have inbox events due at `claim.now` and no live
    /// lease, returning each with all its due events in order.
    async fn claim_runs(&self, claim: Claim) -> Result<Vec<ClaimedRun>>;
    /// Applies one engine step atomically: deletes the consumed events, upserts action
    /// records, updates the run, appends new events and effects, bumps `seq` and releases the
    /// lease. A step that ends the run (a status other than `Running`) also deletes the run's
    /// outbox effects that are not leased — retries and polls due later, calls not yet
    /// started — so a cancelled or terminated run sends nothing more. Fails with
    /// [`Error::Conflict`] (writing nothing) when the run's `seq` is not `step.expected_seq`.
    async fn commit_step(&self, step: StepCommit) -> Result<()>;
    /// Commits `step` like [`Store::commit_step`], except that the run stays leased to
    /// `lease.owner` (until `now + lease.lease_ms`) and comes back claimed at its new `seq`
    /// with every event due at `now` — the `Continue` the step added, and whatever else
    /// arrived meanwhile (a cancel, a callback), in inbox order. A node steps a continuing run
    /// again at once this way: no claim round trip, and no moment when the run is unleased, in
    /// which another claim could take it and read its rows while its state is in this node's
    /// hands.
    async fn commit_step_and_continue(
        &self,
        step: StepCommit,
        lease: LeaseRun,
        now: i64,
    ) -> Result<ClaimedRun>;
    /// Releases a run lease without changes (e.g. the step failed to load).
    async fn release_run(&self, run_id: &str, owner: &str) -> Result<()>;
    /// Leases up to `claim.limit` outbox effects due at `claim.now` with no live lease.
    async fn claim_effects(&self, claim: Claim) -> Result<Vec<EffectRecord>>;
    /// Deletes a carried-out effect and delivers its outcome to its run (as `handoff` asks:
    /// see [`Handoff`]), atomically, if `owner` still holds the effect's lease. An effect
    /// already gone (completed by an earlier attempt) is a no-op returning
    /// `Ok(Delivered::Queued)`; one whose lease another owner has taken over is
    /// [`Error::Conflict`], writing nothing: the new owner records the outcome.
    async fn complete_effect(
        &self,
        effect_id: i64,
        owner: &str,
        outcome: NewEvent,
        handoff: Handoff,
    ) -> Result<Delivered>;
    /// The earliest `due_at` of any inbox event, effect or recurrence timer that is not leased,
    /// for the scheduler's sleep. `None` when there is no work at all.
    async fn next_due(&self) -> Result<Option<i64>>;
    /// Drops every lease (single-node start-up: the previous process is gone).
    async fn release_all_leases(&self) -> Result<()>;

    // --- Triggers: fires, subscriptions, history --------------------------------------------

    /// Records a trigger fire in one transaction. With `fire.dedup`, a key already recorded and
    /// not expired (at `fire.history.start_time`) writes nothing and returns the first answer.
    async fn record_fire(&self, fire: Fire) -> Result<FireOutcome>;
    /// Adds a new ledger entry. [`Error::Conflict`] when one with its id exists.
    async fn insert_subscription(&self, subscription: SubscriptionRecord) -> Result<()>;
    /// Moves a ledger entry to `update.record` if it is still in `update.expected` state (and,
    /// with `update.owner`, still leased by that owner), releasing its lease: a transition
    /// another node made first is [`Error::Conflict`] and writes nothing. `NotFound` when
    /// there is no such entry.
    async fn update_subscription(&self, update: SubscriptionUpdate) -> Result<()>;
    /// Leases up to `claim.limit` entries owed an unsubscribe call (state `Unsubscribing`)
    /// that are due (`next_attempt_at <= claim.now`) and not leased: two nodes never make
    /// the same unsubscribe call at once.
    async fn claim_unsubscribes(&self, claim: Claim) -> Result<Vec<SubscriptionRecord>>;
    /// Up to `limit` subscriptions owed an unsubscribe call (state `Unsubscribing`), earliest
    /// `next_attempt_at` first, due or not: the worker's queue.
    async fn list_owed_unsubscribes(&self, limit: u32) -> Result<Vec<SubscriptionRecord>>;
    /// Subscriptions of one workflow, or of all, oldest first.
    async fn list_subscriptions(&self, workflow: Option<&str>) -> Result<Vec<SubscriptionRecord>>;
    async fn add_trigger_history(&self, entry: TriggerHistoryRecord) -> Result<()>;
    /// A trigger's history, newest first.
    async fn list_trigger_histories(
        &self,
        workflow: &str,
        trigger: &str,
        limit: u32,
    ) -> Result<Vec<TriggerHistoryRecord>>;
    /// Resolves the wait of `delivery.action` in `delivery.run_id` by this callback if it is
    /// still open, delivering `delivery.event` to the run in the same transaction (as
    /// `delivery.handoff` asks): exactly one callback (or timeout, or close) resolves a wait.
    async fn accept_callback(&self, delivery: CallbackDelivery) -> Result<CallbackOutcome>;
    /// Resolves up to `limit` open waits whose timeout is at or before `now`, appending a
    /// `WaitTimedOut` event for each to its run's inbox. Returns how many.
    async fn resolve_timeouts(&self, now: i64, limit: u32) -> Result<u32>;
    /// Open waits (of one workflow, or of all), oldest first, at most `limit`.
    async fn list_waits(&self, workflow: Option<&str>, limit: u32) -> Result<Vec<WaitRecord>>;
    /// Puts an effect `owner` holds the lease of back, due again at `due_at` (a retry after a
    /// failed attempt). [`Error::Conflict`] (writing nothing) when another owner has taken
    /// the lease over; `Ok` when the effect is gone.
    async fn retry_effect(&self, effect_id: i64, owner: &str, due_at: i64) -> Result<()>;
    // --- Recurrence timers --------------------------------------------------------------------

    /// Makes `timers` the workflow's recurrence timers: a trigger's row whose `recurrence` is
    /// unchanged is kept as it is (its due occurrence and lease too); a changed or new one is
    /// written as given; rows of triggers not listed are deleted (an empty list: all).
    async fn set_recurrences(&self, workflow: &str, timers: Vec<RecurrenceTimer>) -> Result<()>;
    /// Recurrence timers of one workflow, or of all, by workflow and trigger.
    async fn list_recurrences(&self, workflow: Option<&str>) -> Result<Vec<RecurrenceTimer>>;
    /// Leases up to `claim.limit` timers due at `claim.now` with no live lease.
    async fn claim_recurrences(&self, claim: Claim) -> Result<Vec<RecurrenceTimer>>;
    /// Handles one occurrence of a claimed timer in one transaction: only if the timer is
    /// still at `fire.occurrence` and leased by `fire.owner`, records the fire (runs and
    /// history) and moves the timer to `fire.next` (releasing the lease) or deletes it.
    /// Returns false, writing nothing, when the timer moved on, changed or is gone: an
    /// occurrence starts its run exactly once, across crashes and nodes.
    async fn fire_recurrence(&self, fire: RecurrenceFire) -> Result<bool>;

    /// Replaces one of the workflow's access keys (every URL signed with the old one stops
    /// working). `None` when no such workflow.
    async fn set_workflow_key(
        &self,
        name: &str,
        secondary: bool,
        key: &str,
        now: i64,
    ) -> Result<Option<WorkflowRecord>>;

    // --- Coordination between nodes ---------------------------------------------------------

    /// Signals that fire when work may have become due: in-process after this store's own
    /// writes, and, on a backend shared by several nodes, when another node created work.
    /// Waiters still poll `next_due` as a fallback; a wake-up may be spurious.
    fn wake_ups(&self) -> &WakeUps;
    /// Takes the lock that serialises changes to one workflow (its ledger and subscribe
    /// calls) among every process using this store; held until the returned guard drops.
    async fn lock_workflow(&self, name: &str) -> Result<WorkflowLock>;
}
