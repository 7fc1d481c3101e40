//! JSON functions: `json` (parse JSON text, or convert XML), `addProperty`, `setProperty`,
//! `removeProperty`.
//!
//! Existing keys match regardless of case and keep their stored spelling (errata E3).

use super::Kind::Eager;
use super::{Function, arg, arg_str, f, wrong_type};
use crate::content::as_envelope;
use crate::eval::Ctx;
use crate::value::find_key;
use crate::xml::{self, declaration, xml_to_json};
use crate::{Error, Value};
use serde_json::Map;

pub(super) const FUNCTIONS: &[Function] = &[
    f("json", 1, Some(1), Eager(json)),
    f("addProperty", 3, Some(3), Eager(add_property)),
    f("setProperty", 3, Some(3), Eager(set_property)),
    f("removeProperty", 2, Some(2), Eager(remove_property)),
];

/// Parses JSON text; converts XML (an XML envelope, or text that starts with `<`); values
/// that are already JSON structures pass through. `json(null)` is `{}` as documented.
fn json(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let value = arg(args, 0);
    if let Some(content) = as_envelope(value) {
        let text = content.text()?;
        return if content.is_xml() {
            xml_text_to_json(&text)
        } else {
            parse_json(&text)
        };
    }
    match value {
        Value::String(s) if s.trim_start().starts_with('<') => xml_text_to_json(s),
        Value::String(s) => parse_json(s),
        Value::Null => Ok(Value::Object(Map::new())),
        other => Ok(other.clone()),
    }
}

fn parse_json(text: &str) -> Result<Value, Error> {
    serde_json::from_str(text)
        .map_err(|e| Error::invalid(format!("the text is not valid JSON: {e}")))
}

fn xml_text_to_json(text: &str) -> Result<Value, Error> {
    let doc = xml::parse(text.trim_start())?;
    xml_to_json(&doc, &declaration(text.trim_start()))
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
