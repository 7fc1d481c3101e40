//! Http: evaluate the request, ask the runtime to send it, and read the response when it
//! arrives (2xx succeeds, anything else fails the action).

use super::{Finished, evaluate_inputs};
use crate::{ActionStatus, Effect, HttpOutcome, HttpRequest, RunState, StepContext, Transition};
use base64::Engine as _;
use hookflow_model::ActionId;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};

/// Characters kept as they are in query names and values (RFC 3986 unreserved).
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// What replaces a secret in recorded inputs.
pub const REDACTED: &str = "*sanitized*";

pub(crate) fn start(
    state: &RunState,
    ctx: &StepContext<'_>,
    id: ActionId,
    transition: &mut Transition,
) -> Finished {
    let inputs = match evaluate_inputs(state, ctx, id) {
        Ok(inputs) => inputs,
        Err(failed) => return failed,
    };
    let action = ctx.definition.action(id);
    let timeout_ms = action
        .limit
        .timeout_ms
        .unwrap_or(ctx.limits.http_timeout_ms);
    let idempotency_key = format!("{}/{}", ctx.run_id, action.name);
    match build_request(&inputs, timeout_ms, idempotency_key) {
        Ok(request) => {
            let recorded = recorded_inputs(&request);
            transition.effects.push(Effect::Http {
                action: action.name.clone(),
                request,
            });
            Finished::Pending { inputs: recorded }
        }
        Err(message) => Finished::failed(Some(redact_inputs(inputs)), "InvalidRequest", message),
    }
}

/// Applies the outcome of the call to the running action.
pub(crate) fn complete(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    id: ActionId,
    outcome: HttpOutcome,
    transition: &mut Transition,
) {
    let Some(action) = state.action_mut(id) else {
        return;
    };
    transition.touch(id);
    action.end_time = Some(ctx.now);
    match outcome {
        HttpOutcome::Response {
            status,
            headers,
            body,
        } => {
            let code = status_code_name(status);
            action.outputs =
                Some(json!({ "statusCode": status, "headers": headers, "body": body }));
            if (200..300).contains(&status) {
                action.status = ActionStatus::Succeeded;
            } else {
                action.status = ActionStatus::Failed;
                action.error = Some(json!({
                    "code": code,
                    "message": format!("The HTTP request failed with status code {status} ({code})."),
                }));
            }
            action.code = Some(code);
        }
        HttpOutcome::Error { code, message } => {
            action.status = ActionStatus::Failed;
            action.error = Some(json!({ "code": code, "message": message }));
            action.code = Some(code);
        }
    }
}

/// Builds an outbound request from evaluated Http-shaped inputs (`method`, `uri`, `headers`,
/// `queries`, `body`, `authentication`): the Http action and webhook subscribe/unsubscribe
/// calls share it. Errors name the input at fault.
pub fn build_request(
    inputs: &Value,
    timeout_ms: u64,
    idempotency_key: String,
) -> Result<HttpRequest, String> {
    let method = match inputs.get("method") {
        Some(Value::String(m)) if !m.trim().is_empty() => m.trim().to_ascii_uppercase(),
        _ => return Err("inputs.method: a method such as GET or POST is required".into()),
    };
    let mut uri = match inputs.get("uri") {
        Some(Value::String(u)) if u.starts_with("http://") || u.starts_with("https://") => {
            u.clone()
        }
        Some(other) => {
            return Err(format!(
                "inputs.uri: an absolute http(s) URL is required, got {other}"
            ));
        }
        None => return Err("inputs.uri: an absolute http(s) URL is required".into()),
    };
    append_queries(&mut uri, inputs.get("queries"))?;
    let mut headers =
        header_pairs(inputs.get("headers")).map_err(|e| format!("inputs.headers: {e}"))?;
    if let Some(auth) = inputs.get("authentication").filter(|a| !a.is_null()) {
        headers.retain(|(name, _)| !name.eq_ignore_ascii_case("authorization"));
        headers.push(("Authorization".into(), authorization(auth)?));
    }
    let body = inputs.get("body").filter(|b| !b.is_null()).cloned();
    Ok(HttpRequest {
        method,
        uri,
        headers,
        body,
        timeout_ms: Some(timeout_ms),
        idempotency_key,
    })
}

/// The `Authorization` value of an authentication object computed without outside help.
/// The other types need the outbound client's providers (certificates, token endpoints).
fn authorization(auth: &Value) -> Result<String, String> {
    let kind = auth.get("type").and_then(Value::as_str).unwrap_or_default();
    let field = |name: &str| auth.get(name).and_then(Value::as_str).unwrap_or_default();
    if kind.eq_ignore_ascii_case("Basic") {
        let pair = format!("{}:{}", field("username"), field("password"));
        Ok(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        ))
    } else if kind.eq_ignore_ascii_case("Raw") {
        Ok(field("value").to_owned())
    } else {
        Err(format!(
            "inputs.authentication.type: '{kind}' is not supported yet (supported: Basic, Raw)"
        ))
    }
}

fn append_queries(uri: &mut String, queries: Option<&Value>) -> Result<(), String> {
    let Some(queries) = queries.filter(|q| !q.is_null()) else {
        return Ok(());
    };
    let Value::Object(queries) = queries else {
        return Err("inputs.queries: an object of names and values is required".into());
    };
    // The query goes before any fragment: a query written after `#` is never sent.
    let fragment = uri.find('#').map(|at| uri.split_off(at));
    for (name, value) in queries {
        if !uri.contains('?') {
            uri.push('?');
        } else if !uri.ends_with(['?', '&']) {
            uri.push('&');
        }
        uri.extend(utf8_percent_encode(name, QUERY));
        uri.push('=');
        uri.extend(utf8_percent_encode(&text(value), QUERY));
    }
    uri.extend(fragment);
    Ok(())
}

/// Headers as name/value pairs; non-string values are written as text.
pub(crate) fn header_pairs(headers: Option<&Value>) -> Result<Vec<(String, String)>, String> {
    match headers {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => Ok(map.iter().map(|(k, v)| (k.clone(), text(v))).collect()),
        Some(other) => Err(format!(
            "an object of header names and values is required, got {other}"
        )),
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

/// What history shows of a request: secrets replaced.
pub fn recorded_inputs(request: &HttpRequest) -> Value {
    let headers: Map<String, Value> = request
        .headers
        .iter()
        .map(|(name, value)| {
            let value = if name.eq_ignore_ascii_case("authorization") {
                REDACTED
            } else {
                value
            };
            (name.clone(), Value::String(value.to_owned()))
        })
        .collect();
    let mut recorded = json!({ "method": request.method, "uri": request.uri, "headers": headers });
    if let Some(body) = &request.body {
        recorded["body"] = body.clone();
    }
    recorded
}

fn redact_inputs(mut inputs: Value) -> Value {
    if let Some(auth) = inputs.get_mut("authentication") {
        *auth = Value::String(REDACTED.into());
    }
    if let Some(Value::Object(headers)) = inputs.get_mut("headers") {
        for (name, value) in headers.iter_mut() {
            if name.eq_ignore_ascii_case("authorization") {
                *value = Value::String(REDACTED.into());
            }
        }
    }
    inputs
}

/// Logic Apps reports an HTTP action's `code` as the status's name.
pub(crate) fn status_code_name(status: u16) -> String {
    let name = match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "NoContent",
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        408 => "RequestTimeout",
        409 => "Conflict",
        413 => "RequestEntityTooLarge",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        501 => "NotImplemented",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        _ => return format!("Status{status}"),
    };
    name.to_owned()
}
