//! Http: evaluate the request, ask the runtime to send it, and read the response when it
//! arrives (2xx succeeds, anything else fails the action).

use super::{Finished, evaluate_inputs};
use crate::retry::is_retryable_error;
use crate::{
    ActionState, ActionStatus, Effect, HttpOutcome, HttpRequest, OutboundAuth, Poll, Retry,
    RetryPolicy, RunState, StepContext, Transition, format_time, is_retryable_status,
};
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
    // A policy that cannot be read fails the action before any call, not at the first failure.
    if let Err(message) = RetryPolicy::parse(inputs.get("retryPolicy")) {
        return Finished::failed(Some(redact_inputs(inputs)), "InvalidRequest", message);
    }
    match build_request(&inputs, timeout_ms(ctx, id), idempotency_key(ctx, id)) {
        Ok(request) => {
            let recorded = recorded_inputs(&request);
            transition.effects.push(Effect::Http {
                action: action.name.clone(),
                request,
                poll: None,
                retry: None,
            });
            Finished::Pending { inputs: recorded }
        }
        Err(message) => Finished::failed(Some(redact_inputs(inputs)), "InvalidRequest", message),
    }
}

/// Applies the outcome of the call to the running action. A `202` with `Location` starts (or
/// continues) the asynchronous pattern (logicapps-spec §6.1): the action stays Running and a
/// poll of that location is asked for, due after `Retry-After`; the first other answer is the
/// result. `operationOptions: DisableAsyncPattern` makes the `202` itself the result.
///
/// A retryable outcome (408, 429, 5xx, or no response because of a connectivity failure) with
/// retries left in the action's `retryPolicy` (spec §5.5) keeps the action Running too: the
/// attempt is appended to its `retryHistory` and the same call is asked for again, due after
/// the policy's delay (or the service's `Retry-After` on 429/503, clamped to the policy's
/// maximum interval). A poll that fails that way polls the same location again.
///
/// Bookkeeping lives in the action's `outputs`: while it runs, `retryHistory` (the attempts
/// retried so far), `nextAttemptTime` (when the pending attempt is due) and, while polling, the
/// `202` being polled (`statusCode`, `headers`, `body`); when it ends, its outputs are the last
/// response's plus `retryHistory` when any attempt was retried.
pub(crate) fn complete(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    id: ActionId,
    outcome: HttpOutcome,
    transition: &mut Transition,
) {
    match poll_request(state, ctx, id, &outcome) {
        Some(Ok(_)) if async_deadline(state, ctx, id).is_some_and(|d| ctx.now >= d) => {
            return timed_out(state, ctx, id, Some(outcome), transition);
        }
        Some(Ok(effect)) => {
            polling(state, ctx, id, &outcome, transition);
            return transition.effects.push(effect);
        }
        Some(Err(message)) => return fail(state, ctx, id, message, transition),
        None => {}
    }
    // A poll that failed (retryably) at or after the deadline: the operation timed out.
    let polling = state.action(id).is_some_and(is_polling);
    if polling
        && is_retryable_outcome(&outcome)
        && async_deadline(state, ctx, id).is_some_and(|d| ctx.now >= d)
    {
        return timed_out(state, ctx, id, None, transition);
    }
    if let Some(effect) = retry(state, ctx, id, &outcome, transition) {
        return transition.effects.push(effect);
    }
    let Some(action) = state.action_mut(id) else {
        return;
    };
    transition.touch(id);
    let history = retry_history(action);
    action.end_time = Some(ctx.now);
    match outcome {
        HttpOutcome::Response {
            status,
            headers,
            body,
        } => {
            let code = status_code_name(status);
            let mut outputs = json!({ "statusCode": status, "headers": headers, "body": body });
            if !history.is_empty() {
                outputs["retryHistory"] = Value::Array(history);
            }
            action.outputs = Some(outputs);
            if (200..300).contains(&status) {
                action.status = ActionStatus::Succeeded;
            } else {
                action.status = ActionStatus::Failed;
                action.error = Some(status_error(status, &code));
            }
            action.code = Some(code);
        }
        HttpOutcome::Error { code, message } => {
            action.outputs = history_outputs(history);
            action.status = ActionStatus::Failed;
            action.error = Some(json!({ "code": code, "message": message }));
            action.code = Some(code);
        }
    }
}

fn status_error(status: u16, code: &str) -> Value {
    json!({
        "code": code,
        "message": format!("The HTTP request failed with status code {status} ({code})."),
    })
}

/// The attempts retried so far, from the running action's outputs.
fn retry_history(action: &ActionState) -> Vec<Value> {
    match action.outputs.as_ref().and_then(|o| o.get("retryHistory")) {
        Some(Value::Array(history)) => history.clone(),
        _ => Vec::new(),
    }
}

/// Outputs holding only a retry history (`None` when nothing was retried).
fn history_outputs(history: Vec<Value>) -> Option<Value> {
    (!history.is_empty()).then(|| json!({ "retryHistory": history }))
}

/// When the attempt that just ended was made: its due time, or the action's start for the
/// first attempt.
fn attempt_start(action: &ActionState) -> Option<i64> {
    action
        .outputs
        .as_ref()
        .and_then(|o| o.get("nextAttemptTime"))
        .and_then(Value::as_i64)
        .or(action.start_time)
}

/// Records the `202` being polled on the running action (so a failed poll is retried by
/// polling again, never by sending the original request a second time).
fn polling(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    id: ActionId,
    outcome: &HttpOutcome,
    transition: &mut Transition,
) {
    let HttpOutcome::Response {
        status,
        headers,
        body,
    } = outcome
    else {
        return;
    };
    transition.touch(id);
    let history = state.action(id).map(retry_history).unwrap_or_default();
    // The poll is due after `Retry-After` (the runtime's default interval when absent, which
    // the engine does not know: then the time it was asked for).
    let wait = header(headers, "Retry-After").and_then(retry_after_ms);
    let due = ctx
        .now
        .saturating_add(i64::try_from(wait.unwrap_or(0)).unwrap_or(i64::MAX));
    let due = async_deadline(state, ctx, id).map_or(due, |deadline| due.min(deadline));
    let Some(action) = state.action_mut(id) else {
        return;
    };
    let mut outputs = json!({
        "statusCode": status,
        "headers": headers,
        "body": body,
        "nextAttemptTime": due,
    });
    if !history.is_empty() {
        outputs["retryHistory"] = Value::Array(history);
    }
    action.outputs = Some(outputs);
}

/// Decides whether the attempt that just ended is retried. If so, the running action records
/// the attempt in its history and the call to make again (due later) is returned.
fn retry(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    id: ActionId,
    outcome: &HttpOutcome,
    transition: &mut Transition,
) -> Option<Effect> {
    let (code, error, retry_after) = match outcome {
        HttpOutcome::Response {
            status, headers, ..
        } if is_retryable_status(*status) => {
            let code = status_code_name(*status);
            let retry_after = matches!(status, 429 | 503)
                .then(|| header(headers, "Retry-After").and_then(retry_after_ms))
                .flatten();
            (code.clone(), status_error(*status, &code), retry_after)
        }
        HttpOutcome::Error { code, message } if is_retryable_error(code) => (
            code.clone(),
            json!({ "code": code, "message": message }),
            None,
        ),
        _ => return None,
    };
    // The policy and the request come from the inputs evaluated again (the recorded inputs
    // hold no secrets). Inputs that cannot be evaluated again end the action with this outcome.
    let inputs = evaluate_inputs(state, ctx, id).ok()?;
    let policy = RetryPolicy::parse(inputs.get("retryPolicy")).ok()?;
    let running = state.action(id)?;
    let mut history = retry_history(running);
    let number = u32::try_from(history.len()).ok()?.saturating_add(1);
    let delay = policy.delay_ms(number, ctx.env.random_u128() as u64)?;
    let delay = retry_after.map_or(delay, |after| after.min(policy.max_interval_ms()));
    let request = again(running, &inputs, ctx, id).ok()?;
    let due_at = ctx
        .now
        .saturating_add(i64::try_from(delay).unwrap_or(i64::MAX));
    // A failed poll is tried again by the operation's deadline at the latest.
    let due_at = match async_deadline(state, ctx, id).filter(|_| is_polling(running)) {
        Some(deadline) => due_at.min(deadline),
        None => due_at,
    };

    let mut entry = json!({
        "startTime": attempt_start(running).map(format_time),
        "endTime": format_time(ctx.now),
        "code": code,
    });
    if let HttpOutcome::Response { headers, .. } = outcome
        && let Some(id) = header(headers, "x-ms-client-request-id")
    {
        entry["clientRequestId"] = json!(id);
    }
    entry["error"] = error;
    history.push(entry);

    let action = state.action_mut(id)?;
    transition.touch(id);
    // While polling, the polled `202` stays (a retry polls its location again).
    let mut outputs = match action.outputs.take() {
        Some(Value::Object(mut fields)) if fields.contains_key("statusCode") => {
            fields.remove("retryHistory");
            Value::Object(fields)
        }
        _ => json!({}),
    };
    outputs["retryHistory"] = Value::Array(history);
    outputs["nextAttemptTime"] = json!(due_at);
    action.outputs = Some(outputs);
    Some(Effect::Http {
        action: ctx.definition.action(id).name.clone(),
        request,
        poll: None,
        retry: Some(Retry { number, due_at }),
    })
}

/// The call to make again: a poll of the location being polled, or the original request as it
/// was recorded (the same method, URL, headers and body, so time- or random-dependent inputs do
/// not change between attempts) with its credentials from the evaluated inputs.
fn again(
    running: &ActionState,
    inputs: &Value,
    ctx: &StepContext<'_>,
    id: ActionId,
) -> Result<HttpRequest, String> {
    let fresh = build_request(inputs, timeout_ms(ctx, id), idempotency_key(ctx, id))?;
    let outputs = running.outputs.as_ref();
    let location = outputs
        .filter(|o| o.get("statusCode").and_then(Value::as_u64) == Some(202))
        .and_then(|o| o.get("headers"))
        .and_then(Value::as_object)
        .and_then(|headers| header(headers, "Location"));
    if let Some(location) = location {
        return poll_of(&fresh, location);
    }
    let Some(recorded) = running.inputs.as_ref() else {
        return Ok(fresh);
    };
    let field = |name: &str| {
        recorded
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut headers: Vec<(String, String)> = fresh
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        .cloned()
        .collect();
    if let Some(Value::Object(recorded_headers)) = recorded.get("headers") {
        headers.extend(
            recorded_headers
                .iter()
                .filter(|(name, _)| !name.eq_ignore_ascii_case("authorization"))
                .map(|(name, value)| (name.clone(), text(value))),
        );
    }
    Ok(HttpRequest {
        method: field("method").unwrap_or(fresh.method),
        uri: field("uri").unwrap_or(fresh.uri),
        headers,
        body: recorded.get("body").cloned(),
        ..fresh
    })
}

/// The poll a `202` asks for, when the asynchronous pattern applies to it.
fn poll_request(
    state: &RunState,
    ctx: &StepContext<'_>,
    id: ActionId,
    outcome: &HttpOutcome,
) -> Option<Result<Effect, String>> {
    let HttpOutcome::Response {
        status: 202,
        headers,
        ..
    } = outcome
    else {
        return None;
    };
    let action = ctx.definition.action(id);
    if action.operation_options.has("DisableAsyncPattern") {
        return None;
    }
    let location = header(headers, "Location")?;
    let retry_after_ms = header(headers, "Retry-After").and_then(retry_after_ms);
    // The inputs are evaluated again for their authentication and timeout: the recorded
    // inputs hold no secrets, and the first request is kept nowhere else.
    let Ok(inputs) = evaluate_inputs(state, ctx, id) else {
        return Some(Err(
            "the inputs could not be evaluated again to poll the operation".into(),
        ));
    };
    let polled = build_request(&inputs, timeout_ms(ctx, id), idempotency_key(ctx, id))
        .and_then(|original| poll_of(&original, location));
    Some(polled.map(|request| Effect::Http {
        action: action.name.clone(),
        request,
        poll: Some(Poll {
            requested_at: ctx.now,
            retry_after_ms,
            deadline: async_deadline(state, ctx, id),
        }),
        retry: None,
    }))
}

/// When the action's asynchronous operation times out: its start plus `limit.timeout`, or
/// the engine's default wait for an asynchronous answer (the same as a webhook action's, the
/// run-duration limit by default). Derived from the stored start, so it survives restarts.
fn async_deadline(state: &RunState, ctx: &StepContext<'_>, id: ActionId) -> Option<i64> {
    let start = state.action(id)?.start_time?;
    let limit = ctx
        .definition
        .action(id)
        .limit
        .timeout_ms
        .unwrap_or(ctx.limits.webhook_timeout_ms);
    Some(start.saturating_add(i64::try_from(limit).unwrap_or(i64::MAX)))
}

/// Whether the running action is polling an operation (it holds the `202` being polled).
fn is_polling(action: &ActionState) -> bool {
    action
        .outputs
        .as_ref()
        .and_then(|o| o.get("statusCode"))
        .and_then(Value::as_u64)
        == Some(202)
}

fn is_retryable_outcome(outcome: &HttpOutcome) -> bool {
    match outcome {
        HttpOutcome::Response { status, .. } => is_retryable_status(*status),
        HttpOutcome::Error { code, .. } => is_retryable_error(code),
    }
}

/// Ends the action whose operation has not finished by its deadline: `TimedOut` with
/// `ActionTimedOut` (as a webhook action's timeout, logicapps-spec §2), its outputs the last
/// `202` (`latest`, or the one being polled when a poll failed). Successors run per `runAfter`
/// (`TimedOut`).
fn timed_out(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    id: ActionId,
    latest: Option<HttpOutcome>,
    transition: &mut Transition,
) {
    let limit = ctx.definition.action(id).limit.timeout_ms;
    let Some(action) = state.action_mut(id) else {
        return;
    };
    transition.touch(id);
    let history = retry_history(action);
    let mut outputs = match latest {
        Some(HttpOutcome::Response {
            status,
            headers,
            body,
        }) => json!({ "statusCode": status, "headers": headers, "body": body }),
        _ => action.outputs.take().unwrap_or_else(|| json!({})),
    };
    if let Value::Object(fields) = &mut outputs {
        fields.remove("nextAttemptTime");
        fields.remove("retryHistory");
    }
    if !history.is_empty() {
        outputs["retryHistory"] = Value::Array(history);
    }
    action.outputs = Some(outputs);
    let within = match limit {
        Some(ms) => format!("the action's limit.timeout ({ms} ms)"),
        None => "the engine's default timeout for asynchronous operations".into(),
    };
    action.end_time = Some(ctx.now);
    action.status = ActionStatus::TimedOut;
    action.code = Some("ActionTimedOut".into());
    action.error = Some(json!({
        "code": "ActionTimedOut",
        "message": format!("The asynchronous operation did not complete within {within}."),
    }));
}

/// A `GET` of an operation's `Location` (resolved against the request's URL). Credentials go
/// only to the origin they were written for: a `Location` on another origin is polled without
/// them, so a service cannot have the engine send its secrets elsewhere.
pub(crate) fn poll_of(original: &HttpRequest, location: &str) -> Result<HttpRequest, String> {
    let uri = resolve_location(&original.uri, location).ok_or_else(|| {
        format!("the Location header '{location}' of the 202 response is not a valid URL")
    })?;
    let same_origin = origin(&uri) == origin(&original.uri);
    let headers = original
        .headers
        .iter()
        .filter(|(name, _)| same_origin && name.eq_ignore_ascii_case("authorization"))
        .cloned()
        .collect();
    Ok(HttpRequest {
        method: "GET".into(),
        uri,
        headers,
        body: None,
        timeout_ms: original.timeout_ms,
        idempotency_key: original.idempotency_key.clone(),
        auth: original.auth.clone().filter(|_| same_origin),
        // A poll is a status check, not a delivery: receivers deduplicating on `webhook-id`
        // would take every poll for a repeat of the request.
        signing: None,
    })
}

/// Ends the action as Failed before any response could be used.
fn fail(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    id: ActionId,
    message: String,
    transition: &mut Transition,
) {
    let Some(action) = state.action_mut(id) else {
        return;
    };
    transition.touch(id);
    action.outputs = history_outputs(retry_history(action));
    action.end_time = Some(ctx.now);
    action.status = ActionStatus::Failed;
    action.error = Some(json!({ "code": "InvalidRequest", "message": message }));
    action.code = Some("InvalidRequest".into());
}

fn timeout_ms(ctx: &StepContext<'_>, id: ActionId) -> u64 {
    ctx.definition
        .action(id)
        .limit
        .timeout_ms
        .unwrap_or(ctx.limits.http_timeout_ms)
}

fn idempotency_key(ctx: &StepContext<'_>, id: ActionId) -> String {
    format!("{}/{}", ctx.run_id, ctx.definition.action(id).name)
}

/// A response header by name, whatever its case.
fn header<'a>(headers: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// `Retry-After` in seconds (an HTTP date is not understood: the default interval applies),
/// capped at a day so a service cannot park an action for years.
fn retry_after_ms(value: &str) -> Option<u64> {
    let seconds: u64 = value.parse().ok()?;
    Some(seconds.min(24 * 3600) * 1000)
}

/// `scheme://host[:port]` of an absolute URL, lower-cased.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    Some(format!("{scheme}://{host}").to_ascii_lowercase())
}

/// A `Location` value made absolute: absolute URLs as they are, `//host/...` with the
/// request's scheme, `/path` against the request's origin, anything else against the
/// request's directory.
fn resolve_location(base: &str, location: &str) -> Option<String> {
    if location.starts_with("http://") || location.starts_with("https://") {
        return Some(location.to_owned());
    }
    let (scheme, _) = base.split_once("://")?;
    if location.starts_with("//") {
        return Some(format!("{scheme}:{location}"));
    }
    let origin = origin(base)?;
    if location.starts_with('/') {
        return Some(format!("{origin}{location}"));
    }
    let path = base.split(['?', '#']).next()?;
    let cut = path.rfind('/').filter(|&at| at >= origin.len())?;
    Some(format!("{}{location}", &path[..=cut]))
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
    let mut auth = None;
    match inputs.get("authentication").filter(|a| !a.is_null()) {
        None => {}
        Some(given) => {
            let given = authentication(given)?;
            // A client certificate leaves any Authorization header alone; every other type
            // is the Authorization header.
            if !matches!(
                given,
                Authentication::Outbound(OutboundAuth::ClientCertificate { .. })
            ) {
                headers.retain(|(name, _)| !name.eq_ignore_ascii_case("authorization"));
            }
            match given {
                Authentication::Header(value) => headers.push(("Authorization".into(), value)),
                Authentication::Outbound(outbound) => auth = Some(outbound),
            }
        }
    }
    let signing = match inputs.get("signing").filter(|s| !s.is_null()) {
        Some(given) => Some(super::signing::signing(given)?),
        None => None,
    };
    let body = inputs.get("body").filter(|b| !b.is_null()).cloned();
    Ok(HttpRequest {
        method,
        uri,
        headers,
        body,
        timeout_ms: Some(timeout_ms),
        idempotency_key,
        auth,
        signing,
    })
}

/// What an authentication object turns into: a header computed here, or work for the
/// runtime (certificates, token endpoints).
enum Authentication {
    Header(String),
    Outbound(OutboundAuth),
}

/// Reads an authentication object (logicapps-spec §3). Basic and Raw need no outside help;
/// the other types are handed to the runtime as data.
fn authentication(auth: &Value) -> Result<Authentication, String> {
    const AT: &str = "inputs.authentication";
    let Value::Object(fields) = auth else {
        return Err(format!("{AT}: an object with a 'type' is required"));
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let required = |name: &str| {
        field(name)
            .map(str::to_owned)
            .ok_or_else(|| format!("{AT}.{name}: a non-empty string is required"))
    };
    let kind = field("type").unwrap_or_default();
    if kind.eq_ignore_ascii_case("Basic") {
        let pair = format!(
            "{}:{}",
            field("username").unwrap_or_default(),
            field("password").unwrap_or_default()
        );
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        Ok(Authentication::Header(format!("Basic {encoded}")))
    } else if kind.eq_ignore_ascii_case("Raw") {
        Ok(Authentication::Header(
            field("value").unwrap_or_default().to_owned(),
        ))
    } else if kind.eq_ignore_ascii_case("ClientCertificate") {
        Ok(Authentication::Outbound(OutboundAuth::ClientCertificate {
            pfx: required("pfx")?,
            password: field("password").map(str::to_owned),
        }))
    } else if kind.eq_ignore_ascii_case("ActiveDirectoryOAuth") {
        let certificate = field("credentialType")
            .is_some_and(|t| t.eq_ignore_ascii_case("Certificate"))
            || (field("pfx").is_some() && field("secret").is_none());
        let authority = field("authority").map(str::to_owned);
        if certificate {
            return Ok(Authentication::Outbound(
                OutboundAuth::ActiveDirectoryOAuthCertificate {
                    authority,
                    tenant: required("tenant")?,
                    audience: required("audience")?,
                    client_id: required("clientId")?,
                    pfx: required("pfx")?,
                    password: field("password").map(str::to_owned),
                },
            ));
        }
        Ok(Authentication::Outbound(
            OutboundAuth::ActiveDirectoryOAuth {
                authority,
                tenant: required("tenant")?,
                audience: required("audience")?,
                client_id: required("clientId")?,
                secret: required("secret")?,
            },
        ))
    } else if kind.eq_ignore_ascii_case("ManagedServiceIdentity") {
        Ok(Authentication::Outbound(
            OutboundAuth::ManagedServiceIdentity {
                audience: required("audience")?,
                identity: field("identity").map(str::to_owned),
            },
        ))
    } else {
        Err(format!(
            "{AT}.type: '{kind}' is not an authentication type (Basic, Raw, ClientCertificate, ActiveDirectoryOAuth, ManagedServiceIdentity)"
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
    // The type is shown, never its material (certificate, password, client secret).
    if let Some(auth) = &request.auth {
        recorded["authentication"] = json!({ "type": auth.type_name() });
    }
    if let Some(signing) = &request.signing {
        recorded["signing"] = json!({ "type": signing.type_name() });
    }
    recorded
}

fn redact_inputs(mut inputs: Value) -> Value {
    for secret in ["authentication", "signing"] {
        if let Some(value) = inputs.get_mut(secret) {
            *value = Value::String(REDACTED.into());
        }
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
