//! Shared parsing state: the diagnostics found so far, each with a structured JSON path, and
//! every compiled value remembered with where it came from.
//!
//! Paths are kept as segments rather than strings so that, at the end, diagnostics can be
//! sorted into document order by looking each path up in the raw JSON (`serde_json` keeps key
//! order). Compiled values are remembered because the checks on what expressions refer to
//! (actions, parameters) need the whole definition, which only exists after the first pass.

use crate::{Diagnostic, Diagnostics};
use hookflow_expr::CompiledValue;
use serde_json::{Map, Value};
use std::fmt::Write as _;

/// A JSON path below the document root: `actions.Send.runAfter.Missing`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Path(Vec<Seg>);

#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
    /// A path below a value as `hookflow_expr::compile_value` renders it (`body.x`,
    /// `headers['a-b']`): opaque here, kept as is.
    Tail(String),
}

impl Path {
    pub(crate) fn root() -> Path {
        Path(Vec::new())
    }

    pub(crate) fn key(&self, key: &str) -> Path {
        self.with(Seg::Key(key.to_owned()))
    }

    pub(crate) fn index(&self, index: usize) -> Path {
        self.with(Seg::Index(index))
    }

    pub(crate) fn tail(&self, sub: &str) -> Path {
        if sub.is_empty() {
            return self.clone();
        }
        self.with(Seg::Tail(sub.to_owned()))
    }

    fn with(&self, seg: Seg) -> Path {
        let mut segs = Vec::with_capacity(self.0.len() + 1);
        segs.extend(self.0.iter().cloned());
        segs.push(seg);
        Path(segs)
    }

    /// Dotted form; keys that would be ambiguous dotted (spaces, dots, brackets, quotes, empty)
    /// are written `['key']`, as the expression crate writes them.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        for seg in &self.0 {
            match seg {
                Seg::Key(key) if is_plain_key(key) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key);
                }
                Seg::Key(key) => {
                    let _ = write!(out, "['{}']", key.replace('\'', "''"));
                }
                Seg::Index(index) => {
                    let _ = write!(out, "[{index}]");
                }
                Seg::Tail(tail) => {
                    if !out.is_empty() && !tail.starts_with('[') {
                        out.push('.');
                    }
                    out.push_str(tail);
                }
            }
        }
        out
    }

    /// Where this path points in `root`, as key positions and indices: sorting by it gives
    /// document order. A missing key sorts after its siblings; a tail keeps emission order.
    fn position(&self, root: &Value) -> Vec<usize> {
        let mut at = Some(root);
        let mut out = Vec::with_capacity(self.0.len());
        for seg in &self.0 {
            let next = match (seg, at) {
                (Seg::Key(key), Some(Value::Object(map))) => {
                    map.keys().position(|k| k == key).map(|i| (i, map.get(key)))
                }
                (Seg::Index(index), Some(Value::Array(items))) => {
                    items.get(*index).map(|item| (*index, Some(item)))
                }
                (Seg::Tail(_), _) => break,
                _ => None,
            };
            match next {
                Some((pos, value)) => {
                    out.push(pos);
                    at = value;
                }
                None => {
                    out.push(usize::MAX);
                    break;
                }
            }
        }
        out
    }
}

fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && !key
            .chars()
            .any(|c| matches!(c, '.' | '[' | ']' | '\'') || c.is_whitespace())
}

/// Whether `listCallbackUrl()` may appear in a compiled value: only in HttpWebhook inputs,
/// where the engine has a callback to hand out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Callback {
    Allowed,
    Forbidden,
}

/// A compiled value and where it sits, for the second pass.
#[derive(Debug)]
pub(crate) struct CompiledSite {
    pub(crate) path: Path,
    pub(crate) value: CompiledValue,
    pub(crate) callback: Callback,
}

#[derive(Debug, Default)]
pub(crate) struct Ctx {
    diagnostics: Vec<(Path, String)>,
    pub(crate) sites: Vec<CompiledSite>,
}

impl Ctx {
    pub(crate) fn error(&mut self, path: &Path, message: impl Into<String>) {
        self.diagnostics.push((path.clone(), message.into()));
    }

    /// Compiles `value`, reporting every expression error below `path`. A value with no `@`
    /// anywhere holds no expression, so it is kept as a constant without asking the expression
    /// compiler: cheaper, and exactly what the compiler would answer.
    pub(crate) fn compile(
        &mut self,
        value: &Value,
        path: &Path,
        callback: Callback,
    ) -> CompiledValue {
        if !has_at_sign(value) {
            return CompiledValue::Constant(value.clone());
        }
        match hookflow_expr::compile_value(value) {
            Ok(compiled) => {
                self.remember(path, compiled.clone(), callback);
                compiled
            }
            Err(errors) => {
                for (sub, error) in errors {
                    self.error(&path.tail(&sub), error.message);
                }
                // The definition will be rejected; the placeholder only keeps the model whole.
                CompiledValue::Constant(value.clone())
            }
        }
    }

    /// Records a value compiled some other way (object-form condition operands).
    pub(crate) fn remember(&mut self, path: &Path, value: CompiledValue, callback: Callback) {
        self.sites.push(CompiledSite {
            path: path.clone(),
            value,
            callback,
        });
    }

    /// The object at `path`, or a diagnostic saying what was there instead.
    pub(crate) fn object<'v>(
        &mut self,
        value: &'v Value,
        path: &Path,
    ) -> Option<&'v Map<String, Value>> {
        let object = value.as_object();
        if object.is_none() {
            self.error(
                path,
                format!("expected an object, got {}", json_type(value)),
            );
        }
        object
    }

    /// A required member of `object`, or a diagnostic at its path.
    pub(crate) fn required<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        key: &str,
        path: &Path,
    ) -> Option<&'v Value> {
        let value = object.get(key);
        if value.is_none() {
            self.error(&path.key(key), "required property is missing");
        }
        value
    }

    /// Every diagnostic in document order (of `root`), or `Ok` when there are none.
    pub(crate) fn finish(self, root: &Value) -> Result<(), Diagnostics> {
        if self.diagnostics.is_empty() {
            return Ok(());
        }
        let mut keyed: Vec<_> = self
            .diagnostics
            .into_iter()
            .map(|(path, message)| (path.position(root), path.render(), message))
            .collect();
        // Stable: diagnostics at the same place keep the order they were found in.
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        keyed.dedup_by(|a, b| a.1 == b.1 && a.2 == b.2);
        Err(Diagnostics(
            keyed
                .into_iter()
                .map(|(_, path, message)| Diagnostic { path, message })
                .collect(),
        ))
    }
}

/// The JSON type of a value, in the vocabulary of parameter types (`int`, `float`, ...).
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() || n.is_u64() => "int",
        Value::Number(_) => "float",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A string that certainly holds no expression (no `@` at all), so it can be checked as is.
pub(crate) fn literal_str(value: &Value) -> Option<&str> {
    value.as_str().filter(|s| !s.contains('@'))
}

/// Whether a string (or object key) anywhere inside `value` contains `@`.
pub(crate) fn has_at_sign(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('@'),
        Value::Array(items) => items.iter().any(has_at_sign),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('@') || has_at_sign(v)),
        _ => false,
    }
}

/// Reports every key of `object` not in `known` as unknown.
pub(crate) fn check_keys(ctx: &mut Ctx, object: &Map<String, Value>, known: &[&str], path: &Path) {
    for key in object.keys() {
        if !known.contains(&key.as_str()) {
            ctx.error(&path.key(key), format!("unknown property '{key}'"));
        }
    }
}

/// `operationOptions`: a comma-separated string, kept lower-cased.
pub(crate) fn operation_options(
    ctx: &mut Ctx,
    value: Option<&Value>,
    path: &Path,
) -> crate::OperationOptions {
    let Some(value) = value else {
        return crate::OperationOptions::default();
    };
    let Some(text) = value.as_str() else {
        ctx.error(path, format!("expected a string, got {}", json_type(value)));
        return crate::OperationOptions::default();
    };
    crate::OperationOptions(
        text.split(',')
            .map(|o| o.trim().to_ascii_lowercase())
            .filter(|o| !o.is_empty())
            .collect(),
    )
}

/// Trigger and action names: non-empty, at most 80 characters (spec §5.1).
pub(crate) fn check_name(ctx: &mut Ctx, name: &str, path: &Path) {
    const MAX_NAME_CHARS: usize = 80;
    if name.trim().is_empty() {
        ctx.error(path, "name must not be empty");
    } else if name.chars().count() > MAX_NAME_CHARS {
        ctx.error(
            path,
            format!("name is longer than {MAX_NAME_CHARS} characters"),
        );
    }
}
