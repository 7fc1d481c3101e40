//! The expression scope of trigger-level evaluation, where no run exists: trigger
//! `conditions` and `splitOn` (which see the current fire), and webhook `subscribe` /
//! `unsubscribe` inputs (which see their callback URL and, for unsubscribe, the subscribe
//! response as `action().outputs`). Run-time functions (`body()`, `variables()`, ...) are not
//! available here.

use hookflow_engine::lookup_parameter;
use hookflow_expr::{Error, ErrorKind, Scope};
use serde_json::{Map, Value, json};

#[derive(Default)]
pub(crate) struct TriggerScope<'a> {
    pub workflow: &'a str,
    /// The engine's public URL, `workflow().endpoint`.
    pub endpoint: &'a str,
    pub parameters: Option<&'a Map<String, Value>>,
    /// The current fire's trigger object (conditions, splitOn).
    pub trigger: Option<&'a Value>,
    /// `listCallbackUrl()` (webhook subscribe and unsubscribe).
    pub callback_url: Option<&'a str>,
    /// `action()` (webhook unsubscribe): `{"outputs": <subscribe response>}`.
    pub action: Option<Value>,
}

impl Scope for TriggerScope<'_> {
    fn trigger(&self) -> Result<&Value, Error> {
        self.trigger.ok_or_else(|| unavailable("trigger"))
    }

    fn parameter(&self, name: &str) -> Result<Value, Error> {
        let parameters = self.parameters.ok_or_else(|| unavailable("parameters"))?;
        lookup_parameter(parameters, name)
    }

    fn workflow(&self) -> Result<Value, Error> {
        Ok(json!({
            "name": self.workflow,
            "id": format!("/workflows/{}", self.workflow),
            "type": "Microsoft.Logic/workflows",
            "endpoint": self.endpoint,
        }))
    }

    fn list_callback_url(&self) -> Result<Value, Error> {
        self.callback_url
            .map(|url| Value::String(url.to_owned()))
            .ok_or_else(|| unavailable("listCallbackUrl"))
    }

    fn current_action(&self) -> Result<Value, Error> {
        self.action.clone().ok_or_else(|| unavailable("action"))
    }
}

fn unavailable(function: &str) -> Error {
    Error {
        kind: ErrorKind::NotAvailable,
        message: format!("the template function '{function}' is not available here"),
        span: None,
    }
}
