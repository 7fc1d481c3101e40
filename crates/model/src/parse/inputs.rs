//! `inputs` of the non-container actions: the shape each type needs, checked where the values
//! are literal, and the whole object compiled.
//!
//! Checks stay pragmatic: a required property must be present, and a value is range-checked
//! only when it is a literal (an expression's value is only known at run time, where the engine
//! checks it again).

use super::actions::ActionType;
use super::ctx::{Callback, Ctx, Path, json_type, literal_str};
use crate::{ActionKind, WebhookInputs};
use hookflow_expr::{CompiledValue, Template};
use serde_json::{Map, Value};

const HTTP_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE",
];

/// Checks and compiles the `inputs` (at `path`) of a leaf action of type `ty`.
pub(crate) fn parse_inputs(
    ctx: &mut Ctx,
    ty: ActionType,
    inputs: Option<&Value>,
    path: &Path,
    action_path: &Path,
) -> (ActionKind, Option<CompiledValue>) {
    if ty == ActionType::HttpWebhook {
        let (compiled, webhook) = parse_webhook(ctx, inputs, path, action_path);
        return (ActionKind::HttpWebhook(webhook), Some(compiled));
    }
    let kind = match ty {
        ActionType::Compose => ActionKind::Compose,
        ActionType::Http => ActionKind::Http,
        ActionType::Response => ActionKind::Response,
        ActionType::Terminate => ActionKind::Terminate,
        ActionType::Wait => ActionKind::Wait,
        ActionType::InitializeVariable => ActionKind::InitializeVariable,
        ActionType::SetVariable => ActionKind::SetVariable,
        ActionType::IncrementVariable => ActionKind::IncrementVariable,
        ActionType::DecrementVariable => ActionKind::DecrementVariable,
        ActionType::AppendToArrayVariable => ActionKind::AppendToArrayVariable,
        ActionType::AppendToStringVariable => ActionKind::AppendToStringVariable,
        ActionType::ParseJson => ActionKind::ParseJson,
        ActionType::Query => ActionKind::Query,
        ActionType::Select => ActionKind::Select,
        ActionType::Join => ActionKind::Join,
        ActionType::Table => ActionKind::Table,
        // Containers and webhooks are handled by the caller and above.
        ActionType::HttpWebhook
        | ActionType::If
        | ActionType::Switch
        | ActionType::Foreach
        | ActionType::Until
        | ActionType::Scope => ActionKind::Scope,
    };
    let Some(inputs) = inputs else {
        // Response inputs are all optional (statusCode defaults to 200).
        if ty != ActionType::Response {
            ctx.error(&action_path.key("inputs"), "required property is missing");
        }
        return (kind, None);
    };
    check_shape(ctx, ty, inputs, path);
    (kind, Some(ctx.compile(inputs, path, Callback::Forbidden)))
}

fn check_shape(ctx: &mut Ctx, ty: ActionType, inputs: &Value, path: &Path) {
    // Compose takes any value; every other type takes an object.
    if ty == ActionType::Compose {
        return;
    }
    let Some(object) = ctx.object(inputs, path) else {
        return;
    };
    let required: &[&str] = match ty {
        ActionType::Http => {
            check_http_request(ctx, object, path);
            super::signing::check_signing(ctx, object, path);
            &[]
        }
        ActionType::Response => {
            check_status_code(ctx, object.get("statusCode"), &path.key("statusCode"));
            &[]
        }
        ActionType::Terminate => {
            check_enum(
                ctx,
                object.get("runStatus"),
                &["Failed", "Cancelled", "Succeeded"],
                &path.key("runStatus"),
            );
            &["runStatus"]
        }
        ActionType::Wait => {
            if object.contains_key("interval") == object.contains_key("until") {
                ctx.error(path, "exactly one of 'interval' and 'until' is required");
            }
            if let Some(interval) = object
                .get("interval")
                .and_then(|i| ctx.object(i, &path.key("interval")))
            {
                let units = ["Second", "Minute", "Hour", "Day", "Week", "Month"];
                check_enum(
                    ctx,
                    interval.get("unit"),
                    &units,
                    &path.key("interval").key("unit"),
                );
                ctx.required(interval, "count", &path.key("interval"));
            }
            if let Some(until) = object
                .get("until")
                .and_then(|u| ctx.object(u, &path.key("until")))
            {
                ctx.required(until, "timestamp", &path.key("until"));
            }
            &[]
        }
        ActionType::InitializeVariable => {
            check_variables(ctx, object.get("variables"), &path.key("variables"));
            &[]
        }
        ActionType::SetVariable
        | ActionType::AppendToArrayVariable
        | ActionType::AppendToStringVariable => &["name", "value"],
        ActionType::IncrementVariable | ActionType::DecrementVariable => &["name"],
        ActionType::ParseJson => &["content", "schema"],
        ActionType::Query => &["from", "where"],
        ActionType::Select => &["from", "select"],
        ActionType::Join => &["from", "joinWith"],
        ActionType::Table => {
            check_enum(
                ctx,
                object.get("format"),
                &["CSV", "HTML"],
                &path.key("format"),
            );
            &["from"]
        }
        _ => &[],
    };
    for key in required {
        ctx.required(object, key, path);
    }
}

/// `method` and `uri` of an Http action or trigger, or of a webhook's subscribe call.
pub(crate) fn check_http_request(ctx: &mut Ctx, object: &Map<String, Value>, path: &Path) {
    if let Some(method) = ctx.required(object, "method", path) {
        check_method(ctx, method, &path.key("method"));
    }
    if let Some(uri) = ctx.required(object, "uri", path) {
        check_uri(ctx, uri, &path.key("uri"));
    }
}

/// Whether `text` is an HTTP verb this engine sends or accepts, in any case.
pub(crate) fn is_http_method(text: &str) -> bool {
    HTTP_METHODS.iter().any(|m| m.eq_ignore_ascii_case(text))
}

fn check_method(ctx: &mut Ctx, method: &Value, path: &Path) {
    match method {
        Value::String(_) => {
            if let Some(text) = literal_str(method)
                && !is_http_method(text)
            {
                ctx.error(path, format!("unknown HTTP method '{text}'"));
            }
        }
        other => ctx.error(path, format!("expected a string, got {}", json_type(other))),
    }
}

fn check_uri(ctx: &mut Ctx, uri: &Value, path: &Path) {
    match uri {
        Value::String(text) if text.trim().is_empty() => ctx.error(path, "must not be empty"),
        Value::String(_) => {}
        other => ctx.error(path, format!("expected a string, got {}", json_type(other))),
    }
}

/// Response `statusCode`: when literal, 2xx, 4xx or 5xx (3xx is not allowed, spec §6.13).
fn check_status_code(ctx: &mut Ctx, value: Option<&Value>, path: &Path) {
    let code = match value {
        None => return,
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(text)) if text.contains('@') => return,
        Some(Value::String(text)) => text.trim().parse().ok(),
        Some(_) => None,
    };
    match code {
        Some(200..=299 | 400..=599) => {}
        Some(code @ 300..=399) => ctx.error(
            path,
            format!("status code {code} is not allowed: a Response must use 2xx, 4xx or 5xx"),
        ),
        _ => ctx.error(
            path,
            format!(
                "expected an HTTP status code (2xx, 4xx or 5xx), got {}",
                value.unwrap_or(&Value::Null)
            ),
        ),
    }
}

/// A literal string that must be one of `allowed` (case-insensitively); expressions pass.
fn check_enum(ctx: &mut Ctx, value: Option<&Value>, allowed: &[&str], path: &Path) {
    let Some(value) = value else { return };
    let ok = match value {
        Value::String(text) => {
            text.contains('@') || allowed.iter().any(|a| a.eq_ignore_ascii_case(text))
        }
        _ => false,
    };
    if !ok {
        ctx.error(
            path,
            format!("expected one of {}, got {value}", allowed.join(", ")),
        );
    }
}

/// `variables` of InitializeVariable: `[{name, type, value?}]`. The docs say exactly one, but
/// Logic Apps Standard accepts several (conformance `14-nested-loops-and-do-until.json`), so
/// one or more are accepted.
fn check_variables(ctx: &mut Ctx, value: Option<&Value>, path: &Path) {
    let Some(value) = value else {
        ctx.error(path, "required property is missing");
        return;
    };
    let Some(items) = value.as_array() else {
        ctx.error(path, format!("expected an array, got {}", json_type(value)));
        return;
    };
    if items.is_empty() {
        ctx.error(path, "at least one variable is required");
    }
    for (i, item) in items.iter().enumerate() {
        let item_path = path.index(i);
        let Some(variable) = ctx.object(item, &item_path) else {
            continue;
        };
        match ctx.required(variable, "name", &item_path) {
            Some(Value::String(name)) if !name.trim().is_empty() => {}
            Some(other) => ctx.error(
                &item_path.key("name"),
                format!("expected a non-empty string, got {other}"),
            ),
            None => {}
        }
        if let Some(ty) = ctx.required(variable, "type", &item_path) {
            let types = ["boolean", "integer", "float", "string", "object", "array"];
            match ty.as_str() {
                Some(t) if types.iter().any(|k| k.eq_ignore_ascii_case(t)) => {}
                _ => ctx.error(
                    &item_path.key("type"),
                    format!("expected one of {}, got {ty}", types.join(", ")),
                ),
            }
        }
    }
}

/// `inputs` of an HttpWebhook action or trigger: `subscribe` (required, with `method` and
/// `uri`) and `unsubscribe` (optional). The spec's schema reference spells the unsubscribe URL
/// `url`; it is renamed to `uri` before compiling so the engine reads one key. An unsubscribe
/// that is `{}` or names no URI (conformance `01-...` has only a body) makes no call: `None`.
pub(crate) fn parse_webhook(
    ctx: &mut Ctx,
    inputs: Option<&Value>,
    path: &Path,
    owner_path: &Path,
) -> (CompiledValue, WebhookInputs) {
    let none = || {
        (
            CompiledValue::Constant(Value::Null),
            WebhookInputs {
                subscribe: CompiledValue::Constant(Value::Null),
                unsubscribe: None,
                verification: None,
            },
        )
    };
    let Some(inputs) = inputs else {
        ctx.error(&owner_path.key("inputs"), "required property is missing");
        return none();
    };
    let Some(object) = ctx.object(inputs, path) else {
        return none();
    };
    if let Some(subscribe) = ctx.required(object, "subscribe", path)
        && let Some(subscribe) = ctx.object(subscribe, &path.key("subscribe"))
    {
        check_http_request(ctx, subscribe, &path.key("subscribe"));
        super::signing::check_signing(ctx, subscribe, &path.key("subscribe"));
    }
    let verification = super::signing::parse_verification(ctx, object, path);
    let mut normalized = object.clone();
    let mut unsubscribe_calls = false;
    if let Some(unsubscribe) = normalized.get_mut("unsubscribe") {
        let unsubscribe_path = path.key("unsubscribe");
        if let Value::Object(unsubscribe) = unsubscribe {
            if !unsubscribe.contains_key("uri")
                && let Some(url) = unsubscribe.remove("url")
            {
                unsubscribe.insert("uri".to_owned(), url);
            }
            if let Some(method) = unsubscribe.get("method") {
                check_method(ctx, method, &unsubscribe_path.key("method"));
            }
            if let Some(uri) = unsubscribe.get("uri") {
                check_uri(ctx, uri, &unsubscribe_path.key("uri"));
                unsubscribe_calls = true;
            }
            super::signing::check_signing(ctx, unsubscribe, &unsubscribe_path);
        } else if !unsubscribe.is_null() {
            ctx.error(
                &unsubscribe_path,
                format!("expected an object, got {}", json_type(unsubscribe)),
            );
        }
    }
    let compiled = ctx.compile(&Value::Object(normalized), path, Callback::Allowed);
    let subscribe = member(&compiled, "subscribe").unwrap_or(CompiledValue::Constant(Value::Null));
    let unsubscribe = if unsubscribe_calls {
        member(&compiled, "unsubscribe")
    } else {
        None
    };
    (
        compiled,
        WebhookInputs {
            subscribe,
            unsubscribe,
            verification,
        },
    )
}

/// The compiled value of a literal key of a compiled object, so one compile of the whole
/// inputs serves both `Action::inputs` and its parts.
fn member(compiled: &CompiledValue, key: &str) -> Option<CompiledValue> {
    match compiled {
        CompiledValue::Constant(Value::Object(map)) => {
            map.get(key).cloned().map(CompiledValue::Constant)
        }
        CompiledValue::Object(entries) => entries
            .iter()
            .find(|(k, _)| matches!(k, Template::Literal(k) if k == key))
            .map(|(_, v)| v.clone()),
        _ => None,
    }
}
