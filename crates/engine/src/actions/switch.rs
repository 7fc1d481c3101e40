//! Switch: the first case whose constant equals the expression's value runs, else `default`;
//! the actions of every other branch are Skipped (logicapps-spec §6.5, errata E13).
//!
//! Equality is JSON equality, numbers compared by value (`1` matches `1.0`); strings match
//! exactly, case included.

use super::{Finished, invalid_template};
use crate::schedule::Agenda;
use crate::{ActionKey, RunState, StepContext, Transition, containers, scope::RunScope};
use hookflow_expr::CompiledValue;
use hookflow_model::Branch;
use serde_json::{Value, json};

pub(crate) fn start(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    key: &ActionKey,
    expression: &CompiledValue,
    cases: &[(String, Value)],
    transition: &mut Transition,
    agenda: &mut Agenda,
) -> Finished {
    let value = match expression.eval(&RunScope::new(ctx, state, Some(key.id))) {
        Ok(value) => value,
        Err(error) => return invalid_template(ctx, key.id, "expression", error),
    };
    let taken = cases
        .iter()
        .find(|(_, case)| same(case, &value))
        .map_or(Branch::Default, |(name, _)| Branch::Case(name.clone()));
    let branches = cases
        .iter()
        .map(|(name, _)| Branch::Case(name.clone()))
        .chain([Branch::Default]);
    for branch in branches.filter(|b| *b != taken) {
        containers::skip_branch(state, ctx, key.id, &branch, &key.repetition, transition);
    }
    let inputs = json!({ "expressionValue": value });
    if containers::start_branch(ctx, key.id, &taken, &key.repetition, agenda) {
        Finished::Pending { inputs }
    } else {
        Finished::succeeded(Some(inputs), None)
    }
}

fn same(case: &Value, value: &Value) -> bool {
    match (case, value) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => case == value,
    }
}
