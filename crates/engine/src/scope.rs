//! The expression [`Scope`] of a run: what `triggerBody()`, `body('x')`, `parameters('p')`,
//! `workflow()`, `utcNow()` and `guid()` read while one of its actions evaluates.

use crate::{ActionState, RunState, StepContext};
use hookflow_expr::{Error, ErrorKind, Scope};
use serde_json::{Value, json};

pub(crate) struct RunScope<'a> {
    pub ctx: &'a StepContext<'a>,
    pub state: &'a RunState,
    /// The action being evaluated, for `listCallbackUrl()` and `action()`.
    pub current: Option<hookflow_model::ActionId>,
}

impl Scope for RunScope<'_> {
    fn trigger(&self) -> Result<Value, Error> {
        Ok(self.state.trigger.clone())
    }

    fn action(&self, name: &str) -> Result<Option<Value>, Error> {
        let id = self.ctx.definition.action_id(name).ok_or_else(|| Error {
            kind: ErrorKind::InvalidArgument,
            message: format!("the action '{name}' does not exist in this workflow"),
            span: None,
        })?;
        let definition_name = &self.ctx.definition.action(id).name;
        Ok(self
            .state
            .action(id)
            .map(|a| action_object(definition_name, a)))
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
        let name = &self.ctx.definition.action(id).name;
        Ok(Value::String(
            self.ctx.env.action_callback_url(self.ctx.run_id, name),
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
        Ok(json!({ "name": name, "outputs": subscribe_response }))
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
        "inputs": action.inputs,
        "outputs": action.outputs,
        "status": action.status.as_str(),
        "code": action.code,
        "startTime": action.start_time.map(format_time),
        "endTime": action.end_time.map(format_time),
    });
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
