//! Evaluating the condition of an If or Until: an expression that must yield a boolean, or the
//! designer's object form (`and`/`or`/`not` over function calls), short-circuiting as the
//! expression functions `and()` and `or()` do (errata E5).

use hookflow_expr::{Scope, call_function};
use hookflow_model::Condition;
use serde_json::Value;

/// The condition's truth, or why it has none (the action fails with `InvalidTemplate`).
pub(crate) fn evaluate(condition: &Condition, scope: &dyn Scope) -> Result<bool, String> {
    match condition {
        Condition::Value(value) => truth(value.eval(scope).map_err(|e| e.to_string())?),
        Condition::And(items) => {
            for item in items {
                if !evaluate(item, scope)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Condition::Or(items) => {
            for item in items {
                if evaluate(item, scope)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Condition::Not(inner) => Ok(!evaluate(inner, scope)?),
        Condition::Call { function, args } => {
            let args = args
                .iter()
                .map(|a| a.eval(scope))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            truth(call_function(function, &args, scope).map_err(|e| e.to_string())?)
        }
    }
}

/// A boolean, or the text interpolation makes of one (`"True"`, errata E4).
fn truth(value: Value) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        other => Err(format!(
            "the expression must evaluate to a boolean, not {other}"
        )),
    }
}
