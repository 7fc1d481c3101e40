//! What run history may show of an action: secure parameter values (`securestring`,
//! `secureobject`) replaced wherever they appear in its inputs, outputs and error, and the
//! whole inputs and/or outputs hidden when the action asks for it with
//! `runtimeConfiguration.secureData.properties` (logicapps-spec §3).
//!
//! Pure functions over a record, applied where history leaves the engine (the API's action
//! views). Not at write time: the stored action rows are the run's state, which later steps
//! read back (`body('X')`, `actions('X').inputs`, after a restart or a cache miss), and secure
//! data must stay usable by the workflow while hidden from people.

use crate::compiled::Compiled;
use hookflow_engine::REDACTED;
use hookflow_model::Definition;
use hookflow_store::ActionRecord;
use serde_json::{Map, Value};

/// Secrets shorter than this are replaced only where they are a whole value: replacing every
/// occurrence of a one- or two-letter secret would shred unrelated text.
const MIN_SUBSTRING_SECRET: usize = 4;

/// Which parts of an action's history are hidden (`runtimeConfiguration.secureData`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SecureData {
    pub inputs: bool,
    pub outputs: bool,
}

/// The record as the API may show it, for a run of `compiled`.
// Applied where history leaves the engine (the API's action views), not when rows are
// written: the stored rows are the run's own state, which later steps read back.
pub(crate) fn history_view(compiled: &Compiled, record: ActionRecord) -> ActionRecord {
    let secrets = secure_values(&compiled.definition, &compiled.parameters);
    let secure = secure_data(&compiled.definition, &record.name);
    redact_record(&secrets, secure, record)
}

/// Every secret text of the definition's secure parameters: a `securestring`'s value, every
/// string inside a `secureobject`.
pub fn secure_values(definition: &Definition, parameters: &Map<String, Value>) -> Vec<String> {
    let mut secrets = Vec::new();
    for declared in definition.parameters.iter().filter(|p| p.ty.is_secure()) {
        if let Some(value) = parameters.get(&declared.name) {
            strings_in(value, &mut secrets);
        }
    }
    secrets.retain(|s| !s.is_empty());
    // Longest first, so a secret containing another is replaced whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    secrets
}

/// The action's `runtimeConfiguration.secureData.properties`. Compose, ParseJson and Response
/// have only secure inputs, which hide their outputs too (their outputs are their inputs).
pub fn secure_data(definition: &Definition, action: &str) -> SecureData {
    let Some(id) = definition.action_id(action) else {
        return SecureData::default();
    };
    let action = definition.action(id);
    let properties = action
        .raw
        .get("runtimeConfiguration")
        .and_then(|r| r.get("secureData"))
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_array);
    let named = |name: &str| {
        properties.is_some_and(|list| {
            list.iter()
                .any(|p| p.as_str().is_some_and(|p| p.eq_ignore_ascii_case(name)))
        })
    };
    let inputs = named("inputs");
    let echoes_inputs = matches!(
        action.kind.type_name(),
        "Compose" | "ParseJson" | "Response"
    );
    SecureData {
        inputs,
        outputs: named("outputs") || (inputs && echoes_inputs),
    }
}

/// `record` with `secure` parts hidden and every secret replaced by `*sanitized*`.
pub fn redact_record(secrets: &[String], secure: SecureData, record: ActionRecord) -> ActionRecord {
    let hidden = |value: Option<Value>, hide: bool| match value {
        Some(_) if hide => Some(Value::String(REDACTED.into())),
        other => other.map(|v| scrub(v, secrets)),
    };
    ActionRecord {
        inputs: hidden(record.inputs, secure.inputs),
        outputs: hidden(record.outputs, secure.outputs),
        error: record.error.map(|e| scrub(e, secrets)),
        ..record
    }
}

/// Replaces secrets in every string of `value` (keys included).
fn scrub(value: Value, secrets: &[String]) -> Value {
    if secrets.is_empty() {
        return value;
    }
    match value {
        Value::String(text) => Value::String(scrub_text(text, secrets)),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| scrub(v, secrets)).collect()),
        Value::Object(object) => Value::Object(
            object
                .into_iter()
                .map(|(k, v)| (scrub_text(k, secrets), scrub(v, secrets)))
                .collect(),
        ),
        other => other,
    }
}

fn scrub_text(mut text: String, secrets: &[String]) -> String {
    for secret in secrets {
        if text == *secret {
            return REDACTED.into();
        }
        if secret.len() >= MIN_SUBSTRING_SECRET && text.contains(secret.as_str()) {
            text = text.replace(secret.as_str(), REDACTED);
        }
    }
    text
}

fn strings_in(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::String(s) => into.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings_in(v, into)),
        Value::Object(object) => object.values().for_each(|v| strings_in(v, into)),
        // A secure number or boolean is shown as it is written: replacing every `1` in history
        // would hide nothing and break everything.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookflow_engine::ActionStatus;
    use serde_json::json;

    fn compiled(document: Value) -> Compiled {
        Compiled::from_document(&document).expect("valid document")
    }

    fn record(name: &str, inputs: Value, outputs: Value) -> ActionRecord {
        ActionRecord {
            run_id: "r".into(),
            name: name.into(),
            repetition: String::new(),
            status: ActionStatus::Succeeded,
            code: Some("OK".into()),
            start_time: None,
            end_time: None,
            inputs: Some(inputs),
            outputs: Some(outputs),
            error: Some(json!({ "code": "X", "message": "failed with hunter22 inside" })),
        }
    }

    fn document() -> Value {
        json!({
            "definition": {
                "parameters": {
                    "token": { "type": "securestring" },
                    "creds": { "type": "secureobject" },
                    "plain": { "type": "string", "defaultValue": "visible-value" },
                    "pin": { "type": "securestring", "defaultValue": "42" }
                },
                "triggers": { "manual": { "type": "Request", "kind": "Http" } },
                "actions": {
                    "Call": { "type": "Http", "inputs": { "method": "GET", "uri": "https://example.net" }, "runAfter": {} },
                    "Secret_call": {
                        "type": "Http", "inputs": { "method": "GET", "uri": "https://example.net" }, "runAfter": {},
                        "runtimeConfiguration": { "secureData": { "properties": ["outputs"] } }
                    },
                    "Secret_compose": {
                        "type": "Compose", "inputs": "x", "runAfter": {},
                        "runtimeConfiguration": { "secureData": { "properties": ["Inputs"] } }
                    }
                }
            },
            "parameters": {
                "token": { "value": "hunter22" },
                "creds": { "value": { "user": "svc", "password": "p@ssw0rd!" } }
            }
        })
    }

    #[test]
    fn secure_parameter_values_are_replaced_everywhere() {
        let compiled = compiled(document());
        let shown = history_view(
            &compiled,
            record(
                "Call",
                json!({ "headers": { "X-Key": "hunter22", "X-Other": "Bearer hunter22", "X-Plain": "visible-value" },
                        "body": { "p@ssw0rd!": ["p@ssw0rd!", 42] } }),
                json!({ "body": "token hunter22 echoed", "pin": "42", "n": 42 }),
            ),
        );
        assert_eq!(
            shown.inputs.unwrap(),
            json!({ "headers": { "X-Key": "*sanitized*", "X-Other": "Bearer *sanitized*", "X-Plain": "visible-value" },
                    "body": { "*sanitized*": ["*sanitized*", 42] } })
        );
        // A short secret is replaced where it is the whole value only.
        assert_eq!(
            shown.outputs.unwrap(),
            json!({ "body": "token *sanitized* echoed", "pin": "*sanitized*", "n": 42 })
        );
        assert_eq!(
            shown.error.unwrap()["message"],
            "failed with *sanitized* inside"
        );
    }

    #[test]
    fn secure_data_hides_whole_parts() {
        let compiled = compiled(document());
        let call = history_view(
            &compiled,
            record("Secret_call", json!({ "uri": "u" }), json!({ "body": 1 })),
        );
        assert_eq!(call.inputs.unwrap(), json!({ "uri": "u" }));
        assert_eq!(call.outputs.unwrap(), json!("*sanitized*"));
        // Compose's secure inputs hide its outputs too.
        let compose = history_view(&compiled, record("Secret_compose", json!("x"), json!("x")));
        assert_eq!(compose.inputs.unwrap(), json!("*sanitized*"));
        assert_eq!(compose.outputs.unwrap(), json!("*sanitized*"));
        assert_eq!(
            secure_data(&compiled.definition, "Call"),
            SecureData::default()
        );
    }

    #[test]
    fn nothing_secure_changes_nothing() {
        let original = record("Call", json!({ "a": "hunter22" }), json!(null));
        let shown = redact_record(&[], SecureData::default(), original.clone());
        assert_eq!(shown.inputs, original.inputs);
        assert_eq!(shown.error, original.error);
    }
}
