//! Logical and comparison functions. `and`, `or`, `if` and `coalesce` are lazy (errata E5): they
//! evaluate arguments left to right and stop as soon as the answer is known, so errors in
//! arguments they skip are never raised.

use super::Kind::{Eager, Lazy};
use super::{Function, arg, arg_bool, f};
use crate::ast::Node;
use crate::eval::Ctx;
use crate::value::{compare, type_name, values_equal};
use crate::{Error, Value};
use std::cmp::Ordering;

pub(super) const FUNCTIONS: &[Function] = &[
    f("and", 1, None, Lazy(and)),
    f("or", 1, None, Lazy(or)),
    f("if", 3, Some(3), Lazy(if_)),
    f("coalesce", 1, None, Lazy(coalesce)),
    f("not", 1, Some(1), Eager(not)),
    f("equals", 2, Some(2), Eager(equals)),
    f("greater", 2, Some(2), Eager(greater)),
    f("greaterOrEquals", 2, Some(2), Eager(greater_or_equals)),
    f("less", 2, Some(2), Eager(less)),
    f("lessOrEquals", 2, Some(2), Eager(less_or_equals)),
];

fn boolean(ctx: &Ctx, node: &Node, i: usize) -> Result<bool, Error> {
    match ctx.eval(node)? {
        Value::Bool(b) => Ok(b),
        other => Err(Error::invalid(format!(
            "argument {} must be a boolean, but it is {}",
            i + 1,
            type_name(&other)
        ))),
    }
}

fn and(ctx: &Ctx, args: &[Node]) -> Result<Value, Error> {
    for (i, node) in args.iter().enumerate() {
        if !boolean(ctx, node, i)? {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

fn or(ctx: &Ctx, args: &[Node]) -> Result<Value, Error> {
    for (i, node) in args.iter().enumerate() {
        if boolean(ctx, node, i)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn if_(ctx: &Ctx, args: &[Node]) -> Result<Value, Error> {
    let [cond, yes, no] = args else {
        return Err(Error::invalid("expects exactly 3 arguments"));
    };
    if boolean(ctx, cond, 0)? {
        ctx.eval(yes)
    } else {
        ctx.eval(no)
    }
}

fn coalesce(ctx: &Ctx, args: &[Node]) -> Result<Value, Error> {
    for node in args {
        let v = ctx.eval(node)?;
        if !v.is_null() {
            return Ok(v);
        }
    }
    Ok(Value::Null)
}

fn not(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::Bool(!arg_bool(args, 0, "expression")?))
}

/// See [`values_equal`] for the (documented) choices.
fn equals(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::Bool(values_equal(arg(args, 0), arg(args, 1))))
}

fn ordering(args: &[Value]) -> Result<Ordering, Error> {
    compare(arg(args, 0), arg(args, 1))
}

fn greater(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::Bool(ordering(args)? == Ordering::Greater))
}

fn greater_or_equals(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::Bool(ordering(args)? != Ordering::Less))
}

fn less(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::Bool(ordering(args)? == Ordering::Less))
}

fn less_or_equals(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::Bool(ordering(args)? != Ordering::Greater))
}
