//! Evaluates a syntax tree against a [`Scope`], charging fuel for every node.
//!
//! Member access follows WDL: `.x` on a missing property or on null is an error naming the
//! property; `?.x` yields null instead. Property names match case-insensitively (errata E3).

use crate::ast::{Member, Node, NodeKind};
use crate::functions::Kind;
use crate::limits::{MAX_FUEL, MAX_RESULT_BYTES};
use crate::value::{find_key, member_ref, type_name};
use crate::{Error, ErrorKind, Scope, Span};
use serde_json::Value;
use std::cell::Cell;

/// Everything one evaluation needs: the scope and the fuel left.
pub(crate) struct Ctx<'a> {
    pub scope: &'a dyn Scope,
    fuel: Cell<u64>,
    /// Bytes of results produced so far (see [`MAX_TOTAL_BYTES`]).
    produced: Cell<usize>,
    /// Set when `decimal()` ran, so the final result needs its decimal markers turned into floats.
    pub made_decimal: Cell<bool>,
}

impl<'a> Ctx<'a> {
    pub fn new(scope: &'a dyn Scope) -> Self {
        Ctx {
            scope,
            fuel: Cell::new(MAX_FUEL),
            produced: Cell::new(0),
            made_decimal: Cell::new(false),
        }
    }

    pub fn eval(&self, node: &Node) -> Result<Value, Error> {
        self.spend_fuel(node)?;
        match &node.kind {
            NodeKind::Literal(v) => Ok(v.clone()),
            NodeKind::Array(items) => {
                let values = items
                    .iter()
                    .map(|n| self.eval(n))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Value::Array(values))
            }
            NodeKind::Call { func, args } => {
                let result = match func.kind {
                    Kind::Eager(f) => f(self, &self.eval_all(args)?),
                    Kind::Lazy(f) => f(self, args),
                    Kind::Trigger(path) => self.trigger_path(path).cloned(),
                    Kind::ActionOutputs(path) => {
                        let values = self.eval_all(args)?;
                        self.action_path(&values, path).cloned()
                    }
                };
                let value = result.map_err(|e| locate(e, func.name, node.span))?;
                self.charge(&value)
                    .map_err(|e| locate(e, func.name, node.span))?;
                Ok(value)
            }
            NodeKind::Access {
                target,
                member,
                null_safe,
            } => {
                if let Some(base) = self.lent(target)? {
                    let key = self.key(member, node.span)?;
                    return select(base, &key, *null_safe, node.span).cloned();
                }
                let base = self.eval(target)?;
                let key = self.key(member, node.span)?;
                access(base, &key, *null_safe, node.span)
            }
        }
    }

    /// The part of the trigger object at `path` (`trigger()`, `triggerOutputs()`,
    /// `triggerBody()`), null where a step is missing.
    pub fn trigger_path(&self, path: &[&str]) -> Result<&'a Value, Error> {
        let trigger = self.scope.trigger()?;
        Ok(path
            .iter()
            .fold(trigger, |value, name| member_ref(value, name)))
    }

    /// The part of the outputs of the action named by `args[0]` at `path` (`outputs('x')`,
    /// `body('x')`), null where the action has not run or a step is missing.
    pub fn action_path(&self, args: &[Value], path: &[&str]) -> Result<&'a Value, Error> {
        let name = crate::functions::arg_str(args, 0, "actionName")?;
        Ok(match self.scope.action_outputs(name)? {
            Some(outputs) => path
                .iter()
                .fold(outputs, |value, name| member_ref(value, name)),
            None => &Value::Null,
        })
    }

    fn eval_all(&self, nodes: &[Node]) -> Result<Vec<Value>, Error> {
        nodes.iter().map(|n| self.eval(n)).collect()
    }

    /// `node`'s value in place when it is a path into data the scope lends (`triggerBody()`,
    /// `body('Get')?['order'].lines`), so that an access on it copies only what it selects;
    /// `None`, with nothing evaluated, when it is not such a path.
    fn lent(&self, node: &Node) -> Result<Option<&'a Value>, Error> {
        match &node.kind {
            NodeKind::Call { func, args } => {
                let found = match func.kind {
                    Kind::Trigger(path) => {
                        self.spend_fuel(node)?;
                        self.trigger_path(path)
                    }
                    Kind::ActionOutputs(path) => {
                        self.spend_fuel(node)?;
                        let values = self.eval_all(args)?;
                        self.action_path(&values, path)
                    }
                    Kind::Eager(_) | Kind::Lazy(_) => return Ok(None),
                };
                found.map(Some).map_err(|e| locate(e, func.name, node.span))
            }
            NodeKind::Access {
                target,
                member,
                null_safe,
            } => {
                let Some(base) = self.lent(target)? else {
                    return Ok(None);
                };
                self.spend_fuel(node)?;
                let key = self.key(member, node.span)?;
                select(base, &key, *null_safe, node.span).map(Some)
            }
            NodeKind::Literal(_) | NodeKind::Array(_) => Ok(None),
        }
    }

    /// The key of a member access: a name, or an index expression's value.
    fn key(&self, member: &Member, span: Span) -> Result<Key, Error> {
        Ok(match member {
            Member::Name(name) => Key::Name(name.clone()),
            Member::Index(index) => match self.eval(index)? {
                Value::String(s) => Key::Name(s),
                Value::Number(n) if n.is_i64() || n.is_u64() => {
                    Key::Index(n.as_i64().unwrap_or(i64::MAX))
                }
                other => {
                    return Err(access_error(
                        span,
                        format!(
                            "an index must be a string or an integer, not {}",
                            type_name(&other)
                        ),
                    ));
                }
            },
        })
    }

    /// Every node evaluated costs one unit of fuel.
    fn spend_fuel(&self, node: &Node) -> Result<(), Error> {
        let fuel = self.fuel.get();
        if fuel == 0 {
            return Err(Error {
                kind: ErrorKind::Limit,
                message: format!(
                    "the evaluation exceeded its budget of {MAX_FUEL} steps (position {})",
                    node.span.start
                ),
                span: Some(node.span),
            });
        }
        self.fuel.set(fuel - 1);
        Ok(())
    }
}

enum Key {
    Name(String),
    Index(i64),
}

/// Where a member access lands in its base.
enum Place<K> {
    /// The member of an object, by its actual key (names match ignoring case).
    Member(K),
    Element(usize),
    /// `?` on null, or on a missing member or element.
    Null,
}

/// `base.key` on an owned base: the member is moved out, not copied.
fn access(base: Value, key: &Key, null_safe: bool, span: Span) -> Result<Value, Error> {
    let place = match locate_member(&base, key, null_safe, span)? {
        Place::Member(name) => Place::Member(name.clone()),
        Place::Element(i) => Place::Element(i),
        Place::Null => Place::Null,
    };
    Ok(match (place, base) {
        (Place::Member(name), Value::Object(mut map)) => {
            map.swap_remove(&name).unwrap_or(Value::Null)
        }
        (Place::Element(i), Value::Array(mut items)) => items.swap_remove(i),
        _ => Value::Null,
    })
}

/// `base.key` on a lent base.
fn select<'v>(base: &'v Value, key: &Key, null_safe: bool, span: Span) -> Result<&'v Value, Error> {
    Ok(match (locate_member(base, key, null_safe, span)?, base) {
        (Place::Member(name), Value::Object(map)) => map.get(name).unwrap_or(&Value::Null),
        (Place::Element(i), Value::Array(items)) => &items[i],
        _ => &Value::Null,
    })
}

/// Where `key` is in `base`, or the WDL error for selecting it there.
fn locate_member<'v>(
    base: &'v Value,
    key: &Key,
    null_safe: bool,
    span: Span,
) -> Result<Place<&'v String>, Error> {
    // Only an error names the key: no string is built for an access that succeeds.
    let shown = || match key {
        Key::Name(n) => format!("property '{n}'"),
        Key::Index(i) => format!("index {i}"),
    };
    match (base, key) {
        (Value::Null, _) if null_safe => Ok(Place::Null),
        (Value::Null, _) => Err(access_error(
            span,
            format!(
                "the {} cannot be selected on a null value; use '?' for optional values",
                shown()
            ),
        )),
        (Value::Object(map), Key::Name(name)) => match find_key(map, name) {
            Some(k) => Ok(Place::Member(k)),
            None if null_safe => Ok(Place::Null),
            None => {
                let available: Vec<&str> = map.keys().take(20).map(String::as_str).collect();
                Err(access_error(
                    span,
                    format!(
                        "the property '{name}' doesn't exist; available properties are '{}'",
                        available.join(", ")
                    ),
                ))
            }
        },
        (Value::Array(items), Key::Index(i)) => {
            let len = items.len();
            match usize::try_from(*i).ok().filter(|&i| i < len) {
                Some(i) => Ok(Place::Element(i)),
                None if null_safe => Ok(Place::Null),
                None => Err(access_error(
                    span,
                    format!("the index {i} is outside the bounds of the array (length {len})"),
                )),
            }
        }
        (other, _) => Err(access_error(
            span,
            format!("the {} cannot be selected on {}", shown(), type_name(other)),
        )),
    }
}

fn access_error(span: Span, message: String) -> Error {
    Error {
        kind: ErrorKind::InvalidAccess,
        message: format!("{message} (position {}-{})", span.start, span.end),
        span: Some(span),
    }
}

/// Gives a function's own error (one without a position yet) the function name and the span of
/// the call; errors from nested calls already carry theirs and pass through unchanged.
fn locate(mut e: Error, name: &str, span: Span) -> Error {
    if e.span.is_some() {
        return e;
    }
    e.message = match e.kind {
        ErrorKind::NotAvailable => format!("{} (position {}-{})", e.message, span.start, span.end),
        _ => format!(
            "The template function '{name}' failed: {} (position {}-{})",
            e.message, span.start, span.end
        ),
    };
    e.span = Some(span);
    e
}

/// Cap on the bytes all function results of one evaluation may add up to. Each result is capped
/// on its own too, but an 8 KB expression can still call `range(0, 100000)` hundreds of times;
/// this bounds the memory one evaluation can take.
const MAX_TOTAL_BYTES: usize = 2 * MAX_RESULT_BYTES;

impl Ctx<'_> {
    fn charge(&self, value: &Value) -> Result<(), Error> {
        let (size, too_big) = match value {
            Value::String(s) => (s.len(), s.len() > MAX_RESULT_BYTES),
            Value::Array(a) => (
                a.len().saturating_mul(size_of::<Value>()),
                a.len() > MAX_RESULT_BYTES,
            ),
            _ => (0, false),
        };
        if too_big {
            return Err(Error::limit(format!(
                "the result is larger than {MAX_RESULT_BYTES} bytes"
            )));
        }
        let total = self.produced.get().saturating_add(size);
        if total > MAX_TOTAL_BYTES {
            return Err(Error::limit(format!(
                "the evaluation produced more than {MAX_TOTAL_BYTES} bytes of intermediate results"
            )));
        }
        self.produced.set(total);
        Ok(())
    }
}
