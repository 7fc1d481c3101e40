//! A fixed, deterministic `Scope` shared by the integration tests: a trigger, two actions (one
//! that ran, one that did not), parameters, variables, a fixed clock and fixed random bits.

use hookflow_expr::{Error, ErrorKind, Scope, Value};
use serde_json::json;

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

fn lookup(map: &Value, name: &str, what: &str) -> Result<Value, Error> {
    map.as_object()
        .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
        .map(|(_, v)| v.clone())
        .ok_or_else(|| Error {
            kind: ErrorKind::InvalidArgument,
            message: format!("the {what} '{name}' does not exist"),
            span: None,
        })
}

impl Scope for TestScope {
    fn trigger(&self) -> Result<Value, Error> {
        Ok(self.trigger.clone())
    }
    fn action(&self, name: &str) -> Result<Option<Value>, Error> {
        let v = lookup(&self.actions, name, "action")?;
        Ok(if v.is_null() { None } else { Some(v) })
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
