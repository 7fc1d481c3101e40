//! Workflow functions: everything that reads the run's data goes through the [`Scope`], so the
//! same expression works in the engine, at validation time and when subscribing a trigger.
//!
//! `body()`/`outputs()` are derived from `actions()` (and `triggerBody()`/`triggerOutputs()` from
//! `trigger()`) with null-safe steps: an action that has not run, or has no body, gives null.
//!
//! [`Scope`]: crate::Scope

use super::Kind::{Eager, Trigger};
use super::{Function, arg_str, f};
use crate::eval::Ctx;
use crate::value::find_key;
use crate::{Error, Value};

pub(super) const FUNCTIONS: &[Function] = &[
    f("trigger", 0, Some(0), Trigger(&[])),
    f("triggerOutputs", 0, Some(0), Trigger(&["outputs"])),
    f("triggerBody", 0, Some(0), Trigger(&["outputs", "body"])),
    f("actions", 1, Some(1), Eager(actions)),
    f("outputs", 1, Some(1), Eager(outputs)),
    f("actionOutputs", 1, Some(1), Eager(outputs)),
    f("body", 1, Some(1), Eager(body)),
    f("actionBody", 1, Some(1), Eager(body)),
    f("action", 0, Some(0), Eager(action)),
    f("parameters", 1, Some(1), Eager(parameters)),
    f("variables", 1, Some(1), Eager(variables)),
    f("appsetting", 1, Some(1), Eager(appsetting)),
    f("workflow", 0, Some(0), Eager(workflow)),
    f("listCallbackUrl", 0, Some(0), Eager(list_callback_url)),
    f("item", 0, Some(0), Eager(item)),
    f("items", 1, Some(1), Eager(items)),
    f("iterationIndexes", 1, Some(1), Eager(iteration_indexes)),
    f("result", 1, Some(1), Eager(result)),
];

/// `value?.name` with case-insensitive lookup: null when `value` is not an object or lacks it.
pub(super) fn member(value: Value, name: &str) -> Value {
    match value {
        Value::Object(mut map) => match find_key(&map, name).cloned() {
            Some(k) => map.swap_remove(&k).unwrap_or(Value::Null),
            None => Value::Null,
        },
        _ => Value::Null,
    }
}

fn name_arg<'v>(args: &'v [Value], what: &str) -> Result<&'v str, Error> {
    arg_str(args, 0, what)
}

fn actions(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(ctx
        .scope
        .action(name_arg(args, "actionName")?)?
        .unwrap_or(Value::Null))
}

fn outputs(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let action = ctx.scope.action(name_arg(args, "actionName")?)?;
    Ok(action.map_or(Value::Null, |a| member(a, "outputs")))
}

fn body(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let action = ctx.scope.action(name_arg(args, "actionName")?)?;
    Ok(action.map_or(Value::Null, |a| member(member(a, "outputs"), "body")))
}

fn action(ctx: &Ctx, _: &[Value]) -> Result<Value, Error> {
    ctx.scope.current_action()
}

fn parameters(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    ctx.scope.parameter(name_arg(args, "parameterName")?)
}

fn variables(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    ctx.scope.variable(name_arg(args, "variableName")?)
}

fn appsetting(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    ctx.scope.app_setting(name_arg(args, "settingName")?)
}

fn workflow(ctx: &Ctx, _: &[Value]) -> Result<Value, Error> {
    ctx.scope.workflow()
}

fn list_callback_url(ctx: &Ctx, _: &[Value]) -> Result<Value, Error> {
    ctx.scope.list_callback_url()
}

fn item(ctx: &Ctx, _: &[Value]) -> Result<Value, Error> {
    ctx.scope.item()
}

fn items(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    ctx.scope.items(name_arg(args, "loopName")?)
}

fn iteration_indexes(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    ctx.scope.iteration_indexes(name_arg(args, "loopName")?)
}

fn result(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    ctx.scope.result(name_arg(args, "scopeName")?)
}
