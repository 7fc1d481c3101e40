//! The data workflow functions read: implemented by whoever evaluates (engine, validation,
//! trigger subscribe), each answering only what exists in its situation.

use crate::{Error, ErrorKind, Value};

fn not_available(what: &str) -> Error {
    Error {
        kind: ErrorKind::NotAvailable,
        message: format!("the template function '{what}' is not available here"),
        span: None,
    }
}

/// Where workflow functions get their data. Every method has a default that fails with
/// [`ErrorKind::NotAvailable`], so a scope implements only what its situation offers.
///
/// Name lookups (`parameter`, `variable`, `action`) should match names case-insensitively.
pub trait Scope {
    /// `trigger()`: the whole trigger object (`{name, inputs, outputs, startTime, ...}`);
    /// `triggerOutputs()` and `triggerBody()` are paths into it. Lent, not copied: an
    /// expression like `triggerBody()?['id']` copies only what it selects.
    fn trigger(&self) -> Result<&Value, Error> {
        Err(not_available("trigger"))
    }
    /// `actions('name')`: the action object `{name, inputs, outputs, status, code, startTime,
    /// endTime, error}`; `outputs()`/`body()` are derived from it. `Ok(None)` when the action
    /// exists but has not run (the caller's `?` decides), `Err` when no such action exists.
    fn action(&self, name: &str) -> Result<Option<Value>, Error> {
        Err(not_available(&format!("actions('{name}')")))
    }
    /// The outputs of `actions('name')`, lent: `outputs('name')` and `body('name')` are paths
    /// into them, so `body('Get')?['id']` copies only `id`. `Ok(None)` when the action exists
    /// but has not run or has no outputs; `Err` as for [`Scope::action`].
    fn action_outputs(&self, name: &str) -> Result<Option<&Value>, Error> {
        Err(not_available(&format!("outputs('{name}')")))
    }
    /// `action()`: the current action (webhook unsubscribe, trackedProperties, Until condition).
    fn current_action(&self) -> Result<Value, Error> {
        Err(not_available("action"))
    }
    /// `parameters('name')`.
    fn parameter(&self, name: &str) -> Result<Value, Error> {
        Err(not_available(&format!("parameters('{name}')")))
    }
    /// `variables('name')`.
    fn variable(&self, name: &str) -> Result<Value, Error> {
        Err(not_available(&format!("variables('{name}')")))
    }
    /// `workflow()`: `{name, id, type, run: {name, id, type}}`.
    fn workflow(&self) -> Result<Value, Error> {
        Err(not_available("workflow"))
    }
    /// `listCallbackUrl()`.
    fn list_callback_url(&self) -> Result<Value, Error> {
        Err(not_available("listCallbackUrl"))
    }
    /// `item()`: the current element of the innermost repeating action.
    fn item(&self) -> Result<Value, Error> {
        Err(not_available("item"))
    }
    /// `items('loop')`: the current element of the named Foreach.
    fn items(&self, loop_name: &str) -> Result<Value, Error> {
        Err(not_available(&format!("items('{loop_name}')")))
    }
    /// `iterationIndexes('loop')`.
    fn iteration_indexes(&self, loop_name: &str) -> Result<Value, Error> {
        Err(not_available(&format!("iterationIndexes('{loop_name}')")))
    }
    /// `result('scope')`.
    fn result(&self, scope_name: &str) -> Result<Value, Error> {
        Err(not_available(&format!("result('{scope_name}')")))
    }
    /// `appsetting('name')` (Logic Apps Standard): a configured application setting.
    fn app_setting(&self, name: &str) -> Result<Value, Error> {
        Err(not_available(&format!("appsetting('{name}')")))
    }
    /// The current time, for `utcNow()`, `getFutureTime()`, ... The core reads no clock.
    fn now(&self) -> Result<jiff::Timestamp, Error> {
        Err(not_available("utcNow"))
    }
    /// 128 fresh random bits, for `guid()`.
    fn random_u128(&self) -> Result<u128, Error> {
        Err(not_available("guid"))
    }
}
