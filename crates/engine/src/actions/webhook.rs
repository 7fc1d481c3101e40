//! HttpWebhook action (logicapps-spec §2): subscribe with a callback URL for this action
//! alone, wait — as rows, not memory — until the service calls back, the timeout passes or the
//! run is cancelled, then unsubscribe.
//!
//! Starting the action opens its *wait* and asks for the subscribe call in the same step, so
//! the callback URL works before subscribe goes out: a service may call back before its
//! subscribe response arrives. The action then completes when both have happened. Exactly one
//! of callback, timeout and cancel resolves a wait; the runtime arbitrates that before the
//! event reaches the engine (its store resolves the wait with a conditional update).
//!
//! The subscribe response is kept in the action's inputs (`subscribeResponse`), where
//! `action().outputs` finds it for `unsubscribe`; outputs are the callback's headers and body
//! (or, when subscribe fails, what it answered). A subscribe response that arrives after the
//! action timed out or was cancelled — even after the run ended — is still recorded, and asks
//! for the unsubscribe the service is then owed.

use super::{Finished, evaluate_webhook_part};
use crate::{
    ActionStatus, Effect, HttpOutcome, RetryPolicy, RunState, StepContext, Transition, Unsubscribe,
    WaitChange,
    actions::http::{build_request, recorded_inputs},
    schedule,
};
use hookflow_model::{ActionId, WebhookInputs};
use serde_json::{Map, Value, json};

pub(crate) fn start(
    state: &RunState,
    ctx: &StepContext<'_>,
    id: ActionId,
    inputs: &WebhookInputs,
    transition: &mut Transition,
) -> Finished {
    let action = ctx.definition.action(id);
    let subscribe = match evaluate_webhook_part(state, ctx, id, &inputs.subscribe, "subscribe") {
        Ok(subscribe) => subscribe,
        Err(failed) => return failed,
    };
    let retry = match RetryPolicy::parse(subscribe.get("retryPolicy")) {
        Ok(retry) => retry,
        Err(message) => {
            return Finished::failed(
                None,
                "InvalidRequest",
                format!("inputs.subscribe.{message}"),
            );
        }
    };
    // Inside a loop each iteration's execution subscribes, waits and is called back on its own.
    let key_text = state.key(id).text(ctx.definition);
    let idempotency_key = format!("{}/{key_text}/subscribe", ctx.run_id);
    let mut request = match build_request(&subscribe, ctx.limits.http_timeout_ms, idempotency_key) {
        Ok(request) => request,
        Err(message) => {
            return Finished::failed(None, "InvalidRequest", format!("subscribe: {message}"));
        }
    };
    add_tracking_headers(&mut request.headers, ctx.run_id, &action.name);
    let timeout_ms = action
        .limit
        .timeout_ms
        .unwrap_or(ctx.limits.webhook_timeout_ms)
        .min(ctx.limits.max_webhook_timeout_ms);
    transition.waits.push(WaitChange::Open {
        action: key_text.clone(),
        timeout_at: ctx.now.saturating_add(timeout_ms as i64),
    });
    let recorded = json!({ "subscribe": recorded_inputs(&request) });
    transition.effects.push(Effect::Subscribe {
        action: key_text,
        request,
        retry,
    });
    Finished::Waiting { inputs: recorded }
}

/// `Event::SubscribeCompleted`.
pub(crate) fn on_subscribe_completed(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    action: &str,
    outcome: HttpOutcome,
    transition: &mut Transition,
) {
    let Some(id) = webhook_id(state, ctx, action, transition) else {
        return;
    };
    // The run may have ended (the action timed out or was cancelled while subscribe was in
    // flight): the response is still recorded and may owe the service an unsubscribe, but
    // nothing else moves.
    let run_ended = state.status.is_terminal();
    let Some(current) = state.action_mut(id) else {
        return;
    };
    // Only an action that sent its subscribe call (its inputs record it) awaits a response.
    let subscribed = current
        .inputs
        .as_ref()
        .is_some_and(|inputs| inputs.get("subscribe").is_some());
    if !subscribed || subscribe_response(current).is_some() {
        return; // Not ours to receive, or a repeated outcome.
    }
    let response = match &outcome {
        HttpOutcome::Response {
            status,
            headers,
            body,
        } => {
            json!({ "statusCode": status, "headers": headers, "body": body })
        }
        HttpOutcome::Error { code, message } => {
            json!({ "error": { "code": code, "message": message } })
        }
    };
    let accepted = matches!(
        outcome,
        HttpOutcome::Response {
            status: 200..=299,
            ..
        }
    );
    if let Some(inputs) = current.inputs.as_mut().and_then(Value::as_object_mut) {
        inputs.insert("subscribeResponse".into(), response.clone());
    }
    transition.touch(id);
    let called_back = current.outputs.is_some();
    match current.status {
        ActionStatus::Waiting if run_ended => {} // Cannot happen: an ended run waits for nothing.
        // The service already called back (before its subscribe response arrived): it
        // evidently holds the subscription, whatever the response said.
        ActionStatus::Waiting if called_back => succeed(state, ctx, id, transition),
        ActionStatus::Waiting if accepted => {}
        ActionStatus::Waiting => {
            let (code, message) = match outcome {
                HttpOutcome::Response { status, body, .. } => (
                    crate::actions::http::status_code_name(status),
                    format!("The subscribe request failed with status code {status}: {body}"),
                ),
                HttpOutcome::Error { code, message } => {
                    (code, format!("The subscribe request failed: {message}"))
                }
            };
            // As for a failed Http action, outputs are what the call answered (spec §2.7).
            current.status = ActionStatus::Failed;
            current.code = Some(code.clone());
            current.outputs = Some(response);
            current.error = Some(json!({ "code": code, "message": message }));
            current.end_time = Some(ctx.now);
            transition.waits.push(WaitChange::Close {
                action: state.key(id).text(ctx.definition),
            });
            schedule::settle_after(state, ctx, id, transition);
        }
        // Timed out or cancelled while subscribe was in flight: now there is something to undo.
        _ if accepted => unsubscribe(state, ctx, id, transition),
        _ => {}
    }
}

/// `Event::CallbackReceived`.
pub(crate) fn on_callback(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    action: &str,
    headers: Map<String, Value>,
    body: Value,
    transition: &mut Transition,
) {
    let Some(id) = webhook_id(state, ctx, action, transition) else {
        return;
    };
    let Some(current) = state
        .action_mut(id)
        .filter(|a| a.status == ActionStatus::Waiting)
    else {
        return;
    };
    if current.outputs.is_some() {
        return;
    }
    current.outputs = Some(json!({ "headers": headers, "body": body }));
    transition.touch(id);
    if subscribe_response(current).is_some() {
        succeed(state, ctx, id, transition);
    }
}

/// `Event::WaitTimedOut`.
pub(crate) fn on_timed_out(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    action: &str,
    transition: &mut Transition,
) {
    let Some(id) = webhook_id(state, ctx, action, transition) else {
        return;
    };
    let Some(current) = state
        .action_mut(id)
        .filter(|a| a.status == ActionStatus::Waiting)
    else {
        return;
    };
    current.status = ActionStatus::TimedOut;
    current.code = Some("ActionTimedOut".into());
    current.end_time = Some(ctx.now);
    current.error = Some(json!({
        "code": "ActionTimedOut",
        "message": format!(
            "The action '{}' timed out waiting for its callback.",
            ctx.definition.action(id).name
        ),
    }));
    transition.touch(id);
    unsubscribe(state, ctx, id, transition);
    schedule::settle_after(state, ctx, id, transition);
}

/// A waiting webhook action was cancelled: close its wait and unsubscribe.
pub(crate) fn stop_waiting(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    id: ActionId,
    transition: &mut Transition,
) {
    let name = state.key(id).text(ctx.definition);
    transition.waits.push(WaitChange::Close { action: name });
    unsubscribe(state, ctx, id, transition);
}

fn succeed(state: &mut RunState, ctx: &StepContext<'_>, id: ActionId, transition: &mut Transition) {
    let Some(current) = state.action_mut(id) else {
        return;
    };
    current.status = ActionStatus::Succeeded;
    current.code = Some("OK".into());
    current.end_time = Some(ctx.now);
    transition.touch(id);
    unsubscribe(state, ctx, id, transition);
    schedule::settle_after(state, ctx, id, transition);
}

/// Asks for the unsubscribe call, once the subscribe call has succeeded (before that there is
/// nothing to undo; `on_subscribe_completed` comes back here).
fn unsubscribe(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    id: ActionId,
    transition: &mut Transition,
) {
    let Some(current) = state.action(id) else {
        return;
    };
    let subscribed = subscribe_response(current)
        .and_then(|r| r.get("statusCode"))
        .and_then(Value::as_u64)
        .is_some_and(|s| (200..300).contains(&s));
    if !subscribed {
        return;
    }
    let action = ctx.definition.action(id);
    let hookflow_model::ActionKind::HttpWebhook(inputs) = &action.kind else {
        return;
    };
    let Some(template) = &inputs.unsubscribe else {
        return;
    };
    // An unsubscribe that cannot be built is recorded on the action; it never fails the run.
    let problem = match evaluate_webhook_part(state, ctx, id, template, "unsubscribe") {
        Err(Finished::Done(failed)) => failed.error.clone(),
        Err(_) => None,
        Ok(evaluated) => {
            let key_text = state.key(id).text(ctx.definition);
            let idempotency_key = format!("{}/{key_text}/unsubscribe", ctx.run_id);
            match build_request(&evaluated, ctx.limits.http_timeout_ms, idempotency_key) {
                Ok(mut request) => {
                    add_tracking_headers(&mut request.headers, ctx.run_id, &action.name);
                    transition.unsubscribes.push(Unsubscribe {
                        action: key_text,
                        request,
                    });
                    None
                }
                Err(message) => Some(
                    json!({ "code": "InvalidRequest", "message": format!("unsubscribe: {message}") }),
                ),
            }
        }
    };
    if let Some(problem) = problem
        && let Some(inputs) = state
            .action_mut(id)
            .and_then(|a| a.inputs.as_mut())
            .and_then(Value::as_object_mut)
    {
        inputs.insert("unsubscribeError".into(), problem);
        transition.touch(id);
    }
}

/// The execution named by an event (its key text), if it is an HttpWebhook action's: events
/// naming any other action change nothing. The state is pointed at its iteration.
fn webhook_id(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    action: &str,
    transition: &mut Transition,
) -> Option<ActionId> {
    let key = crate::ActionKey::parse(ctx.definition, action)?;
    if !matches!(
        ctx.definition.action(key.id).kind,
        hookflow_model::ActionKind::HttpWebhook(_)
    ) {
        return None;
    }
    crate::step::enter(state, transition, &key.repetition);
    Some(key.id)
}

fn subscribe_response(action: &crate::ActionState) -> Option<&Value> {
    action.inputs.as_ref()?.get("subscribeResponse")
}

/// Subscribe and unsubscribe calls say which run and action they are about, so a service can
/// match them (logicapps-spec §1.3).
fn add_tracking_headers(headers: &mut Vec<(String, String)>, run_id: &str, action: &str) {
    headers.retain(|(name, _)| {
        !name.eq_ignore_ascii_case("x-ms-client-tracking-id")
            && !name.eq_ignore_ascii_case("x-ms-workflow-operation-name")
    });
    headers.push(("x-ms-client-tracking-id".into(), run_id.to_owned()));
    headers.push(("x-ms-workflow-operation-name".into(), action.to_owned()));
}
