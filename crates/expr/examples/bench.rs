//! A small timing loop for parsing and evaluation (no benchmark framework: it builds in seconds
//! and runs on CI's two cores). Run it optimised:
//!
//! ```sh
//! cargo run --release -p hookflow-expr --example bench
//! ```
//!
//! It reports the median of several rounds, per operation: parsing one typical expression,
//! compiling and evaluating a typical action's inputs (16 expressions with property access and
//! a few function calls), and a few heavier functions.

use hookflow_expr::{StaticScope, Value, compile_value, parse_expr};
use serde_json::json;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Runs `f` in rounds of `iterations` and returns the median time per call.
fn measure(iterations: u32, mut f: impl FnMut()) -> Duration {
    let mut rounds: Vec<Duration> = (0..7)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                f();
            }
            start.elapsed() / iterations
        })
        .collect();
    rounds.sort();
    rounds[rounds.len() / 2]
}

fn report(name: &str, per_call: Duration) {
    println!("{name:<48} {:>10.2} µs", per_call.as_secs_f64() * 1e6);
}

fn context() -> Value {
    json!({
        "now": "2024-02-29T13:45:30Z",
        "trigger": {"outputs": {
            "headers": {"Content-Type": "application/json", "x-correlation-id": "abc-123"},
            "body": {
                "order": {"id": 1042, "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
                          "lines": [{"sku": "X1", "qty": 2, "price": 9.5}, {"sku": "Y2", "qty": 1, "price": 20}]},
                "priority": "high"
            }
        }},
        "actions": {"Get_Customer": {"status": "Succeeded", "outputs": {"statusCode": 200, "body": {"tier": "gold", "discount": 0.1}}}},
        "parameters": {"apiBase": "https://api.example.com", "region": "eu"},
        "variables": {"attempt": 2}
    })
}

/// The inputs of a typical Http action: 16 expressions, mostly property access.
fn action_inputs() -> Value {
    json!({
        "method": "POST",
        "uri": "@{parameters('apiBase')}/orders/@{triggerBody()?['order']?['id']}",
        "headers": {
            "x-correlation-id": "@triggerOutputs()?['headers']?['x-correlation-id']",
            "x-attempt": "@{variables('attempt')}",
            "x-region": "@toUpper(parameters('region'))"
        },
        "body": {
            "orderId": "@triggerBody()?['order']?['id']",
            "customer": "@triggerBody()?['order']?['customer']?['name']",
            "email": "@toLower(triggerBody()?['order']?['customer']?['email'])",
            "lineCount": "@length(triggerBody()?['order']?['lines'])",
            "firstSku": "@first(triggerBody()?['order']?['lines'])?['sku']",
            "tier": "@body('Get_Customer')?['tier']",
            "discount": "@mul(body('Get_Customer')?['discount'], 100)",
            "urgent": "@equals(triggerBody()?['priority'], 'high')",
            "total": "@add(mul(triggerBody()?['order']?['lines'][0]['qty'], triggerBody()?['order']?['lines'][0]['price']), triggerBody()?['order']?['lines'][1]['price'])",
            "label": "@concat('order-', string(triggerBody()?['order']?['id']))",
            "received": "@utcNow()"
        }
    })
}

fn main() {
    let scope = match StaticScope::from_context(&context()) {
        Ok(scope) => scope,
        Err(e) => return eprintln!("bad context: {e}"),
    };
    let typical = "toLower(triggerBody()?['order']?['customer']?['email'])";
    report(
        "parse one typical expression",
        measure(20_000, || {
            let _ = black_box(parse_expr(black_box(typical)));
        }),
    );
    let inputs = action_inputs();
    report(
        "compile action inputs (16 expressions)",
        measure(2_000, || {
            let _ = black_box(compile_value(black_box(&inputs)));
        }),
    );
    let Ok(compiled) = compile_value(&inputs) else {
        return eprintln!("the inputs do not compile");
    };
    if let Err(e) = compiled.eval(&scope) {
        return eprintln!("the inputs do not evaluate: {e}");
    }
    report(
        "evaluate action inputs (16 expressions)",
        measure(5_000, || {
            let _ = black_box(compiled.eval(&scope));
        }),
    );
    let heavy = [
        ("formatDateTime(utcNow(), 'dddd, MMMM d yyyy HH:mm')", 5_000),
        ("formatNumber(1234567.891, '#,##0.00')", 5_000),
        (
            "json(xml('<a><b id=\"1\">x</b><b id=\"2\">y</b></a>'))",
            2_000,
        ),
        (
            "xpath(xml('<a><b>1</b><b>2</b><b>3</b></a>'), 'sum(/a/b)')",
            2_000,
        ),
        ("length(range(0, 1000))", 2_000),
    ];
    for (text, iterations) in heavy {
        let Ok(expr) = parse_expr(text) else {
            return eprintln!("does not parse: {text}");
        };
        report(
            &format!("evaluate {}", text.split('(').next().unwrap_or(text)),
            measure(iterations, || {
                let _ = black_box(expr.eval(&scope));
            }),
        );
    }
}
