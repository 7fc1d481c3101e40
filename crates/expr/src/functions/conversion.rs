//! Conversions between types: `int`, `float`, `decimal`, `bool`, `string`, `array`,
//! `createArray`, `isInt`, `isFloat` (encodings are in `binary.rs`).

use super::Kind::Eager;
use super::culture::Culture;
use super::{Function, arg, f, opt_str, wrong_type};
use crate::decimal::Decimal;
use crate::eval::Ctx;
use crate::value::{Num, as_num, decimal_value, float_value, to_text};
use crate::{Error, Value};

pub(super) const FUNCTIONS: &[Function] = &[
    f("int", 1, Some(1), Eager(int)),
    f("float", 1, Some(2), Eager(float)),
    f("decimal", 1, Some(1), Eager(decimal)),
    f("bool", 1, Some(1), Eager(boolean)),
    f("string", 1, Some(1), Eager(string)),
    f("array", 1, Some(1), Eager(array)),
    f("createArray", 0, None, Eager(create_array)),
    f("isInt", 1, Some(1), Eager(is_int)),
    f("isFloat", 1, Some(2), Eager(is_float)),
];

/// Integers from strings (surrounding whitespace allowed, as .NET's `int.Parse`), integral
/// numbers, decimals (truncated) and booleans (1/0).
fn int(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let v = arg(args, 0);
    let out = match v {
        Value::String(s) => s.trim().parse::<i64>().ok(),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => match as_num(v) {
            Some(Num::Int(i)) => Some(i),
            // .NET Convert.ToInt64 rounds half to even.
            Some(Num::Float(x)) if x.is_finite() && x.abs() < 9.2e18 => {
                Some(x.round_ties_even() as i64)
            }
            Some(Num::Dec(d)) => d.to_f64().trunc().to_string().parse().ok(),
            _ => None,
        },
    };
    out.map(Value::from).ok_or_else(|| {
        Error::invalid(format!(
            "'{}' cannot be converted to an integer",
            to_text(v)
        ))
    })
}

fn parse_float(s: &str, culture: &Culture) -> Option<f64> {
    let cleaned: String = s
        .trim()
        .replace(culture.group, "")
        .replace(culture.decimal, ".");
    cleaned.parse::<f64>().ok().filter(|f| f.is_finite())
}

fn float(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let culture = Culture::get(opt_str(args, 1, "locale")?)?;
    let v = arg(args, 0);
    let out = match v {
        Value::String(s) => parse_float(s, culture),
        _ => as_num(v).map(Num::to_f64),
    };
    float_value(out.ok_or_else(|| {
        Error::invalid(format!("'{}' cannot be converted to a float", to_text(v)))
    })?)
}

fn decimal(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let v = arg(args, 0);
    let d = match v {
        Value::String(s) => Decimal::parse(s),
        _ => as_num(v).and_then(Num::to_dec),
    };
    let d = d.ok_or_else(|| {
        Error::invalid(format!("'{}' cannot be converted to a decimal", to_text(v)))
    })?;
    ctx.made_decimal.set(true);
    Ok(decimal_value(d))
}

fn boolean(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let v = arg(args, 0);
    let out = match v {
        Value::Bool(b) => Some(*b),
        Value::Null => Some(false),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
        _ => as_num(v).map(|n| n.to_f64() != 0.0),
    };
    out.map(Value::Bool)
        .ok_or_else(|| Error::invalid(format!("'{}' cannot be converted to a boolean", to_text(v))))
}

fn string(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::String(to_text(arg(args, 0))))
}

fn array(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::Array(vec![arg(args, 0).clone()]))
}

fn create_array(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::Array(args.to_vec()))
}

fn is_int(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    match arg(args, 0) {
        Value::String(s) => Ok(Value::Bool(s.trim().parse::<i64>().is_ok())),
        other => Err(wrong_type(0, "value", "a string", other)),
    }
}

fn is_float(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let culture = Culture::get(opt_str(args, 1, "locale")?)?;
    match arg(args, 0) {
        Value::String(s) => Ok(Value::Bool(parse_float(s, culture).is_some())),
        other => Err(wrong_type(0, "value", "a string", other)),
    }
}
