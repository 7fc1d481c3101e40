//! Conditions of If and Until: an expression string (`"@equals(a, b)"`) or the designer's
//! object form `{"and": [{"equals": ["@x", "y"]}, {"not": {"contains": [...]}}]}`.
//!
//! In the object form an operand may itself be a call written the same way
//! (`{"equals": [{"lENgth": ["a"]}, 1]}`, conformance files 18 and 35). Such an operand is
//! turned into expression text (`lENgth('a')`) and parsed, so it evaluates like any other
//! expression and the expression crate checks that the function exists.

use super::ctx::{Callback, Ctx, Path, json_type};
use crate::Condition;
use hookflow_expr::{CompiledValue, Segment, Template};
use serde_json::Value;

/// Comparison functions of the object form, in canonical spelling.
const FUNCTIONS: &[&str] = &[
    "equals",
    "greater",
    "greaterOrEquals",
    "less",
    "lessOrEquals",
    "contains",
    "startsWith",
    "endsWith",
];

/// Deepest `and`/`or`/`not` nesting accepted; keeps recursion bounded on hostile input.
const MAX_DEPTH: usize = 32;

/// Parses the `expression` of an If or Until (at `path`); a placeholder when it is missing or
/// invalid, since the definition is then rejected.
pub(crate) fn parse_condition(ctx: &mut Ctx, value: Option<&Value>, path: &Path) -> Condition {
    match value {
        Some(value) => condition(ctx, value, path, 0),
        None => {
            ctx.error(path, "required property is missing");
            placeholder()
        }
    }
}

fn placeholder() -> Condition {
    Condition::Value(CompiledValue::Constant(Value::Bool(false)))
}

fn condition(ctx: &mut Ctx, value: &Value, path: &Path, depth: usize) -> Condition {
    if depth > MAX_DEPTH {
        ctx.error(
            path,
            format!("condition is nested more than {MAX_DEPTH} levels deep"),
        );
        return placeholder();
    }
    let object = match value {
        Value::String(_) | Value::Bool(_) => {
            return Condition::Value(ctx.compile(value, path, Callback::Forbidden));
        }
        Value::Object(object) if object.len() == 1 => object,
        _ => {
            ctx.error(
                path,
                format!("expected an expression string or an object with one function such as {{\"equals\": [a, b]}}, got {}", describe(value)),
            );
            return placeholder();
        }
    };
    let Some((function, args)) = object.iter().next() else {
        return placeholder();
    };
    let args_path = path.key(function);
    match function.to_ascii_lowercase().as_str() {
        "and" | "or" => {
            // One condition instead of an array of one is accepted, as for `not`.
            let conditions: Vec<Condition> = match args {
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| condition(ctx, item, &args_path.index(i), depth + 1))
                    .collect(),
                _ => vec![condition(ctx, args, &args_path, depth + 1)],
            };
            if conditions.is_empty() {
                ctx.error(
                    &args_path,
                    format!("'{function}' needs at least one condition"),
                );
            }
            if function.eq_ignore_ascii_case("and") {
                Condition::And(conditions)
            } else {
                Condition::Or(conditions)
            }
        }
        "not" => match args {
            Value::Array(items) if items.len() == 1 => Condition::Not(Box::new(condition(
                ctx,
                &items[0],
                &args_path.index(0),
                depth + 1,
            ))),
            Value::Array(items) => {
                ctx.error(
                    &args_path,
                    format!("'not' takes one condition, got {}", items.len()),
                );
                placeholder()
            }
            other => Condition::Not(Box::new(condition(ctx, other, &args_path, depth + 1))),
        },
        lower => {
            let Some(canonical) = FUNCTIONS.iter().find(|f| f.eq_ignore_ascii_case(lower)) else {
                ctx.error(
                    &args_path,
                    format!(
                        "unknown function '{function}' in condition: expected and, or, not, {}",
                        FUNCTIONS.join(", ")
                    ),
                );
                return placeholder();
            };
            let Some(items) = args.as_array() else {
                ctx.error(
                    &args_path,
                    format!("expected an array of 2 arguments, got {}", json_type(args)),
                );
                return placeholder();
            };
            if items.len() != 2 {
                ctx.error(
                    &args_path,
                    format!("'{canonical}' takes 2 arguments, got {}", items.len()),
                );
            }
            let args = items
                .iter()
                .enumerate()
                .map(|(i, item)| operand(ctx, item, &args_path.index(i), depth + 1))
                .collect();
            Condition::Call {
                function: (*canonical).to_owned(),
                args,
            }
        }
    }
}

/// One argument of an object-form call: a JSON value (strings compiled as templates), or a
/// nested object-form call, turned into an expression.
fn operand(ctx: &mut Ctx, value: &Value, path: &Path, depth: usize) -> CompiledValue {
    if call_shape(value).is_none() {
        return ctx.compile(value, path, Callback::Forbidden);
    }
    let source = match expression_source(value, depth) {
        Ok(source) => source,
        Err((sub, message)) => {
            ctx.error(&path.tail(&sub), message);
            return CompiledValue::Constant(Value::Null);
        }
    };
    match hookflow_expr::parse_expr(&source) {
        Ok(expr) => {
            let compiled = CompiledValue::Template(Template::Whole(expr));
            ctx.remember(path, compiled.clone(), Callback::Forbidden);
            compiled
        }
        Err(error) => {
            ctx.error(path, error.message);
            CompiledValue::Constant(Value::Null)
        }
    }
}

/// `{"<identifier>": [args...]}`: the object form of a function call.
fn call_shape(value: &Value) -> Option<(&str, &Vec<Value>)> {
    let object = value.as_object().filter(|o| o.len() == 1)?;
    let (name, args) = object.iter().next()?;
    let mut chars = name.chars();
    let identifier = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    Some((name.as_str(), args.as_array()?)).filter(|_| identifier)
}

/// The expression text for an operand value. Strings become literals or the expression they
/// hold (`@{..}` text becomes `concat(...)`); arrays `createArray(...)`; other objects `json('...')`,
/// with any `@` inside them left as literal text.
fn expression_source(value: &Value, depth: usize) -> Result<String, (String, String)> {
    if depth > MAX_DEPTH {
        return Err((
            String::new(),
            format!("condition is nested more than {MAX_DEPTH} levels deep"),
        ));
    }
    Ok(match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(text) if !text.contains('@') => quote(text),
        Value::String(text) => match hookflow_expr::parse_template(text) {
            Ok(Template::Literal(literal)) => quote(&literal),
            Ok(Template::Whole(expr)) => expr.source().to_owned(),
            Ok(Template::Interpolated(segments)) => {
                let parts: Vec<String> = segments
                    .iter()
                    .map(|segment| match segment {
                        Segment::Text(text) => quote(text),
                        Segment::Expr(expr) => format!("string({})", expr.source()),
                    })
                    .collect();
                format!("concat({})", parts.join(", "))
            }
            Err(error) => return Err((String::new(), error.message)),
        },
        Value::Array(items) => {
            let parts = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    expression_source(item, depth + 1).map_err(|(sub, m)| (prefix(i, &sub), m))
                })
                .collect::<Result<Vec<_>, _>>()?;
            format!("createArray({})", parts.join(", "))
        }
        Value::Object(_) => match call_shape(value) {
            Some((name, args)) => {
                let parts = args
                    .iter()
                    .enumerate()
                    .map(|(i, arg)| {
                        expression_source(arg, depth + 1)
                            .map_err(|(sub, m)| (format!("{name}{}", prefix(i, &sub)), m))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                format!("{name}({})", parts.join(", "))
            }
            None => format!("json({})", quote(&value.to_string())),
        },
    })
}

fn prefix(index: usize, sub: &str) -> String {
    if sub.is_empty() || sub.starts_with('[') {
        format!("[{index}]{sub}")
    } else {
        format!("[{index}].{sub}")
    }
}

/// A WDL string literal: single quotes, doubled inside.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn describe(value: &Value) -> String {
    match value {
        Value::Object(object) => format!("an object with {} properties", object.len()),
        other => json_type(other).to_owned(),
    }
}
