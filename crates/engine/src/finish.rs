//! Ending a run: its status from how its branches ended (logicapps-spec §5.2), its error and
//! its `outputs` section.

use crate::{ActionStatus, RunState, RunStatus, StepContext, Transition, scope::RunScope};
use hookflow_model::ActionId;
use serde_json::{Map, Value, json};

/// Ends the run now that no action is in flight.
pub(crate) fn complete_run(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    transition: &mut Transition,
) {
    let mut memo = vec![None; state.actions.len()];
    let failed = ctx
        .definition
        .top_level
        .iter()
        .any(|&id| ctx.plan.is_leaf(id) && ended_in_failure(state, ctx, id, &mut memo));
    if failed {
        state.status = RunStatus::Failed;
        state.error = Some(json!({
            "code": "ActionFailed",
            "message": "An action failed. No dependent actions succeeded.",
        }));
    } else {
        state.status = RunStatus::Succeeded;
    }
    state.outputs = Some(evaluate_outputs(state, ctx));
    state.end_time = Some(ctx.now);
    transition.run_changed = true;
}

/// Whether the branch ending at `id` ended in failure. A skipped action takes its branch's
/// status from its predecessors: skipped because a predecessor failed is a failure; skipped
/// because a failure was handled elsewhere is not.
///
/// `memo` holds each action's answer once known: skipped actions with several skipped
/// predecessors (diamonds) would otherwise be walked once per path, exponentially many.
fn ended_in_failure(
    state: &RunState,
    ctx: &StepContext<'_>,
    id: ActionId,
    memo: &mut [Option<bool>],
) -> bool {
    if let Some(known) = memo[id.0 as usize] {
        return known;
    }
    let failed = match state.action(id).map(|a| a.status) {
        Some(ActionStatus::Failed | ActionStatus::TimedOut | ActionStatus::Cancelled) => true,
        Some(ActionStatus::Skipped) => ctx
            .definition
            .action(id)
            .run_after
            .iter()
            .any(|r| ended_in_failure(state, ctx, r.action, memo)),
        _ => false,
    };
    memo[id.0 as usize] = Some(failed);
    failed
}

/// The definition's `outputs`: `{name: {type, value}}`. A value that fails to evaluate is
/// recorded with its error rather than failing a run that has already ended.
fn evaluate_outputs(state: &RunState, ctx: &StepContext<'_>) -> Value {
    let scope = RunScope {
        ctx,
        state,
        current: None,
    };
    let mut outputs = Map::new();
    for output in &ctx.definition.outputs {
        let entry = match output.value.eval(&scope) {
            Ok(value) => json!({ "type": format!("{:?}", output.ty), "value": value }),
            Err(error) => json!({
                "type": format!("{:?}", output.ty),
                "error": { "code": "InvalidTemplate", "message": error.to_string() },
            }),
        };
        outputs.insert(output.name.clone(), entry);
    }
    Value::Object(outputs)
}
