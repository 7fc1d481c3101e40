//! Foreach: evaluate the array once (recorded as the action's inputs, where `item()` reads
//! each iteration's element, after a restart too), then run the body once per element, up to
//! `concurrency` iterations at a time (logicapps-spec §6.6): 20 by default, 1–50, and always
//! one at a time inside another loop (errata E2). Iterations start in index order.
//!
//! Its status: Failed when any iteration ended in failure (leaf rule), Succeeded otherwise.

use super::{Finished, invalid_template};
use crate::schedule::Agenda;
use crate::state::LoopProgress;
use crate::{ActionKey, RunState, StepContext, Transition, containers, finish, scope::RunScope};
use hookflow_expr::CompiledValue;
use hookflow_model::Branch;
use serde_json::Value;

/// Most elements a Foreach accepts (spec §7).
const MAX_ITEMS: usize = 100_000;
const DEFAULT_CONCURRENCY: u32 = 20;

pub(crate) fn start(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    key: &ActionKey,
    items: &CompiledValue,
    concurrency: Option<u32>,
    agenda: &mut Agenda,
) -> Finished {
    let name = &ctx.definition.action(key.id).name;
    let value = match items.eval(&RunScope::new(ctx, state, Some(key.id))) {
        Ok(value) => value,
        Err(error) => return invalid_template(ctx, key.id, "foreach", error),
    };
    let items = match value {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        other => {
            return Finished::failed(
                None,
                "InvalidTemplate",
                format!(
                    "The execution of template action '{name}' failed: the result of the 'foreach' expression is {}; it must be an array.",
                    json_type(&other)
                ),
            );
        }
    };
    if items.len() > MAX_ITEMS {
        return Finished::failed(
            None,
            "InvalidTemplate",
            format!(
                "The 'foreach' expression of action '{name}' gave {} items; at most {MAX_ITEMS} are allowed.",
                items.len()
            ),
        );
    }
    let len = items.len() as u32;
    if len == 0 || ctx.plan.children(key.id).is_empty() {
        return Finished::succeeded(Some(Value::Array(items)), None);
    }
    let first = width(state, key, concurrency).min(len);
    for index in 0..first {
        start_iteration(ctx, key, index, agenda);
    }
    state.loops.insert(
        key.clone(),
        LoopProgress {
            started: first,
            done: 0,
        },
    );
    Finished::Pending {
        inputs: Value::Array(items),
    }
}

/// One iteration's body finished: start the next one, or end the loop after the last.
pub(crate) fn iteration_done(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    key: &ActionKey,
    concurrency: Option<u32>,
    transition: &mut Transition,
    agenda: &mut Agenda,
) {
    let len = state
        .get(key)
        .and_then(|a| a.inputs.as_ref())
        .and_then(Value::as_array)
        .map_or(0, |items| items.len() as u32);
    let width = width(state, key, concurrency);
    let Some(progress) = state.loops.get_mut(key) else {
        return;
    };
    progress.done += 1;
    while progress.started < len && progress.started - progress.done < width {
        start_iteration(ctx, key, progress.started, agenda);
        progress.started += 1;
    }
    if progress.done < len {
        return;
    }
    let children = ctx.plan.children(key.id);
    let failed =
        (0..len).any(|i| finish::branch_failed(state, ctx, children, &key.repetition.child(i)));
    containers::complete(
        state,
        ctx,
        key,
        containers::Outcome::of_branch(failed),
        transition,
        agenda,
    );
}

fn start_iteration(ctx: &StepContext<'_>, key: &ActionKey, index: u32, agenda: &mut Agenda) {
    let repetition = key.repetition.child(index);
    containers::start_branch(ctx, key.id, &Branch::Actions, &repetition, agenda);
}

/// How many iterations run at once.
fn width(state: &RunState, key: &ActionKey, concurrency: Option<u32>) -> u32 {
    if state.depth(key.id) > 0 {
        1
    } else {
        concurrency.unwrap_or(DEFAULT_CONCURRENCY).clamp(1, 50)
    }
}

pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
