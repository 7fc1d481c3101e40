//! Join: the elements of `from` as text, separated by `joinWith` (logicapps-spec §6.16).
//! Elements become text as interpolation makes them (errata E4).

use super::{Finished, evaluate_inputs};
use crate::{RunState, StepContext};
use hookflow_expr::to_text;
use hookflow_model::ActionId;
use serde_json::{Value, json};

pub(crate) fn start(state: &RunState, ctx: &StepContext<'_>, id: ActionId) -> Finished {
    let inputs = match evaluate_inputs(state, ctx, id) {
        Ok(inputs) => inputs,
        Err(failed) => return failed,
    };
    let Some(items) = inputs.get("from").and_then(Value::as_array) else {
        return Finished::failed(
            Some(inputs),
            "InvalidTemplate",
            "The 'from' property must be an array.".into(),
        );
    };
    let separator = match inputs.get("joinWith") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => to_text(other),
        None => String::new(),
    };
    let text = items
        .iter()
        .map(to_text)
        .collect::<Vec<_>>()
        .join(&separator);
    Finished::succeeded(Some(inputs.clone()), Some(json!({ "body": text })))
}
