//! Data-driven tests: every `tests/data/ok/*.json` must parse, and its model summary must match
//! the `.expected` beside it; every `tests/data/err_*.json` must fail with exactly the
//! diagnostics in its `.expected` (one `path: message` line each).
//!
//! A file whose top level has a `definition` key is a workflow document and goes through
//! `parse_workflow_document`; any other is a bare definition. Run with `UPDATE_EXPECT=1` to
//! rewrite the `.expected` files instead of comparing; review the diff, never edit them by hand.

use hookflow_model::{
    ActionKind, Condition, Definition, Diagnostics, TriggerKind, effective_parameters,
    parse_definition, parse_workflow_document,
};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[test]
fn ok_definitions() {
    let files = json_files(&data_dir().join("ok"), "");
    assert!(!files.is_empty(), "no files in tests/data/ok");
    let mut failures = Vec::new();
    for file in files {
        let actual = match parse_file(&file) {
            Ok(summary) => summary,
            Err(diagnostics) => format!("UNEXPECTED DIAGNOSTICS\n{}", render(&diagnostics)),
        };
        check(&file, &actual, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn err_definitions() {
    let files = json_files(&data_dir(), "err_");
    assert!(!files.is_empty(), "no err_*.json files in tests/data");
    let mut failures = Vec::new();
    for file in files {
        let actual = match parse_file(&file) {
            Ok(_) => "UNEXPECTEDLY VALID\n".to_owned(),
            Err(diagnostics) => render(&diagnostics),
        };
        check(&file, &actual, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn json_files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            name.starts_with(prefix) && name.ends_with(".json")
        })
        .collect();
    files.sort();
    files
}

/// Parses a file as a document or a definition; on success, a readable summary of the model.
fn parse_file(file: &Path) -> Result<String, Diagnostics> {
    let text = std::fs::read_to_string(file).expect("read test file");
    let value: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{}: invalid JSON: {e}", file.display()));
    if value.get("definition").is_some() || value.get("properties").is_some() {
        let document = parse_workflow_document(&value)?;
        let mut out = summary(&document.definition);
        let effective = effective_parameters(&document.definition, &document.parameters);
        let _ = writeln!(
            out,
            "document enabled={:?} parameters={}",
            document.enabled,
            Value::Object(document.parameters)
        );
        let _ = writeln!(out, "effective parameters={}", Value::Object(effective));
        Ok(out)
    } else {
        parse_definition(&value).map(|definition| summary(&definition))
    }
}

fn render(diagnostics: &Diagnostics) -> String {
    diagnostics.0.iter().map(|d| format!("{d}\n")).collect()
}

/// One line per parameter, trigger and action: enough to see arena order, nesting, runAfter
/// and the parsed type-specific parts.
fn summary(definition: &Definition) -> String {
    let mut out = String::new();
    for p in &definition.parameters {
        let _ = writeln!(
            out,
            "parameter {} {:?} default={:?}",
            p.name, p.ty, p.default_value
        );
    }
    for t in &definition.triggers {
        let kind = match &t.kind {
            TriggerKind::Request(r) => format!(
                "Request method={:?} relative_path={:?}",
                r.method, r.relative_path
            ),
            TriggerKind::HttpWebhook(w) => {
                format!("HttpWebhook unsubscribe={}", w.unsubscribe.is_some())
            }
            TriggerKind::Recurrence { recurrence } => format!("Recurrence {}", recurrence.raw),
            TriggerKind::Http { recurrence, .. } => format!("Http {}", recurrence.raw),
        };
        let _ = writeln!(
            out,
            "trigger {} {kind} conditions={} split_on={} options={:?}",
            t.name,
            t.conditions.len(),
            t.split_on.is_some(),
            t.operation_options.0
        );
    }
    for (i, a) in definition.actions.iter().enumerate() {
        let parent = match &a.parent {
            None => "top".to_owned(),
            Some(p) => format!("{}/{:?}", p.container.0, p.branch),
        };
        let run_after: Vec<String> = a
            .run_after
            .iter()
            .map(|r| definition.action(r.action).name.clone())
            .collect();
        let detail = match &a.kind {
            ActionKind::If { expression } | ActionKind::Until { expression } => {
                condition(expression)
            }
            ActionKind::Switch { cases, .. } => format!("cases={cases:?}"),
            ActionKind::Foreach { concurrency, .. } => format!("concurrency={concurrency:?}"),
            ActionKind::HttpWebhook(w) => format!("unsubscribe={}", w.unsubscribe.is_some()),
            _ => String::new(),
        };
        let line = format!(
            "action {i} {} {} parent={parent} run_after={run_after:?} limit={:?} {detail}",
            a.name,
            a.kind.type_name(),
            a.limit
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let top: Vec<u32> = definition.top_level.iter().map(|id| id.0).collect();
    let _ = writeln!(out, "top_level {top:?}");
    for o in &definition.outputs {
        let _ = writeln!(out, "output {} {:?}", o.name, o.ty);
    }
    out
}

fn condition(condition: &Condition) -> String {
    match condition {
        Condition::Value(_) => "value".to_owned(),
        Condition::And(items) => format!(
            "and({})",
            items
                .iter()
                .map(self::condition)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Condition::Or(items) => format!(
            "or({})",
            items
                .iter()
                .map(self::condition)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Condition::Not(inner) => format!("not({})", self::condition(inner)),
        Condition::Call { function, args } => format!("{function}/{}", args.len()),
    }
}

/// Compares with (or, under `UPDATE_EXPECT=1`, writes) the `.expected` file beside `file`.
fn check(file: &Path, actual: &str, failures: &mut Vec<String>) {
    let expected_file = file.with_extension("expected");
    if std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1") {
        std::fs::write(&expected_file, actual).expect("write .expected");
        return;
    }
    let expected = std::fs::read_to_string(&expected_file).unwrap_or_default();
    if expected != actual {
        failures.push(format!(
            "{} differs (rerun with UPDATE_EXPECT=1 to accept):\n--- expected\n{expected}--- actual\n{actual}",
            file.display()
        ));
    }
}
