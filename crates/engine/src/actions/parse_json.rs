//! ParseJson: its output body is the content (text is parsed as JSON first), validated against
//! the schema; a mismatch fails the action with `ValidationFailed` listing every problem
//! (logicapps-spec §6.12).
//!
//! The schema subset is what Logic Apps designers emit: `type` (a name or a list of names),
//! `properties`, `required`, `items`, `enum`. Anything else in the schema is ignored.

use super::{Finished, evaluate_inputs};
use crate::{RunState, StepContext};
use hookflow_model::ActionId;
use serde_json::{Value, json};

/// Problems reported at most, so a huge mismatching array does not make a huge error.
const MAX_PROBLEMS: usize = 20;

pub(crate) fn start(state: &RunState, ctx: &StepContext<'_>, id: ActionId) -> Finished {
    let inputs = match evaluate_inputs(state, ctx, id) {
        Ok(inputs) => inputs,
        Err(failed) => return failed,
    };
    let content = match inputs.get("content").cloned().unwrap_or(Value::Null) {
        Value::String(text) => match serde_json::from_str(&text) {
            Ok(parsed) => parsed,
            Err(error) => {
                return Finished::failed(
                    Some(inputs),
                    "ValidationFailed",
                    format!("The content is not valid JSON: {error}."),
                );
            }
        },
        other => other,
    };
    let schema = inputs.get("schema").cloned().unwrap_or(json!({}));
    let mut problems = Vec::new();
    validate(&content, &schema, "", &mut problems);
    if problems.is_empty() {
        return Finished::succeeded(Some(inputs), Some(json!({ "body": content })));
    }
    Finished::failed(
        Some(inputs),
        "ValidationFailed",
        format!("The schema validation failed: {}.", problems.join("; ")),
    )
}

/// Appends to `problems` every way `value` (at JSON path `path`) breaks `schema`.
fn validate(value: &Value, schema: &Value, path: &str, problems: &mut Vec<String>) {
    if problems.len() >= MAX_PROBLEMS {
        return;
    }
    let at = if path.is_empty() { "the content" } else { path };
    if let Some(types) = schema.get("type") {
        let allowed: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !allowed.is_empty() && !allowed.iter().any(|t| has_type(value, t)) {
            problems.push(format!(
                "{at}: expected {}, got {}",
                allowed.join(" or "),
                type_of(value)
            ));
            return;
        }
    }
    if let Some(Value::Array(options)) = schema.get("enum")
        && !options.contains(value)
    {
        problems.push(format!(
            "{at}: {value} is not one of {}",
            Value::Array(options.clone())
        ));
    }
    if let Value::Object(object) = value {
        if let Some(Value::Array(required)) = schema.get("required") {
            for name in required.iter().filter_map(Value::as_str) {
                if !object.contains_key(name) {
                    problems.push(format!("{at}: required property '{name}' is missing"));
                }
            }
        }
        if let Some(Value::Object(properties)) = schema.get("properties") {
            for (name, property) in properties {
                if let Some(inner) = object.get(name) {
                    validate(inner, property, &format!("{path}.{name}"), problems);
                }
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (index, item) in items.iter().enumerate() {
            validate(item, item_schema, &format!("{path}[{index}]"), problems);
        }
    }
}

fn has_type(value: &Value, ty: &str) -> bool {
    match ty {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => {
            value.as_i64().is_some()
                || value.as_u64().is_some()
                || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        // A type this subset does not know constrains nothing.
        _ => true,
    }
}

fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
