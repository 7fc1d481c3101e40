//! `Event::TimerFired`: a Wait action's delay is over. Only a Wait still running moves: a
//! timer of a cancelled run, or delivered twice, changes nothing.

use crate::step::enter;
use crate::{ActionKey, ActionStatus, RunState, StepContext, Transition, schedule};
use hookflow_model::ActionKind;

pub(crate) fn handle(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    action: &str,
    transition: &mut Transition,
) {
    let Some(key) = ActionKey::parse(ctx.definition, action) else {
        return;
    };
    if !matches!(ctx.definition.action(key.id).kind, ActionKind::Wait) {
        return;
    }
    let Some(current) = state
        .get_mut(&key)
        .filter(|a| a.status == ActionStatus::Running)
    else {
        return;
    };
    current.status = ActionStatus::Succeeded;
    current.code = Some("OK".into());
    current.end_time = Some(ctx.now);
    transition.touch_key(&key);
    enter(state, transition, &key.repetition);
    schedule::settle_after(state, ctx, key.id, transition);
}
