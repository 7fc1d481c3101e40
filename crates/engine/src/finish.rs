//! Ending a run and judging a branch: the run's status from how its branches ended
//! (logicapps-spec §5.2) — the same leaf rule decides a container's status — its error, its
//! `outputs` section, and stopping everything in flight (cancel, Terminate).

use crate::step::enter;
use crate::{
    ActionKey, ActionStatus, Repetition, RunState, RunStatus, StepContext, Transition,
    scope::RunScope,
};
use hookflow_model::ActionId;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// Ends the run now that no action is in flight.
pub(crate) fn complete_run(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    transition: &mut Transition,
) {
    if branch_failed(state, ctx, &ctx.definition.top_level, &Repetition::none()) {
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

/// Ends the run with `status` at once (a Terminate action): everything in flight but
/// `except` is cancelled and nothing else starts.
pub(crate) fn terminate(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    status: RunStatus,
    error: Option<Value>,
    except: &ActionKey,
    transition: &mut Transition,
) {
    cancel_in_flight(state, ctx, Some(except), transition);
    state.status = status;
    state.error = error;
    let cursor = state.cursor.clone();
    enter(state, transition, &Repetition::none());
    state.outputs = Some(evaluate_outputs(state, ctx));
    enter(state, transition, &cursor);
    state.end_time = Some(ctx.now);
    transition.run_changed = true;
}

/// Marks every execution still running or waiting Cancelled; waiting webhook actions close
/// their waits and unsubscribe.
pub(crate) fn cancel_in_flight(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    except: Option<&ActionKey>,
    transition: &mut Transition,
) {
    let in_flight: Vec<(ActionKey, ActionStatus)> = state
        .actions()
        .filter(|(key, a)| !a.status.is_terminal() && Some(*key) != except)
        .map(|(key, a)| (key.clone(), a.status))
        .collect();
    let cursor = state.cursor.clone();
    for (key, status) in in_flight {
        if let Some(action) = state.get_mut(&key) {
            action.status = ActionStatus::Cancelled;
            action.code = Some("Cancelled".into());
            action.end_time = Some(ctx.now);
        }
        transition.touch_key(&key);
        if status == ActionStatus::Waiting
            && matches!(
                ctx.definition.action(key.id).kind,
                hookflow_model::ActionKind::HttpWebhook(_)
            )
        {
            enter(state, transition, &key.repetition);
            crate::actions::webhook::stop_waiting(state, ctx, key.id, transition);
        }
    }
    enter(state, transition, &cursor);
    state.loops.clear();
}

/// Whether a branch made of `actions` (one container's content, in iteration `repetition`)
/// ended in failure: some leaf ended in failure.
pub(crate) fn branch_failed(
    state: &RunState,
    ctx: &StepContext<'_>,
    actions: &[ActionId],
    repetition: &Repetition,
) -> bool {
    let mut memo = HashMap::new();
    actions
        .iter()
        .any(|&id| ctx.plan.is_leaf(id) && ended_in_failure(state, ctx, id, repetition, &mut memo))
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
    repetition: &Repetition,
    memo: &mut HashMap<ActionId, bool>,
) -> bool {
    if let Some(&known) = memo.get(&id) {
        return known;
    }
    let key = ActionKey::new(id, repetition.clone());
    let failed = match state.get(&key).map(|a| a.status) {
        Some(ActionStatus::Failed | ActionStatus::TimedOut | ActionStatus::Cancelled) => true,
        Some(ActionStatus::Skipped) => ctx
            .definition
            .action(id)
            .run_after
            .iter()
            .any(|r| ended_in_failure(state, ctx, r.action, repetition, memo)),
        _ => false,
    };
    memo.insert(id, failed);
    failed
}

/// The definition's `outputs`: `{name: {type, value}}`. A value that fails to evaluate is
/// recorded with its error rather than failing a run that has already ended.
fn evaluate_outputs(state: &RunState, ctx: &StepContext<'_>) -> Value {
    let scope = RunScope::new(ctx, state, None);
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
