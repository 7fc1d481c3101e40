//! If: evaluate the condition, run `actions` or `else.actions`; the actions of the branch not
//! taken are Skipped (logicapps-spec §6.4). The result is recorded as the action's inputs
//! (`expressionResult`).

use super::{Finished, invalid_template};
use crate::schedule::Agenda;
use crate::{ActionKey, RunState, StepContext, Transition, condition, containers, scope::RunScope};
use hookflow_model::{Branch, Condition};
use serde_json::json;

pub(crate) fn start(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    key: &ActionKey,
    expression: &Condition,
    transition: &mut Transition,
    agenda: &mut Agenda,
) -> Finished {
    let result = condition::evaluate(expression, &RunScope::new(ctx, state, Some(key.id)));
    let taken = match result {
        Ok(taken) => taken,
        Err(error) => return invalid_template(ctx, key.id, "expression", error),
    };
    let (run, skip) = if taken {
        (Branch::Actions, Branch::Else)
    } else {
        (Branch::Else, Branch::Actions)
    };
    containers::skip_branch(state, ctx, key.id, &skip, &key.repetition, transition);
    let inputs = json!({ "expressionResult": taken });
    if containers::start_branch(ctx, key.id, &run, &key.repetition, agenda) {
        Finished::Pending { inputs }
    } else {
        Finished::succeeded(Some(inputs), None)
    }
}
