//! Declared parameters and outputs: their types, default values checked against those types,
//! and the values a run sees ([`effective_parameters`]).

use crate::parse::{Callback, Ctx, Path, check_keys, json_type};
use crate::{Definition, OutputDef, ParameterDef, ParameterType};
use serde_json::{Map, Value};

/// The parameter values a run sees: each declared parameter's `defaultValue`, overlaid by the
/// value given for it (names match regardless of case, errata E3), keyed by the declared name.
/// Values for undeclared names are dropped; a parameter with neither is absent.
pub fn effective_parameters(
    definition: &Definition,
    values: &Map<String, Value>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for parameter in &definition.parameters {
        let given = values
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&parameter.name))
            .map(|(_, v)| v);
        if let Some(value) = given.or(parameter.default_value.as_ref()) {
            out.insert(parameter.name.clone(), value.clone());
        }
    }
    out
}

/// Most parameters Logic Apps Standard accepts in one definition (Consumption: 50).
const MAX_PARAMETERS: usize = 500;

/// `definition.parameters`.
pub(crate) fn parse_parameters(
    ctx: &mut Ctx,
    value: Option<&Value>,
    path: &Path,
) -> Vec<ParameterDef> {
    let Some(value) = value else {
        return Vec::new();
    };
    let Some(entries) = ctx.object(value, path) else {
        return Vec::new();
    };
    if entries.len() > MAX_PARAMETERS {
        ctx.error(
            path,
            format!(
                "too many parameters: {} (at most {MAX_PARAMETERS})",
                entries.len()
            ),
        );
    }
    let mut out = Vec::with_capacity(entries.len());
    for (name, raw) in entries {
        let path = path.key(name);
        let Some(object) = ctx.object(raw, &path) else {
            continue;
        };
        // `value` is what Logic Apps Standard puts here for app-setting parameters; it is
        // superseded by the document's parameter values and not used by the model.
        check_keys(
            ctx,
            object,
            &[
                "type",
                "defaultValue",
                "allowedValues",
                "metadata",
                "value",
                "description",
            ],
            &path,
        );
        let Some(ty) = ctx
            .required(object, "type", &path)
            .and_then(|t| parse_type(ctx, t, &path.key("type")))
        else {
            continue;
        };
        let allowed_values = match object.get("allowedValues") {
            None => None,
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Err(message) = check_type(ty, item) {
                        ctx.error(&path.key("allowedValues").index(i), message);
                    }
                }
                Some(items.clone())
            }
            Some(other) => {
                ctx.error(
                    &path.key("allowedValues"),
                    format!("expected an array, got {}", json_type(other)),
                );
                None
            }
        };
        let default_value = object.get("defaultValue").cloned();
        if let Some(default) = &default_value {
            check_value(
                ctx,
                ty,
                allowed_values.as_deref(),
                default,
                &path.key("defaultValue"),
            );
        }
        out.push(ParameterDef {
            name: name.clone(),
            ty,
            default_value,
            allowed_values,
        });
    }
    out
}

/// `definition.outputs`: `{"<name>": {"type": ..., "value": ...}}`, each value compiled.
pub(crate) fn parse_outputs(ctx: &mut Ctx, value: Option<&Value>, path: &Path) -> Vec<OutputDef> {
    let Some(value) = value else {
        return Vec::new();
    };
    let Some(entries) = ctx.object(value, path) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(entries.len());
    for (name, raw) in entries {
        let path = path.key(name);
        let Some(object) = ctx.object(raw, &path) else {
            continue;
        };
        check_keys(
            ctx,
            object,
            &["type", "value", "metadata", "description"],
            &path,
        );
        let ty = ctx
            .required(object, "type", &path)
            .and_then(|t| parse_type(ctx, t, &path.key("type")));
        let value = ctx
            .required(object, "value", &path)
            .map(|v| ctx.compile(v, &path.key("value"), Callback::Forbidden));
        if let (Some(ty), Some(value)) = (ty, value) {
            out.push(OutputDef {
                name: name.clone(),
                ty,
                value,
            });
        }
    }
    out
}

/// Checks a value (default or given) against the declared type and allowed values.
pub(crate) fn check_value(
    ctx: &mut Ctx,
    ty: ParameterType,
    allowed: Option<&[Value]>,
    value: &Value,
    path: &Path,
) {
    if let Err(message) = check_type(ty, value) {
        ctx.error(path, message);
    } else if allowed.is_some_and(|allowed| !allowed.contains(value)) {
        ctx.error(path, "value is not one of the parameter's allowedValues");
    }
}

fn check_type(ty: ParameterType, value: &Value) -> Result<(), String> {
    let fits = match ty {
        ParameterType::Int => value.is_i64() || value.is_u64(),
        ParameterType::Float => value.is_number(),
        ParameterType::String | ParameterType::SecureString => value.is_string(),
        ParameterType::Bool => value.is_boolean(),
        ParameterType::Array => value.is_array(),
        ParameterType::Object | ParameterType::SecureObject => value.is_object(),
    };
    if fits {
        Ok(())
    } else {
        Err(format!(
            "expected {}, got {}",
            type_name(ty),
            json_type(value)
        ))
    }
}

fn parse_type(ctx: &mut Ctx, value: &Value, path: &Path) -> Option<ParameterType> {
    let ty = value.as_str().and_then(|name| {
        Some(match name.to_ascii_lowercase().as_str() {
            "int" => ParameterType::Int,
            "float" => ParameterType::Float,
            "string" => ParameterType::String,
            "securestring" => ParameterType::SecureString,
            "bool" => ParameterType::Bool,
            "array" => ParameterType::Array,
            "object" => ParameterType::Object,
            "secureobject" => ParameterType::SecureObject,
            _ => return None,
        })
    });
    if ty.is_none() {
        ctx.error(
            path,
            format!(
                "unknown type {value}: expected int, float, string, securestring, bool, array, object or secureobject"
            ),
        );
    }
    ty
}

fn type_name(ty: ParameterType) -> &'static str {
    match ty {
        ParameterType::Int => "int",
        ParameterType::Float => "float",
        ParameterType::String => "string",
        ParameterType::SecureString => "securestring",
        ParameterType::Bool => "bool",
        ParameterType::Array => "array",
        ParameterType::Object => "object",
        ParameterType::SecureObject => "secureobject",
    }
}
