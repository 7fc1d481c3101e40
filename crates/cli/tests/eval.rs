//! `hookflow eval` end to end: the real binary, an expression, an optional context file; the
//! result on stdout as JSON, or the error (with its position) on stderr and a failing exit.

use serde_json::{Value, json};
use std::process::{Command, Output};

fn hookflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hookflow"))
        .args(args)
        .output()
        .expect("the hookflow binary runs")
}

fn stdout_json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

fn context_file(context: &Value) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(file.path(), context.to_string()).expect("the context is written");
    file
}

#[test]
fn evaluates_templates_and_bare_expressions() {
    assert_eq!(stdout_json(&hookflow(&["eval", "@add(1, 2)"])), json!(3));
    assert_eq!(stdout_json(&hookflow(&["eval", "div(11, 5)"])), json!(2));
    assert_eq!(
        stdout_json(&hookflow(&["eval", "Sum: @{add(1, 2)}"])),
        json!("Sum: 3")
    );
    assert_eq!(
        stdout_json(&hookflow(&["eval", "@json(xml('<a><b>1</b></a>'))"])),
        json!({"a": {"b": "1"}})
    );
}

#[test]
fn reads_a_context_file() {
    let context = context_file(&json!({
        "trigger": {"outputs": {"body": {"name": "Ada"}}},
        "actions": {"Get_Order": {"outputs": {"statusCode": 200, "body": {"id": 42}}}},
        "parameters": {"greeting": "Hello"},
        "variables": {"count": 2},
        "now": "2024-02-29T13:45:30Z"
    }));
    let path = context.path().to_str().expect("a UTF-8 path");
    let expression = "@{parameters('greeting')} @{triggerBody()?['name']}: order @{body('Get_Order').id} x @{variables('count')} on @{utcNow('yyyy-MM-dd')}";
    assert_eq!(
        stdout_json(&hookflow(&["eval", expression, "--context", path])),
        json!("Hello Ada: order 42 x 2 on 2024-02-29")
    );
}

#[test]
fn errors_carry_the_position_and_fail() {
    let output = hookflow(&["eval", "@substring('abc', 1, 5)"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("substring"), "{stderr}");
    assert!(stderr.contains("position"), "{stderr}");
    assert!(output.stdout.is_empty());

    let output = hookflow(&["eval", "@add(1,"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("position"));

    let output = hookflow(&["eval", "@parameters('missing')"]);
    assert!(!output.status.success());
}

#[test]
fn a_bad_context_file_fails_clearly() {
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(file.path(), "{not json").expect("written");
    let path = file.path().to_str().expect("a UTF-8 path");
    let output = hookflow(&["eval", "@1", "--context", path]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not valid JSON"));
}
