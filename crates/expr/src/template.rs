//! Templates (JSON strings that may hold expressions) and compiled JSON values.
//!
//! A template is parsed once when a definition is loaded; evaluating it is then a walk over
//! prepared expressions. [`compile_value`] does this for a whole JSON value (inputs of an
//! action), keeping expression-free parts as constants so the common case costs a clone.

use crate::ast::{Node, NodeKind};
use crate::eval::Ctx;
use crate::value::{decimals_to_floats, to_text};
use crate::{Error, Scope, Value, parser};
use std::sync::Arc;

/// A parsed expression: the text after `@`, or inside `@{...}`. Cheap to clone, immutable,
/// evaluated many times.
#[derive(Debug, Clone)]
pub struct Expr {
    source: Arc<str>,
    root: Arc<Node>,
}

/// The functions whose literal first argument names an action (or a loop/scope, which are
/// actions too).
const ACTION_REFERENCING: &[&str] = &[
    "actions",
    "outputs",
    "body",
    "actionoutputs",
    "actionbody",
    "result",
    "items",
    "iterationindexes",
];

impl Expr {
    /// The expression text as written (without the leading `@` or the braces).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates against `scope`.
    pub fn eval(&self, scope: &dyn Scope) -> Result<Value, Error> {
        let ctx = Ctx::new(scope);
        let mut value = ctx.eval(&self.root)?;
        if ctx.made_decimal.get() {
            decimals_to_floats(&mut value);
        }
        Ok(value)
    }

    /// Evaluates to the text interpolation inserts. Decimals keep all their digits here, as
    /// `string()` would show them.
    fn eval_text(&self, scope: &dyn Scope) -> Result<String, Error> {
        Ok(to_text(&Ctx::new(scope).eval(&self.root)?))
    }

    /// Names of actions this expression references with a literal name through `actions()`,
    /// `outputs()`, `body()`, `actionOutputs()`, `actionBody()`, `result()`, `items()`,
    /// `iterationIndexes()`: used by validation (unknown action) and by the engine.
    /// Each name appears once, in order of first use.
    pub fn referenced_actions(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        self.root.walk(&mut |node| {
            if let NodeKind::Call { func, args } = &node.kind
                && ACTION_REFERENCING.contains(&func.name.to_ascii_lowercase().as_str())
                && let Some(Node {
                    kind: NodeKind::Literal(Value::String(name)),
                    ..
                }) = args.first()
                && !names.contains(name)
            {
                names.push(name.clone());
            }
        });
        names
    }

    /// Lower-cased names of every function this expression calls (e.g. to check that
    /// `listCallbackUrl` appears only where it is allowed). Each name appears once.
    pub fn functions_called(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        self.root.walk(&mut |node| {
            if let NodeKind::Call { func, .. } = &node.kind {
                let name = func.name.to_ascii_lowercase();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        });
        names
    }
}

/// A JSON string as WDL reads it.
#[derive(Debug, Clone)]
pub enum Template {
    /// No expression: the text, with `@@` escapes resolved.
    Literal(String),
    /// `"@expr"`: the value of the expression, keeping its JSON type.
    Whole(Expr),
    /// Text with `@{expr}` parts: always a string.
    Interpolated(Vec<Segment>),
}

/// One piece of an interpolated string.
#[derive(Debug, Clone)]
pub enum Segment {
    Text(String),
    Expr(Expr),
}

impl Template {
    pub fn eval(&self, scope: &dyn Scope) -> Result<Value, Error> {
        match self {
            Template::Literal(s) => Ok(Value::String(s.clone())),
            Template::Whole(expr) => expr.eval(scope),
            Template::Interpolated(segments) => {
                let mut out = String::new();
                for segment in segments {
                    match segment {
                        Segment::Text(t) => out.push_str(t),
                        Segment::Expr(e) => out.push_str(&e.eval_text(scope)?),
                    }
                    if out.len() > crate::limits::MAX_RESULT_BYTES {
                        return Err(Error::limit(format!(
                            "the interpolated string is larger than {} bytes",
                            crate::limits::MAX_RESULT_BYTES
                        )));
                    }
                }
                Ok(Value::String(out))
            }
        }
    }

    /// Every expression inside, in order.
    pub fn exprs(&self) -> Vec<&Expr> {
        match self {
            Template::Literal(_) => Vec::new(),
            Template::Whole(e) => vec![e],
            Template::Interpolated(segments) => segments
                .iter()
                .filter_map(|s| match s {
                    Segment::Expr(e) => Some(e),
                    Segment::Text(_) => None,
                })
                .collect(),
        }
    }
}

/// A JSON value with every string (and every object key, errata E11) parsed as a template.
#[derive(Debug, Clone)]
pub enum CompiledValue {
    /// A value with no expression anywhere inside: returned as is.
    Constant(Value),
    Template(Template),
    Array(Vec<CompiledValue>),
    Object(Vec<(Template, CompiledValue)>),
}

impl CompiledValue {
    pub fn eval(&self, scope: &dyn Scope) -> Result<Value, Error> {
        match self {
            CompiledValue::Constant(v) => Ok(v.clone()),
            CompiledValue::Template(t) => t.eval(scope),
            CompiledValue::Array(items) => items
                .iter()
                .map(|i| i.eval(scope))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            CompiledValue::Object(entries) => {
                let mut map = serde_json::Map::new();
                for (key, value) in entries {
                    // A key expression that yields a non-string uses its text, as interpolation would.
                    let key = match key.eval(scope)? {
                        Value::String(s) => s,
                        other => to_text(&other),
                    };
                    map.insert(key, value.eval(scope)?);
                }
                Ok(Value::Object(map))
            }
        }
    }

    /// Every expression inside, in document order.
    pub fn exprs(&self) -> Vec<&Expr> {
        let mut out = Vec::new();
        self.collect_exprs(&mut out);
        out
    }

    fn collect_exprs<'a>(&'a self, out: &mut Vec<&'a Expr>) {
        match self {
            CompiledValue::Constant(_) => {}
            CompiledValue::Template(t) => out.extend(t.exprs()),
            CompiledValue::Array(items) => items.iter().for_each(|i| i.collect_exprs(out)),
            CompiledValue::Object(entries) => {
                for (k, v) in entries {
                    out.extend(k.exprs());
                    v.collect_exprs(out);
                }
            }
        }
    }
}

/// Parses the text of one expression (no leading `@`).
pub fn parse_expr(text: &str) -> Result<Expr, Error> {
    let root = parser::parse(text)?;
    Ok(Expr {
        source: Arc::from(text),
        root: Arc::new(root),
    })
}

/// Parses a JSON string value as WDL does (`@...`, `@{...}`, `@@`).
pub fn parse_template(text: &str) -> Result<Template, Error> {
    if let Some(rest) = text.strip_prefix("@@") {
        return Ok(Template::Literal(format!("@{rest}")));
    }
    if let Some(rest) = text.strip_prefix('@')
        && !rest.starts_with('{')
    {
        return Ok(Template::Whole(parse_expr(rest)?));
    }
    if !text.contains('@') {
        return Ok(Template::Literal(text.to_string()));
    }
    let mut segments: Vec<Segment> = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        literal.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(escaped) = after.strip_prefix("@{") {
            // `@@{` is the escape for a literal `@{`.
            literal.push_str("@{");
            rest = escaped;
        } else if let Some(inner) = after.strip_prefix('{') {
            let end = closing_brace(inner).ok_or_else(|| {
                let start = text.len() - rest.len() + at;
                Error::syntax(
                    crate::Span {
                        start,
                        end: text.len(),
                    },
                    format!("the interpolation '@{{' at position {start} has no closing '}}'"),
                )
            })?;
            if !literal.is_empty() {
                segments.push(Segment::Text(std::mem::take(&mut literal)));
            }
            segments.push(Segment::Expr(parse_expr(&inner[..end])?));
            rest = &inner[end + 1..];
        } else {
            literal.push('@');
            rest = after;
        }
    }
    literal.push_str(rest);
    if segments.is_empty() {
        return Ok(Template::Literal(literal));
    }
    if !literal.is_empty() {
        segments.push(Segment::Text(literal));
    }
    Ok(Template::Interpolated(segments))
}

/// Byte offset of the `}` closing an interpolation, skipping single-quoted string literals
/// (where `''` is an escaped quote, which the toggling handles naturally).
fn closing_brace(inner: &str) -> Option<usize> {
    let mut in_string = false;
    for (i, c) in inner.char_indices() {
        match c {
            '\'' => in_string = !in_string,
            '}' if !in_string => return Some(i),
            _ => {}
        }
    }
    None
}

/// Compiles a JSON value. On failure returns every error, each with the JSON path below `value`
/// where it occurred (`"body.callbackUrl"`, `"headers['x-y']"`, `""` for the value itself).
pub fn compile_value(value: &Value) -> Result<CompiledValue, Vec<(String, Error)>> {
    let mut errors = Vec::new();
    let compiled = compile_at(value, "", &mut errors);
    if errors.is_empty() {
        Ok(compiled)
    } else {
        Err(errors)
    }
}

fn compile_at(value: &Value, path: &str, errors: &mut Vec<(String, Error)>) -> CompiledValue {
    match value {
        Value::String(s) => match parse_template(s) {
            Ok(Template::Literal(text)) => CompiledValue::Constant(Value::String(text)),
            Ok(t) => CompiledValue::Template(t),
            Err(e) => {
                errors.push((path.to_string(), e));
                CompiledValue::Constant(Value::Null)
            }
        },
        Value::Array(items) => {
            let compiled: Vec<CompiledValue> = items
                .iter()
                .enumerate()
                .map(|(i, item)| compile_at(item, &format!("{path}[{i}]"), errors))
                .collect();
            if compiled
                .iter()
                .all(|c| matches!(c, CompiledValue::Constant(_)))
            {
                let values = compiled
                    .into_iter()
                    .map(|c| match c {
                        CompiledValue::Constant(v) => v,
                        _ => Value::Null,
                    })
                    .collect();
                return CompiledValue::Constant(Value::Array(values));
            }
            CompiledValue::Array(compiled)
        }
        Value::Object(map) => {
            let mut entries = Vec::with_capacity(map.len());
            for (key, item) in map {
                let child = child_path(path, key);
                let key_template = match parse_template(key) {
                    Ok(t) => t,
                    Err(e) => {
                        errors.push((child.clone(), e));
                        Template::Literal(key.clone())
                    }
                };
                entries.push((key_template, compile_at(item, &child, errors)));
            }
            let constant = entries.iter().all(|(k, v)| {
                matches!(k, Template::Literal(_)) && matches!(v, CompiledValue::Constant(_))
            });
            if constant {
                let mut out = serde_json::Map::new();
                for (k, v) in entries {
                    if let (Template::Literal(k), CompiledValue::Constant(v)) = (k, v) {
                        out.insert(k, v);
                    }
                }
                return CompiledValue::Constant(Value::Object(out));
            }
            CompiledValue::Object(entries)
        }
        other => CompiledValue::Constant(other.clone()),
    }
}

/// `body.callbackUrl` for plain keys, `headers['x y']` for others (quotes doubled, as in WDL).
fn child_path(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '-'));
    match (plain, parent.is_empty()) {
        (true, true) => key.to_string(),
        (true, false) => format!("{parent}.{key}"),
        (false, _) => format!("{parent}['{}']", key.replace('\'', "''")),
    }
}
