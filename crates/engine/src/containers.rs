//! What containers (Scope, If, Switch, Foreach, Until) share: scheduling a branch, skipping
//! the branches not taken, noticing when a branch's content is done and ending the container
//! with a status derived from its content (logicapps-spec §5.3: Failed when a branch ends in
//! failure by the leaf rule the run uses, Succeeded otherwise).
//!
//! A branch is done when every action in it has a finished row in the iteration at hand: each
//! action ends up with one, run or skipped, so no count needs to be stored.

use crate::schedule::{Agenda, skipped};
use crate::{
    ActionKey, ActionStatus, Repetition, RunState, StepContext, Transition, actions, finish,
};
use hookflow_model::{ActionId, ActionKind, Branch};
use serde_json::{Value, json};

/// How a container ended.
pub(crate) enum Outcome {
    Succeeded,
    /// Failed with this error (`{code, message}`).
    Failed(Value),
}

impl Outcome {
    /// Failed when its content ended in failure.
    pub(crate) fn of_branch(failed: bool) -> Self {
        if failed {
            Self::Failed(json!({
                "code": "ActionFailed",
                "message": "An action failed. No dependent actions succeeded.",
            }))
        } else {
            Self::Succeeded
        }
    }
}

/// Schedules the first actions of `branch` of `container` in iteration `repetition`; false
/// when the branch is empty.
pub(crate) fn start_branch(
    ctx: &StepContext<'_>,
    container: ActionId,
    branch: &Branch,
    repetition: &Repetition,
    agenda: &mut Agenda,
) -> bool {
    let mut any = false;
    for id in ctx.plan.branch_starts(ctx.definition, container, branch) {
        agenda.consider(ActionKey::new(id, repetition.clone()));
        any = true;
    }
    any
}

/// Marks every action of a branch not taken Skipped (If, Switch).
pub(crate) fn skip_branch(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    container: ActionId,
    branch: &Branch,
    repetition: &Repetition,
    transition: &mut Transition,
) {
    for id in ctx.plan.branch(ctx.definition, container, branch) {
        let key = ActionKey::new(id, repetition.clone());
        let error = json!({
            "code": "ActionBranchingConditionNotSatisfied",
            "message": format!(
                "The execution of template action '{}' is skipped: the branch of '{}' it belongs to was not taken.",
                ctx.definition.action(id).name,
                ctx.definition.action(container).name
            ),
        });
        state.insert(key.clone(), skipped(ctx.now, error));
        transition.touch_key(&key);
    }
}

/// `child` finished: if that completes the content of its container's branch (or of one
/// iteration of a loop), move the container on.
pub(crate) fn child_finished(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    child: &ActionKey,
    container: ActionId,
    transition: &mut Transition,
    agenda: &mut Agenda,
) {
    let kind = &ctx.definition.action(container).kind;
    let looped = matches!(kind, ActionKind::Foreach { .. } | ActionKind::Until { .. });
    let body = &child.repetition;
    let instance = if looped {
        body.truncated(body.0.len().saturating_sub(1))
    } else {
        body.clone()
    };
    let container_key = ActionKey::new(container, instance);
    if state.get(&container_key).map(|a| a.status) != Some(ActionStatus::Running) {
        return;
    }
    let children = ctx.plan.children(container);
    let done = children.iter().all(|&c| {
        state
            .get(&ActionKey::new(c, body.clone()))
            .is_some_and(|a| a.status.is_terminal())
    });
    if !done {
        return;
    }
    match kind {
        ActionKind::Foreach { concurrency, .. } => actions::foreach::iteration_done(
            state,
            ctx,
            &container_key,
            *concurrency,
            transition,
            agenda,
        ),
        ActionKind::Until { expression } => actions::until::iteration_done(
            state,
            ctx,
            &container_key,
            body,
            expression,
            transition,
            agenda,
        ),
        _ => {
            let failed = finish::branch_failed(state, ctx, children, body);
            complete(
                state,
                ctx,
                &container_key,
                Outcome::of_branch(failed),
                transition,
                agenda,
            );
        }
    }
}

/// Ends a running container.
pub(crate) fn complete(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    key: &ActionKey,
    outcome: Outcome,
    transition: &mut Transition,
    agenda: &mut Agenda,
) {
    state.loops.remove(key);
    let Some(action) = state.get_mut(key) else {
        return;
    };
    action.end_time = Some(ctx.now);
    match outcome {
        Outcome::Succeeded => {
            action.status = ActionStatus::Succeeded;
            action.code = Some("OK".into());
        }
        Outcome::Failed(error) => {
            action.status = ActionStatus::Failed;
            action.code = error.get("code").and_then(Value::as_str).map(str::to_owned);
            action.error = Some(error);
        }
    }
    transition.touch_key(key);
    agenda.finished(key.clone());
}
