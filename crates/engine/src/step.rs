//! The step function: apply one [`Event`] to a [`RunState`], returning what changed and the
//! [`Effect`]s to carry out. One handler per event, each in its own module.

use crate::{Effect, Event, RunState, StepContext};
use hookflow_model::ActionId;

/// What one step changed. The state itself was updated in place; these say which rows to write.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Transition {
    /// Actions whose state changed (write their rows).
    pub changed_actions: Vec<ActionId>,
    /// The run's status, outputs or error changed (write the run row).
    pub run_changed: bool,
    pub effects: Vec<Effect>,
    /// Waits for a webhook callback opened or closed (written with the step, so the callback
    /// URL works before the subscribe call goes out).
    pub waits: Vec<WaitChange>,
    /// Unsubscribe calls to make (best effort, retried by the runtime; never awaited).
    pub unsubscribes: Vec<Unsubscribe>,
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

impl Transition {
    pub(crate) fn touch(&mut self, id: ActionId) {
        if !self.changed_actions.contains(&id) {
            self.changed_actions.push(id);
        }
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
    }
    transition
}
