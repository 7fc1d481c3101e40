//! The shared conformance corpus (`shared/conformance`, beside the repository): every real
//! definition of built-in types must validate with no diagnostic, and every definition using
//! types this engine does not run must be rejected with an "unsupported operation type"
//! diagnostic naming the offending action or trigger.

use hookflow_model::parse_definition;
use serde_json::Value;
use std::path::{Path, PathBuf};

#[test]
fn supported_definitions_validate() {
    let mut failures = Vec::new();
    let files = corpus("definitions");
    for (file, definition) in &files {
        if let Err(diagnostics) = parse_definition(definition) {
            failures.push(format!(
                "{}:\n  {}",
                file.display(),
                diagnostics
                    .0
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n  ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files have diagnostics:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn unsupported_definitions_are_rejected() {
    let mut failures = Vec::new();
    let files = corpus("definitions-unsupported");
    for (file, definition) in &files {
        let offenders = unsupported_names(definition);
        assert!(
            !offenders.is_empty(),
            "{}: test data has no unsupported type",
            file.display()
        );
        let diagnostics = match parse_definition(definition) {
            Ok(_) => {
                failures.push(format!("{}: validated", file.display()));
                continue;
            }
            Err(diagnostics) => diagnostics,
        };
        for name in offenders {
            let named = diagnostics.0.iter().any(|d| {
                let text = d.to_string();
                text.contains("unsupported operation type") && text.contains(&format!("'{name}'"))
            });
            if !named {
                failures.push(format!("{}: no 'unsupported operation type' diagnostic names '{name}':\n  {diagnostics}", file.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `(file, definition)` for every `*.json` in `shared/conformance/<folder>`.
fn corpus(folder: &str) -> Vec<(PathBuf, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance")
        .join(folder);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!("conformance folder {} is missing ({e}); CI clones the repository with shared/ beside it", dir.display())
    });
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no definitions in {}", dir.display());
    files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file).expect("read conformance file");
            let mut value: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let definition = value
                .get_mut("definition")
                .map(Value::take)
                .unwrap_or_else(|| panic!("{}: no definition", file.display()));
            (file, definition)
        })
        .collect()
}

/// Names of the actions and triggers whose type is not built in, found independently of the
/// parser so the test checks it rather than echoes it.
fn unsupported_names(definition: &Value) -> Vec<String> {
    const BUILT_IN: &[&str] = &[
        "compose",
        "http",
        "response",
        "httpwebhook",
        "terminate",
        "wait",
        "initializevariable",
        "setvariable",
        "incrementvariable",
        "decrementvariable",
        "appendtoarrayvariable",
        "appendtostringvariable",
        "parsejson",
        "query",
        "select",
        "join",
        "table",
        "if",
        "switch",
        "foreach",
        "until",
        "scope",
    ];
    const TRIGGERS: &[&str] = &["request", "httpwebhook", "recurrence", "http"];
    let mut names = Vec::new();
    let type_of = |v: &Value| {
        v.get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    for (name, trigger) in definition
        .get("triggers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if !TRIGGERS.contains(&type_of(trigger).as_str()) {
            names.push(name.clone());
        }
    }
    let mut stack: Vec<&Value> = definition.get("actions").into_iter().collect();
    while let Some(actions) = stack.pop() {
        for (name, action) in actions.as_object().into_iter().flatten() {
            if !BUILT_IN.contains(&type_of(action).as_str()) {
                names.push(name.clone());
                continue;
            }
            stack.extend(action.get("actions"));
            stack.extend(action.get("else").and_then(|e| e.get("actions")));
            stack.extend(action.get("default").and_then(|e| e.get("actions")));
            for case in action
                .get("cases")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(_, c)| c)
            {
                stack.extend(case.get("actions"));
            }
        }
    }
    names
}

/// Robustness: every corpus definition with one node replaced by junk (wrong types, stray
/// expressions, empty containers) must give diagnostics or a model, never a panic.
#[test]
fn mutated_definitions_do_not_panic() {
    let junk = [
        Value::Null,
        serde_json::json!(7),
        serde_json::json!("@"),
        serde_json::json!({}),
    ];
    let mut parses = 0;
    for folder in ["definitions", "definitions-unsupported"] {
        for (_, definition) in corpus(folder) {
            let mut pointers = Vec::new();
            collect_pointers(&definition, String::new(), &mut pointers);
            for pointer in pointers {
                for replacement in &junk {
                    let mut mutated = definition.clone();
                    if let Some(slot) = mutated.pointer_mut(&pointer) {
                        *slot = replacement.clone();
                    }
                    let _ = parse_definition(&mutated);
                    parses += 1;
                }
            }
        }
    }
    assert!(parses > 1000, "only {parses} mutations tried");
}

/// JSON pointers to every object member and array element of `value`.
fn collect_pointers(value: &Value, at: String, out: &mut Vec<String>) {
    let children: Vec<(String, &Value)> = match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.replace('~', "~0").replace('/', "~1"), v))
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => return,
    };
    for (key, child) in children {
        let pointer = format!("{at}/{key}");
        out.push(pointer.clone());
        collect_pointers(child, pointer, out);
    }
}
