//! String functions: `concat`, `substring`, `slice`, `indexOf`, `split`, `replace`, ...
//!
//! Indexes count characters (Unicode scalar values), never bytes, so no input can split a
//! character. Case rules follow the docs: `startsWith`, `endsWith`, `indexOf`, `lastIndexOf`
//! (and, by analogy, `nthIndexOf`) ignore case; `replace` and `contains` do not.

use super::Kind::Eager;
use super::{Function, arg_int, arg_text, byte_at, char_len, ensure_size, f, opt_str};
use crate::eval::Ctx;
use crate::value::to_text;
use crate::{Error, Value};

pub(super) const FUNCTIONS: &[Function] = &[
    f("concat", 0, None, Eager(concat)),
    f("substring", 2, Some(3), Eager(substring)),
    f("slice", 2, Some(3), Eager(slice)),
    f("indexOf", 2, Some(2), Eager(index_of)),
    f("lastIndexOf", 2, Some(2), Eager(last_index_of)),
    f("nthIndexOf", 3, Some(3), Eager(nth_index_of)),
    f("startsWith", 2, Some(2), Eager(starts_with)),
    f("endsWith", 2, Some(2), Eager(ends_with)),
    f("replace", 3, Some(3), Eager(replace)),
    f("split", 1, Some(2), Eager(split)),
    f("toLower", 1, Some(1), Eager(to_lower)),
    f("toUpper", 1, Some(1), Eager(to_upper)),
    f("trim", 1, Some(1), Eager(trim)),
    f("guid", 0, Some(1), Eager(guid)),
];

/// Joins the text of every argument (errata E4: booleans as `True`/`False`, null as `""`).
fn concat(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let parts: Vec<String> = args.iter().map(to_text).collect();
    ensure_size(parts.iter().map(String::len).sum())?;
    Ok(Value::String(parts.concat()))
}

fn substring(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let s = arg_text(args, 0, "text")?;
    let start = arg_int(args, 1, "startIndex")?;
    let len = char_len(&s) as i64;
    if start < 0 {
        return Err(Error::invalid(format!(
            "the start index ({start}) must not be negative"
        )));
    }
    if start > len {
        return Err(Error::invalid(format!(
            "the start index ({start}) exceeds the length of the string ({len})"
        )));
    }
    let count = match args.get(2) {
        None | Some(Value::Null) => len - start,
        Some(_) => arg_int(args, 2, "length")?,
    };
    if count < 0 {
        return Err(Error::invalid(format!(
            "the length ({count}) must not be negative"
        )));
    }
    let end = start.checked_add(count).unwrap_or(i64::MAX);
    if end > len {
        return Err(Error::invalid(format!(
            "the start index + length ({}) exceeds the length of the string ({len})",
            start.saturating_add(count)
        )));
    }
    Ok(Value::String(char_range(&s, start as usize, end as usize)))
}

/// Errata E6: negative indexes count from the end, everything is clamped, never an error.
fn slice(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let s = arg_text(args, 0, "text")?;
    let len = char_len(&s) as i64;
    let resolve = |i: i64| {
        if i < 0 {
            i.saturating_add(len).max(0)
        } else {
            i.min(len)
        }
    };
    let start = resolve(arg_int(args, 1, "startIndex")?);
    let end = match args.get(2) {
        None | Some(Value::Null) => len,
        Some(_) => resolve(arg_int(args, 2, "endIndex")?),
    };
    if start >= len || end <= start {
        return Ok(Value::String(String::new()));
    }
    Ok(Value::String(char_range(&s, start as usize, end as usize)))
}

pub(crate) fn char_range(s: &str, start: usize, end: usize) -> String {
    let from = byte_at(s, start);
    let to = byte_at(s, end);
    s.get(from..to.max(from)).unwrap_or("").to_string()
}

/// Lower-cases character by character, keeping one character per character so that character
/// indexes in the folded text are indexes in the original.
fn fold(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut lower = c.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(l), None) => l,
                _ => c,
            }
        })
        .collect()
}

fn char_index(s: &str, byte: usize) -> i64 {
    s.get(..byte).map_or(0, |p| p.chars().count() as i64)
}

fn index_of(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let s = fold(&arg_text(args, 0, "text")?);
    let x = fold(&arg_text(args, 1, "searchText")?);
    Ok(Value::from(s.find(&x).map_or(-1, |b| char_index(&s, b))))
}

fn last_index_of(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let s = fold(&arg_text(args, 0, "text")?);
    let x = fold(&arg_text(args, 1, "searchText")?);
    // Documented edge cases: an empty search text is found at the last character.
    if x.is_empty() {
        return Ok(Value::from((char_len(&s) as i64 - 1).max(0)));
    }
    Ok(Value::from(s.rfind(&x).map_or(-1, |b| char_index(&s, b))))
}

fn nth_index_of(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let s = fold(&arg_text(args, 0, "text")?);
    let x = fold(&arg_text(args, 1, "searchText")?);
    let n = arg_int(args, 2, "occurrence")?;
    if n == 0 {
        return Err(Error::invalid("the occurrence (argument 3) must not be 0"));
    }
    if x.is_empty() {
        return Ok(Value::from(0));
    }
    let mut found = None;
    if n > 0 {
        let mut from = 0;
        for _ in 0..n {
            match s.get(from..).and_then(|rest| rest.find(&x)) {
                Some(b) => {
                    found = Some(from + b);
                    // Overlapping occurrences count: continue one character later.
                    from += b + s[from + b..].chars().next().map_or(1, char::len_utf8);
                }
                None => return Ok(Value::from(-1)),
            }
        }
    } else {
        let mut to = s.len();
        for _ in 0..n.unsigned_abs() {
            match s.get(..to).and_then(|head| head.rfind(&x)) {
                Some(b) => {
                    found = Some(b);
                    to = b + x.len() - x.chars().next_back().map_or(1, char::len_utf8);
                }
                None => return Ok(Value::from(-1)),
            }
        }
    }
    Ok(Value::from(found.map_or(-1, |b| char_index(&s, b))))
}

fn starts_with(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let s = fold(&arg_text(args, 0, "text")?);
    let x = fold(&arg_text(args, 1, "searchText")?);
    Ok(Value::Bool(s.starts_with(&x)))
}

fn ends_with(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let s = fold(&arg_text(args, 0, "text")?);
    let x = fold(&arg_text(args, 1, "searchText")?);
    Ok(Value::Bool(s.ends_with(&x)))
}

fn replace(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let s = arg_text(args, 0, "text")?;
    let old = arg_text(args, 1, "oldText")?;
    let new = arg_text(args, 2, "newText")?;
    if old.is_empty() {
        return Err(Error::invalid(
            "the text to replace (argument 2) must not be empty",
        ));
    }
    let count = s.matches(old.as_str()).count();
    ensure_size(s.len().saturating_add(count.saturating_mul(new.len())))?;
    Ok(Value::String(s.replace(old.as_str(), &new)))
}

/// Errata E7: a literal (multi-character) delimiter, empty fields kept, no delimiter → `[s]`.
fn split(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let s = arg_text(args, 0, "text")?;
    let delimiter = match args.get(1) {
        None | Some(Value::Null) => String::new(),
        Some(_) => arg_text(args, 1, "delimiter")?,
    };
    if delimiter.is_empty() {
        return Ok(Value::Array(vec![Value::String(s)]));
    }
    Ok(Value::Array(
        s.split(delimiter.as_str())
            .map(|p| Value::String(p.to_string()))
            .collect(),
    ))
}

fn to_lower(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::String(arg_text(args, 0, "text")?.to_lowercase()))
}

fn to_upper(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::String(arg_text(args, 0, "text")?.to_uppercase()))
}

fn trim(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::String(arg_text(args, 0, "text")?.trim().to_string()))
}

/// A version-4 GUID from the scope's random bits, in .NET's formats N, D (default), B, P, X.
fn guid(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let format = opt_str(args, 0, "format")?.unwrap_or("D");
    let mut bits = ctx.scope.random_u128()?;
    // Version 4 (random) and the RFC 4122 variant.
    bits = (bits & !(0xF << 76)) | (0x4 << 76);
    bits = (bits & !(0x3 << 62)) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    let part = |a: usize, b: usize| hex.get(a..b).unwrap_or("");
    let dashed = format!(
        "{}-{}-{}-{}-{}",
        part(0, 8),
        part(8, 12),
        part(12, 16),
        part(16, 20),
        part(20, 32)
    );
    let text = match format {
        "N" | "n" => hex.clone(),
        "D" | "d" => dashed,
        "B" | "b" => format!("{{{dashed}}}"),
        "P" | "p" => format!("({dashed})"),
        "X" | "x" => {
            let rest: Vec<String> = (0..8)
                .map(|i| format!("0x{}", part(16 + 2 * i, 18 + 2 * i)))
                .collect();
            format!(
                "{{0x{},0x{},0x{},{{{}}}}}",
                part(0, 8),
                part(8, 12),
                part(12, 16),
                rest.join(",")
            )
        }
        other => {
            return Err(Error::invalid(format!(
                "the format '{other}' is not one of N, D, B, P, X"
            )));
        }
    };
    Ok(Value::String(text))
}
