//! The step function: apply one [`Event`] to a [`RunState`], returning what changed and the
//! [`Effect`]s to carry out. One handler per event, each in its own module.

use crate::{ActionKey, Effect, Event, Repetition, RunState, StepContext};
use hookflow_model::ActionId;
use std::collections::HashSet;

/// What one step changed. The state itself was updated in place; these say which rows to write.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Transition {
    /// Action executions whose state changed (write their rows), in the order first changed.
    pub changed_actions: Vec<ActionKey>,
    /// The run's status, outputs or error changed (write the run row).
    pub run_changed: bool,
    /// A variable changed (write the run's variables).
    pub variables_changed: bool,
    pub effects: Vec<Effect>,
    /// Waits for a webhook callback opened or closed (written with the step, so the callback
    /// URL works before the subscribe call goes out).
    pub waits: Vec<WaitChange>,
    /// Unsubscribe calls to make (best effort, retried by the runtime; never awaited).
    pub unsubscribes: Vec<Unsubscribe>,
    /// Events to deliver to this run later (Wait actions): stored as inbox events due at
    /// `due_at`, so a timer is a row, never a sleeping task.
    pub timers: Vec<Timer>,
    /// `changed_actions` as a set, so reporting a change costs the same in a big step.
    seen: HashSet<ActionKey>,
    /// The repetition being worked on (mirrors `RunState::cursor`), for [`Transition::touch`].
    cursor: Repetition,
}

/// A change to the waits of a run's webhook actions.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitChange {
    /// The action waits for its callback until `timeout_at` (Unix ms).
    Open { action: String, timeout_at: i64 },
    /// The action stopped waiting (cancelled, or subscribe failed): later callbacks are refused.
    Close { action: String },
}

/// An unsubscribe call owed to the service of a webhook action.
#[derive(Debug, Clone, PartialEq)]
pub struct Unsubscribe {
    pub action: String,
    pub request: crate::HttpRequest,
}

/// An event for this run, due later.
#[derive(Debug, Clone, PartialEq)]
pub struct Timer {
    /// Unix milliseconds.
    pub due_at: i64,
    pub event: Event,
}

impl Transition {
    /// Reports a change to `id` in the iteration being worked on.
    pub(crate) fn touch(&mut self, id: ActionId) {
        let key = ActionKey::new(id, self.cursor.clone());
        self.touch_key(&key);
    }

    pub(crate) fn touch_key(&mut self, key: &ActionKey) {
        if self.seen.insert(key.clone()) {
            self.changed_actions.push(key.clone());
        }
    }

    /// Adds what a later step changed (the runtime applies several events per commit).
    pub fn merge(&mut self, later: Transition) {
        for key in later.changed_actions {
            self.touch_key(&key);
        }
        self.run_changed |= later.run_changed;
        self.variables_changed |= later.variables_changed;
        self.effects.extend(later.effects);
        self.waits.extend(later.waits);
        self.unsubscribes.extend(later.unsubscribes);
        self.timers.extend(later.timers);
    }
}

/// Points the state and the transition at the execution `key` is part of: its own iteration.
pub(crate) fn enter(state: &mut RunState, transition: &mut Transition, repetition: &Repetition) {
    if state.cursor != *repetition {
        state.cursor = repetition.clone();
        transition.cursor = repetition.clone();
    }
}

/// Applies `event` to `state`. Events for a run that has ended change nothing, but for a
/// late subscribe response: a webhook action that timed out or was cancelled while its
/// subscribe call was in flight owes the service an unsubscribe once that call has succeeded.
pub fn step(state: &mut RunState, event: Event, ctx: &StepContext<'_>) -> Transition {
    let mut transition = Transition::default();
    if state.status.is_terminal() && !matches!(event, Event::SubscribeCompleted { .. }) {
        return transition;
    }
    match event {
        Event::Start => crate::on_start::handle(state, ctx, &mut transition),
        Event::HttpCompleted { action, outcome } => {
            crate::on_http_completed::handle(state, ctx, &action, outcome, &mut transition)
        }
        Event::Cancel => crate::on_cancel::handle(state, ctx, &mut transition),
        Event::SubscribeCompleted { action, outcome } => {
            crate::actions::webhook::on_subscribe_completed(
                state,
                ctx,
                &action,
                outcome,
                &mut transition,
            )
        }
        Event::CallbackReceived {
            action,
            headers,
            body,
        } => crate::actions::webhook::on_callback(
            state,
            ctx,
            &action,
            headers,
            body,
            &mut transition,
        ),
        Event::WaitTimedOut { action } => {
            crate::actions::webhook::on_timed_out(state, ctx, &action, &mut transition)
        }
        Event::TimerFired { action } => {
            crate::on_timer_fired::handle(state, ctx, &action, &mut transition)
        }
        Event::Continue { agenda } => {
            crate::on_continue::handle(state, ctx, &agenda, &mut transition)
        }
    }
    // Between steps the state addresses the executions outside loops.
    enter(state, &mut transition, &Repetition::none());
    transition
}
