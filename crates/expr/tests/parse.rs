//! Table-driven parse tests: template shapes, syntax errors with their positions, arity and
//! unknown-function errors, limits, `compile_value` paths and the reference extractors.

use hookflow_expr::{
    CompiledValue, ErrorKind, Segment, Span, Template, compile_value, parse_expr, parse_template,
};
use serde_json::json;

/// Renders a template's shape as short text: `lit(..)`, `whole(..)`, `interp[..]`.
fn shape(t: &Template) -> String {
    match t {
        Template::Literal(s) => format!("lit({s})"),
        Template::Whole(e) => format!("whole({})", e.source()),
        Template::Interpolated(segments) => {
            let parts: Vec<String> = segments
                .iter()
                .map(|s| match s {
                    Segment::Text(t) => format!("text({t})"),
                    Segment::Expr(e) => format!("expr({})", e.source()),
                })
                .collect();
            format!("interp[{}]", parts.join(" "))
        }
    }
}

#[test]
fn template_shapes() {
    let cases = [
        ("hello", "lit(hello)"),
        ("", "lit()"),
        ("@@", "lit(@)"),
        ("@@{x}", "lit(@{x})"),
        ("@@foo @{bar}", "lit(@foo @{bar})"),
        (" @", "lit( @)"),
        ("mail@example.com", "lit(mail@example.com)"),
        ("a @@{b} c", "lit(a @{b} c)"),
        ("@foo()", "whole(foo())"),
        ("@utcNow()", "whole(utcNow())"),
        ("@{utcNow()}", "interp[expr(utcNow())]"),
        (
            "x @{utcNow()} y",
            "interp[text(x ) expr(utcNow()) text( y)]",
        ),
        (
            "@{concat('}', '{')}!",
            "interp[expr(concat('}', '{')) text(!)]",
        ),
        (
            "@{utcNow()}@{utcNow()}",
            "interp[expr(utcNow()) expr(utcNow())]",
        ),
    ];
    let mut failures = Vec::new();
    for (input, want) in cases {
        // `foo` is unknown: only check shapes for inputs that parse.
        if input == "@foo()" {
            continue;
        }
        match parse_template(input) {
            Ok(t) if shape(&t) == want => {}
            Ok(t) => failures.push(format!("{input:?}: expected {want}, got {}", shape(&t))),
            Err(e) => failures.push(format!(
                "{input:?}: expected {want}, got error {}",
                e.message
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn parse_errors_have_kinds_and_positions() {
    let cases: &[(&str, ErrorKind, usize, usize, &str)] = &[
        ("", ErrorKind::Syntax, 0, 0, "empty"),
        ("foo()", ErrorKind::UnknownFunction, 0, 3, "'foo'"),
        (
            "concat('a', nope(1))",
            ErrorKind::UnknownFunction,
            12,
            16,
            "'nope'",
        ),
        (
            "utcNow(1, 2, 3)",
            ErrorKind::Arity,
            0,
            15,
            "between 0 and 1",
        ),
        ("substring('a')", ErrorKind::Arity, 0, 14, "substring"),
        (
            "concat('a'",
            ErrorKind::Syntax,
            10,
            10,
            "end of the expression",
        ),
        ("concat('a)", ErrorKind::Syntax, 7, 10, "unterminated"),
        ("concat('a') x", ErrorKind::Syntax, 12, 13, "'x'"),
        ("body", ErrorKind::Syntax, 0, 4, "parentheses"),
        ("trigger()?x", ErrorKind::Syntax, 10, 11, "after '?'"),
        ("trigger().", ErrorKind::Syntax, 10, 10, "property name"),
        ("concat(1,,2)", ErrorKind::Syntax, 9, 10, "','"),
        ("add(1, #)", ErrorKind::Syntax, 7, 8, "'#'"),
        ("add(1, -)", ErrorKind::Syntax, 7, 8, "not a valid number"),
    ];
    let mut failures = Vec::new();
    for (text, kind, start, end, fragment) in cases {
        match parse_expr(text) {
            Ok(_) => failures.push(format!("{text:?}: parsed, expected {kind:?}")),
            Err(e) => {
                let ok = e.kind == *kind
                    && e.span
                        == Some(Span {
                            start: *start,
                            end: *end,
                        })
                    && e.message.contains(fragment);
                if !ok {
                    failures.push(format!(
                        "{text:?}: expected {kind:?} at {start}..{end} containing {fragment:?}, got {:?} at {:?}: {}",
                        e.kind, e.span, e.message
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn template_errors() {
    let e = parse_template("x @{utcNow() y").expect_err("unclosed interpolation");
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert!(e.message.contains("closing"), "{}", e.message);
    assert_eq!(
        parse_template("@").expect_err("bare @").kind,
        ErrorKind::Syntax
    );
    assert_eq!(
        parse_template("@{}").expect_err("empty interpolation").kind,
        ErrorKind::Syntax
    );
}

#[test]
fn limits() {
    let deep = format!("{}1{}", "createArray(".repeat(100), ")".repeat(100));
    assert_eq!(
        parse_expr(&deep).expect_err("too deep").kind,
        ErrorKind::Limit
    );
    let chain = format!("trigger(){}", ".a".repeat(100));
    assert_eq!(
        parse_expr(&chain).expect_err("chain too deep").kind,
        ErrorKind::Limit
    );
    let long = format!("concat('{}')", "x".repeat(9000));
    assert_eq!(
        parse_expr(&long).expect_err("too long").kind,
        ErrorKind::Limit
    );
    // 101 copies of a 1 MB variable pass the 100 MB result cap: refused before allocating.
    let expr = format!("concat({})", vec!["variables('big')"; 101].join(", "));
    let err = parse_expr(&expr)
        .and_then(|e| e.eval(&BigScope))
        .expect_err("limit");
    assert_eq!(err.kind, ErrorKind::Limit, "{}", err.message);
    // Memory: many large intermediate results add up to the per-evaluation budget.
    let wide = format!(
        "length(createArray({}))",
        vec!["range(0, 100000)"; 100].join(",")
    );
    let err = parse_expr(&wide)
        .and_then(|e| e.eval(&BigScope))
        .expect_err("limit");
    assert_eq!(err.kind, ErrorKind::Limit, "{}", err.message);
}

struct BigScope;
impl hookflow_expr::Scope for BigScope {
    fn variable(&self, _: &str) -> Result<serde_json::Value, hookflow_expr::Error> {
        Ok(serde_json::Value::String("x".repeat(1 << 20)))
    }
}

#[test]
fn compile_value_paths_and_constants() {
    let value = json!({
        "uri": "https://example.com",
        "body": {"callbackUrl": "@{listCallbackUrl()}", "bad": "@nope()", "list": [1, "@add(1,", "ok"]},
        "headers": {"x-y": "@{", "weird key": "@concat("},
        "@bogus(": 1
    });
    let errors = compile_value(&value).expect_err("has errors");
    let paths: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "body.bad",
            "body.list[1]",
            "headers.x-y",
            "headers['weird key']",
            "['@bogus(']"
        ]
    );
    assert_eq!(compile_value(&json!("@nope()")).expect_err("root")[0].0, "");

    let constant = compile_value(&json!({"a": [1, "two", {"b": "@@c"}]})).expect("compiles");
    match constant {
        CompiledValue::Constant(v) => assert_eq!(v, json!({"a": [1, "two", {"b": "@c"}]})),
        other => panic!("expected a constant, got {other:?}"),
    }
    let compiled = compile_value(&json!({"k": ["x", "@item()"], "@{'key'}": 1})).expect("compiles");
    assert_eq!(
        compiled
            .exprs()
            .iter()
            .map(|e| e.source())
            .collect::<Vec<_>>(),
        ["item()", "'key'"]
    );
}

#[test]
fn referenced_actions_and_functions() {
    let e = parse_expr(
        "concat(body('A'), outputs('B')?.x, actions('A'), actionBody('C'), items('Loop'), result('S'), \
         iterationIndexes('U'), actionOutputs('D'), body(variables('dyn')), parameters('P'))",
    )
    .expect("parses");
    assert_eq!(
        e.referenced_actions(),
        ["A", "B", "C", "Loop", "S", "U", "D"]
    );
    assert_eq!(
        e.functions_called(),
        [
            "concat",
            "body",
            "outputs",
            "actions",
            "actionbody",
            "items",
            "result",
            "iterationindexes",
            "actionoutputs",
            "variables",
            "parameters"
        ]
    );
    assert_eq!(
        parse_expr("LISTCALLBACKURL()")
            .expect("parses")
            .functions_called(),
        ["listcallbackurl"]
    );
}
