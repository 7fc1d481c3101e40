//! Runs the shared expression conformance suite (`shared/conformance/expressions.json`, beside
//! the repository) against a fixed scope. Every case must pass except those listed in
//! `tests/conformance-known-gaps.txt`; a listed case that now passes fails the test too, so the
//! list stays honest.

mod common;

use common::{TestScope, same};
use hookflow_expr::{Value, parse_template};
use std::path::PathBuf;

#[test]
fn shared_expression_suite() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/expressions.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the conformance suite at {}: {e}; it is expected in a `shared/` folder beside the repository",
            path.display()
        )
    });
    let cases: Vec<Value> = serde_json::from_str(&text).expect("expressions.json is a JSON array");
    let gaps_text = include_str!("conformance-known-gaps.txt");
    let gaps: Vec<&str> = gaps_text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();

    let scope = TestScope::default();
    let mut failures = Vec::new();
    let mut fixed_gaps = Vec::new();
    for case in &cases {
        let expr = case["expr"]
            .as_str()
            .expect("each case has an 'expr' string");
        let expected = &case["expected"];
        let outcome = parse_template(expr).and_then(|t| t.eval(&scope));
        let passed = matches!(&outcome, Ok(v) if same(v, expected));
        match (passed, gaps.contains(&expr)) {
            (true, true) => fixed_gaps.push(expr.to_string()),
            (false, false) => failures.push(format!(
                "{expr}\n    expected {expected}\n    got      {outcome:?}"
            )),
            _ => {}
        }
    }
    assert!(
        fixed_gaps.is_empty(),
        "these known gaps now pass; remove them from tests/conformance-known-gaps.txt:\n{}",
        fixed_gaps.join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} conformance case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
