//! Size and depth limits, on generated definitions (as files they would be hundreds of
//! lines of repetition).

use hookflow_model::parse_definition;
use serde_json::{Map, Value, json};

fn messages(definition: &Value) -> Vec<String> {
    match parse_definition(definition) {
        Ok(_) => Vec::new(),
        Err(diagnostics) => diagnostics.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn at_most_500_actions() {
    let actions = |n: usize| {
        let map: Map<String, Value> = (0..n)
            .map(|i| {
                (
                    format!("A{i}"),
                    json!({"type": "Compose", "inputs": i, "runAfter": {}}),
                )
            })
            .collect();
        json!({ "triggers": {}, "actions": map })
    };
    assert_eq!(messages(&actions(500)), Vec::<String>::new());
    assert_eq!(
        messages(&actions(501)),
        ["actions: too many actions: 501 (at most 500)"]
    );
}

#[test]
fn deep_nesting_is_bounded() {
    let nested = |depth: usize| {
        let mut inner = json!({});
        for i in (0..depth).rev() {
            inner =
                json!({ format!("S{i}"): { "type": "Scope", "actions": inner, "runAfter": {} } });
        }
        json!({ "triggers": {}, "actions": inner })
    };
    assert_eq!(messages(&nested(12)), Vec::<String>::new());
    let errors = messages(&nested(200));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("nested more than 32 levels"),
        "{errors:?}"
    );
}
