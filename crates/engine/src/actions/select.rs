//! Select: `select` (an object of expressions, or one expression: the designer's text mode)
//! evaluated once per element of `from` with `item()` bound to it (logicapps-spec §6.15).

use super::{Finished, input_member, invalid_template, query::from_array};
use crate::{RunState, StepContext, scope::RunScope};
use hookflow_model::ActionId;
use serde_json::json;

pub(crate) fn start(state: &RunState, ctx: &StepContext<'_>, id: ActionId) -> Finished {
    let items = match from_array(state, ctx, id) {
        Ok(items) => items,
        Err(failed) => return failed,
    };
    let Some(select) = input_member(ctx, id, "select") else {
        return invalid_template(ctx, id, "inputs.select", "a 'select' value is required");
    };
    let mut shaped = Vec::with_capacity(items.len());
    for item in &items {
        let scope = RunScope {
            item: Some(item),
            ..RunScope::new(ctx, state, Some(id))
        };
        match select.eval(&scope) {
            Ok(value) => shaped.push(value),
            Err(error) => return invalid_template(ctx, id, "inputs.select", error),
        }
    }
    Finished::succeeded(
        Some(json!({ "from": items })),
        Some(json!({ "body": shaped })),
    )
}
