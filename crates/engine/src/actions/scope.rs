//! Scope: runs its actions; its status is derived from them (`crate::containers`).

use super::Finished;
use crate::schedule::Agenda;
use crate::{ActionKey, RunState, StepContext, containers};
use hookflow_model::Branch;

pub(crate) fn start(
    _state: &RunState,
    ctx: &StepContext<'_>,
    key: &ActionKey,
    agenda: &mut Agenda,
) -> Finished {
    if containers::start_branch(ctx, key.id, &Branch::Actions, &key.repetition, agenda) {
        Finished::Running
    } else {
        Finished::succeeded(None, None)
    }
}
