//! `Event::HttpCompleted`: an outbound call made for an action came back. The action's kind
//! decides what the response means; then its successors are scheduled.

use crate::step::enter;
use crate::{
    ActionKey, ActionStatus, HttpOutcome, RunState, StepContext, Transition, actions, schedule,
};

pub(crate) fn handle(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    action: &str,
    outcome: HttpOutcome,
    transition: &mut Transition,
) {
    let Some(key) = ActionKey::parse(ctx.definition, action) else {
        return;
    };
    // A late or repeated outcome (the action was cancelled, or the effect was carried out
    // twice after a crash) finds the action no longer running and changes nothing.
    if state.get(&key).map(|a| a.status) != Some(ActionStatus::Running) {
        return;
    }
    enter(state, transition, &key.repetition);
    let before = transition.effects.len();
    actions::http::complete(state, ctx, key.id, outcome, transition);
    // A poll of an asynchronous operation is another call of the same execution.
    actions::name_iteration_calls(ctx, &key, &mut transition.effects[before..]);
    if state.get(&key).is_some_and(|a| a.status.is_terminal()) {
        schedule::settle_after(state, ctx, key.id, transition);
    }
}
