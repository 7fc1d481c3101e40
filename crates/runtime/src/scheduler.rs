//! The scheduler loop: claim runs that have due inbox events, apply the events with the
//! engine, and commit each step (changed rows + new effects) in one store transaction.
//!
//! A run's state is cached between steps with the `seq` it is at; a claim whose `seq` differs
//! (another node stepped it, or this process restarted) reloads it from the store. Finished
//! runs leave the cache, so memory holds only runs that are moving.

use crate::{Handle, SyncReply, compiled::Compiled};
use hookflow_engine::{
    ActionState, Effect, Environment, Event, Limits, RunFields, RunState, RunStatus, StepContext,
    Transition, Unsubscribe, WaitChange,
};
use hookflow_store::{
    ActionRecord, ActionWrite, Claim, ClaimedRun, NewEffect, NewEvent, RunRecord, RunUpdate,
    StepCommit, SubscriptionRecord, SubscriptionState, WaitWrite, json_text,
};
use serde::Deserialize as _;
use serde_json::Value;
use std::{collections::HashMap, sync::Arc, time::Duration};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How long the loops sleep at most when the store reports no due work: a safety net for
/// work added by another node (or a missed wake-up); wake-ups normally come sooner.
pub(crate) const IDLE_POLL: Duration = Duration::from_millis(1000);

/// How often at most the scheduler sweeps waits for timeouts: a sweep is a write, and under
/// load the loop turns thousands of times a second. Timeouts are late by at most this.
const TIMEOUT_SWEEP_EVERY_MS: i64 = 50;

/// Most executions one step starts: a longer synchronous stretch (a chain, a loop of
/// Composes) goes on in further steps of its own, so a step's cost, its commit and the wait
/// of other runs stay bounded.
const ACTIONS_PER_STEP: u32 = 256;

pub(crate) struct CachedRun {
    pub(crate) seq: i64,
    state: RunState,
    pub(crate) compiled: Arc<Compiled>,
    workflow: String,
    /// The workflow's primary key when the run was loaded: it signs the callback URLs of the
    /// run's webhook actions (a key regenerated later invalidates them, as it should).
    primary_key: String,
}

pub(crate) async fn run(handle: Handle, shutdown: CancellationToken) {
    let permits = handle.inner.step_permits.clone();
    let mut tasks = JoinSet::new();
    let mut last_sweep = i64::MIN;
    loop {
        while tasks.try_join_next().is_some() {}
        let available = permits.available_permits().max(1) as u32;
        let now = handle.now();
        // Waits whose timeout passed become `WaitTimedOut` events, claimed below like any other.
        if now.saturating_sub(last_sweep) >= TIMEOUT_SWEEP_EVERY_MS {
            last_sweep = now;
            handle.inner.runs.lock().expect("runs lock").expire(now);
            if let Err(error) = handle.inner.store.resolve_timeouts(now, 1_000).await {
                tracing::error!(%error, "resolving wait timeouts failed");
            }
        }
        let claim = Claim {
            owner: handle.inner.options.node_id.clone(),
            now,
            lease_ms: handle.inner.options.lease.as_millis() as i64,
            limit: available,
        };
        let claimed = match handle.inner.store.claim_runs(claim).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::error!(%error, "claiming runs failed");
                Vec::new()
            }
        };
        if claimed.is_empty() {
            if !wait_for_work(&handle, &handle.wake_ups().runs, &shutdown).await {
                break;
            }
            continue;
        }
        let mut preloaded = read_claimed(&handle, &claimed).await;
        for run in claimed {
            let preloaded = preloaded.remove(&run.run_id);
            let permit = permits
                .clone()
                .acquire_owned()
                .await
                .expect("semaphore never closed");
            let handle = handle.clone();
            tasks.spawn(async move {
                step_run(&handle, run, preloaded).await;
                drop(permit);
            });
        }
    }
    while tasks.join_next().await.is_some() {}
}

/// One of the scheduler's step slots, taken before a run's event is recorded (a callback, an
/// effect's outcome) so that the run is leased there only when this node can step it at once.
/// Without a free slot the event waits as an inbox row for the regular claim: a backlog stays
/// on disk, never as tasks queued in memory.
pub(crate) struct StepSlot {
    /// Held, never read: the slot is free again when this drops.
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl StepSlot {
    pub(crate) fn try_take(handle: &Handle) -> Option<StepSlot> {
        let permit = handle.inner.step_permits.clone().try_acquire_owned().ok()?;
        Some(StepSlot { _permit: permit })
    }
}

/// Steps a run this node leased where it recorded the run's event, in the slot taken for it:
/// no claim round trip.
pub(crate) fn step_claimed(
    handle: &Handle,
    run: ClaimedRun,
    slot: StepSlot,
    preloaded: Option<Preloaded>,
) {
    let handle = handle.clone();
    tokio::spawn(async move {
        step_run(&handle, run, preloaded).await;
        drop(slot);
    });
}

/// A run read ahead of its step: by a callback, which needs the run's version to verify it
/// before recording its event (its step is then taken from these rows, `ahead.rs`, or starts
/// from them when the recording leases the run at the `seq` read), or with the other runs
/// of a claim.
pub(crate) enum Preloaded {
    /// The run is cached: its step will use the cache.
    Cached(Arc<Compiled>),
    Read {
        run: Box<RunRecord>,
        actions: Vec<ActionRecord>,
        compiled: Arc<Compiled>,
    },
}

impl Preloaded {
    /// The compiled version the run runs.
    pub(crate) fn compiled(&self) -> &Arc<Compiled> {
        match self {
            Preloaded::Cached(compiled) => compiled,
            Preloaded::Read { compiled, .. } => compiled,
        }
    }
}

/// Reads, in one round trip, the claimed runs whose state is not cached at the claimed `seq`
/// (rather than one read per run as each step starts). A run this fails for is read again
/// by its own step, which reports the error.
async fn read_claimed(handle: &Handle, claimed: &[ClaimedRun]) -> HashMap<String, Preloaded> {
    let missing: Vec<String> = {
        let runs = handle.inner.runs.lock().expect("runs lock");
        claimed
            .iter()
            .filter(|c| runs.get(&c.run_id).is_none_or(|cached| cached.seq != c.seq))
            .map(|c| c.run_id.clone())
            .collect()
    };
    let mut preloaded = HashMap::new();
    if missing.is_empty() {
        return preloaded;
    }
    let read = match handle.inner.store.get_runs_with_actions(&missing).await {
        Ok(read) => read,
        Err(error) => {
            tracing::warn!(%error, "reading claimed runs failed; each step reads its own");
            return preloaded;
        }
    };
    for (run, actions) in read {
        if let Ok(compiled) = handle.compiled(&run.version_id).await {
            let run_id = run.id.clone();
            let read = Preloaded::Read {
                run: Box::new(run),
                actions,
                compiled,
            };
            preloaded.insert(run_id, read);
        }
    }
    preloaded
}

/// Reads a run ahead of recording an event for it (see `Preloaded`).
pub(crate) async fn preload(handle: &Handle, run_id: &str) -> crate::Result<Preloaded> {
    let cached = {
        let runs = handle.inner.runs.lock().expect("runs lock");
        runs.get(run_id)
            .map(|cached| cached.compiled.clone())
            .or_else(|| {
                let ahead = handle.inner.stepping_ahead.lock().expect("ahead lock");
                ahead.get(run_id).map(|taken| taken.compiled.clone())
            })
    };
    match cached {
        Some(compiled) => Ok(Preloaded::Cached(compiled)),
        None => {
            let (run, actions, compiled) = read_with_actions(handle, run_id).await?;
            Ok(Preloaded::Read {
                run: Box::new(run),
                actions,
                compiled,
            })
        }
    }
}

/// Sleeps until notified, until the next due item, or `IDLE_POLL`. False on shutdown.
pub(crate) async fn wait_for_work(
    handle: &Handle,
    notify: &tokio::sync::Notify,
    shutdown: &CancellationToken,
) -> bool {
    let now = handle.now();
    let sleep = match handle.inner.store.next_due().await {
        Ok(Some(due)) if due <= now => Duration::from_millis(5),
        Ok(Some(due)) => Duration::from_millis((due - now) as u64).min(IDLE_POLL),
        _ => IDLE_POLL,
    };
    tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = notify.notified() => true,
        _ = tokio::time::sleep(sleep) => true,
    }
}

/// Applies a claimed run's due events and commits the result. A run whose step was cut at
/// its budget is stepped again here, in place: its lease is kept across the commit, so no
/// claim comes between its steps, and no other claim can take it (and read its rows, which
/// for a long run is the cost of the whole run) while its state is in this task's hands.
async fn step_run(handle: &Handle, claimed: ClaimedRun, preloaded: Option<Preloaded>) {
    let cached = match load(handle, &claimed, preloaded).await {
        Ok(cached) => cached,
        Err(error) => {
            // The lease is kept: the run is retried when it expires, not in a hot loop.
            tracing::error!(run_id = claimed.run_id, %error, "loading run failed");
            return;
        }
    };
    let mut next = Some((claimed, cached));
    while let Some((claimed, cached)) = next {
        next = step_loaded(handle, claimed, cached).await;
    }
}

/// One step of a loaded run; the run again, claimed with its next events, when it goes on
/// in place.
async fn step_loaded(
    handle: &Handle,
    claimed: ClaimedRun,
    mut cached: CachedRun,
) -> Option<(ClaimedRun, CachedRun)> {
    let run_id = claimed.run_id.clone();
    let now = handle.now();
    let events = claimed.events.iter().filter_map(|inbox_event| {
        Event::deserialize(&inbox_event.event)
            .inspect_err(|error| {
                tracing::error!(run_id, %error, "dropping an inbox event this version cannot read");
            })
            .ok()
    });
    let transition = apply(handle, &mut cached, &run_id, events, now);
    let commit = build_commit(handle, &claimed, &cached, &transition, now);
    if continues(&transition) && !handle.inner.shutdown.is_cancelled() {
        let store = &handle.inner.store;
        return match store
            .commit_step_and_continue(commit, handle.lease_run(), now)
            .await
        {
            Ok(next) => {
                after_step(handle, &run_id, &cached.state, transition);
                cached.seq = next.seq;
                Some((next, cached))
            }
            Err(error) => {
                tracing::warn!(run_id, %error, "step not committed; the run will be reloaded");
                None
            }
        };
    }
    if let Err(error) = handle.inner.store.commit_step(commit).await {
        tracing::warn!(run_id, %error, "step not committed; the run will be reloaded");
        handle.inner.runs.lock().expect("runs lock").take(&run_id);
        return None;
    }
    cached.seq = claimed.seq;
    committed(handle, run_id, cached, transition);
    None
}

/// Applies `events` to a loaded run with the engine, in order.
pub(crate) fn apply(
    handle: &Handle,
    cached: &mut CachedRun,
    run_id: &str,
    events: impl IntoIterator<Item = Event>,
    now: i64,
) -> Transition {
    let options = &handle.inner.options;
    let limits = Limits {
        http_timeout_ms: options.http_timeout.as_millis() as u64,
        webhook_timeout_ms: options.webhook_timeout.as_millis() as u64,
        max_webhook_timeout_ms: options.max_webhook_timeout.as_millis() as u64,
        max_actions_per_step: ACTIONS_PER_STEP,
    };
    let env = RunEnv {
        handle,
        workflow: &cached.workflow,
        key: &cached.primary_key,
    };
    let mut transition = Transition::default();
    for event in events {
        let ctx = StepContext {
            definition: &cached.compiled.definition,
            plan: &cached.compiled.plan,
            parameters: &cached.compiled.parameters,
            workflow_name: &cached.workflow,
            run_id,
            now,
            env: &env,
            limits: &limits,
        };
        transition.merge(hookflow_engine::step(&mut cached.state, event, &ctx));
    }
    transition
}

/// Once a step of the run (now at `cached.seq + 1`) is durable: answer callers, wake the
/// effect executor, and keep the run cached only if a call is in flight or its next step is
/// due at once — a run that merely waits (for a callback or a timer) is a row, not memory,
/// and is reloaded when it moves.
pub(crate) fn committed(
    handle: &Handle,
    run_id: String,
    mut cached: CachedRun,
    transition: Transition,
) {
    let continues = continues(&transition);
    after_step(handle, &run_id, &cached.state, transition);
    cached.seq += 1;
    keep_cached(handle, run_id, cached, continues);
}

/// Whether the step cut its work at the step budget: the run goes on in its next step.
fn continues(transition: &Transition) -> bool {
    transition
        .timers
        .iter()
        .any(|t| matches!(t.event, Event::Continue { .. }))
}

/// Caches a run (at the `seq` its committed step left it) that is moving: with a call in flight
/// or continuing (its first step, taken where it was created, or one released at shutdown) —
/// reloading a continuing run from its rows each step would make a long run's steps grow. A
/// run that merely waits is parked: kept briefly, in bounded number
/// (`run_cache`), for a callback that comes at once. A finished run is not kept.
fn keep_cached(handle: &Handle, run_id: String, cached: CachedRun, continues: bool) {
    if continues {
        handle.wake_ups().runs.notify_one();
    }
    if cached.state.status.is_terminal() {
        return;
    }
    let moving = continues || cached.state.has_call_in_flight(&cached.compiled.definition);
    let mut runs = handle.inner.runs.lock().expect("runs lock");
    if moving {
        runs.keep(run_id, cached);
    } else {
        runs.park(run_id, cached, handle.now());
    }
}

/// A run's first step, taken where the run is created: its changes are committed in the
/// same transaction as the run itself (`NewRun::started`), so starting a run costs one
/// commit, and its first calls go out as soon as the trigger's caller is answered.
pub(crate) struct Started {
    run_id: String,
    status: RunStatus,
    error: Option<Value>,
    transition: Transition,
}

/// Takes the `Start` step of a run about to be recorded; returns the commit to store with it.
pub(crate) fn start(
    handle: &Handle,
    run_id: &str,
    compiled: &Arc<Compiled>,
    workflow: &str,
    primary_key: &str,
    trigger: Arc<Value>,
    now: i64,
) -> (Started, StepCommit) {
    let mut cached = CachedRun {
        seq: 0,
        state: RunState::new(&compiled.definition, trigger),
        compiled: compiled.clone(),
        workflow: workflow.to_owned(),
        primary_key: primary_key.to_owned(),
    };
    let transition = apply(handle, &mut cached, run_id, [Event::Start], now);
    let claimed = ClaimedRun {
        run_id: run_id.to_owned(),
        seq: 0,
        events: Vec::new(),
    };
    let commit = build_commit(handle, &claimed, &cached, &transition, now);
    let started = Started {
        run_id: run_id.to_owned(),
        status: cached.state.status,
        error: cached.state.error.clone(),
        transition,
    };
    // Cached now, at the seq the commit will leave it at, not after the commit: the run's
    // next step may come as soon as the commit is durable (its first call answered), and a
    // state cached after that step would be stale — kept, unused, until the run next moves.
    cached.seq = 1;
    let continues = continues(&started.transition);
    keep_cached(handle, run_id.to_owned(), cached, continues);
    (started, commit)
}

/// After the run and its first step are durable.
pub(crate) fn started(handle: &Handle, started: Started) {
    let Started {
        run_id,
        status,
        error,
        transition,
    } = started;
    after_commit(handle, &run_id, status, error.as_ref(), transition);
}

/// Runs whose fire was not recorded (it failed, or repeated an earlier delivery) leave the
/// cache `start` put them in.
pub(crate) fn not_started(handle: &Handle, started: &[Started]) {
    let mut runs = handle.inner.runs.lock().expect("runs lock");
    for run in started {
        runs.take(&run.run_id);
    }
}

/// The run's state at the claimed `seq`: from the cache when it is current, else the store.
/// A row read ahead (`Preloaded`) at that `seq` saves reading it again.
async fn load(
    handle: &Handle,
    claimed: &ClaimedRun,
    preloaded: Option<Preloaded>,
) -> crate::Result<CachedRun> {
    let cached = handle
        .inner
        .runs
        .lock()
        .expect("runs lock")
        .take(&claimed.run_id);
    if let Some(cached) = cached.filter(|c| c.seq == claimed.seq) {
        return Ok(cached);
    }
    let (run, actions, compiled) = match preloaded {
        Some(Preloaded::Read {
            run,
            actions,
            compiled,
        }) if run.seq == claimed.seq => (*run, actions, compiled),
        _ => read_with_actions(handle, &claimed.run_id).await?,
    };
    restore(handle, run, actions, compiled).await
}

/// A run's row and action rows (one read), and its compiled version.
async fn read_with_actions(
    handle: &Handle,
    run_id: &str,
) -> crate::Result<(RunRecord, Vec<ActionRecord>, Arc<Compiled>)> {
    let ids = [run_id.to_owned()];
    let (run, actions) = handle
        .inner
        .store
        .get_runs_with_actions(&ids)
        .await?
        .pop()
        .ok_or_else(|| crate::Error::NotFound(format!("run '{run_id}'")))?;
    let compiled = handle.compiled(&run.version_id).await?;
    Ok((run, actions, compiled))
}

/// The run's state from its row and its action rows.
pub(crate) async fn restore(
    handle: &Handle,
    run: RunRecord,
    actions: Vec<ActionRecord>,
    compiled: Arc<Compiled>,
) -> crate::Result<CachedRun> {
    let actions = actions.into_iter().map(|a| {
        let state = ActionState {
            status: a.status,
            code: a.code,
            start_time: a.start_time,
            end_time: a.end_time,
            inputs: a.inputs,
            outputs: a.outputs,
            error: a.error,
        };
        (a.name, a.repetition, state)
    });
    let variables = match run.variables {
        Some(serde_json::Value::Object(variables)) => variables,
        _ => serde_json::Map::new(),
    };
    let fields = RunFields {
        status: run.status,
        trigger: run.trigger,
        end_time: run.end_time,
        outputs: run.outputs,
        error: run.error,
        variables,
    };
    let state = RunState::restore(&compiled.definition, fields, actions);
    // A deleted workflow's runs still step (to their cancellation); their URLs sign with no key.
    let primary_key = match handle.cached_workflow_record(&run.workflow).await {
        Ok(record) => record.primary_key.clone(),
        Err(crate::Error::NotFound(_)) => String::new(),
        Err(error) => return Err(error),
    };
    Ok(CachedRun {
        seq: run.seq,
        state,
        compiled,
        workflow: run.workflow,
        primary_key,
    })
}

pub(crate) fn build_commit(
    handle: &Handle,
    claimed: &ClaimedRun,
    cached: &CachedRun,
    transition: &Transition,
    now: i64,
) -> StepCommit {
    let definition = &cached.compiled.definition;
    let actions = transition
        .changed_actions
        .iter()
        .filter_map(|key| {
            let state = cached.state.get(key)?;
            Some(ActionWrite {
                name: definition.action(key.id).name.clone(),
                repetition: key.repetition.text(),
                status: state.status,
                code: state.code.clone(),
                start_time: state.start_time,
                end_time: state.end_time,
                inputs: state.inputs.as_ref().map(json_text),
                outputs: state.outputs.as_ref().map(json_text),
                error: state.error.as_ref().map(json_text),
            })
        })
        .collect();
    // Variables are written whole, and only by a step that changed one (see ARCHITECTURE.md).
    let run = (transition.run_changed || transition.variables_changed).then(|| RunUpdate {
        status: cached.state.status,
        end_time: cached.state.end_time,
        outputs: cached.state.outputs.clone(),
        error: cached.state.error.clone(),
        variables: transition
            .variables_changed
            .then(|| serde_json::Value::Object(cached.state.variables.clone())),
    });
    // A Wait action's timer is an inbox event due later: a row, claimed when due.
    let new_events = transition
        .timers
        .iter()
        .map(|timer| NewEvent {
            run_id: claimed.run_id.clone(),
            event: json_text(&timer.event),
            due_at: timer.due_at,
        })
        .collect();
    let new_effects = transition
        .effects
        .iter()
        .filter(|e| !matches!(e, Effect::Respond { .. }))
        .map(|e| NewEffect {
            effect: json_text(e),
            // An async poll is due when its interval has passed, not now.
            due_at: handle.inner.http.due_at(e, now),
        })
        .collect();
    let waits = transition
        .waits
        .iter()
        .map(|wait| match wait {
            WaitChange::Open { action, timeout_at } => WaitWrite::Open {
                action: action.clone(),
                opened_at: now,
                timeout_at: *timeout_at,
            },
            WaitChange::Close { action } => WaitWrite::Close {
                action: action.clone(),
            },
        })
        .collect();
    let subscriptions = transition
        .unsubscribes
        .iter()
        .map(|owed| action_unsubscribe(&claimed.run_id, &cached.workflow, owed, now))
        .collect();
    StepCommit {
        run_id: claimed.run_id.clone(),
        owner: handle.inner.options.node_id.clone(),
        expected_seq: claimed.seq,
        consumed_events: claimed.events.iter().map(|e| e.id).collect(),
        actions,
        run,
        new_events,
        new_effects,
        waits,
        subscriptions,
    }
}

/// The ledger entry of an unsubscribe a webhook action owes: due now, retried by the same
/// worker as triggers' unsubscribes.
fn action_unsubscribe(
    run_id: &str,
    workflow: &str,
    owed: &Unsubscribe,
    now: i64,
) -> SubscriptionRecord {
    SubscriptionRecord {
        id: format!("{run_id}/{}", owed.action),
        workflow: workflow.to_owned(),
        trigger: owed.action.clone(),
        version_id: String::new(),
        state: SubscriptionState::Unsubscribing,
        target: owed.request.uri.clone(),
        fingerprint: String::new(),
        callback_url: String::new(),
        subscribe_response: None,
        unsubscribe: Some(serde_json::json!({
            crate::subscriptions::ACTION_REQUEST: owed.request,
            "run": run_id,
        })),
        attempts: 0,
        next_attempt_at: Some(now),
        last_error: None,
        created_at: now,
        updated_at: now,
    }
}

/// [`after_commit`] of a step that left the run in `state`.
fn after_step(handle: &Handle, run_id: &str, state: &RunState, transition: Transition) {
    after_commit(
        handle,
        run_id,
        state.status,
        state.error.as_ref(),
        transition,
    );
}

/// Once a step is durable: answer synchronous callers (the store woke the loops for the
/// work the step made).
fn after_commit(
    handle: &Handle,
    run_id: &str,
    status: RunStatus,
    error: Option<&Value>,
    transition: Transition,
) {
    for effect in transition.effects {
        if let Effect::Respond { response, .. } = effect {
            handle
                .inner
                .responders
                .reply(run_id, SyncReply::Response(response));
        }
    }
    if status.is_terminal() {
        handle.inner.responders.reply(
            run_id,
            SyncReply::RunEnded {
                status: status.as_str().to_owned(),
                error: error.cloned(),
            },
        );
    }
}

/// What a step gets from the runtime: OS randomness (for `guid()`, `rand()`) and signed
/// callback URLs for webhook actions.
struct RunEnv<'a> {
    handle: &'a Handle,
    workflow: &'a str,
    key: &'a str,
}

impl Environment for RunEnv<'_> {
    fn random_u128(&self) -> u128 {
        uuid::Uuid::new_v4().as_u128()
    }

    fn action_callback_url(&self, run_id: &str, action: &str) -> String {
        self.handle
            .action_callback_url(self.workflow, run_id, action, self.key)
    }
}
