//! A fixed, deterministic `Scope` shared by the integration tests: a trigger, two actions (one
//! that ran, one that did not), parameters, variables, a fixed clock and fixed random bits.

use hookflow_expr::{Error, ErrorKind, Scope, Value, parse_template};
use serde_json::json;

#[allow(dead_code)]
pub struct TestScope {
    pub trigger: Value,
    pub actions: Value,
    pub parameters: Value,
    pub variables: Value,
}

impl Default for TestScope {
    fn default() -> Self {
        TestScope {
            trigger: json!({
                "name": "manual",
                "outputs": {
                    "headers": {"Content-Type": "application/json"},
                    "body": {"kind": "order", "Items": [1, 2, 3], "customer": {"name": "Ada"}, "nothing": null}
                }
            }),
            actions: json!({
                "Get_Order": {"name": "Get_Order", "status": "Succeeded", "outputs": {"statusCode": 200, "body": {"id": 42}}},
                "Skipped": null
            }),
            parameters: json!({"age": 42, "name": "Sophia", "flag": true}),
            variables: json!({"counter": 3, "list": ["a", "b"]}),
        }
    }
}

#[allow(dead_code)]
fn lookup(map: &Value, name: &str, what: &str) -> Result<Value, Error> {
    find(map, name, what).cloned()
}

#[allow(dead_code)]
fn find<'v>(map: &'v Value, name: &str, what: &str) -> Result<&'v Value, Error> {
    map.as_object()
        .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
        .map(|(_, v)| v)
        .ok_or_else(|| Error {
            kind: ErrorKind::InvalidArgument,
            message: format!("the {what} '{name}' does not exist"),
            span: None,
        })
}

impl Scope for TestScope {
    fn trigger(&self) -> Result<&Value, Error> {
        Ok(&self.trigger)
    }
    fn action(&self, name: &str) -> Result<Option<Value>, Error> {
        let v = lookup(&self.actions, name, "action")?;
        Ok(if v.is_null() { None } else { Some(v) })
    }
    fn action_outputs(&self, name: &str) -> Result<Option<&Value>, Error> {
        let action = find(&self.actions, name, "action")?;
        Ok((!action.is_null()).then(|| &action["outputs"]))
    }
    fn parameter(&self, name: &str) -> Result<Value, Error> {
        lookup(&self.parameters, name, "parameter")
    }
    fn variable(&self, name: &str) -> Result<Value, Error> {
        lookup(&self.variables, name, "variable")
    }
    fn workflow(&self) -> Result<Value, Error> {
        Ok(json!({"name": "wf", "run": {"name": "run1"}}))
    }
    fn list_callback_url(&self) -> Result<Value, Error> {
        Ok(json!("https://hookflow.example/callback?sig=abc"))
    }
    fn item(&self) -> Result<Value, Error> {
        Ok(json!({"sku": "X1"}))
    }
    fn now(&self) -> Result<jiff::Timestamp, Error> {
        Ok("2024-02-29T13:45:30.1234567Z"
            .parse()
            .expect("valid timestamp"))
    }
    fn random_u128(&self) -> Result<u128, Error> {
        Ok(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef)
    }
}

/// Numbers equal by value (int 3 == float 3.0), everything else structurally.
#[allow(dead_code)]
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Evaluates `template` against `scope` and compares with `expected`: JSON text, or
/// `!Kind: fragment` for an error of that kind whose message contains `fragment`.
#[allow(dead_code)]
pub fn check(scope: &dyn Scope, template: &str, expected: &str) -> Result<(), String> {
    let result = parse_template(template).and_then(|t| t.eval(scope));
    match (expected.strip_prefix('!'), result) {
        (Some(err), Err(e)) => {
            let (kind, fragment) = err.split_once(": ").unwrap_or((err, ""));
            if format!("{:?}", e.kind) == kind && e.message.contains(fragment) {
                Ok(())
            } else {
                Err(format!(
                    "{template}: expected error {err}, got {:?}: {}",
                    e.kind, e.message
                ))
            }
        }
        (Some(err), Ok(v)) => Err(format!("{template}: expected error {err}, got {v}")),
        (None, Err(e)) => Err(format!(
            "{template}: expected {expected}, got error {:?}: {}",
            e.kind, e.message
        )),
        (None, Ok(v)) => {
            let want: Value = serde_json::from_str(expected)
                .map_err(|e| format!("bad expectation {expected}: {e}"))?;
            if same(&v, &want) {
                Ok(())
            } else {
                Err(format!("{template}: expected {want}, got {v}"))
            }
        }
    }
}

/// Runs a whole table and fails listing every row that did not pass.
#[allow(dead_code)]
pub fn run_table(scope: &dyn Scope, cases: &[(&str, &str)]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(t, e)| check(scope, t, e).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
