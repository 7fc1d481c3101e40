//! Variables: InitializeVariable, SetVariable, IncrementVariable, DecrementVariable,
//! AppendToArrayVariable, AppendToStringVariable (logicapps-spec §6.11).
//!
//! A variable is kept in the run state as `{"type": ..., "value": ...}` under its declared
//! name and found regardless of case (errata E3); the runtime persists the whole set with the
//! run row whenever a step changes one. Values must fit the declared type: a value that does
//! not fails the action (`InvalidVariableType`), as does naming a variable that was never
//! initialized (`VariableNotFound`) or initializing one twice (`VariableAlreadyExists`).
//!
//! Steps apply one at a time per run, so writes from the iterations of a parallel Foreach are
//! serialised in the order their events arrive (Logic Apps only promises "unpredictable").

use super::{Finished, evaluate_inputs};
use crate::{RunState, StepContext, Transition};
use hookflow_expr::to_text;
use hookflow_model::{ActionId, ActionKind};
use serde_json::{Map, Value, json};

/// Most variables in a run (spec §7).
const MAX_VARIABLES: usize = 250;

/// A variable by name, regardless of case: its declared name and `{type, value}`.
pub(crate) fn find<'a>(
    variables: &'a Map<String, Value>,
    name: &str,
) -> Option<(&'a String, &'a Value)> {
    variables
        .get_key_value(name)
        .or_else(|| variables.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
        .map(|(k, v)| (k, v.get("value").unwrap_or(&Value::Null)))
}

pub(crate) fn start(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    id: ActionId,
    transition: &mut Transition,
) -> Finished {
    let inputs = match evaluate_inputs(state, ctx, id) {
        Ok(inputs) => inputs,
        Err(failed) => return failed,
    };
    let result = match &ctx.definition.action(id).kind {
        ActionKind::InitializeVariable => initialize(&mut state.variables, &inputs),
        kind => update(&mut state.variables, kind, &inputs),
    };
    match result {
        Ok(outputs) => {
            transition.variables_changed = true;
            Finished::succeeded(Some(inputs), outputs)
        }
        Err((code, message)) => Finished::failed(Some(inputs), code, message),
    }
}

type Failure = (&'static str, String);

fn initialize(
    variables: &mut Map<String, Value>,
    inputs: &Value,
) -> Result<Option<Value>, Failure> {
    let declared = inputs.get("variables").and_then(Value::as_array).ok_or((
        "InvalidTemplate",
        "inputs.variables must be an array".to_owned(),
    ))?;
    // Check all first, so a failing action initializes none.
    let mut new = Vec::new();
    for variable in declared {
        let name = variable
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or(("InvalidTemplate", "each variable needs a 'name'".to_owned()))?;
        let ty = variable
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let ty = Type::parse(ty).ok_or((
            "InvalidVariableType",
            format!("the type '{ty}' of variable '{name}' is not one of boolean, integer, float, string, object, array"),
        ))?;
        if find(variables, name).is_some()
            || new
                .iter()
                .any(|(n, _, _): &(String, _, _)| n.eq_ignore_ascii_case(name))
        {
            return Err((
                "VariableAlreadyExists",
                format!("the variable '{name}' is already initialized"),
            ));
        }
        let value = match variable.get("value") {
            None | Some(Value::Null) => ty.default_value(),
            Some(value) => ty.check(name, value.clone())?,
        };
        new.push((name.to_owned(), ty, value));
    }
    if variables.len() + new.len() > MAX_VARIABLES {
        return Err((
            "InvalidTemplate",
            format!("a run holds at most {MAX_VARIABLES} variables"),
        ));
    }
    for (name, ty, value) in new {
        variables.insert(name, json!({ "type": ty.name(), "value": value }));
    }
    Ok(None)
}

fn update(
    variables: &mut Map<String, Value>,
    kind: &ActionKind,
    inputs: &Value,
) -> Result<Option<Value>, Failure> {
    let name = inputs
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (declared, current) = find(variables, name)
        .map(|(k, v)| (k.clone(), v.clone()))
        .ok_or((
            "VariableNotFound",
            format!("the variable '{name}' is not initialized"),
        ))?;
    let ty = variables
        .get(&declared)
        .and_then(|v| v.get("type"))
        .and_then(Value::as_str)
        .and_then(Type::parse)
        .unwrap_or(Type::Object);
    let given = inputs.get("value").cloned();
    let mismatch = |what: &str| {
        (
            "InvalidVariableType",
            format!(
                "{what} cannot be used on the variable '{declared}' of type {}",
                ty.name()
            ),
        )
    };
    let value = match kind {
        ActionKind::SetVariable => ty.check(&declared, given.unwrap_or(Value::Null))?,
        ActionKind::IncrementVariable | ActionKind::DecrementVariable => {
            let by = given.filter(|v| !v.is_null()).unwrap_or(json!(1));
            let sign = if matches!(kind, ActionKind::DecrementVariable) {
                -1
            } else {
                1
            };
            step_number(ty, &current, &by, sign)
                .ok_or_else(|| mismatch(&format!("incrementing by {by}")))?
        }
        ActionKind::AppendToArrayVariable => {
            let Value::Array(mut items) = current else {
                return Err(mismatch("AppendToArrayVariable"));
            };
            items.push(given.unwrap_or(Value::Null));
            Value::Array(items)
        }
        ActionKind::AppendToStringVariable => {
            let Value::String(mut text) = current else {
                return Err(mismatch("AppendToStringVariable"));
            };
            match given.unwrap_or(Value::Null) {
                Value::String(s) => text.push_str(&s),
                other => text.push_str(&to_text(&other)),
            }
            Value::String(text)
        }
        _ => return Err(("InvalidTemplate", "not a variable action".into())),
    };
    variables.insert(
        declared.clone(),
        json!({ "type": ty.name(), "value": value }),
    );
    Ok(Some(
        json!({ "body": { "name": declared, "value": value } }),
    ))
}

fn step_number(ty: Type, current: &Value, by: &Value, sign: i64) -> Option<Value> {
    match ty {
        Type::Integer => {
            let by = by
                .as_i64()
                .or_else(|| by.as_str().and_then(|s| s.trim().parse().ok()))?;
            current
                .as_i64()?
                .checked_add(by.checked_mul(sign)?)
                .map(Value::from)
        }
        Type::Float => {
            let by = by
                .as_f64()
                .or_else(|| by.as_str().and_then(|s| s.trim().parse().ok()))?;
            serde_json::Number::from_f64(current.as_f64()? + by * sign as f64).map(Value::Number)
        }
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Boolean,
    Integer,
    Float,
    String,
    Object,
    Array,
}

impl Type {
    fn parse(text: &str) -> Option<Self> {
        Some(match text.to_ascii_lowercase().as_str() {
            "boolean" | "bool" => Self::Boolean,
            "integer" | "int" => Self::Integer,
            "float" => Self::Float,
            "string" => Self::String,
            "object" => Self::Object,
            "array" => Self::Array,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Boolean => "boolean",
            Self::Integer => "integer",
            Self::Float => "float",
            Self::String => "string",
            Self::Object => "object",
            Self::Array => "array",
        }
    }

    /// The value of a variable declared without one.
    fn default_value(self) -> Value {
        match self {
            Self::Boolean => json!(false),
            Self::Integer => json!(0),
            Self::Float => json!(0.0),
            Self::String => json!(""),
            Self::Object => json!({}),
            Self::Array => json!([]),
        }
    }

    /// `value` as this type, or the reason it is not one. Numbers and booleans written as text
    /// (`"5"`, `"true"`: what interpolation produces) are read as such.
    fn check(self, name: &str, value: Value) -> Result<Value, Failure> {
        let converted = match (self, &value) {
            (Self::Boolean, Value::Bool(_)) => Some(value.clone()),
            (Self::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => {
                Some(json!(true))
            }
            (Self::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => {
                Some(json!(false))
            }
            (Self::Integer, Value::Number(n)) if n.is_i64() => Some(value.clone()),
            (Self::Integer, Value::Number(n)) => n
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| json!(f as i64)),
            (Self::Integer, Value::String(s)) => s.trim().parse::<i64>().ok().map(Value::from),
            (Self::Float, Value::Number(_)) => Some(value.clone()),
            (Self::Float, Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number),
            (Self::String, Value::String(_))
            | (Self::Object, Value::Object(_))
            | (Self::Array, Value::Array(_)) => Some(value.clone()),
            _ => None,
        };
        converted.ok_or_else(|| {
            (
                "InvalidVariableType",
                format!(
                    "the variable '{name}' of type {} cannot hold the value {value}",
                    self.name()
                ),
            )
        })
    }
}
