//! Whole workflow documents: the definition plus parameter values, `state` and `kind`, in the
//! management API shape `{"definition", "parameters", "state"}`, the Logic Apps Standard
//! `workflow.json` shape `{"definition", "kind"}`, or an ARM resource's `{"properties": {...}}`.

use super::ctx::{Ctx, Path};
use super::{WorkflowDocument, definition_at};
use crate::Diagnostics;
use serde_json::{Map, Value};

pub(crate) fn parse_document(document: &Value) -> Result<WorkflowDocument, Diagnostics> {
    let mut ctx = Ctx::default();
    let parsed = parse(&mut ctx, document);
    ctx.finish(document)?;
    Ok(parsed)
}

fn parse(ctx: &mut Ctx, document: &Value) -> WorkflowDocument {
    let empty = Map::new();
    let root = Path::root();
    let top = ctx.object(document, &root).unwrap_or(&empty);
    // An ARM resource carries the workflow under `properties`, next to keys (name, location,
    // apiVersion, ...) that are not ours to check; inside it, only our keys are read.
    let (object, base) = match top.get("properties") {
        Some(Value::Object(properties)) if !top.contains_key("definition") => {
            (properties, root.key("properties"))
        }
        _ => {
            super::check_keys(
                ctx,
                top,
                &["definition", "parameters", "state", "kind"],
                &root,
            );
            (top, root)
        }
    };
    let definition_path = base.key("definition");
    let definition = match object.get("definition") {
        Some(definition) => definition_at(ctx, definition, &definition_path),
        None => {
            ctx.error(&definition_path, "required property is missing");
            definition_at(ctx, &Value::Object(Map::new()), &definition_path)
        }
    };
    let parameters = parameter_values(
        ctx,
        &definition,
        object.get("parameters"),
        &base.key("parameters"),
    );
    let enabled = match object.get("state") {
        None => None,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("Enabled") => Some(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("Disabled") => Some(false),
        Some(other) => {
            ctx.error(
                &base.key("state"),
                format!("expected \"Enabled\" or \"Disabled\", got {other}"),
            );
            None
        }
    };
    if let Some(kind) = object.get("kind") {
        let known = kind.as_str().is_some_and(|k| {
            k.eq_ignore_ascii_case("Stateful") || k.eq_ignore_ascii_case("Stateless")
        });
        if !known {
            ctx.error(
                &base.key("kind"),
                format!("expected \"Stateful\" or \"Stateless\", got {kind}"),
            );
        }
    }
    WorkflowDocument {
        definition,
        parameters,
        enabled,
    }
}

/// `parameters`: `{"<name>": {"value": v}}` for declared parameters, each value of the declared
/// type; every parameter without a default needs one. Returned keyed by the declared name.
fn parameter_values(
    ctx: &mut Ctx,
    definition: &crate::Definition,
    value: Option<&Value>,
    path: &Path,
) -> Map<String, Value> {
    let empty = Map::new();
    let given = match value {
        Some(value) => ctx.object(value, path).unwrap_or(&empty),
        None => &empty,
    };
    let mut out = Map::new();
    for (name, entry) in given {
        let entry_path = path.key(name);
        let Some(declared) = definition
            .parameters
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
        else {
            ctx.error(
                &entry_path,
                format!("parameter '{name}' is not declared in the definition"),
            );
            continue;
        };
        let Some(entry) = ctx.object(entry, &entry_path) else {
            continue;
        };
        super::check_keys(ctx, entry, &["value"], &entry_path);
        let Some(value) = ctx.required(entry, "value", &entry_path) else {
            continue;
        };
        crate::parameters::check_value(
            ctx,
            declared.ty,
            declared.allowed_values.as_deref(),
            value,
            &entry_path.key("value"),
        );
        out.insert(declared.name.clone(), value.clone());
    }
    for declared in &definition.parameters {
        if declared.default_value.is_none() && !out.contains_key(&declared.name) {
            ctx.error(
                &path.key(&declared.name),
                format!(
                    "parameter '{}' has no defaultValue, so a value is required",
                    declared.name
                ),
            );
        }
    }
    out
}
