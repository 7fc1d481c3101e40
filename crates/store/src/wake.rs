//! What several processes sharing a store coordinate through besides rows: wake-ups (work
//! became due) and the per-workflow lock of workflow changes.

use crate::{Delivered, Handoff, NewRun, StepCommit};
use tokio::sync::Notify;

/// Wake-up signals, one per kind of work. `notify_one` keeps a permit when nobody waits, so
/// a wake-up between a loop's empty claim and its wait is not lost; many wake-ups before the
/// loop waits again coalesce into one.
#[derive(Debug, Default)]
pub struct WakeUps {
    /// Inbox events (new runs, callbacks, outcomes, cancels, timeouts).
    pub runs: Notify,
    /// Outbox effects.
    pub effects: Notify,
    /// Owed unsubscribe calls.
    pub unsubscribes: Notify,
}

impl WakeUps {
    pub fn wake(&self, due: Due) {
        if due.runs {
            self.runs.notify_one();
        }
        if due.effects {
            self.effects.notify_one();
        }
        if due.unsubscribes {
            self.unsubscribes.notify_one();
        }
    }
}

/// Which kinds of work a write made due: what to wake (and, on a shared backend, what to
/// tell other nodes about).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub runs: bool,
    pub effects: bool,
    pub unsubscribes: bool,
}

impl Due {
    pub const RUNS: Due = Due {
        runs: true,
        effects: false,
        unsubscribes: false,
    };
    pub const EFFECTS: Due = Due {
        runs: false,
        effects: true,
        unsubscribes: false,
    };
    pub const UNSUBSCRIBES: Due = Due {
        runs: false,
        effects: false,
        unsubscribes: true,
    };
    /// Everything (e.g. after a lost notification channel came back: anything may have been
    /// missed).
    pub const ALL: Due = Due {
        runs: true,
        effects: true,
        unsubscribes: true,
    };

    /// A step commit releases its run's lease, so events that arrived meanwhile are
    /// claimable now; its new effects and owed unsubscribes are due.
    pub fn of_step(step: &StepCommit) -> Due {
        Due {
            runs: true,
            effects: !step.new_effects.is_empty(),
            unsubscribes: !step.subscriptions.is_empty(),
        }
    }

    /// Only the new work a step made (what other nodes need to hear of): its timers and
    /// events, effects and owed unsubscribes, not its released lease.
    pub fn created_by_step(step: &StepCommit) -> Due {
        Due {
            runs: !step.new_events.is_empty(),
            ..Due::of_step(step)
        }
    }

    /// A step committed with its run's lease kept (`Store::commit_step_and_continue`): its
    /// events are its own run's, which stays leased to the node that steps it, so only its
    /// effects and owed unsubscribes are work for others. Its timers due later are found
    /// when the run is released, which wakes the runs loop.
    pub fn of_continued_step(step: &StepCommit) -> Due {
        Due {
            runs: false,
            ..Due::of_step(step)
        }
    }

    /// An event delivered to its run: a step committed with it made what its work makes; an
    /// event appended is for a claim, unless its run was leased to the caller.
    pub fn of_delivery(delivered: &Delivered, handoff: &Handoff) -> Due {
        match (delivered, &handoff.step) {
            (Delivered::Stepped, Some(step)) => Due::created_by_step(step),
            (Delivered::Queued, _) => Due::RUNS,
            _ => Due::default(),
        }
    }

    /// New runs: a run's first event, or the work its first step (taken with it) made.
    pub fn of_runs<'a>(runs: impl IntoIterator<Item = &'a NewRun>) -> Due {
        runs.into_iter().fold(Due::default(), |due, run| {
            due.or(match &run.started {
                Some(step) => Due::created_by_step(step),
                None => Due::RUNS,
            })
        })
    }

    pub fn or(self, other: Due) -> Due {
        Due {
            runs: self.runs || other.runs,
            effects: self.effects || other.effects,
            unsubscribes: self.unsubscribes || other.unsubscribes,
        }
    }

    pub fn is_empty(self) -> bool {
        self == Due::default()
    }

    /// The kinds as words (`runs`, `effects`, `unsubscribes`), e.g. notification payloads.
    pub fn words(self) -> Vec<&'static str> {
        [
            (self.runs, "runs"),
            (self.effects, "effects"),
            (self.unsubscribes, "unsubscribes"),
        ]
        .into_iter()
        .filter_map(|(set, word)| set.then_some(word))
        .collect()
    }

    /// The kind a word names; an unknown word wakes everything (a newer node's kind).
    pub fn from_word(word: &str) -> Due {
        match word {
            "runs" => Due::RUNS,
            "effects" => Due::EFFECTS,
            "unsubscribes" => Due::UNSUBSCRIBES,
            _ => Due::ALL,
        }
    }
}

/// A held workflow lock (see [`crate::Store::lock_workflow`]); released when dropped.
#[must_use = "the lock is released when the guard is dropped"]
pub struct WorkflowLock {
    _guard: Box<dyn Send + Sync>,
}

impl WorkflowLock {
    pub fn new(guard: impl Send + Sync + 'static) -> WorkflowLock {
        WorkflowLock {
            _guard: Box::new(guard),
        }
    }
}

impl std::fmt::Debug for WorkflowLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WorkflowLock")
    }
}
