//! Arithmetic: `add`, `sub`, `mul`, `div`, `mod`, `min`, `max`, `range`, `rand`.
//!
//! Two integers give an integer (checked: overflow is an error, errata E10), a float anywhere
//! gives a float, a decimal (from `decimal()`) with integers or decimals gives a decimal.
//! Division or modulo by zero is an error, never infinity.

use super::Kind::Eager;
use super::{Function, arg_int, arg_num, f};
use crate::decimal::Decimal;
use crate::eval::Ctx;
use crate::limits::MAX_RANGE_COUNT;
use crate::value::{Num, as_num, float_value, num_cmp, type_name};
use crate::{Error, Value};
use std::cmp::Ordering;

pub(super) const FUNCTIONS: &[Function] = &[
    f("add", 2, Some(2), Eager(add)),
    f("sub", 2, Some(2), Eager(sub)),
    f("mul", 2, Some(2), Eager(mul)),
    f("div", 2, Some(2), Eager(div)),
    f("mod", 2, Some(2), Eager(modulo)),
    f("min", 1, None, Eager(min)),
    f("max", 1, None, Eager(max)),
    f("range", 2, Some(2), Eager(range)),
    f("rand", 2, Some(2), Eager(rand)),
];

struct Ops {
    int: fn(i64, i64) -> Option<i64>,
    float: fn(f64, f64) -> f64,
    dec: fn(Decimal, Decimal) -> Option<Decimal>,
}

fn arith(args: &[Value], ops: &Ops, zero_check: bool) -> Result<Value, Error> {
    let a = arg_num(args, 0, "number1")?;
    let b = arg_num(args, 1, "number2")?;
    if zero_check && num_cmp(b, Num::Int(0)) == Ordering::Equal {
        return Err(Error::invalid("division by zero (argument 2 is 0)"));
    }
    let overflow = || Error::invalid("the result overflows");
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => (ops.int)(x, y).map(Value::from).ok_or_else(overflow),
        (Num::Float(_), _) | (_, Num::Float(_)) => float_value((ops.float)(a.to_f64(), b.to_f64())),
        _ => {
            let (x, y) = a.to_dec().zip(b.to_dec()).ok_or_else(overflow)?;
            let d = (ops.dec)(x, y).ok_or_else(overflow)?;
            Num::Dec(d).into_value()
        }
    }
}

fn add(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    mark_decimal(ctx, args);
    arith(
        args,
        &Ops {
            int: i64::checked_add,
            float: |x, y| x + y,
            dec: Decimal::add,
        },
        false,
    )
}

fn sub(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    mark_decimal(ctx, args);
    arith(
        args,
        &Ops {
            int: i64::checked_sub,
            float: |x, y| x - y,
            dec: Decimal::sub,
        },
        false,
    )
}

fn mul(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    mark_decimal(ctx, args);
    arith(
        args,
        &Ops {
            int: i64::checked_mul,
            float: |x, y| x * y,
            dec: Decimal::mul,
        },
        false,
    )
}

/// Integer division (truncating) for two integers: `div(11, 5)` is 2.
fn div(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    mark_decimal(ctx, args);
    arith(
        args,
        &Ops {
            int: i64::checked_div,
            float: |x, y| x / y,
            dec: Decimal::div,
        },
        true,
    )
}

/// The remainder takes the sign of the dividend: `mod(-5, 2)` is -1.
fn modulo(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    mark_decimal(ctx, args);
    arith(
        args,
        &Ops {
            int: i64::checked_rem,
            float: |x, y| x % y,
            dec: Decimal::rem,
        },
        true,
    )
}

/// Decimals are markers inside one evaluation; remember that the result may need converting.
fn mark_decimal(ctx: &Ctx, args: &[Value]) {
    if args.iter().any(|v| matches!(as_num(v), Some(Num::Dec(_)))) {
        ctx.made_decimal.set(true);
    }
}

/// The numbers of `min`/`max`: the arguments themselves, or the items of a single array.
fn numbers(args: &[Value]) -> Result<Vec<(Num, &Value)>, Error> {
    let items: &[Value] = match args {
        [Value::Array(items)] => items,
        _ => args,
    };
    if items.is_empty() {
        return Err(Error::invalid("needs at least one number"));
    }
    items
        .iter()
        .map(|v| {
            as_num(v).map(|n| (n, v)).ok_or_else(|| {
                Error::invalid(format!(
                    "every value must be a number, but one is {}",
                    type_name(v)
                ))
            })
        })
        .collect()
}

fn min(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let nums = numbers(args)?;
    let best = nums
        .iter()
        .min_by(|a, b| num_cmp(a.0, b.0))
        .map(|(_, v)| (*v).clone());
    Ok(best.unwrap_or(Value::Null))
}

fn max(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let nums = numbers(args)?;
    // `max_by` returns the last maximum; keep the first, as `min` does.
    let best = nums
        .iter()
        .rev()
        .max_by(|a, b| num_cmp(a.0, b.0))
        .map(|(_, v)| (*v).clone());
    Ok(best.unwrap_or(Value::Null))
}

fn range(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let start = arg_int(args, 0, "startIndex")?;
    let count = arg_int(args, 1, "count")?;
    if !(0..=MAX_RANGE_COUNT).contains(&count) {
        return Err(Error::invalid(format!(
            "the count ({count}) must be between 0 and {MAX_RANGE_COUNT}"
        )));
    }
    let end = start
        .checked_add(count)
        .filter(|&e| e <= i64::from(i32::MAX))
        .ok_or_else(|| Error::invalid("startIndex + count must not exceed 2147483647"))?;
    Ok(Value::Array((start..end).map(Value::from).collect()))
}

/// A random integer in `[min, max)` from the scope's random bits.
fn rand(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let lo = arg_int(args, 0, "minValue")?;
    let hi = arg_int(args, 1, "maxValue")?;
    if lo >= hi {
        return Err(Error::invalid(format!(
            "the minimum ({lo}) must be less than the maximum ({hi})"
        )));
    }
    let span = (i128::from(hi) - i128::from(lo)) as u128;
    let r = ctx.scope.random_u128()? % span;
    let value = i128::from(lo) + r as i128;
    Ok(Value::from(i64::try_from(value).unwrap_or(lo)))
}
