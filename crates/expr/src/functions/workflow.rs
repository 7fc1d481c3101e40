//! Workflow functions: everything that reads the run's data goes through the [`Scope`], so the
//! same expression works in the engine, at validation time and when subscribing a trigger.
//!
//! `body()`/`outputs()` are paths into the outputs the scope lends (`Scope::action_outputs`), and
//! `triggerBody()`/`triggerOutputs()` into `trigger()`, with null-safe steps: an action that has
//! not run, or has no body, gives null. The evaluator reads them in place (`Kind::Trigger`,
//! `Kind::ActionOutputs`).
//!
//! [`Scope`]: crate::Scope

use super::Kind::{ActionOutputs, Eager, Trigger};
use super::{Function, arg_str, f};
use crate::eval::Ctx;
use crate::{Error, Value};

pub(super) const FUNCTIONS: &[Function] = &[
    f("trigger", 0, Some(0), Trigger(&[])),
    f("triggerOutputs", 0, Some(0), Trigger(&["outputs"])),
    f("triggerBody", 0, Some(0), Trigger(&["outputs", "body"])),
    f("actions", 1, Some(1), Eager(actions)),
    f("outputs", 1, Some(1), ActionOutputs(&[])),
    f("actionOutputs", 1, Some(1), ActionOutputs(&[])),
    f("body", 1, Some(1), ActionOutputs(&["body"])),
    f("actionBody", 1, Some(1), ActionOutputs(&["body"])),
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

fn name_arg<'v>(args: &'v [Value], what: &str) -> Result<&'v str, Error> {
    arg_str(args, 0, what)
}

fn actions(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(ctx
        .scope
        .action(name_arg(args, "actionName")?)?
        .unwrap_or(Value::Null))
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
