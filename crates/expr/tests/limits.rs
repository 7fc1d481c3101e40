//! Hostile input: every dimension a user could blow up ends in an error (kind `Limit` or
//! `InvalidArgument`), quickly and without a stack overflow.

mod common;

use common::TestScope;
use hookflow_expr::{ErrorKind, StaticScope, parse_expr, parse_template};
use serde_json::json;
use std::time::{Duration, Instant};

fn eval_error(text: &str, scope: &dyn hookflow_expr::Scope) -> ErrorKind {
    match parse_template(text).and_then(|t| t.eval(scope)) {
        Ok(v) => panic!("{text}: expected an error, got {v}"),
        Err(e) => e.kind,
    }
}

#[test]
fn deep_nesting_is_refused_at_parse_time() {
    let deep = format!("{}1{}", "add(1, ".repeat(10_000), ")".repeat(10_000));
    assert!(parse_expr(&deep).is_err());
    let brackets = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(parse_expr(&brackets).is_err());
}

#[test]
fn long_expressions_are_refused() {
    let long = format!("'{}'", "a".repeat(9_000));
    assert!(parse_expr(&long).is_err());
}

#[test]
fn results_are_bounded() {
    let scope = TestScope::default();
    let start = Instant::now();
    assert_eq!(
        eval_error("@range(0, 100001)", &scope),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        eval_error("@range(2147483600, 100)", &scope),
        ErrorKind::InvalidArgument
    );
    // Doubling text by nesting runs into the expression length limit long before memory.
    let mut doubling = "'aaaaaaaa'".to_string();
    for _ in 0..10 {
        doubling = format!("concat({doubling}, {doubling})");
    }
    assert!(parse_expr(&doubling).is_err());
    // Many large intermediate results add up to the per-evaluation cap.
    let big = "join(range(0, 100000), 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')";
    let many = format!("@length(concat({}))", vec![big; 30].join(", "));
    assert_eq!(eval_error(&many, &scope), ErrorKind::Limit);
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn hostile_xml_is_bounded() {
    let depth = 100_000;
    let deep = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
    let wide = format!("<r>{}</r>", "<b>1</b>".repeat(20_000));
    let scope =
        match StaticScope::from_context(&json!({"parameters": {"deep": deep, "wide": wide}})) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
    let start = Instant::now();
    // Conversions walk the tree recursively: a depth cap keeps the stack safe.
    assert_eq!(
        eval_error("@json(parameters('deep'))", &scope),
        ErrorKind::Limit
    );
    assert_eq!(
        eval_error("@xml(parameters('deep'))", &scope),
        ErrorKind::Limit
    );
    // XPath work is budgeted: this is quadratic in the document size.
    assert_eq!(
        eval_error("@xpath(parameters('wide'), 'count(//b[. = //b])')", &scope),
        ErrorKind::Limit
    );
    // Long operator chains would nest the XPath tree deeply.
    let chain = format!("@xpath(parameters('wide'), '{}1')", "1+".repeat(3_000));
    assert_eq!(eval_error(&chain, &scope), ErrorKind::Limit);
    // Entity expansion is refused outright (no DTDs).
    let laughs = "@xml('<!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><l>&b;</l>')";
    assert_eq!(eval_error(laughs, &scope), ErrorKind::InvalidArgument);
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn deep_json_to_xml_is_bounded() {
    let mut value = json!("x");
    for _ in 0..600 {
        value = json!({ "a": value });
    }
    let scope = match StaticScope::from_context(&json!({"parameters": {"deep": value}})) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        eval_error("@xml(parameters('deep'))", &scope),
        ErrorKind::Limit
    );
}
