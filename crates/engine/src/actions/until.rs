//! Until: run the body, then check the condition — at least once, until it is true, the
//! iteration count reaches `limit.count` (60 by default) or `limit.timeout` (PT1H by default)
//! has passed since the loop started, checked between iterations (logicapps-spec §6.7).
//!
//! Its status is that of its last iteration (errata E1); reaching a limit is Succeeded unless
//! `operationOptions` holds `FailWhenLimitsReached`. The condition sees the iteration that
//! just ended (`body('Inner')` is its `Inner`).

use super::Finished;
use crate::schedule::Agenda;
use crate::state::LoopProgress;
use crate::step::enter;
use crate::{
    ActionKey, Repetition, RunState, StepContext, Transition, condition, containers, finish,
    scope::RunScope,
};
use hookflow_model::{Branch, Condition};
use serde_json::json;

const DEFAULT_COUNT: u64 = 60;
const DEFAULT_TIMEOUT_MS: u64 = 3_600_000;

pub(crate) fn start(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    key: &ActionKey,
    agenda: &mut Agenda,
) -> Finished {
    if ctx.plan.children(key.id).is_empty() {
        return Finished::succeeded(None, None);
    }
    start_iteration(ctx, key, 0, agenda);
    state.loops.insert(
        key.clone(),
        LoopProgress {
            started: 1,
            done: 0,
        },
    );
    Finished::Running
}

/// Iteration `body` finished: check the condition and the limits, then go round again or end.
pub(crate) fn iteration_done(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    key: &ActionKey,
    body: &Repetition,
    expression: &Condition,
    transition: &mut Transition,
    agenda: &mut Agenda,
) {
    let Some(progress) = state.loops.get_mut(key) else {
        return;
    };
    progress.done += 1;
    let started = progress.started;
    let action = ctx.definition.action(key.id);
    let cursor = state.cursor.clone();
    enter(state, transition, body);
    let result = condition::evaluate(expression, &RunScope::new(ctx, state, Some(key.id)));
    enter(state, transition, &cursor);
    let last_failed = finish::branch_failed(state, ctx, ctx.plan.children(key.id), body);
    let outcome = match result {
        Err(error) => containers::Outcome::Failed(json!({
            "code": "InvalidTemplate",
            "message": format!(
                "Unable to process template language expressions in action '{}' expression: '{error}'.",
                action.name
            ),
        })),
        Ok(true) => containers::Outcome::of_branch(last_failed),
        Ok(false) => {
            let count = action.limit.count.unwrap_or(DEFAULT_COUNT);
            let timeout = action.limit.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS) as i64;
            let started_at = state.get(key).and_then(|a| a.start_time).unwrap_or(ctx.now);
            let limit_reached =
                u64::from(started) >= count || ctx.now.saturating_sub(started_at) >= timeout;
            if !limit_reached {
                start_iteration(ctx, key, started, agenda);
                if let Some(progress) = state.loops.get_mut(key) {
                    progress.started += 1;
                }
                return;
            }
            if action.operation_options.has("FailWhenLimitsReached") {
                containers::Outcome::Failed(json!({
                    "code": "LimitsReached",
                    "message": format!(
                        "The 'Until' action '{}' reached its limits ({started} iterations) before its condition was true.",
                        action.name
                    ),
                }))
            } else {
                containers::Outcome::of_branch(last_failed)
            }
        }
    };
    containers::complete(state, ctx, key, outcome, transition, agenda);
}

fn start_iteration(ctx: &StepContext<'_>, key: &ActionKey, index: u32, agenda: &mut Agenda) {
    let repetition = key.repetition.child(index);
    containers::start_branch(ctx, key.id, &Branch::Actions, &repetition, agenda);
}
