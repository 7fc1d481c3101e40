//! `Event::Start`: the run was created; start every top-level action with an empty `runAfter`.

use crate::{RunState, StepContext, Transition, schedule};

pub(crate) fn handle(state: &mut RunState, ctx: &StepContext<'_>, transition: &mut Transition) {
    let first: Vec<_> = ctx
        .definition
        .top_level
        .iter()
        .copied()
        .filter(|&id| ctx.definition.action(id).run_after.is_empty())
        .collect();
    schedule::start_and_settle(state, ctx, first, transition);
}
