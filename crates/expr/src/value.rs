//! How WDL looks at JSON values: text conversion, numbers, equality, ordering and
//! case-insensitive property lookup. Shared by the evaluator and every function family.

use crate::Error;
use crate::content::as_envelope;
use crate::decimal::Decimal;
use serde_json::{Map, Number, Value};
use std::cmp::Ordering;

/// Key of the marker object that carries a `decimal()` value between functions (see
/// [`crate::decimal`]).
pub(crate) const DECIMAL_KEY: &str = "$hookflowDecimal";

/// The text of a value as `@{...}` interpolation, `string()`, `concat()` and `join()` write it:
/// strings as they are, null as `""`, booleans as `True`/`False` (errata E4), numbers as JSON
/// numbers (floats without a needless `.0`, like .NET), content envelopes as their decoded text,
/// other objects and arrays as compact JSON.
pub fn to_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Number(n) => number_text(n),
        Value::Object(_) => {
            if let Some(d) = as_decimal(value) {
                return d.to_string();
            }
            // Binary content shows as its text; a broken envelope shows as the JSON it is.
            match as_envelope(value).map(|e| e.text()) {
                Some(Ok(text)) => text,
                _ => value.to_string(),
            }
        }
        Value::Array(_) => value.to_string(),
    }
}

fn number_text(n: &Number) -> String {
    match (n.as_i64(), n.as_u64(), n.as_f64()) {
        (Some(i), _, _) => i.to_string(),
        (_, Some(u), _) => u.to_string(),
        (_, _, Some(f)) => float_text(f),
        _ => n.to_string(),
    }
}

/// Shortest round-trip text of a float in .NET's style: `3` not `3.0`, and `1E+15` / `1E-05`
/// once the exponent is large.
pub(crate) fn float_text(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-5..1e15).contains(&abs) {
        let s = format!("{f:e}");
        if let Some((mantissa, exp)) = s.split_once('e') {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            return format!("{mantissa}E{sign}{digits:0>2}");
        }
        return s;
    }
    format!("{f}")
}

/// A number as arithmetic sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Num {
    Int(i64),
    Float(f64),
    Dec(Decimal),
}

pub(crate) fn as_num(value: &Value) -> Option<Num> {
    match value {
        Value::Number(n) => Some(match n.as_i64() {
            Some(i) => Num::Int(i),
            // Unsigned values beyond i64 are treated as floats: WDL integers are signed 64-bit.
            None => Num::Float(n.as_f64()?),
        }),
        Value::Object(_) => as_decimal(value).map(Num::Dec),
        _ => None,
    }
}

pub(crate) fn as_decimal(value: &Value) -> Option<Decimal> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    Decimal::parse(map.get(DECIMAL_KEY)?.as_str()?)
}

impl Num {
    pub fn to_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
            Num::Dec(d) => d.to_f64(),
        }
    }

    pub fn to_dec(self) -> Option<Decimal> {
        match self {
            Num::Int(i) => Some(Decimal::from_i64(i)),
            Num::Float(f) => Decimal::from_f64(f),
            Num::Dec(d) => Some(d),
        }
    }

    pub fn into_value(self) -> Result<Value, Error> {
        match self {
            Num::Int(i) => Ok(Value::from(i)),
            Num::Float(f) => float_value(f),
            Num::Dec(d) => Ok(decimal_value(d)),
        }
    }
}

pub(crate) fn float_value(f: f64) -> Result<Value, Error> {
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| Error::invalid("the result is not a finite number"))
}

pub(crate) fn decimal_value(d: Decimal) -> Value {
    let mut map = Map::new();
    map.insert(DECIMAL_KEY.to_string(), Value::String(d.to_string()));
    Value::Object(map)
}

/// Compares two numbers by value, whatever their representation.
pub(crate) fn num_cmp(a: Num, b: Num) -> Ordering {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => x.cmp(&y),
        (Num::Dec(_), _) | (_, Num::Dec(_)) => match (a.to_dec(), b.to_dec()) {
            (Some(x), Some(y)) => x.cmp(y),
            _ => a.to_f64().total_cmp(&b.to_f64()),
        },
        _ => a.to_f64().total_cmp(&b.to_f64()),
    }
}

/// `equals()` and every place that compares items (`contains`, `union`, `intersection`).
///
/// Decision (errata E8 leaves it to us): numbers compare by value across int/float/decimal;
/// strings compare ordinally and case-SENSITIVELY (as the IllogicApps simulator, which compares
/// with `String.CompareOrdinal`); `null` equals `""` (the docs: "in logical comparisons null is
/// converted to an empty string"); otherwise different types are never equal, so
/// `equals(true, 1)` is false (the simulator's strict behaviour, not the docs' example).
/// Arrays compare item by item, objects key by key (order-insensitive), with the same rules.
pub(crate) fn values_equal(a: &Value, b: &Value) -> bool {
    if let (Some(x), Some(y)) = (as_num(a), as_num(b)) {
        return num_cmp(x, y) == Ordering::Equal;
    }
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Null, Value::String(s)) | (Value::String(s), Value::Null) => s.is_empty(),
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => false,
    }
}

/// Ordering for `greater`/`less`/...: numbers by value, strings ordinally; null counts as `""`.
pub(crate) fn compare(a: &Value, b: &Value) -> Result<Ordering, Error> {
    if let (Some(x), Some(y)) = (as_num(a), as_num(b)) {
        return Ok(num_cmp(x, y));
    }
    let text = |v: &Value| match v {
        Value::Null => Some(String::new()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    };
    match (text(a), text(b)) {
        (Some(x), Some(y)) => Ok(x.cmp(&y)),
        _ => Err(Error::invalid(format!(
            "cannot compare {} with {}: both must be numbers or both strings",
            type_name(a),
            type_name(b)
        ))),
    }
}

/// A short description of a value's type for error messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() => "an integer",
        Value::Number(_) => "a float",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) if as_decimal(value).is_some() => "a decimal",
        Value::Object(_) if as_envelope(value).is_some() => "binary content",
        Value::Object(_) => "an object",
    }
}

/// Case-insensitive equality of property names (errata E3), without allocating.
pub(crate) fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.len() == b.len() && a.eq_ignore_ascii_case(b) {
        return true;
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// The key of `map` that `name` refers to: the exact key if present, else the first key equal
/// ignoring case (errata E3).
pub(crate) fn find_key<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m String> {
    if let Some((k, _)) = map.get_key_value(name) {
        return Some(k);
    }
    map.keys().find(|k| eq_ignore_case(k, name))
}

/// `value?.name` in place, with case-insensitive lookup: the member, or null when `value` is
/// not an object or lacks it.
pub(crate) fn member_ref<'v>(value: &'v Value, name: &str) -> &'v Value {
    match value {
        Value::Object(map) => find_key(map, name).and_then(|k| map.get(k)),
        _ => None,
    }
    .unwrap_or(&Value::Null)
}

/// Replaces every decimal marker inside `value` with a JSON float (the end of an evaluation).
pub(crate) fn decimals_to_floats(value: &mut Value) {
    if let Some(d) = as_decimal(value) {
        *value = Number::from_f64(d.to_f64()).map_or(Value::Null, Value::Number);
        return;
    }
    match value {
        Value::Array(items) => items.iter_mut().for_each(decimals_to_floats),
        Value::Object(map) => map.values_mut().for_each(decimals_to_floats),
        _ => {}
    }
}
