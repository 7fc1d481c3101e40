//! What a step needs from outside the core: the definition it runs, the parameter values, the
//! workflow's identity, the current time and randomness. The core never reads a clock or an OS
//! random source; the runtime passes them in, and tests pass fixed ones.

use crate::Plan;
use hookflow_model::Definition;
use serde_json::{Map, Value};

/// Inputs of one [`crate::step`] besides the state and the event.
pub struct StepContext<'a> {
    pub definition: &'a Definition,
    /// Computed once per definition version.
    pub plan: &'a Plan,
    /// Effective parameter values (defaults overlaid by the workflow's values).
    pub parameters: &'a Map<String, Value>,
    pub workflow_name: &'a str,
    pub run_id: &'a str,
    /// Unix milliseconds.
    pub now: i64,
    pub env: &'a dyn Environment,
    pub limits: &'a Limits,
}

/// Engine-level settings that shape behaviour (passed explicitly: no global config).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Timeout of one outbound HTTP call when the action sets no `limit.timeout`.
    pub http_timeout_ms: u64,
    /// How long a webhook action waits for its callback, and a polled asynchronous operation
    /// may take, when the action sets no `limit.timeout`.
    pub webhook_timeout_ms: u64,
    /// The longest `limit.timeout` a webhook action may set; longer ones are cut to it.
    pub max_webhook_timeout_ms: u64,
    /// Most executions one step starts or skips; the rest of its work goes on in a later step
    /// (`Event::Continue`). Keeps a step's cost, and the wait of other runs, bounded however
    /// long a synchronous chain or loop is.
    pub max_actions_per_step: u32,
}

/// Services the runtime provides to a step.
pub trait Environment {
    /// 128 fresh random bits (for `guid()`, `rand()`).
    fn random_u128(&self) -> u128;
    /// The signed callback URL of a webhook action of this run (`listCallbackUrl()`).
    fn action_callback_url(&self, run_id: &str, action: &str) -> String;
}
