//! The built-in function table and the argument helpers every family uses.
//!
//! Each family file (`string.rs`, `math.rs`, ...) exports a `FUNCTIONS` slice; adding a function
//! is one entry there. Names are matched case-insensitively through a map built once. A function
//! is either eager (gets evaluated arguments) or lazy (gets the argument trees and evaluates only
//! what it needs: `and`, `or`, `if`, `coalesce`, errata E5).

mod binary;
mod collection;
mod conversion;
mod culture;
mod datetime;
mod dotnet_time;
mod form_data;
mod json;
mod logical;
mod math;
mod number_format;
mod string;
mod timezone;
mod uri;
mod workflow;
mod xml;

use crate::ast::Node;
use crate::content::as_envelope;
use crate::eval::Ctx;
use crate::value::{Num, as_num, to_text, type_name};
use crate::{Error, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The zone of a Windows time-zone name (`W. Europe Standard Time`), as `convertTimeZone`
/// reads it; `None` for a name it does not know. Shared with recurrence schedules.
pub fn windows_time_zone(name: &str) -> Option<jiff::tz::TimeZone> {
    timezone::lookup(name).ok()
}

pub(crate) type EagerFn = fn(&Ctx, &[Value]) -> Result<Value, Error>;
pub(crate) type LazyFn = fn(&Ctx, &[Node]) -> Result<Value, Error>;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Eager(EagerFn),
    Lazy(LazyFn),
    /// A path into the trigger object (`triggerBody()` is `["outputs", "body"]`), which the
    /// evaluator reads in place: a member access on it copies only the member.
    Trigger(&'static [&'static str]),
    /// A path into the outputs of the action its one argument names (`body('Get')` is
    /// `["body"]`), read in place like [`Kind::Trigger`].
    ActionOutputs(&'static [&'static str]),
}

/// One row of the function table.
#[derive(Debug)]
pub(crate) struct Function {
    /// The documented spelling (lookups ignore case).
    pub name: &'static str,
    pub min_args: usize,
    pub max_args: Option<usize>,
    pub kind: Kind,
}

/// Shorthand for table rows: `f("name", min, Some(max), Eager(body))`.
pub(crate) const fn f(
    name: &'static str,
    min_args: usize,
    max_args: Option<usize>,
    kind: Kind,
) -> Function {
    Function {
        name,
        min_args,
        max_args,
        kind,
    }
}

fn families() -> [&'static [Function]; 13] {
    [
        string::FUNCTIONS,
        collection::FUNCTIONS,
        logical::FUNCTIONS,
        conversion::FUNCTIONS,
        math::FUNCTIONS,
        datetime::FUNCTIONS,
        workflow::FUNCTIONS,
        uri::FUNCTIONS,
        json::FUNCTIONS,
        number_format::FUNCTIONS,
        xml::FUNCTIONS,
        form_data::FUNCTIONS,
        binary::FUNCTIONS,
    ]
}

fn table() -> &'static HashMap<String, &'static Function> {
    static TABLE: OnceLock<HashMap<String, &'static Function>> = OnceLock::new();
    TABLE.get_or_init(|| {
        families()
            .into_iter()
            .flatten()
            .map(|func| (func.name.to_ascii_lowercase(), func))
            .collect()
    })
}

pub(crate) fn lookup(name: &str) -> Option<&'static Function> {
    table().get(&name.to_ascii_lowercase()).copied()
}

/// Public description of a built-in function, for tooling (validation messages, editors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionInfo {
    pub name: &'static str,
    pub min_args: usize,
    pub max_args: Option<usize>,
}

/// Looks a function up by name, ignoring case.
pub fn function_info(name: &str) -> Option<FunctionInfo> {
    lookup(name).map(|func| FunctionInfo {
        name: func.name,
        min_args: func.min_args,
        max_args: func.max_args,
    })
}

/// Calls a built-in function by name with arguments already evaluated: the designer's object
/// form of If/Until conditions (`{"equals": [a, b]}`) names a function and its operands.
/// Functions that take unevaluated arguments (`if`, `and`, `or`, `coalesce`) are refused: the
/// object form spells those as nested conditions.
pub fn call_function(name: &str, args: &[Value], scope: &dyn crate::Scope) -> Result<Value, Error> {
    let unknown = |message: String| Error {
        kind: crate::ErrorKind::InvalidArgument,
        message,
        span: None,
    };
    let func = lookup(name).ok_or_else(|| unknown(format!("unknown function '{name}'")))?;
    if args.len() < func.min_args || func.max_args.is_some_and(|max| args.len() > max) {
        return Err(unknown(format!(
            "'{}' does not take {} arguments",
            func.name,
            args.len()
        )));
    }
    match func.kind {
        Kind::Eager(body) => body(&Ctx::new(scope), args),
        Kind::Trigger(path) => Ctx::new(scope).trigger_path(path).cloned(),
        Kind::ActionOutputs(path) => Ctx::new(scope).action_path(args, path).cloned(),
        Kind::Lazy(_) => Err(unknown(format!(
            "'{}' cannot be called with evaluated arguments",
            func.name
        ))),
    }
}

/// The documented names of every built-in function, sorted.
pub fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = families()
        .into_iter()
        .flatten()
        .map(|func| func.name)
        .collect();
    names.sort_unstable_by_key(|n| n.to_ascii_lowercase());
    names
}

// Argument helpers. `i` is 0-based; messages count from 1 as users do.

pub(crate) fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Null)
}

pub(crate) fn wrong_type(i: usize, what: &str, expected: &str, got: &Value) -> Error {
    Error::invalid(format!(
        "argument {} ('{what}') must be {expected}, but it is {}",
        i + 1,
        type_name(got)
    ))
}

/// A string argument; no conversion.
pub(crate) fn arg_str<'v>(args: &'v [Value], i: usize, what: &str) -> Result<&'v str, Error> {
    match arg(args, i) {
        Value::String(s) => Ok(s),
        other => Err(wrong_type(i, what, "a string", other)),
    }
}

/// A string argument with WDL's implicit conversion of scalars (null → `""`, numbers, booleans,
/// content envelopes as their text); arrays and other objects are rejected.
pub(crate) fn arg_text(args: &[Value], i: usize, what: &str) -> Result<String, Error> {
    match arg(args, i) {
        Value::Array(_) => Err(wrong_type(i, what, "a string", arg(args, i))),
        Value::Object(_)
            if as_num(arg(args, i)).is_none() && as_envelope(arg(args, i)).is_none() =>
        {
            Err(wrong_type(i, what, "a string", arg(args, i)))
        }
        v => Ok(to_text(v)),
    }
}

pub(crate) fn arg_num(args: &[Value], i: usize, what: &str) -> Result<Num, Error> {
    as_num(arg(args, i)).ok_or_else(|| wrong_type(i, what, "a number", arg(args, i)))
}

/// An integer argument; integral floats are accepted.
pub(crate) fn arg_int(args: &[Value], i: usize, what: &str) -> Result<i64, Error> {
    let v = arg(args, i);
    match as_num(v) {
        Some(Num::Int(n)) => Ok(n),
        Some(Num::Float(f)) if f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(f as i64),
        _ => Err(wrong_type(i, what, "an integer", v)),
    }
}

pub(crate) fn arg_array<'v>(
    args: &'v [Value],
    i: usize,
    what: &str,
) -> Result<&'v Vec<Value>, Error> {
    match arg(args, i) {
        Value::Array(a) => Ok(a),
        other => Err(wrong_type(i, what, "an array", other)),
    }
}

pub(crate) fn arg_bool(args: &[Value], i: usize, what: &str) -> Result<bool, Error> {
    match arg(args, i) {
        Value::Bool(b) => Ok(*b),
        other => Err(wrong_type(i, what, "a boolean", other)),
    }
}

/// An optional string argument: `None` when absent or null.
pub(crate) fn opt_str<'v>(
    args: &'v [Value],
    i: usize,
    what: &str,
) -> Result<Option<&'v str>, Error> {
    match args.get(i) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => arg_str(args, i, what).map(Some),
    }
}

/// Counts characters (Unicode scalar values), the unit of every string index in this crate.
pub(crate) fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// The byte offset of character `index` (or the string's end), never panicking.
pub(crate) fn byte_at(s: &str, index: usize) -> usize {
    s.char_indices().nth(index).map_or(s.len(), |(b, _)| b)
}

/// Rejects results that would exceed the size cap before building them.
pub(crate) fn ensure_size(bytes: usize) -> Result<(), Error> {
    if bytes > crate::limits::MAX_RESULT_BYTES {
        return Err(Error::limit(format!(
            "the result would be larger than {} bytes",
            crate::limits::MAX_RESULT_BYTES
        )));
    }
    Ok(())
}
