//! Steps taken where their event arrives (a callback, an effect's outcome), from the state
//! this node has cached — or, for a callback to a run that is not, from the rows the callback
//! read anyway — and committed with the event (`Handoff::step`): one transaction instead of
//! one recording the event, a claim, and one committing the step that applies it.
//! The store commits such a step only if the run is still where the cached state is, no
//! live lease holds it and no other event of it is due — exactly the step a claim would
//! have taken — and otherwise records the event as usual.
//!
//! While the store has the step, the run is marked as stepped ahead here
//! (`Inner::stepping_ahead`). Another event for it that arrives meanwhile (a callback racing
//! its subscribe's response) waits for that step to settle and is then stepped ahead from
//! the new state in turn, instead of leasing the run and reading its rows.

use crate::{
    Handle,
    compiled::Compiled,
    scheduler::{CachedRun, Preloaded, apply, build_commit, committed, restore},
};
use hookflow_engine::{Event, Transition};
use hookflow_store::{ClaimedRun, Delivered, Handoff, LeaseRun, StepCommit};
use std::sync::Arc;
use tokio::sync::watch;

/// How many times an event waits for other events' steps ahead before it goes to the inbox
/// for a claim instead: a run that many events race for is left to the regular path.
const WAITS_FOR_AHEAD: usize = 2;

/// A run whose step this node is taking ahead, as `Inner::stepping_ahead` records it.
pub(crate) struct SteppingAhead {
    /// The version it runs: a callback that arrives meanwhile verifies against it.
    pub(crate) compiled: Arc<Compiled>,
    /// Dropped when the step has settled, which wakes the events waiting for it.
    settled: watch::Sender<()>,
}

/// How a run's event is handed to the store.
pub(crate) enum Pickup {
    /// With the run's next step, taken ahead.
    Ahead(Box<(Ahead, StepCommit)>),
    /// Alone, for a claim: other events' steps ahead kept the run.
    Busy,
    /// Alone, leasing the run if it is free: its state is not cached here.
    NotCached,
}

impl Pickup {
    /// Takes the run's next step ahead with `event` if its state is cached here (waiting, a
    /// bounded number of times, for another event's step ahead to settle first), or can be
    /// restored from `read` — its row, read by a callback before — and its action rows.
    /// Returns the time the step was taken at, which the event is recorded at.
    pub(crate) async fn for_event(
        handle: &Handle,
        run_id: &str,
        event: Event,
        read: Option<&mut Option<Preloaded>>,
    ) -> (Pickup, i64) {
        let mut waits = 0;
        let cached = loop {
            match take_state(handle, run_id) {
                Ok(cached) => break cached,
                Err(mut settled) if waits < WAITS_FOR_AHEAD => {
                    waits += 1;
                    // Err once the sender is dropped: the step ahead has settled.
                    let _ = settled.changed().await;
                }
                Err(_) => return (Pickup::Busy, handle.now()),
            }
        };
        let cached = match (cached, read) {
            (Some(cached), _) => Some(cached),
            (None, Some(read)) => restore_read(handle, read).await,
            (None, None) => None,
        };
        let now = handle.now();
        let Some(mut cached) = cached else {
            return (Pickup::NotCached, now);
        };
        let transition = apply(handle, &mut cached, run_id, [event], now);
        let at = ClaimedRun {
            run_id: run_id.to_owned(),
            seq: cached.seq,
            events: Vec::new(),
        };
        let commit = build_commit(handle, &at, &cached, &transition, now);
        let ahead = Ahead {
            handle: handle.clone(),
            run_id: run_id.to_owned(),
            cached: Some(cached),
            transition,
        };
        (Pickup::Ahead(Box::new((ahead, commit))), now)
    }

    /// The handoff for the store, and the step ahead to settle once it answered.
    pub(crate) fn handoff(self, lease: LeaseRun) -> (Handoff, Option<Ahead>) {
        match self {
            Pickup::Ahead(taken) => {
                let (ahead, step) = *taken;
                let handoff = Handoff {
                    step: Some(step),
                    lease: Some(lease),
                };
                (handoff, Some(ahead))
            }
            Pickup::Busy => (Handoff::default(), None),
            Pickup::NotCached => {
                let handoff = Handoff {
                    step: None,
                    lease: Some(lease),
                };
                (handoff, None)
            }
        }
    }
}

/// The state of a run that is not cached, from its rows read before (taken out of `read`);
/// the run is then marked as stepped ahead like a cached one. `None` when there are no rows,
/// restoring fails or another event's step ahead has the run meanwhile (the rows may then be
/// used up: the run's step reads what it needs).
async fn restore_read(handle: &Handle, read: &mut Option<Preloaded>) -> Option<CachedRun> {
    let Some(Preloaded::Read {
        run,
        actions,
        compiled,
    }) = read.take_if(|read| matches!(read, Preloaded::Read { .. }))
    else {
        return None;
    };
    let run_id = run.id.clone();
    let cached = restore(handle, *run, actions, compiled).await.ok()?;
    let mut ahead = handle.inner.stepping_ahead.lock().expect("ahead lock");
    if ahead.contains_key(&run_id) {
        return None;
    }
    let marker = SteppingAhead {
        compiled: cached.compiled.clone(),
        settled: watch::Sender::new(()),
    };
    ahead.insert(run_id, marker);
    Some(cached)
}

/// Takes the run's cached state and marks the run as stepped ahead; `Ok(None)` when it is not
/// cached, `Err` with the settling of the step ahead that has it.
fn take_state(handle: &Handle, run_id: &str) -> Result<Option<CachedRun>, watch::Receiver<()>> {
    let mut runs = handle.inner.runs.lock().expect("runs lock");
    let mut ahead = handle.inner.stepping_ahead.lock().expect("ahead lock");
    if let Some(taken) = ahead.get(run_id) {
        return Err(taken.settled.subscribe());
    }
    let Some(cached) = runs.take(run_id) else {
        return Ok(None);
    };
    let marker = SteppingAhead {
        compiled: cached.compiled.clone(),
        settled: watch::Sender::new(()),
    };
    ahead.insert(run_id.to_owned(), marker);
    Ok(Some(cached))
}

/// A step taken ahead, with the state it left, until the store has answered.
pub(crate) struct Ahead {
    handle: Handle,
    run_id: String,
    cached: Option<CachedRun>,
    transition: Transition,
}

impl Ahead {
    /// Once the store answered. A step it committed ends like any other; one it left unused
    /// is dropped: its state holds an event that was not applied, and never goes back to
    /// the cache (the run's next step reads its rows).
    pub(crate) fn settle(mut self, delivered: &Delivered) {
        if let (Delivered::Stepped, Some(cached)) = (delivered, self.cached.take()) {
            let transition = std::mem::take(&mut self.transition);
            committed(&self.handle, self.run_id.clone(), cached, transition);
        }
    }
}

impl Drop for Ahead {
    /// The run is no longer stepped ahead: settled (its state back in the cache first), or
    /// the store failed. Events waiting for it go on.
    fn drop(&mut self) {
        let mut ahead = self.handle.inner.stepping_ahead.lock().expect("ahead lock");
        ahead.remove(&self.run_id);
    }
}
