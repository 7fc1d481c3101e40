//! Parsing and validation: JSON → [`Definition`] plus every [`Diagnostic`](crate::Diagnostic).
//!
//! The first pass walks the JSON in document order: parameters, triggers, the action tree into
//! its arena, outputs, compiling every expression on the way. The second pass
//! (`crate::validate`) needs all of that: it resolves runAfter names, looks for cycles and
//! checks what expressions refer to. Diagnostics are collected throughout and sorted into
//! document order at the end; a definition with any diagnostic is never returned.

mod actions;
mod conditions;
mod ctx;
mod document;
pub(crate) mod duration;
mod inputs;
mod recurrence;
pub(crate) mod signing;
mod triggers;

pub(crate) use actions::Arena;
pub(crate) use ctx::{Callback, CompiledSite, Ctx, Path, check_keys, json_type};

use crate::{ActionId, Definition, Diagnostics};
use serde_json::{Map, Value};

/// A workflow as the management API receives it: `{"definition": ..., "parameters": {"p":
/// {"value": ...}}, "state": "Enabled"}`, or the Logic Apps Standard `workflow.json` shape
/// `{"definition": ..., "kind": "Stateful"}`.
#[derive(Debug, Clone)]
pub struct WorkflowDocument {
    pub definition: Definition,
    /// Parameter values by name (the `value` of each entry), checked against the declared types.
    pub parameters: Map<String, Value>,
    /// `Some(true)` for `"Enabled"`, `Some(false)` for `"Disabled"`, `None` when absent.
    pub enabled: Option<bool>,
}

/// Parses and validates a definition (the object under `"definition"`). Paths in diagnostics
/// are relative to it (`actions.Send.runAfter.Missing`, `triggers.manual.inputs.method`).
pub fn parse_definition(definition: &Value) -> Result<Definition, Diagnostics> {
    let mut ctx = Ctx::default();
    let parsed = definition_at(&mut ctx, definition, &Path::root());
    ctx.finish(definition)?;
    Ok(parsed)
}

/// Parses a whole workflow document; paths are relative to the document (`definition.actions...`,
/// `parameters.apiKey`). Checks parameter values against declared types, and that every
/// parameter without a default has a value.
pub fn parse_workflow_document(document: &Value) -> Result<WorkflowDocument, Diagnostics> {
    document::parse_document(document)
}

const TOP_LEVEL_KEYS: &[&str] = &[
    "$schema",
    "contentVersion",
    "parameters",
    "triggers",
    "actions",
    "outputs",
    "staticResults",
];

/// Parses the definition at `path`, reporting into `ctx`. Always returns a model (with
/// placeholders where parts were invalid) so that every problem can be found in one go.
pub(crate) fn definition_at(ctx: &mut Ctx, raw: &Value, path: &Path) -> Definition {
    let empty = Map::new();
    let object = match raw.as_object() {
        Some(object) => object,
        None => {
            ctx.error(
                path,
                format!("expected the definition object, got {}", json_type(raw)),
            );
            &empty
        }
    };
    check_keys(ctx, object, TOP_LEVEL_KEYS, path);
    for key in ["$schema", "contentVersion"] {
        if let Some(value) = object.get(key).filter(|v| !v.is_string()) {
            ctx.error(
                &path.key(key),
                format!("expected a string, got {}", json_type(value)),
            );
        }
    }
    let parameters =
        crate::parameters::parse_parameters(ctx, object.get("parameters"), &path.key("parameters"));
    let triggers = triggers::parse_triggers(ctx, object.get("triggers"), &path.key("triggers"));
    let mut arena = actions::parse_actions(ctx, object.get("actions"), &path.key("actions"));
    let outputs =
        crate::parameters::parse_outputs(ctx, object.get("outputs"), &path.key("outputs"));
    crate::validate::check(ctx, &mut arena, &parameters);
    let ids_by_name = arena
        .actions
        .iter()
        .enumerate()
        .map(|(index, action)| (action.name.to_lowercase(), ActionId(index as u32)))
        .collect();
    Definition {
        parameters,
        triggers,
        actions: arena.actions,
        top_level: arena.top_level,
        outputs,
        raw: raw.clone(),
        ids_by_name,
    }
}
