//! The action tree → a flat arena, parents before children, in document order.
//!
//! Each action is parsed where it stands: its type, runAfter (names kept raw: a predecessor may
//! come later in the document, so `crate::validate` resolves them once every action exists),
//! limit, options, the container-specific parts here and the inputs in `inputs.rs`. Every action
//! gets an arena slot, even one that cannot be parsed, so that references to it do not cascade
//! into "no such action" errors; such a definition is rejected anyway.

use super::ctx::{
    Callback, Ctx, Path, check_keys, check_name, json_type, literal_str, operation_options,
};
use super::{conditions, duration, inputs};
use crate::{Action, ActionId, ActionKind, Branch, Limit, Parent, RunAfterStatus, StatusSet};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Most actions in one definition (spec §7).
const MAX_ACTIONS: usize = 500;
/// Deepest nesting of containers accepted. The documented Consumption limit is 8, but the
/// conformance corpus holds a Logic Apps Standard workflow with ten nested Ifs
/// (`28-nested-conditions.json`) that must validate; this bound only keeps recursion finite.
const MAX_DEPTH: usize = 32;
/// Most cases in a Switch (spec §6.5).
const MAX_CASES: usize = 25;

const ACTION_KEYS: &[&str] = &[
    "type",
    "kind",
    "inputs",
    "runAfter",
    "actions",
    "else",
    "cases",
    "default",
    "expression",
    "foreach",
    "limit",
    "runtimeConfiguration",
    "operationOptions",
    "trackedProperties",
    "description",
    "metadata",
];

/// The arena and what the second pass needs to know about each action.
#[derive(Debug, Default)]
pub(crate) struct Arena {
    pub(crate) actions: Vec<Action>,
    /// Parallel to `actions`.
    pub(crate) meta: Vec<Meta>,
    pub(crate) top_level: Vec<ActionId>,
    /// ASCII-lower-cased name → first action with that name.
    pub(crate) names: HashMap<String, ActionId>,
}

#[derive(Debug)]
pub(crate) struct Meta {
    pub(crate) path: Path,
    pub(crate) run_after: Vec<PendingRunAfter>,
}

/// One `runAfter` entry before its name is resolved.
#[derive(Debug)]
pub(crate) struct PendingRunAfter {
    pub(crate) name: String,
    pub(crate) path: Path,
    pub(crate) statuses: StatusSet,
}

/// Operation types this engine runs. Anything else is reported as unsupported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActionType {
    Compose,
    Http,
    Response,
    HttpWebhook,
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
    If,
    Switch,
    Foreach,
    Until,
    Scope,
}

impl ActionType {
    /// Type names are case-insensitive (`compose`, `http`).
    fn from_name(name: &str) -> Option<ActionType> {
        Some(match name.to_ascii_lowercase().as_str() {
            "compose" => Self::Compose,
            "http" => Self::Http,
            "response" => Self::Response,
            "httpwebhook" => Self::HttpWebhook,
            "terminate" => Self::Terminate,
            "wait" => Self::Wait,
            "initializevariable" => Self::InitializeVariable,
            "setvariable" => Self::SetVariable,
            "incrementvariable" => Self::IncrementVariable,
            "decrementvariable" => Self::DecrementVariable,
            "appendtoarrayvariable" => Self::AppendToArrayVariable,
            "appendtostringvariable" => Self::AppendToStringVariable,
            "parsejson" => Self::ParseJson,
            "query" => Self::Query,
            "select" => Self::Select,
            "join" => Self::Join,
            "table" => Self::Table,
            "if" => Self::If,
            "switch" => Self::Switch,
            "foreach" => Self::Foreach,
            "until" => Self::Until,
            "scope" => Self::Scope,
            _ => return None,
        })
    }
}

/// Parses `definition.actions` (at `path`) and everything nested in it.
pub(crate) fn parse_actions(ctx: &mut Ctx, actions: Option<&Value>, path: &Path) -> Arena {
    let mut walker = Walker {
        ctx,
        arena: Arena::default(),
    };
    walker.container(actions, path, None, Enclosing::default());
    let count = walker.arena.actions.len();
    if count > MAX_ACTIONS {
        walker.ctx.error(
            path,
            format!("too many actions: {count} (at most {MAX_ACTIONS})"),
        );
    }
    walker.arena
}

/// What surrounds an action: how deep it is and whether a loop encloses it.
#[derive(Debug, Clone, Copy, Default)]
struct Enclosing {
    depth: usize,
    in_loop: bool,
}

struct Walker<'c> {
    ctx: &'c mut Ctx,
    arena: Arena,
}

impl Walker<'_> {
    /// The `actions` object of a container (or of the definition) at `path`.
    fn container(
        &mut self,
        actions: Option<&Value>,
        path: &Path,
        parent: Option<Parent>,
        enclosing: Enclosing,
    ) {
        let Some(actions) = actions else { return };
        let Some(actions) = self.ctx.object(actions, path) else {
            return;
        };
        if enclosing.depth > MAX_DEPTH {
            self.ctx.error(
                path,
                format!("actions are nested more than {MAX_DEPTH} levels deep"),
            );
            return;
        }
        for (name, raw) in actions {
            self.action(name, raw, &path.key(name), parent.clone(), enclosing);
        }
    }

    fn action(
        &mut self,
        name: &str,
        raw: &Value,
        path: &Path,
        parent: Option<Parent>,
        enclosing: Enclosing,
    ) {
        check_name(self.ctx, name, path);
        let id = ActionId(self.arena.actions.len() as u32);
        let lower = name.to_ascii_lowercase();
        match self.arena.names.get(&lower) {
            // Expressions address actions by name from anywhere, so names are unique across
            // the whole definition, not per container.
            Some(first) => {
                let first = self.arena.meta[first.0 as usize].path.render();
                self.ctx.error(
                    path,
                    format!("duplicate action name '{name}' (also at {first})"),
                );
            }
            None => {
                self.arena.names.insert(lower, id);
            }
        }
        if parent.is_none() {
            self.arena.top_level.push(id);
        }

        let mut action = Action {
            name: name.to_owned(),
            parent: parent.clone(),
            run_after: Vec::new(),
            // Placeholder until the type is known; kept for actions that cannot be parsed.
            kind: ActionKind::Compose,
            inputs: None,
            limit: Limit::default(),
            operation_options: Default::default(),
            raw: raw.clone(),
        };
        let Some(object) = self.ctx.object(raw, path) else {
            self.push(action, path, Vec::new());
            return;
        };
        let run_after = self.run_after(object.get("runAfter"), &path.key("runAfter"));
        let Some(ty) = self.action_type(object, name, path) else {
            self.push(action, path, run_after);
            return;
        };
        check_keys(self.ctx, object, ACTION_KEYS, path);
        action.operation_options = operation_options(
            self.ctx,
            object.get("operationOptions"),
            &path.key("operationOptions"),
        );
        action.limit = limit(self.ctx, object.get("limit"), &path.key("limit"));
        if ty == ActionType::Response && enclosing.in_loop {
            self.ctx.error(
                path,
                "a Response action is not allowed inside Foreach or Until",
            );
        }
        if ty == ActionType::Terminate && enclosing.in_loop {
            self.ctx.error(
                path,
                "a Terminate action is not allowed inside Foreach or Until",
            );
        }
        if ty == ActionType::InitializeVariable && parent.is_some() {
            self.ctx.error(
                path,
                "InitializeVariable is only allowed at the top level, not inside another action",
            );
        }

        let inner = Enclosing {
            depth: enclosing.depth + 1,
            in_loop: enclosing.in_loop || matches!(ty, ActionType::Foreach | ActionType::Until),
        };
        let child = |branch| {
            Some(Parent {
                container: id,
                branch,
            })
        };
        match ty {
            ActionType::If => {
                let expression = conditions::parse_condition(
                    self.ctx,
                    object.get("expression"),
                    &path.key("expression"),
                );
                action.kind = ActionKind::If { expression };
                self.push(action, path, run_after);
                self.container(
                    object.get("actions"),
                    &path.key("actions"),
                    child(Branch::Actions),
                    inner,
                );
                if let Some(otherwise) = object.get("else") {
                    let else_path = path.key("else");
                    if let Some(otherwise) = self.ctx.object(otherwise, &else_path) {
                        check_keys(self.ctx, otherwise, &["actions"], &else_path);
                        self.container(
                            otherwise.get("actions"),
                            &else_path.key("actions"),
                            child(Branch::Else),
                            inner,
                        );
                    }
                }
            }
            ActionType::Switch => {
                let expression = match self.ctx.required(object, "expression", path) {
                    Some(v) => self
                        .ctx
                        .compile(v, &path.key("expression"), Callback::Forbidden),
                    None => hookflow_expr::CompiledValue::Constant(Value::Null),
                };
                let cases_path = path.key("cases");
                let cases_raw = match object.get("cases") {
                    Some(cases) => self.ctx.object(cases, &cases_path),
                    None => None,
                };
                let cases = self.switch_cases(cases_raw, &cases_path);
                action.kind = ActionKind::Switch { expression, cases };
                self.push(action, path, run_after);
                for (case_name, case) in cases_raw.into_iter().flatten() {
                    if let Some(case) = case.as_object() {
                        let case_path = cases_path.key(case_name).key("actions");
                        self.container(
                            case.get("actions"),
                            &case_path,
                            child(Branch::Case(case_name.clone())),
                            inner,
                        );
                    }
                }
                if let Some(default) = object.get("default") {
                    let default_path = path.key("default");
                    if let Some(default) = self.ctx.object(default, &default_path) {
                        check_keys(self.ctx, default, &["actions"], &default_path);
                        self.container(
                            default.get("actions"),
                            &default_path.key("actions"),
                            child(Branch::Default),
                            inner,
                        );
                    }
                }
            }
            ActionType::Foreach => {
                let items = match self.ctx.required(object, "foreach", path) {
                    Some(v) => self
                        .ctx
                        .compile(v, &path.key("foreach"), Callback::Forbidden),
                    None => hookflow_expr::CompiledValue::Constant(Value::Null),
                };
                let concurrency = self.foreach_concurrency(object, &action.operation_options, path);
                action.kind = ActionKind::Foreach { items, concurrency };
                self.push(action, path, run_after);
                self.container(
                    object.get("actions"),
                    &path.key("actions"),
                    child(Branch::Actions),
                    inner,
                );
            }
            ActionType::Until => {
                let expression = conditions::parse_condition(
                    self.ctx,
                    object.get("expression"),
                    &path.key("expression"),
                );
                action.kind = ActionKind::Until { expression };
                self.push(action, path, run_after);
                self.container(
                    object.get("actions"),
                    &path.key("actions"),
                    child(Branch::Actions),
                    inner,
                );
            }
            ActionType::Scope => {
                action.kind = ActionKind::Scope;
                self.push(action, path, run_after);
                self.container(
                    object.get("actions"),
                    &path.key("actions"),
                    child(Branch::Actions),
                    inner,
                );
            }
            leaf => {
                let (kind, compiled) = inputs::parse_inputs(
                    self.ctx,
                    leaf,
                    object.get("inputs"),
                    &path.key("inputs"),
                    path,
                );
                action.kind = kind;
                action.inputs = compiled;
                self.push(action, path, run_after);
            }
        }
    }

    fn push(&mut self, action: Action, path: &Path, run_after: Vec<PendingRunAfter>) {
        self.arena.actions.push(action);
        self.arena.meta.push(Meta {
            path: path.clone(),
            run_after,
        });
    }

    fn action_type(
        &mut self,
        object: &Map<String, Value>,
        action: &str,
        path: &Path,
    ) -> Option<ActionType> {
        let name = match object.get("type") {
            Some(Value::String(name)) => name,
            Some(other) => {
                self.ctx.error(
                    &path.key("type"),
                    format!("expected a string, got {}", json_type(other)),
                );
                return None;
            }
            None => {
                self.ctx
                    .error(&path.key("type"), "required property is missing");
                return None;
            }
        };
        let ty = ActionType::from_name(name);
        if ty.is_none() {
            self.ctx.error(
                &path.key("type"),
                format!("unsupported operation type '{name}' (action '{action}')"),
            );
        }
        ty
    }

    /// `runAfter`: predecessor name → statuses, names kept for the second pass.
    fn run_after(&mut self, value: Option<&Value>, path: &Path) -> Vec<PendingRunAfter> {
        let Some(value) = value else {
            return Vec::new();
        };
        let Some(entries) = self.ctx.object(value, path) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(entries.len());
        for (name, statuses) in entries {
            let entry_path = path.key(name);
            let Some(list) = statuses.as_array() else {
                self.ctx.error(
                    &entry_path,
                    format!("expected an array of statuses, got {}", json_type(statuses)),
                );
                continue;
            };
            if list.is_empty() {
                self.ctx.error(
                    &entry_path,
                    "at least one status is required (Succeeded, Failed, Skipped or TimedOut)",
                );
            }
            let mut set = StatusSet::default();
            for (i, status) in list.iter().enumerate() {
                match status.as_str().and_then(parse_status) {
                    Some(status) => set.insert(status),
                    None => self.ctx.error(
                        &entry_path.index(i),
                        format!("unknown status {status}: expected Succeeded, Failed, Skipped or TimedOut"),
                    ),
                }
            }
            out.push(PendingRunAfter {
                name: name.clone(),
                path: entry_path,
                statuses: set,
            });
        }
        out
    }

    /// `cases` of a Switch: each `{case, actions}`; case values unique constants (errata E13).
    fn switch_cases(
        &mut self,
        cases: Option<&Map<String, Value>>,
        path: &Path,
    ) -> Vec<(String, Value)> {
        let Some(cases) = cases else {
            return Vec::new();
        };
        if cases.len() > MAX_CASES {
            self.ctx.error(
                path,
                format!("too many cases: {} (at most {MAX_CASES})", cases.len()),
            );
        }
        let mut out: Vec<(String, Value)> = Vec::with_capacity(cases.len());
        for (name, case) in cases {
            let case_path = path.key(name);
            let Some(case) = self.ctx.object(case, &case_path) else {
                continue;
            };
            check_keys(self.ctx, case, &["case", "actions"], &case_path);
            let Some(value) = self.ctx.required(case, "case", &case_path) else {
                continue;
            };
            let value_path = case_path.key("case");
            let constant = match value {
                Value::String(s) => !is_expression(s),
                Value::Number(_) | Value::Bool(_) => true,
                _ => false,
            };
            if !constant {
                self.ctx.error(
                    &value_path,
                    "a case value must be a constant string, number or boolean, not an expression",
                );
                continue;
            }
            if let Some((other, _)) = out.iter().find(|(_, v)| v == value) {
                self.ctx.error(
                    &value_path,
                    format!("case value {value} is the same as in case '{other}'"),
                );
                continue;
            }
            out.push((name.clone(), value.clone()));
        }
        out
    }

    /// `runtimeConfiguration.concurrency.repetitions` (1–50) or `Sequential`, not both.
    fn foreach_concurrency(
        &mut self,
        object: &Map<String, Value>,
        options: &crate::OperationOptions,
        path: &Path,
    ) -> Option<u32> {
        let reps_path = path
            .key("runtimeConfiguration")
            .key("concurrency")
            .key("repetitions");
        let repetitions = object
            .get("runtimeConfiguration")
            .and_then(|c| c.get("concurrency"))
            .and_then(|c| c.get("repetitions"));
        let repetitions = match repetitions {
            None => None,
            Some(value) => match value.as_u64() {
                Some(n @ 1..=50) => Some(n as u32),
                _ => {
                    self.ctx.error(
                        &reps_path,
                        format!("expected an integer from 1 to 50, got {value}"),
                    );
                    None
                }
            },
        };
        let sequential = options.has("Sequential");
        if sequential && repetitions.is_some() {
            self.ctx.error(
                &path.key("operationOptions"),
                "Sequential cannot be combined with runtimeConfiguration.concurrency.repetitions",
            );
        }
        if sequential { Some(1) } else { repetitions }
    }
}

/// `limit.timeout` (ISO 8601) and `limit.count` (Until).
fn limit(ctx: &mut Ctx, value: Option<&Value>, path: &Path) -> Limit {
    let mut limit = Limit::default();
    let Some(value) = value else { return limit };
    let Some(object) = ctx.object(value, path) else {
        return limit;
    };
    check_keys(ctx, object, &["timeout", "count"], path);
    if let Some(timeout) = object.get("timeout") {
        let timeout_path = path.key("timeout");
        match literal_str(timeout) {
            Some(text) => match duration::parse_duration_ms(text) {
                Ok(ms) => limit.timeout_ms = Some(ms),
                Err(message) => ctx.error(&timeout_path, message),
            },
            None => ctx.error(
                &timeout_path,
                format!("expected an ISO 8601 duration such as PT1H, got {timeout}"),
            ),
        }
    }
    if let Some(count) = object.get("count") {
        match count.as_u64() {
            Some(n @ 1..=5000) => limit.count = Some(n),
            _ => ctx.error(
                &path.key("count"),
                format!("expected an integer from 1 to 5000, got {count}"),
            ),
        }
    }
    limit
}

fn parse_status(text: &str) -> Option<RunAfterStatus> {
    Some(match text.to_ascii_lowercase().as_str() {
        "succeeded" => RunAfterStatus::Succeeded,
        "failed" => RunAfterStatus::Failed,
        "skipped" => RunAfterStatus::Skipped,
        "timedout" => RunAfterStatus::TimedOut,
        _ => return None,
    })
}

/// Whether a JSON string holds an expression: `@...` (but not the `@@` escape) or `@{...}`.
fn is_expression(text: &str) -> bool {
    (text.starts_with('@') && !text.starts_with("@@")) || text.contains("@{")
}
