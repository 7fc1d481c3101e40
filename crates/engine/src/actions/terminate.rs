//! Terminate: end the run now with `runStatus` (Failed, Cancelled, Succeeded) and, for Failed,
//! `runError {code, message}`; actions in flight are cancelled and nothing else starts
//! (logicapps-spec §5.4, §6.9). The Terminate action itself succeeds.

use super::{Finished, evaluate_inputs};
use crate::{ActionKey, RunState, RunStatus, StepContext, Transition, finish};
use serde_json::{Value, json};

pub(crate) fn start(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    key: &ActionKey,
    transition: &mut Transition,
) -> Finished {
    let inputs = match evaluate_inputs(state, ctx, key.id) {
        Ok(inputs) => inputs,
        Err(failed) => return failed,
    };
    if state.depth(key.id) > 0 {
        return Finished::failed(
            Some(inputs),
            "InvalidTemplate",
            "Terminate is not allowed inside Foreach or Until.".into(),
        );
    }
    let text = inputs
        .get("runStatus")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let status = match text.parse::<RunStatus>() {
        Ok(status @ (RunStatus::Failed | RunStatus::Cancelled | RunStatus::Succeeded)) => status,
        _ => {
            return Finished::failed(
                Some(inputs),
                "InvalidTemplate",
                format!("runStatus must be Failed, Cancelled or Succeeded, not '{text}'"),
            );
        }
    };
    let error = match status {
        RunStatus::Failed => Some(match inputs.get("runError") {
            Some(Value::Object(given)) => json!({
                "code": given.get("code").and_then(Value::as_str).unwrap_or("Terminated"),
                "message": given.get("message").cloned().unwrap_or(json!("The run was terminated with status Failed.")),
            }),
            _ => {
                json!({ "code": "Terminated", "message": "The run was terminated with status Failed." })
            }
        }),
        RunStatus::Cancelled => Some(json!({
            "code": "Terminated",
            "message": "The run was terminated with status Cancelled.",
        })),
        _ => None,
    };
    finish::terminate(state, ctx, status, error, key, transition);
    Finished::succeeded(Some(inputs), None)
}
