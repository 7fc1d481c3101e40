//! Moving a run forward: deciding which actions start, which are skipped, and when the run
//! has ended (logicapps-spec §5.2).
//!
//! Synchronous actions (Compose, Response) finish inside the step that starts them, so one
//! step walks as far through the graph as it can without waiting for the outside world.

use crate::{ActionState, ActionStatus, RunState, StepContext, Transition, actions, finish};
use hookflow_model::{ActionId, RunAfterStatus};
use serde_json::json;
use std::collections::VecDeque;

/// Tries to start each of `candidates` (and, transitively, what their completion unblocks),
/// then ends the run if nothing is left in flight.
pub(crate) fn start_and_settle(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    candidates: Vec<ActionId>,
    transition: &mut Transition,
) {
    let mut queue: VecDeque<ActionId> = candidates.into();
    while let Some(id) = queue.pop_front() {
        if state.action(id).is_some() {
            continue;
        }
        match readiness(state, ctx, id) {
            Readiness::NotYet => continue,
            Readiness::Run => actions::start(state, ctx, id, transition),
            Readiness::Skip(error) => skip(state, ctx, id, error, transition),
        }
        if state.action(id).is_some_and(|a| a.status.is_terminal()) {
            queue.extend(ctx.plan.successors(id));
        }
    }
    if !state
        .actions
        .iter()
        .flatten()
        .any(|a| !a.status.is_terminal())
    {
        finish::complete_run(state, ctx, transition);
    }
}

/// After `finished` reached a terminal status outside of `start_and_settle` (an outcome
/// arrived), schedules its successors.
pub(crate) fn settle_after(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    finished: ActionId,
    transition: &mut Transition,
) {
    start_and_settle(
        state,
        ctx,
        ctx.plan.successors(finished).to_vec(),
        transition,
    );
}

enum Readiness {
    /// A predecessor has not finished.
    NotYet,
    Run,
    /// A predecessor finished with a status the action does not run after.
    Skip(serde_json::Value),
}

fn readiness(state: &RunState, ctx: &StepContext<'_>, id: ActionId) -> Readiness {
    let action = ctx.definition.action(id);
    let mut unmet = None;
    for run_after in &action.run_after {
        let Some(pred) = state
            .action(run_after.action)
            .filter(|a| a.status.is_terminal())
        else {
            return Readiness::NotYet;
        };
        if unmet.is_none() && !run_after.statuses.contains(as_run_after(pred.status)) {
            let pred_name = &ctx.definition.action(run_after.action).name;
            unmet = Some(json!({
                "code": "ActionConditionFailed",
                "message": format!(
                    "The execution of template action '{}' is skipped: the 'runAfter' condition for action '{}' is not satisfied. Expected status values '{}' and actual value '{}'.",
                    action.name,
                    pred_name,
                    expected_statuses(run_after.statuses),
                    pred.status
                ),
            }));
        }
    }
    match unmet {
        Some(error) => Readiness::Skip(error),
        None => Readiness::Run,
    }
}

fn skip(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    id: ActionId,
    error: serde_json::Value,
    transition: &mut Transition,
) {
    state.set_action(
        id,
        ActionState {
            status: ActionStatus::Skipped,
            code: Some("ActionSkipped".into()),
            start_time: Some(ctx.now),
            end_time: Some(ctx.now),
            inputs: None,
            outputs: None,
            error: Some(error),
        },
    );
    transition.touch(id);
}

/// How a finished action's status reads in `runAfter` terms. Cancelled only happens when the
/// whole run is cancelled, after which nothing is scheduled; it reads as Failed.
pub(crate) fn as_run_after(status: ActionStatus) -> RunAfterStatus {
    match status {
        ActionStatus::Succeeded => RunAfterStatus::Succeeded,
        ActionStatus::Skipped => RunAfterStatus::Skipped,
        ActionStatus::TimedOut => RunAfterStatus::TimedOut,
        ActionStatus::Failed
        | ActionStatus::Cancelled
        | ActionStatus::Running
        | ActionStatus::Waiting => RunAfterStatus::Failed,
    }
}

fn expected_statuses(set: hookflow_model::StatusSet) -> String {
    [
        (RunAfterStatus::Succeeded, "Succeeded"),
        (RunAfterStatus::Failed, "Failed"),
        (RunAfterStatus::Skipped, "Skipped"),
        (RunAfterStatus::TimedOut, "TimedOut"),
    ]
    .iter()
    .filter(|(s, _)| set.contains(*s))
    .map(|(_, name)| *name)
    .collect::<Vec<_>>()
    .join(", ")
}
