//! Starting an action: one module per action type. Synchronous types finish here; Http asks the
//! runtime for a call and finishes when its outcome arrives.

pub(crate) mod compose;
pub(crate) mod http;
pub(crate) mod response;
pub(crate) mod webhook;

use crate::{ActionState, ActionStatus, RunState, StepContext, Transition, scope::RunScope};
use hookflow_model::{ActionId, ActionKind};
use serde_json::{Value, json};

/// Starts action `id`, whose `runAfter` is satisfied.
pub(crate) fn start(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    id: ActionId,
    transition: &mut Transition,
) {
    state.set_action(id, ActionState::running(ctx.now));
    transition.touch(id);
    let action = ctx.definition.action(id);
    let outcome = match &action.kind {
        ActionKind::Compose => compose::start(state, ctx, id),
        ActionKind::Http => http::start(state, ctx, id, transition),
        ActionKind::Response => response::start(state, ctx, id, transition),
        ActionKind::HttpWebhook(inputs) => webhook::start(state, ctx, id, inputs, transition),
        other => Finished::failed(
            None,
            "ActionTypeNotSupported",
            format!(
                "The action type '{}' of action '{}' is accepted in definitions but cannot run in this version of hookflow yet.",
                other.type_name(),
                action.name
            ),
        ),
    };
    outcome.apply(state, ctx, id);
}

/// How starting an action ended, applied to its state in one place.
pub(crate) enum Finished {
    /// Still running: an outcome will arrive as an event. Inputs are recorded now.
    Pending {
        inputs: Value,
    },
    /// Waiting for a callback (a webhook action). Inputs are recorded now.
    Waiting {
        inputs: Value,
    },
    Done(Box<ActionState>),
}

impl Finished {
    pub(crate) fn succeeded(inputs: Option<Value>, outputs: Option<Value>) -> Self {
        Self::Done(Box::new(ActionState {
            status: ActionStatus::Succeeded,
            code: Some("OK".into()),
            start_time: None,
            end_time: None,
            inputs,
            outputs,
            error: None,
        }))
    }

    pub(crate) fn failed(inputs: Option<Value>, code: &str, message: String) -> Self {
        Self::Done(Box::new(ActionState {
            status: ActionStatus::Failed,
            code: Some(code.into()),
            start_time: None,
            end_time: None,
            inputs,
            outputs: None,
            error: Some(json!({ "code": code, "message": message })),
        }))
    }

    fn apply(self, state: &mut RunState, ctx: &StepContext<'_>, id: ActionId) {
        let Some(current) = state.action_mut(id) else {
            return;
        };
        match self {
            Finished::Pending { inputs } => current.inputs = Some(inputs),
            Finished::Waiting { inputs } => {
                current.inputs = Some(inputs);
                current.status = ActionStatus::Waiting;
            }
            Finished::Done(done) => {
                let start_time = current.start_time;
                *current = ActionState {
                    start_time,
                    end_time: Some(ctx.now),
                    ..*done
                };
            }
        }
    }
}

/// Evaluates the action's `inputs`, or explains why it could not as Logic Apps does
/// (`InvalidTemplate`).
pub(crate) fn evaluate_inputs(
    state: &RunState,
    ctx: &StepContext<'_>,
    id: ActionId,
) -> Result<Value, Finished> {
    let action = ctx.definition.action(id);
    let Some(inputs) = &action.inputs else {
        return Ok(Value::Null);
    };
    inputs
        .eval(&RunScope {
            ctx,
            state,
            current: Some(id),
        })
        .map_err(|error| {
            Finished::failed(
                None,
                "InvalidTemplate",
                format!(
                    "Unable to process template language expressions in action '{}' inputs: '{}'.",
                    action.name, error
                ),
            )
        })
}

/// Evaluates one part (`subscribe`, `unsubscribe`) of a webhook action's inputs, failing the
/// action as Logic Apps does (`InvalidTemplate`) when an expression cannot be evaluated.
pub(crate) fn evaluate_webhook_part(
    state: &RunState,
    ctx: &StepContext<'_>,
    id: ActionId,
    part: &hookflow_expr::CompiledValue,
    name: &str,
) -> Result<Value, Finished> {
    let action = ctx.definition.action(id);
    part.eval(&RunScope { ctx, state, current: Some(id) }).map_err(|error| {
        Finished::failed(
            None,
            "InvalidTemplate",
            format!(
                "Unable to process template language expressions in action '{}' inputs.{name}: '{}'.",
                action.name, error
            ),
        )
    })
}
