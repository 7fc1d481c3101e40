//! `Event::Start`: the run was created; start every top-level action with an empty `runAfter`.

use crate::schedule::{Agenda, drive};
use crate::{ActionKey, Repetition, RunState, StepContext, Transition};

pub(crate) fn handle(state: &mut RunState, ctx: &StepContext<'_>, transition: &mut Transition) {
    let mut agenda = Agenda::default();
    for &id in &ctx.definition.top_level {
        if ctx.definition.action(id).run_after.is_empty() {
            agenda.consider(ActionKey::new(id, Repetition::none()));
        }
    }
    drive(state, ctx, agenda, transition);
}
