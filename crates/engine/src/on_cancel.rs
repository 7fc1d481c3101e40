//! `Event::Cancel`: stop the run. Actions in flight become Cancelled; outcomes that arrive
//! later find the run ended and change nothing.

use crate::{ActionStatus, RunState, RunStatus, StepContext, Transition};
use hookflow_model::ActionId;
use serde_json::json;

pub(crate) fn handle(state: &mut RunState, ctx: &StepContext<'_>, transition: &mut Transition) {
    for index in 0..state.actions.len() {
        let id = ActionId(index as u32);
        if let Some(action) = state.action_mut(id)
            && !action.status.is_terminal()
        {
            let was_waiting = action.status == ActionStatus::Waiting;
            action.status = ActionStatus::Cancelled;
            action.code = Some("Cancelled".into());
            action.end_time = Some(ctx.now);
            transition.touch(id);
            if was_waiting {
                crate::actions::webhook::stop_waiting(state, ctx, id, transition);
            }
        }
    }
    state.status = RunStatus::Cancelled;
    state.end_time = Some(ctx.now);
    state.error = Some(json!({ "code": "Cancelled", "message": "The run was cancelled." }));
    transition.run_changed = true;
}
