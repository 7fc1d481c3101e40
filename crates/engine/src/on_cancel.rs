//! `Event::Cancel`: stop the run. Actions in flight become Cancelled; outcomes that arrive
//! later find the run ended and change nothing.

use crate::{RunState, RunStatus, StepContext, Transition, finish};
use serde_json::json;

pub(crate) fn handle(state: &mut RunState, ctx: &StepContext<'_>, transition: &mut Transition) {
    finish::cancel_in_flight(state, ctx, None, transition);
    state.status = RunStatus::Cancelled;
    state.end_time = Some(ctx.now);
    state.error = Some(json!({ "code": "Cancelled", "message": "The run was cancelled." }));
    transition.run_changed = true;
}
