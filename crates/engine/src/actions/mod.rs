//! Starting an action: one module per action type. Synchronous types finish here; Http asks the
//! runtime for a call and finishes when its outcome arrives; containers schedule their content
//! and finish when it has (`crate::containers`).
//!
//! Every handler works on the execution the state's cursor points at (see
//! [`crate::Repetition`]): `state.action(id)` is that iteration's row.

pub(crate) mod compose;
pub(crate) mod foreach;
pub(crate) mod http;
pub(crate) mod if_action;
pub(crate) mod join;
pub(crate) mod parse_json;
pub(crate) mod query;
pub(crate) mod response;
pub(crate) mod scope;
pub(crate) mod select;
pub(crate) mod signing;
pub(crate) mod switch;
pub(crate) mod table;
pub(crate) mod terminate;
pub(crate) mod until;
pub(crate) mod variables;
pub(crate) mod wait;
pub(crate) mod webhook;

use crate::schedule::Agenda;
use crate::{
    ActionKey, ActionState, ActionStatus, Effect, RunState, StepContext, Transition,
    scope::RunScope,
};
use hookflow_model::{ActionId, ActionKind};
use serde_json::{Value, json};

/// Starts the execution `key` (the cursor points at its iteration), whose `runAfter` is
/// satisfied.
pub(crate) fn start(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    key: &ActionKey,
    transition: &mut Transition,
    agenda: &mut Agenda,
) {
    let id = key.id;
    state.insert(key.clone(), ActionState::running(ctx.now));
    transition.touch_key(key);
    let action = ctx.definition.action(id);
    let outcome = match &action.kind {
        ActionKind::Compose => compose::start(state, ctx, id),
        ActionKind::Http => {
            let before = transition.effects.len();
            let outcome = http::start(state, ctx, id, transition);
            name_iteration_calls(ctx, key, &mut transition.effects[before..]);
            outcome
        }
        ActionKind::Response => response::start(state, ctx, id, transition),
        ActionKind::HttpWebhook(inputs) => webhook::start(state, ctx, id, inputs, transition),
        ActionKind::Scope => scope::start(state, ctx, key, agenda),
        ActionKind::If { expression } => {
            if_action::start(state, ctx, key, expression, transition, agenda)
        }
        ActionKind::Switch { expression, cases } => {
            switch::start(state, ctx, key, expression, cases, transition, agenda)
        }
        ActionKind::Foreach { items, concurrency } => {
            foreach::start(state, ctx, key, items, *concurrency, agenda)
        }
        ActionKind::Until { .. } => until::start(state, ctx, key, agenda),
        ActionKind::Terminate => terminate::start(state, ctx, key, transition),
        ActionKind::Wait => wait::start(state, ctx, key, transition),
        ActionKind::InitializeVariable
        | ActionKind::SetVariable
        | ActionKind::IncrementVariable
        | ActionKind::DecrementVariable
        | ActionKind::AppendToArrayVariable
        | ActionKind::AppendToStringVariable => variables::start(state, ctx, id, transition),
        ActionKind::ParseJson => parse_json::start(state, ctx, id),
        ActionKind::Query => query::start(state, ctx, id),
        ActionKind::Select => select::start(state, ctx, id),
        ActionKind::Join => join::start(state, ctx, id),
        ActionKind::Table => table::start(state, ctx, id),
    };
    outcome.apply(state, ctx, id);
}

/// An Http action inside a loop runs once per iteration: its call is named by the execution's
/// key text, so the outcome finds its iteration, and its idempotency key differs per iteration.
/// (The Http handler names calls by action; the iteration is added here.)
pub(crate) fn name_iteration_calls(ctx: &StepContext<'_>, key: &ActionKey, effects: &mut [Effect]) {
    if key.repetition.is_empty() {
        return;
    }
    let text = key.text(ctx.definition);
    for effect in effects {
        if let Effect::Http {
            action, request, ..
        } = effect
        {
            *action = text.clone();
            request.idempotency_key = format!("{}/{text}", ctx.run_id);
        }
    }
}

/// How starting an action ended, applied to its state in one place.
pub(crate) enum Finished {
    /// Still running: an outcome will arrive as an event (or, for a container, its content
    /// finishes). Inputs are recorded now.
    Pending {
        inputs: Value,
    },
    /// A container whose content was scheduled, with nothing to record as inputs.
    Running,
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

    /// Inputs that cannot be used: the action fails with `code` and `message`, its inputs
    /// recorded.
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
            Finished::Running => {}
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
        .eval(&RunScope::new(ctx, state, Some(id)))
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
    part.eval(&RunScope::new(ctx, state, Some(id))).map_err(|error| {
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

/// Evaluates one member (`from`, `where`, `select`, `content`, ...) of an action's inputs,
/// whose other members may need an `item()` the whole cannot have. `None` when the inputs have
/// no such literal key.
pub(crate) fn input_member<'a>(
    ctx: &'a StepContext<'_>,
    id: ActionId,
    member: &str,
) -> Option<std::borrow::Cow<'a, hookflow_expr::CompiledValue>> {
    use hookflow_expr::{CompiledValue, Template};
    use std::borrow::Cow;
    match ctx.definition.action(id).inputs.as_ref()? {
        CompiledValue::Constant(Value::Object(map)) => map
            .get(member)
            .map(|v| Cow::Owned(CompiledValue::Constant(v.clone()))),
        CompiledValue::Object(entries) => entries
            .iter()
            .find(|(k, _)| matches!(k, Template::Literal(k) if k == member))
            .map(|(_, v)| Cow::Borrowed(v)),
        _ => None,
    }
}

/// Fails an action whose inputs could not be evaluated, as Logic Apps does.
pub(crate) fn invalid_template(
    ctx: &StepContext<'_>,
    id: ActionId,
    part: &str,
    error: impl std::fmt::Display,
) -> Finished {
    Finished::failed(
        None,
        "InvalidTemplate",
        format!(
            "Unable to process template language expressions in action '{}' {part}: '{error}'.",
            ctx.definition.action(id).name
        ),
    )
}
