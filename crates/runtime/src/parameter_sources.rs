//! Parameter values that live on the engine host rather than in the definition, so secrets
//! need not be stored in workflows:
//!
//! ```json
//! "parameters": {
//!   "apiKey":   { "fromEnv": "ORDERS_API_KEY" },
//!   "clientPfx": { "fromFile": "/etc/hookflow/client.pfx.b64" }
//! }
//! ```
//!
//! The stored document keeps the reference; the value is read whenever a version is compiled
//! (on save, and when a process first runs it), so rotating a secret takes a restart, not a
//! new version. A string-typed parameter takes the text as is (a file's trailing newline
//! removed); any other type parses it as JSON. A missing variable or file fails the save with
//! the parameter's path.

use hookflow_model::{Diagnostic, Diagnostics};
use serde_json::{Map, Value};

/// The document with every `fromEnv` / `fromFile` parameter replaced by `{"value": ...}`.
pub(crate) fn resolve(document: &Value) -> Result<Value, Diagnostics> {
    let mut resolved = document.clone();
    let root = if resolved.get("properties").is_some() {
        &mut resolved["properties"]
    } else {
        &mut resolved
    };
    let types = declared_types(root.get("definition"));
    let Some(Value::Object(parameters)) = root.get_mut("parameters") else {
        return Ok(resolved);
    };
    let mut problems = Vec::new();
    for (name, entry) in parameters.iter_mut() {
        let path = format!("parameters.{name}");
        let text = match (entry.get("fromEnv"), entry.get("fromFile")) {
            (Some(Value::String(variable)), None) => std::env::var(variable).map_err(|_| {
                format!(
                    "fromEnv: the environment variable '{variable}' is not set on the engine host"
                )
            }),
            (None, Some(Value::String(file))) => std::fs::read_to_string(file)
                .map(|text| {
                    text.strip_suffix('\n')
                        .map(|t| t.strip_suffix('\r').unwrap_or(t))
                        .unwrap_or(&text)
                        .to_owned()
                })
                .map_err(|e| format!("fromFile: cannot read '{file}' on the engine host: {e}")),
            (None, None) => continue,
            _ => Err("give one of fromEnv or fromFile, as a string".to_owned()),
        };
        let value = text.and_then(|text| {
            typed(
                &text,
                types.get(&name.to_ascii_lowercase()).map(String::as_str),
            )
        });
        match value {
            Ok(value) => *entry = serde_json::json!({ "value": value }),
            Err(message) => problems.push(Diagnostic { path, message }),
        }
    }
    if problems.is_empty() {
        Ok(resolved)
    } else {
        Err(Diagnostics(problems))
    }
}

/// Declared parameter types by lower-cased name.
fn declared_types(definition: Option<&Value>) -> std::collections::HashMap<String, String> {
    definition
        .and_then(|d| d.get("parameters"))
        .and_then(Value::as_object)
        .map(|declared: &Map<String, Value>| {
            declared
                .iter()
                .map(|(name, p)| {
                    let ty = p
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("string")
                        .to_ascii_lowercase();
                    (name.to_ascii_lowercase(), ty)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn typed(text: &str, declared: Option<&str>) -> Result<Value, String> {
    match declared {
        None | Some("string" | "securestring") => Ok(Value::String(text.to_owned())),
        Some(other) => serde_json::from_str(text)
            .map_err(|e| format!("the value is not valid JSON for a {other} parameter: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn host_values_replace_references_and_problems_name_the_parameter() {
        let file = std::env::temp_dir().join(format!("hookflow-param-{}", std::process::id()));
        std::fs::write(&file, "{\"a\": 1}\n").expect("write temp file");
        // Cargo sets this variable for test processes (setting one is `unsafe`, which the
        // workspace forbids).
        let variable = "CARGO_MANIFEST_DIR";
        let document = json!({
            "definition": { "parameters": { "key": { "type": "securestring" }, "conf": { "type": "object" } } },
            "parameters": {
                "key": { "fromEnv": variable },
                "conf": { "fromFile": file.to_string_lossy() },
                "plain": { "value": 1 }
            }
        });
        let resolved = resolve(&document).expect("resolves");
        assert_eq!(
            resolved["parameters"]["key"],
            json!({ "value": env!("CARGO_MANIFEST_DIR") })
        );
        assert_eq!(
            resolved["parameters"]["conf"],
            json!({ "value": { "a": 1 } })
        );
        assert_eq!(resolved["parameters"]["plain"], json!({ "value": 1 }));
        assert_eq!(
            document["parameters"]["key"],
            json!({ "fromEnv": variable }),
            "the input is untouched"
        );

        let missing =
            json!({ "parameters": { "key": { "fromEnv": "HOOKFLOW_SURELY_UNSET_VARIABLE" } } });
        let problems = resolve(&missing).expect_err("a missing variable fails");
        assert_eq!(problems.0[0].path, "parameters.key");
        assert!(
            problems.0[0]
                .message
                .contains("HOOKFLOW_SURELY_UNSET_VARIABLE")
        );
        let _ = std::fs::remove_file(file);
    }
}
