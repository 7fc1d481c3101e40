//! The typed definition: triggers, an arena of actions addressed by [`ActionId`], parameters
//! and outputs, with every expression compiled.
//!
//! Actions live in one flat arena (parents before children, in document order) so the engine can
//! address them by a small copyable id and keep per-action state in plain vectors or maps.

use hookflow_expr::CompiledValue;
use serde_json::Value;

/// Index of an action in [`Definition::actions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActionId(pub u32);

/// A parsed, validated workflow definition. Immutable once built; shared by every run of the
/// version it belongs to.
#[derive(Debug, Clone)]
pub struct Definition {
    pub parameters: Vec<ParameterDef>,
    pub triggers: Vec<Trigger>,
    /// Every action, nested ones included; `ActionId(i)` is `actions[i]`.
    pub actions: Vec<Action>,
    /// The actions of the top-level container, in document order.
    pub top_level: Vec<ActionId>,
    pub outputs: Vec<OutputDef>,
    /// The definition JSON as the user gave it.
    pub raw: Value,
    /// Action ids by lower-cased name: `outputs('X')` is looked up on every evaluation, and a
    /// scan of `actions` made each step cost grow with the definition's size.
    pub(crate) ids_by_name: std::collections::HashMap<String, ActionId>,
}

impl Definition {
    pub fn action(&self, id: ActionId) -> &Action {
        &self.actions[id.0 as usize]
    }

    /// Finds an action by name, case-insensitively (names are unique regardless of case).
    pub fn action_id(&self, name: &str) -> Option<ActionId> {
        if let Some(&id) = self.ids_by_name.get(name) {
            return Some(id);
        }
        self.ids_by_name.get(&name.to_lowercase()).copied()
    }

    /// Finds a trigger by name, case-insensitively.
    pub fn trigger(&self, name: &str) -> Option<&Trigger> {
        self.triggers
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
    }

    /// The actions directly inside `container` (`None` = top level), every branch together.
    pub fn children(&self, container: Option<ActionId>) -> impl Iterator<Item = ActionId> + '_ {
        self.actions
            .iter()
            .enumerate()
            .filter(move |(_, a)| a.parent.as_ref().map(|p| p.container) == container)
            .map(|(i, _)| ActionId(i as u32))
    }

    /// Whether any action (at any depth) is a Response: such runs answer their caller
    /// synchronously.
    pub fn has_response_action(&self) -> bool {
        self.actions
            .iter()
            .any(|a| matches!(a.kind, ActionKind::Response))
    }
}

/// `definition.parameters.<name>`.
#[derive(Debug, Clone)]
pub struct ParameterDef {
    pub name: String,
    pub ty: ParameterType,
    pub default_value: Option<Value>,
    pub allowed_values: Option<Vec<Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterType {
    Int,
    Float,
    String,
    SecureString,
    Bool,
    Array,
    Object,
    SecureObject,
}

impl ParameterType {
    /// `securestring` and `secureobject`: never returned by the API, never logged.
    pub fn is_secure(self) -> bool {
        matches!(self, Self::SecureString | Self::SecureObject)
    }
}

/// `definition.outputs.<name>`.
#[derive(Debug, Clone)]
pub struct OutputDef {
    pub name: String,
    pub ty: ParameterType,
    pub value: CompiledValue,
}

#[derive(Debug, Clone)]
pub struct Trigger {
    pub name: String,
    pub kind: TriggerKind,
    /// `conditions[].expression`: all must be true for a fire to start a run.
    pub conditions: Vec<CompiledValue>,
    /// `splitOn`: one run per item of the array it yields.
    pub split_on: Option<CompiledValue>,
    pub operation_options: OperationOptions,
    pub raw: Value,
}

#[derive(Debug, Clone)]
pub enum TriggerKind {
    /// `type: Request`: a callable endpoint.
    Request(RequestTrigger),
    /// `type: HttpWebhook`: subscribe on enable, a callback per fire.
    HttpWebhook(WebhookInputs),
    /// `type: Recurrence`: fires on a schedule (the runtime keeps its next occurrence as a row).
    Recurrence { recurrence: crate::Recurrence },
    /// `type: Http`: a polling HTTP trigger that makes the request in `inputs` on the
    /// `recurrence` schedule (validated; polling is not run yet). Real definitions use it, e.g.
    /// conformance `32-unicode-keys.json`.
    Http {
        inputs: CompiledValue,
        recurrence: crate::Recurrence,
    },
}

#[derive(Debug, Clone)]
pub struct RequestTrigger {
    /// Upper-case HTTP method; `None` accepts POST (and, as Logic Apps does, any method when
    /// no relative path is set is NOT assumed: default is POST).
    pub method: Option<String>,
    /// `relativePath` without a leading `/`, e.g. `customers/{customerId}`.
    pub relative_path: Option<String>,
    pub schema: Value,
    /// `inputs.callbackVerification` (hookflow extension): signatures every fire must carry.
    pub verification: Option<CallbackVerification>,
}

/// `inputs.subscribe` / `inputs.unsubscribe` of an HttpWebhook trigger or action. Each is the
/// whole object compiled; its shape (`method`, `uri`/`url`, `headers`, `queries`, `body`,
/// `authentication`, `retryPolicy`) is checked at parse time and read after evaluation.
#[derive(Debug, Clone)]
pub struct WebhookInputs {
    pub subscribe: CompiledValue,
    /// `None` when absent or `{}`: no unsubscribe call is made.
    pub unsubscribe: Option<CompiledValue>,
    /// `inputs.callbackVerification` (hookflow extension): signatures every callback must
    /// carry.
    pub verification: Option<CallbackVerification>,
}

/// Standard Webhooks verification of inbound callbacks (hookflow extension, see README).
#[derive(Debug, Clone)]
pub struct CallbackVerification {
    /// The `whsec_` secret; evaluated where no run exists, so only `parameters()` and
    /// `workflow()` are available to it.
    pub secret: CompiledValue,
    /// How far a message's `webhook-timestamp` may be from the engine's clock.
    pub tolerance_seconds: u64,
}

/// `operationOptions`, a comma-separated list, kept lower-cased for case-insensitive checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationOptions(pub Vec<String>);

impl OperationOptions {
    pub fn has(&self, option: &str) -> bool {
        self.0.iter().any(|o| o.eq_ignore_ascii_case(option))
    }
}

#[derive(Debug, Clone)]
pub struct Action {
    pub name: String,
    /// The container this action sits in, `None` at top level.
    pub parent: Option<Parent>,
    /// Predecessors in the same container with the statuses that let this action run. Empty =
    /// first in its container (or right after the trigger at top level).
    pub run_after: Vec<RunAfter>,
    pub kind: ActionKind,
    /// `inputs`, compiled (`None` when the type takes none, e.g. Scope).
    pub inputs: Option<CompiledValue>,
    pub limit: Limit,
    pub operation_options: OperationOptions,
    pub raw: Value,
}

/// Where an action sits: its container and which branch of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parent {
    pub container: ActionId,
    pub branch: Branch,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Branch {
    /// `actions` of If (the true branch), Scope, Foreach, Until.
    Actions,
    /// `else.actions` of If.
    Else,
    /// `cases.<name>.actions` of Switch.
    Case(String),
    /// `default.actions` of Switch.
    Default,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAfter {
    pub action: ActionId,
    pub statuses: StatusSet,
}

/// The action statuses `runAfter` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunAfterStatus {
    Succeeded,
    Failed,
    Skipped,
    TimedOut,
}

/// A small set of [`RunAfterStatus`]es.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatusSet(u8);

impl StatusSet {
    pub fn insert(&mut self, status: RunAfterStatus) {
        self.0 |= Self::bit(status);
    }
    pub fn contains(self, status: RunAfterStatus) -> bool {
        self.0 & Self::bit(status) != 0
    }
    fn bit(status: RunAfterStatus) -> u8 {
        match status {
            RunAfterStatus::Succeeded => 1,
            RunAfterStatus::Failed => 2,
            RunAfterStatus::Skipped => 4,
            RunAfterStatus::TimedOut => 8,
        }
    }
}

/// `limit` of an action.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limit {
    /// `limit.timeout` in whole milliseconds, parsed from its ISO 8601 duration.
    pub timeout_ms: Option<u64>,
    /// `limit.count` (Until).
    pub count: Option<u64>,
}

/// A boolean condition of If/Until: an expression string, or the object form
/// `{"and": [{"equals": [a, b]}]}`.
#[derive(Debug, Clone)]
pub enum Condition {
    Value(CompiledValue),
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    /// `{"<function>": [args...]}`, e.g. `equals`, `greater`, `contains`, `startsWith`.
    Call {
        function: String,
        args: Vec<CompiledValue>,
    },
}

/// The operation type and its type-specific parts. Inputs live in [`Action::inputs`].
#[derive(Debug, Clone)]
pub enum ActionKind {
    Compose,
    Http,
    Response,
    HttpWebhook(WebhookInputs),
    Terminate,
    Wait,
    InitializeVariable,
    SetVariable,
    IncrementVariable,
    DecrementVariable,
    AppendToArrayVariable,
    AppendToStringVariable,
    ParseJson,
    Query,
    Select,
    Join,
    Table,
    If {
        expression: Condition,
    },
    Switch {
        expression: CompiledValue,
        /// `(case name, case value)` in document order.
        cases: Vec<(String, Value)>,
    },
    Foreach {
        items: CompiledValue,
        /// `runtimeConfiguration.concurrency.repetitions`, or 1 with `Sequential`.
        concurrency: Option<u32>,
    },
    Until {
        expression: Condition,
    },
    Scope,
}

impl ActionKind {
    /// The canonical type name (`"Compose"`, `"HttpWebhook"`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Compose => "Compose",
            Self::Http => "Http",
            Self::Response => "Response",
            Self::HttpWebhook(_) => "HttpWebhook",
            Self::Terminate => "Terminate",
            Self::Wait => "Wait",
            Self::InitializeVariable => "InitializeVariable",
            Self::SetVariable => "SetVariable",
            Self::IncrementVariable => "IncrementVariable",
            Self::DecrementVariable => "DecrementVariable",
            Self::AppendToArrayVariable => "AppendToArrayVariable",
            Self::AppendToStringVariable => "AppendToStringVariable",
            Self::ParseJson => "ParseJson",
            Self::Query => "Query",
            Self::Select => "Select",
            Self::Join => "Join",
            Self::Table => "Table",
            Self::If { .. } => "If",
            Self::Switch { .. } => "Switch",
            Self::Foreach { .. } => "Foreach",
            Self::Until { .. } => "Until",
            Self::Scope => "Scope",
        }
    }

    /// Containers hold other actions.
    pub fn is_container(&self) -> bool {
        matches!(
            self,
            Self::If { .. }
                | Self::Switch { .. }
                | Self::Foreach { .. }
                | Self::Until { .. }
                | Self::Scope
        )
    }
}
