//! Collection functions over strings, arrays and objects: `length`, `contains`, `first`, `union`,
//! `sort`, `chunk`, ...
//!
//! Items compare with the same rules as `equals()` (see [`crate::value::values_equal`]).

use super::Kind::Eager;
use super::{Function, arg, arg_array, arg_int, arg_text, ensure_size, f, opt_str, wrong_type};
use crate::eval::Ctx;
use crate::value::{compare, find_key, to_text, type_name, values_equal};
use crate::{Error, Value};
use serde_json::Map;
use std::cmp::Ordering;

pub(super) const FUNCTIONS: &[Function] = &[
    f("length", 1, Some(1), Eager(length)),
    f("contains", 2, Some(2), Eager(contains)),
    f("empty", 1, Some(1), Eager(empty)),
    f("first", 1, Some(1), Eager(first)),
    f("last", 1, Some(1), Eager(last)),
    f("skip", 2, Some(2), Eager(skip)),
    f("take", 2, Some(2), Eager(take)),
    f("union", 2, None, Eager(union)),
    f("intersection", 2, None, Eager(intersection)),
    f("join", 2, Some(2), Eager(join)),
    f("reverse", 1, Some(1), Eager(reverse)),
    f("sort", 1, Some(2), Eager(sort)),
    f("chunk", 2, Some(2), Eager(chunk)),
];

fn length(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let n = match arg(args, 0) {
        Value::String(s) => s.chars().count(),
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        other => {
            return Err(wrong_type(
                0,
                "collection",
                "a string, an array or an object",
                other,
            ));
        }
    };
    Ok(Value::from(n as i64))
}

/// Substring, array item or object key; case-sensitive as documented.
fn contains(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let needle = arg(args, 1);
    let found = match arg(args, 0) {
        Value::String(s) => s.contains(&to_text(needle)),
        Value::Array(items) => items.iter().any(|item| values_equal(item, needle)),
        Value::Object(map) => map.contains_key(&to_text(needle)),
        Value::Null => false,
        other => {
            return Err(wrong_type(
                0,
                "collection",
                "a string, an array or an object",
                other,
            ));
        }
    };
    Ok(Value::Bool(found))
}

fn empty(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::Bool(match arg(args, 0) {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }))
}

/// Errata E10: empty array → null, empty string → `""`, anything else but a collection → error.
fn first(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    match arg(args, 0) {
        Value::String(s) => Ok(Value::String(
            s.chars().next().map(String::from).unwrap_or_default(),
        )),
        Value::Array(a) => Ok(a.first().cloned().unwrap_or(Value::Null)),
        other => Err(wrong_type(0, "collection", "a string or an array", other)),
    }
}

fn last(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    match arg(args, 0) {
        Value::String(s) => Ok(Value::String(
            s.chars().next_back().map(String::from).unwrap_or_default(),
        )),
        Value::Array(a) => Ok(a.last().cloned().unwrap_or(Value::Null)),
        other => Err(wrong_type(0, "collection", "a string or an array", other)),
    }
}

/// A count argument as `usize`; negative counts are 0 (like LINQ's Skip/Take).
fn count_arg(args: &[Value], i: usize, what: &str) -> Result<usize, Error> {
    let n = arg_int(args, i, what)?;
    Ok(usize::try_from(n).unwrap_or(0))
}

fn skip(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let n = count_arg(args, 1, "count")?;
    match arg(args, 0) {
        Value::Array(a) => Ok(Value::Array(a.iter().skip(n).cloned().collect())),
        Value::String(s) => Ok(Value::String(s.chars().skip(n).collect())),
        other => Err(wrong_type(0, "collection", "an array or a string", other)),
    }
}

fn take(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let n = count_arg(args, 1, "count")?;
    match arg(args, 0) {
        Value::Array(a) => Ok(Value::Array(a.iter().take(n).cloned().collect())),
        Value::String(s) => Ok(Value::String(s.chars().take(n).collect())),
        other => Err(wrong_type(0, "collection", "an array or a string", other)),
    }
}

/// Either all arrays or all objects; mixing them is an error.
enum Collections<'v> {
    Arrays(Vec<&'v Vec<Value>>),
    Objects(Vec<&'v Map<String, Value>>),
}

fn collections(args: &[Value]) -> Result<Collections<'_>, Error> {
    match arg(args, 0) {
        Value::Array(_) => args
            .iter()
            .enumerate()
            .map(|(i, _)| arg_array(args, i, "collection"))
            .collect::<Result<_, _>>()
            .map(Collections::Arrays),
        Value::Object(_) => args
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_object()
                    .ok_or_else(|| wrong_type(i, "collection", "an object", v))
            })
            .collect::<Result<_, _>>()
            .map(Collections::Objects),
        other => Err(wrong_type(0, "collection", "an array or an object", other)),
    }
}

fn push_distinct(out: &mut Vec<Value>, item: &Value) {
    if !out.iter().any(|seen| values_equal(seen, item)) {
        out.push(item.clone());
    }
}

fn union(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    match collections(args)? {
        Collections::Arrays(arrays) => {
            ensure_size(arrays.iter().map(|a| a.len()).sum())?;
            let mut out = Vec::new();
            arrays
                .iter()
                .flat_map(|a| a.iter())
                .for_each(|item| push_distinct(&mut out, item));
            Ok(Value::Array(out))
        }
        Collections::Objects(objects) => {
            // The last object wins for a key present in several.
            let mut out = Map::new();
            for object in objects {
                for (k, v) in object {
                    out.insert(k.clone(), v.clone());
                }
            }
            Ok(Value::Object(out))
        }
    }
}

fn intersection(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    match collections(args)? {
        Collections::Arrays(arrays) => {
            let (head, rest) = arrays
                .split_first()
                .ok_or_else(|| Error::invalid("no collections given"))?;
            let mut out = Vec::new();
            for item in head.iter() {
                if rest.iter().all(|a| a.iter().any(|x| values_equal(x, item))) {
                    push_distinct(&mut out, item);
                }
            }
            Ok(Value::Array(out))
        }
        Collections::Objects(objects) => {
            // A property is common when every object has it with an equal value.
            let (head, rest) = objects
                .split_first()
                .ok_or_else(|| Error::invalid("no collections given"))?;
            let mut out = Map::new();
            for (k, v) in head.iter() {
                if rest
                    .iter()
                    .all(|o| o.get(k).is_some_and(|w| values_equal(v, w)))
                {
                    out.insert(k.clone(), v.clone());
                }
            }
            Ok(Value::Object(out))
        }
    }
}

fn join(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let items = arg_array(args, 0, "collection")?;
    let delimiter = arg_text(args, 1, "delimiter")?;
    let parts: Vec<String> = items.iter().map(to_text).collect();
    let total = parts.iter().map(String::len).sum::<usize>()
        + delimiter
            .len()
            .saturating_mul(parts.len().saturating_sub(1));
    ensure_size(total)?;
    Ok(Value::String(parts.join(&delimiter)))
}

fn reverse(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    match arg(args, 0) {
        Value::Array(a) => Ok(Value::Array(a.iter().rev().cloned().collect())),
        Value::String(s) => Ok(Value::String(s.chars().rev().collect())),
        other => Err(wrong_type(0, "collection", "an array", other)),
    }
}

/// Sorts numbers or strings (never a mix), or objects by the value of one property. Stable.
fn sort(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let items = arg_array(args, 0, "collection")?;
    let key = opt_str(args, 1, "sortBy")?;
    let sort_keys: Vec<&Value> = match key {
        None => items.iter().collect(),
        Some(k) => items
            .iter()
            .map(|item| {
                item.as_object()
                    .and_then(|o| find_key(o, k).and_then(|found| o.get(found)))
                    .ok_or_else(|| {
                        Error::invalid(format!(
                            "an item ({}) has no property '{k}' to sort by",
                            type_name(item)
                        ))
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    // Check comparability up front so the sort itself cannot fail half-way.
    for pair in sort_keys.windows(2) {
        let ok = matches!(
            (pair[0], pair[1]),
            (Value::Number(_), Value::Number(_)) | (Value::String(_), Value::String(_))
        );
        if !ok {
            return Err(Error::invalid(format!(
                "cannot sort {} together with {}: items must be all numbers or all strings",
                type_name(pair[0]),
                type_name(pair[1])
            )));
        }
    }
    if let Some(only) = sort_keys.first()
        && !matches!(only, Value::Number(_) | Value::String(_))
    {
        return Err(Error::invalid(format!("cannot sort {}", type_name(only))));
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| compare(sort_keys[a], sort_keys[b]).unwrap_or(Ordering::Equal));
    Ok(Value::Array(
        order
            .into_iter()
            .filter_map(|i| items.get(i).cloned())
            .collect(),
    ))
}

fn chunk(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let size = arg_int(args, 1, "length")?;
    let size = usize::try_from(size)
        .ok()
        .filter(|&s| s > 0)
        .ok_or_else(|| {
            Error::invalid(format!("the chunk length ({size}) must be greater than 0"))
        })?;
    match arg(args, 0) {
        Value::Array(a) => Ok(Value::Array(
            a.chunks(size).map(|c| Value::Array(c.to_vec())).collect(),
        )),
        Value::String(s) => {
            let chars: Vec<char> = s.chars().collect();
            Ok(Value::Array(
                chars
                    .chunks(size)
                    .map(|c| Value::String(c.iter().collect()))
                    .collect(),
            ))
        }
        other => Err(wrong_type(0, "collection", "a string or an array", other)),
    }
}
