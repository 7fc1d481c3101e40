//! The expression [`Scope`] of a run: what `triggerBody()`, `body('x')`, `parameters('p')`,
//! `variables('v')`, `item()`, `result('s')`, `workflow()`, `utcNow()` and `guid()` read while
//! one of its actions evaluates.
//!
//! Inside a loop an expression sees its own iteration: the state's cursor is the repetition
//! being worked on, so `body('Inner')` is this iteration's `Inner`, and `item()` is this
//! iteration's element of the innermost Foreach around the action.

use crate::{ActionKey, ActionState, RunState, StepContext};
use hookflow_expr::{Error, ErrorKind, Scope};
use hookflow_model::{ActionId, ActionKind};
use serde_json::{Value, json};

pub(crate) struct RunScope<'a> {
    pub ctx: &'a StepContext<'a>,
    pub state: &'a RunState,
    /// The action being evaluated, for `listCallbackUrl()`, `action()` and loop functions.
    pub current: Option<ActionId>,
    /// The element `item()` means while a Query or Select evaluates one (`None`: the
    /// enclosing Foreach's).
    pub item: Option<&'a Value>,
}

impl<'a> RunScope<'a> {
    pub(crate) fn new(
        ctx: &'a StepContext<'a>,
        state: &'a RunState,
        current: Option<ActionId>,
    ) -> Self {
        Self {
            ctx,
            state,
            current,
            item: None,
        }
    }

    /// The loops whose iteration the evaluation is in, outermost first: those around the
    /// current action, and the current action itself when it is a loop evaluating inside an
    /// iteration (an Until's condition).
    fn context_loops(&self) -> Vec<ActionId> {
        let Some(current) = self.current else {
            return Vec::new();
        };
        let mut loops = Vec::new();
        if is_loop(&self.ctx.definition.action(current).kind)
            && self.state.cursor.0.len() > self.state.depth(current)
        {
            loops.push(current);
        }
        let mut at = self.ctx.definition.action(current).parent.as_ref();
        while let Some(parent) = at {
            let container = self.ctx.definition.action(parent.container);
            if is_loop(&container.kind) {
                loops.push(parent.container);
            }
            at = container.parent.as_ref();
        }
        loops.reverse();
        loops
    }

    /// The execution of `id` an expression here refers to: the one in the iterations it shares
    /// with the evaluation, and the latest one below that.
    fn resolve(&self, id: ActionId) -> Option<(ActionKey, &'a ActionState)> {
        let depth = self.state.depth(id);
        let context = self.context_loops();
        let mut shared = 0;
        let mut at = self.ctx.definition.action(id).parent.as_ref();
        let mut target_loops = Vec::new();
        while let Some(parent) = at {
            let container = self.ctx.definition.action(parent.container);
            if is_loop(&container.kind) {
                target_loops.push(parent.container);
            }
            at = container.parent.as_ref();
        }
        target_loops.reverse();
        while shared < context.len().min(target_loops.len())
            && context[shared] == target_loops[shared]
        {
            shared += 1;
        }
        let prefix = self.state.cursor.truncated(shared);
        if shared == depth {
            let key = ActionKey::new(id, prefix);
            return self.state.get(&key).map(|a| (key, a));
        }
        self.state
            .executions_under(id, &prefix)
            .next_back()
            .map(|(k, a)| (k.clone(), a))
    }

    /// The index of the current iteration of `loop_id` (one of [`Self::context_loops`]).
    fn iteration_of(&self, loop_id: ActionId) -> Option<u32> {
        self.state.cursor.0.get(self.state.depth(loop_id)).copied()
    }

    fn foreach_element(&self, loop_id: ActionId) -> Result<Value, Error> {
        let index = self
            .iteration_of(loop_id)
            .ok_or_else(|| not_in_loop("item"))?;
        let key = ActionKey::new(
            loop_id,
            self.state.cursor.truncated(self.state.depth(loop_id)),
        );
        Ok(self
            .state
            .get(&key)
            .and_then(|a| a.inputs.as_ref())
            .and_then(|items| items.get(index as usize))
            .cloned()
            .unwrap_or(Value::Null))
    }

    fn named_loop(&self, name: &str, function: &str) -> Result<ActionId, Error> {
        let id = self.ctx.definition.action_id(name);
        id.filter(|id| self.context_loops().contains(id))
            .ok_or_else(|| Error {
                kind: ErrorKind::InvalidArgument,
                message: format!("{function}('{name}'): '{name}' is not a loop around this action"),
                span: None,
            })
    }
}

fn is_loop(kind: &ActionKind) -> bool {
    matches!(kind, ActionKind::Foreach { .. } | ActionKind::Until { .. })
}

fn not_in_loop(function: &str) -> Error {
    Error {
        kind: ErrorKind::NotAvailable,
        message: format!("{function}() is only available inside a Foreach, Query or Select"),
        span: None,
    }
}

fn no_such_action(name: &str) -> Error {
    Error {
        kind: ErrorKind::InvalidArgument,
        message: format!("the action '{name}' does not exist in this workflow"),
        span: None,
    }
}

impl Scope for RunScope<'_> {
    fn trigger(&self) -> Result<&Value, Error> {
        Ok(self.state.trigger.as_ref())
    }

    fn action(&self, name: &str) -> Result<Option<Value>, Error> {
        let id = self
            .ctx
            .definition
            .action_id(name)
            .ok_or_else(|| no_such_action(name))?;
        let definition_name = &self.ctx.definition.action(id).name;
        Ok(self
            .resolve(id)
            .map(|(_, a)| action_object(definition_name, a)))
    }

    fn action_outputs(&self, name: &str) -> Result<Option<&Value>, Error> {
        let id = self
            .ctx
            .definition
            .action_id(name)
            .ok_or_else(|| no_such_action(name))?;
        Ok(self.resolve(id).and_then(|(_, a)| a.outputs.as_ref()))
    }

    fn variable(&self, name: &str) -> Result<Value, Error> {
        crate::actions::variables::find(&self.state.variables, name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| Error {
                kind: ErrorKind::InvalidArgument,
                message: format!("the variable '{name}' is not initialized"),
                span: None,
            })
    }

    fn item(&self) -> Result<Value, Error> {
        if let Some(item) = self.item {
            return Ok(item.clone());
        }
        let innermost = self
            .context_loops()
            .into_iter()
            .rev()
            .find(|&id| {
                matches!(
                    self.ctx.definition.action(id).kind,
                    ActionKind::Foreach { .. }
                )
            })
            .ok_or_else(|| not_in_loop("item"))?;
        self.foreach_element(innermost)
    }

    fn items(&self, loop_name: &str) -> Result<Value, Error> {
        let id = self.named_loop(loop_name, "items")?;
        if !matches!(
            self.ctx.definition.action(id).kind,
            ActionKind::Foreach { .. }
        ) {
            return Err(Error {
                kind: ErrorKind::InvalidArgument,
                message: format!("items('{loop_name}'): '{loop_name}' is not a Foreach"),
                span: None,
            });
        }
        self.foreach_element(id)
    }

    fn iteration_indexes(&self, loop_name: &str) -> Result<Value, Error> {
        let id = self.named_loop(loop_name, "iterationIndexes")?;
        let index = self
            .iteration_of(id)
            .ok_or_else(|| not_in_loop("iterationIndexes"))?;
        Ok(json!(index))
    }

    /// `result('container')`: the results of the actions directly inside it (for a loop, of
    /// its last iteration), in document order, those that never got a row left out.
    fn result(&self, scope_name: &str) -> Result<Value, Error> {
        let id = self
            .ctx
            .definition
            .action_id(scope_name)
            .ok_or_else(|| no_such_action(scope_name))?;
        let kind = &self.ctx.definition.action(id).kind;
        if !kind.is_container() {
            return Err(Error {
                kind: ErrorKind::InvalidArgument,
                message: format!("result('{scope_name}'): '{scope_name}' is not a scoped action"),
                span: None,
            });
        }
        let Some((key, _)) = self.resolve(id) else {
            return Ok(json!([]));
        };
        let children = self.ctx.plan.children(id);
        let inner = if is_loop(kind) {
            let last = children.first().and_then(|&first| {
                self.state
                    .executions_under(first, &key.repetition)
                    .next_back()
                    .map(|(k, _)| k.repetition.clone())
            });
            match last {
                Some(last) => last,
                None => return Ok(json!([])),
            }
        } else {
            key.repetition.clone()
        };
        let results = children
            .iter()
            .filter_map(|&child| {
                let state = self.state.get(&ActionKey::new(child, inner.clone()))?;
                Some(action_object(
                    &self.ctx.definition.action(child).name,
                    state,
                ))
            })
            .collect();
        Ok(Value::Array(results))
    }

    fn parameter(&self, name: &str) -> Result<Value, Error> {
        lookup_parameter(self.ctx.parameters, name)
    }

    fn workflow(&self) -> Result<Value, Error> {
        Ok(json!({
            "id": format!("/workflows/{}", self.ctx.workflow_name),
            "name": self.ctx.workflow_name,
            "type": "Microsoft.Logic/workflows",
            "run": {
                "id": format!("/workflows/{}/runs/{}", self.ctx.workflow_name, self.ctx.run_id),
                "name": self.ctx.run_id,
                "type": "Microsoft.Logic/workflows/runs",
            },
        }))
    }

    fn list_callback_url(&self) -> Result<Value, Error> {
        let id = self.current.filter(|&id| {
            matches!(
                self.ctx.definition.action(id).kind,
                hookflow_model::ActionKind::HttpWebhook(_)
            )
        });
        let id = id.ok_or_else(|| Error {
            kind: ErrorKind::NotAvailable,
            message: "listCallbackUrl() is only available in the inputs of an HttpWebhook action or trigger".into(),
            span: None,
        })?;
        // Each iteration of a loop has its own callback URL.
        let name = self.state.key(id).text(self.ctx.definition);
        Ok(Value::String(
            self.ctx.env.action_callback_url(self.ctx.run_id, &name),
        ))
    }

    /// `action()`: the current action, its outputs being what its subscribe call answered
    /// (what a webhook action's `unsubscribe` reads, `action().outputs.body.id`).
    fn current_action(&self) -> Result<Value, Error> {
        let id = self.current.ok_or_else(|| Error {
            kind: ErrorKind::NotAvailable,
            message: "action() is not available here".into(),
            span: None,
        })?;
        let name = &self.ctx.definition.action(id).name;
        let subscribe_response = self
            .state
            .action(id)
            .and_then(|a| a.inputs.as_ref())
            .and_then(|i| i.get("subscribeResponse"))
            .cloned()
            .unwrap_or(Value::Null);
        let mut action = json!({ "name": name, "outputs": null });
        action["outputs"] = subscribe_response;
        Ok(action)
    }

    fn now(&self) -> Result<jiff::Timestamp, Error> {
        jiff::Timestamp::from_millisecond(self.ctx.now).map_err(|e| Error {
            kind: ErrorKind::InvalidArgument,
            message: format!("the engine clock is out of range: {e}"),
            span: None,
        })
    }

    fn random_u128(&self) -> Result<u128, Error> {
        Ok(self.ctx.env.random_u128())
    }
}

/// A parameter by name, matched regardless of case (errata E3): `parameters('name')` in every
/// scope, the run's and the trigger's.
pub fn lookup_parameter(
    parameters: &serde_json::Map<String, Value>,
    name: &str,
) -> Result<Value, Error> {
    parameters
        .get(name)
        .or_else(|| {
            parameters
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
        .cloned()
        .ok_or_else(|| Error {
            kind: ErrorKind::InvalidArgument,
            message: format!("the workflow parameter '{name}' is not found"),
            span: None,
        })
}

/// The object `actions('name')` returns, as Logic Apps shapes it.
pub(crate) fn action_object(name: &str, action: &ActionState) -> Value {
    let mut object = json!({
        "name": name,
        "inputs": null,
        "outputs": null,
        "status": action.status.as_str(),
        "code": action.code,
        "startTime": action.start_time.map(format_time),
        "endTime": action.end_time.map(format_time),
    });
    // Cloned in, not through `json!`, which copies a value by serializing it node by node.
    object["inputs"] = action.inputs.clone().unwrap_or(Value::Null);
    object["outputs"] = action.outputs.clone().unwrap_or(Value::Null);
    if let Some(error) = &action.error {
        object["error"] = error.clone();
    }
    object
}

/// Unix milliseconds as Logic Apps writes timestamps (`2026-01-01T10:00:00.0000000Z`).
pub fn format_time(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%S.%7fZ").to_string(),
        Err(_) => String::new(),
    }
}
