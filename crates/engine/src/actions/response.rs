//! Response: answer the request that started the run, once.

use super::{Finished, evaluate_inputs};
use crate::{Effect, ResponseMessage, RunState, StepContext, Transition};
use hookflow_model::ActionId;
use serde_json::Value;

pub(crate) fn start(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    id: ActionId,
    transition: &mut Transition,
) -> Finished {
    let inputs = match evaluate_inputs(state, ctx, id) {
        Ok(inputs) => inputs,
        Err(failed) => return failed,
    };
    let response = match read_response(&inputs) {
        Ok(response) => response,
        Err(message) => return Finished::failed(Some(inputs), "InvalidResponse", message),
    };
    if state.responded {
        return Finished::failed(
            Some(inputs),
            "ActionResponseAlreadySent",
            "The response for this run has already been sent.".into(),
        );
    }
    state.responded = true;
    let action = ctx.definition.action(id).name.clone();
    transition
        .effects
        .push(Effect::Respond { action, response });
    Finished::succeeded(Some(inputs), None)
}

fn read_response(inputs: &Value) -> Result<ResponseMessage, String> {
    let status = match inputs.get("statusCode") {
        None | Some(Value::Null) => Some(200),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(_) => None,
    };
    let Some(status) = status else {
        return Err(format!(
            "statusCode must be a positive whole number, got {}",
            inputs["statusCode"]
        ));
    };
    if !(200..600).contains(&status) || (300..400).contains(&status) {
        return Err(format!(
            "statusCode {status} is not allowed: use a 2xx, 4xx or 5xx status"
        ));
    }
    let headers =
        super::http::header_pairs(inputs.get("headers")).map_err(|e| format!("headers: {e}"))?;
    Ok(ResponseMessage {
        status: status as u16,
        headers,
        body: inputs.get("body").cloned().unwrap_or(Value::Null),
    })
}
