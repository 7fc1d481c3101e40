//! `definition.triggers`: Request (kind Http), HttpWebhook, Recurrence, and the polling Http
//! trigger; their conditions, splitOn and options.

use super::ctx::{
    Callback, Ctx, Path, check_keys, check_name, json_type, literal_str, operation_options,
};
use super::inputs;
use crate::{RequestTrigger, Trigger, TriggerKind};
use serde_json::{Map, Value};

/// Most triggers in one definition (Consumption, JSON view; Standard allows one).
const MAX_TRIGGERS: usize = 10;

const TRIGGER_KEYS: &[&str] = &[
    "type",
    "kind",
    "inputs",
    "recurrence",
    "conditions",
    "splitOn",
    "splitOnConfiguration",
    "runtimeConfiguration",
    "operationOptions",
    "limit",
    "description",
    "metadata",
    "correlation",
    "evaluatedRecurrence",
];

pub(crate) fn parse_triggers(ctx: &mut Ctx, value: Option<&Value>, path: &Path) -> Vec<Trigger> {
    let Some(value) = value else {
        return Vec::new();
    };
    let Some(entries) = ctx.object(value, path) else {
        return Vec::new();
    };
    if entries.len() > MAX_TRIGGERS {
        ctx.error(
            path,
            format!(
                "too many triggers: {} (at most {MAX_TRIGGERS})",
                entries.len()
            ),
        );
    }
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(entries.len());
    for (name, raw) in entries {
        let path = path.key(name);
        check_name(ctx, name, &path);
        let lower = name.to_ascii_lowercase();
        if seen.contains(&lower) {
            ctx.error(&path, format!("duplicate trigger name '{name}'"));
        }
        seen.push(lower);
        if let Some(trigger) = parse_trigger(ctx, name, raw, &path) {
            out.push(trigger);
        }
    }
    out
}

fn parse_trigger(ctx: &mut Ctx, name: &str, raw: &Value, path: &Path) -> Option<Trigger> {
    let object = ctx.object(raw, path)?;
    let ty = match ctx.required(object, "type", path)? {
        Value::String(ty) => ty,
        other => {
            ctx.error(
                &path.key("type"),
                format!("expected a string, got {}", json_type(other)),
            );
            return None;
        }
    };
    let inputs_path = path.key("inputs");
    let kind = match ty.to_ascii_lowercase().as_str() {
        "request" => TriggerKind::Request(request(ctx, object, path)),
        "httpwebhook" => TriggerKind::HttpWebhook(
            inputs::parse_webhook(ctx, object.get("inputs"), &inputs_path, path).1,
        ),
        "recurrence" => TriggerKind::Recurrence {
            recurrence: super::recurrence::parse(ctx, object, path),
        },
        "http" => {
            let inputs = match ctx.required(object, "inputs", path) {
                Some(inputs) => {
                    if let Some(request) = ctx.object(inputs, &inputs_path) {
                        inputs::check_http_request(ctx, request, &inputs_path);
                        super::signing::check_signing(ctx, request, &inputs_path);
                    }
                    ctx.compile(inputs, &inputs_path, Callback::Forbidden)
                }
                None => hookflow_expr::CompiledValue::Constant(Value::Null),
            };
            TriggerKind::Http {
                inputs,
                recurrence: super::recurrence::parse(ctx, object, path),
            }
        }
        _ => {
            ctx.error(
                &path.key("type"),
                format!("unsupported operation type '{ty}' (trigger '{name}')"),
            );
            return None;
        }
    };
    check_keys(ctx, object, TRIGGER_KEYS, path);
    let conditions = conditions(ctx, object.get("conditions"), &path.key("conditions"));
    let split_on = object
        .get("splitOn")
        .map(|v| ctx.compile(v, &path.key("splitOn"), Callback::Forbidden));
    let operation_options = operation_options(
        ctx,
        object.get("operationOptions"),
        &path.key("operationOptions"),
    );
    Some(Trigger {
        name: name.to_owned(),
        kind,
        conditions,
        split_on,
        operation_options,
        raw: raw.clone(),
    })
}

/// `inputs` of a Request trigger: `method`, `relativePath`, `schema`. The spec says a relative
/// path needs an explicit method, but real definitions omit it, so that is accepted (POST).
fn request(ctx: &mut Ctx, object: &Map<String, Value>, path: &Path) -> RequestTrigger {
    if let Some(kind) = object.get("kind")
        && !kind
            .as_str()
            .is_some_and(|k| k.eq_ignore_ascii_case("Http"))
    {
        ctx.error(
            &path.key("kind"),
            format!("unsupported Request trigger kind {kind}: only Http is supported"),
        );
    }
    let mut trigger = RequestTrigger {
        method: None,
        relative_path: None,
        schema: Value::Object(Map::new()),
        verification: None,
    };
    let Some(inputs) = object.get("inputs") else {
        return trigger;
    };
    let path = path.key("inputs");
    let Some(inputs) = ctx.object(inputs, &path) else {
        return trigger;
    };
    if let Some(method) = inputs.get("method") {
        match literal_str(method) {
            Some(m) if super::inputs::is_http_method(m) => {
                trigger.method = Some(m.to_ascii_uppercase())
            }
            _ => ctx.error(
                &path.key("method"),
                format!("expected an HTTP method such as POST, got {method}"),
            ),
        }
    }
    if let Some(relative) = inputs.get("relativePath") {
        match relative.as_str() {
            Some(text) => trigger.relative_path = Some(text.trim_start_matches('/').to_owned()),
            None => ctx.error(
                &path.key("relativePath"),
                format!("expected a string, got {}", json_type(relative)),
            ),
        }
    }
    if let Some(schema) = inputs.get("schema") {
        trigger.schema = schema.clone();
    }
    trigger.verification = super::signing::parse_verification(ctx, inputs, &path);
    trigger
}

/// `conditions`: `[{"expression": "@..."}]`, all of which must hold for a fire to start a run.
fn conditions(
    ctx: &mut Ctx,
    value: Option<&Value>,
    path: &Path,
) -> Vec<hookflow_expr::CompiledValue> {
    let Some(value) = value else {
        return Vec::new();
    };
    let Some(items) = value.as_array() else {
        ctx.error(path, format!("expected an array, got {}", json_type(value)));
        return Vec::new();
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let item_path = path.index(i);
        let Some(condition) = ctx.object(item, &item_path) else {
            continue;
        };
        check_keys(ctx, condition, &["expression"], &item_path);
        if let Some(expression) = ctx.required(condition, "expression", &item_path) {
            out.push(ctx.compile(
                expression,
                &item_path.key("expression"),
                Callback::Forbidden,
            ));
        }
    }
    out
}
