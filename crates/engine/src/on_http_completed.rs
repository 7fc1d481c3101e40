//! `Event::HttpCompleted`: an outbound call made for an action came back. The action's kind
//! decides what the response means; then its successors are scheduled.

use crate::{ActionStatus, HttpOutcome, RunState, StepContext, Transition, actions, schedule};

pub(crate) fn handle(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    action: &str,
    outcome: HttpOutcome,
    transition: &mut Transition,
) {
    let Some(id) = ctx.definition.action_id(action) else {
        return;
    };
    // A late or repeated outcome (the action was cancelled, or the effect was carried out
    // twice after a crash) finds the action no longer running and changes nothing.
    if state.action(id).map(|a| a.status) != Some(ActionStatus::Running) {
        return;
    }
    actions::http::complete(state, ctx, id, outcome, transition);
    schedule::settle_after(state, ctx, id, transition);
}
