//! Query (Filter array): the elements of `from` for which `where` — evaluated with `item()`
//! bound to each element — is true (logicapps-spec §6.14).

use super::{Finished, input_member, invalid_template};
use crate::{RunState, StepContext, condition, scope::RunScope};
use hookflow_model::{ActionId, Condition};
use serde_json::{Value, json};

pub(crate) fn start(state: &RunState, ctx: &StepContext<'_>, id: ActionId) -> Finished {
    let items = match from_array(state, ctx, id) {
        Ok(items) => items,
        Err(failed) => return failed,
    };
    let Some(filter) = input_member(ctx, id, "where") else {
        return invalid_template(ctx, id, "inputs.where", "a 'where' expression is required");
    };
    let condition = Condition::Value(filter.into_owned());
    let mut kept = Vec::new();
    for item in &items {
        let scope = RunScope {
            item: Some(item),
            ..RunScope::new(ctx, state, Some(id))
        };
        match condition::evaluate(&condition, &scope) {
            Ok(true) => kept.push(item.clone()),
            Ok(false) => {}
            Err(error) => return invalid_template(ctx, id, "inputs.where", error),
        }
    }
    Finished::succeeded(
        Some(json!({ "from": items })),
        Some(json!({ "body": kept })),
    )
}

/// `from` evaluated: it must be an array.
pub(crate) fn from_array(
    state: &RunState,
    ctx: &StepContext<'_>,
    id: ActionId,
) -> Result<Vec<Value>, Finished> {
    let Some(from) = input_member(ctx, id, "from") else {
        return Err(invalid_template(
            ctx,
            id,
            "inputs.from",
            "a 'from' array is required",
        ));
    };
    match from.eval(&RunScope::new(ctx, state, Some(id))) {
        Ok(Value::Array(items)) => Ok(items),
        Ok(other) => Err(Finished::failed(
            None,
            "InvalidTemplate",
            format!(
                "The 'from' property of action '{}' is {}; it must be an array.",
                ctx.definition.action(id).name,
                super::foreach::json_type(&other)
            ),
        )),
        Err(error) => Err(invalid_template(ctx, id, "inputs.from", error)),
    }
}
