//! JSON functions: `json` (parse), `addProperty`, `setProperty`, `removeProperty`, and the XML
//! functions whose names are known but which are not implemented yet (`xml`, `xpath`).
//!
//! Existing keys match regardless of case and keep their stored spelling (errata E3).

use super::Kind::Eager;
use super::{Function, arg, arg_str, f, unsupported, wrong_type};
use crate::eval::Ctx;
use crate::value::find_key;
use crate::{Error, Value};
use serde_json::Map;

pub(super) const FUNCTIONS: &[Function] = &[
    f("json", 1, Some(1), Eager(json)),
    f("addProperty", 3, Some(3), Eager(add_property)),
    f("setProperty", 3, Some(3), Eager(set_property)),
    f("removeProperty", 2, Some(2), Eager(remove_property)),
    f("xml", 1, Some(1), Eager(unsupported)),
    f("xpath", 2, Some(2), Eager(unsupported)),
];

/// Parses JSON text; values that are already JSON structures pass through.
fn json(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    match arg(args, 0) {
        Value::String(s) => {
            if s.trim_start().starts_with('<') {
                return Err(Error::invalid(
                    "converting XML to JSON is not supported yet",
                ));
            }
            serde_json::from_str(s)
                .map_err(|e| Error::invalid(format!("the text is not valid JSON: {e}")))
        }
        other => Ok(other.clone()),
    }
}

fn object_arg(args: &[Value]) -> Result<Map<String, Value>, Error> {
    match arg(args, 0) {
        Value::Object(map) => Ok(map.clone()),
        other => Err(wrong_type(0, "object", "an object", other)),
    }
}

fn add_property(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let mut map = object_arg(args)?;
    let name = arg_str(args, 1, "property")?;
    if let Some(existing) = find_key(&map, name) {
        return Err(Error::invalid(format!(
            "the property '{existing}' already exists"
        )));
    }
    map.insert(name.to_string(), arg(args, 2).clone());
    Ok(Value::Object(map))
}

fn set_property(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let mut map = object_arg(args)?;
    let name = arg_str(args, 1, "property")?;
    let key = find_key(&map, name)
        .cloned()
        .unwrap_or_else(|| name.to_string());
    map.insert(key, arg(args, 2).clone());
    Ok(Value::Object(map))
}

fn remove_property(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let mut map = object_arg(args)?;
    let name = arg_str(args, 1, "property")?;
    if let Some(key) = find_key(&map, name).cloned() {
        map.shift_remove(&key);
    }
    Ok(Value::Object(map))
}
