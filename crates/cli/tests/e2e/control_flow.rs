//! Control flow through the real binary: a Foreach calling a local service per item, If and
//! Switch, an Until counting with a variable, Terminate, and a Wait whose durable timer fires
//! after a `kill -9` and restart.

use crate::support::{Engine, Service, fire, request_workflow};
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn foreach_calls_a_service_per_item_then_counts() {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::start().await;
    let engine = Engine::start(&dir);
    let document = request_workflow(json!({
        "Each": {
            "type": "Foreach",
            "foreach": "@triggerBody()?['items']",
            "actions": {
                "Call": {
                    "type": "Http",
                    "inputs": { "method": "POST", "uri": format!("{}/echo/item", service.base), "body": "@item()" },
                    "runAfter": {}
                }
            },
            "runAfter": {}
        },
        "Count": { "type": "Compose", "inputs": "@length(triggerBody()?['items'])", "runAfter": { "Each": ["Succeeded"] } }
    }));
    assert_eq!(engine.put_workflow("each", &document).await.0, 201);
    let url = engine.callback_url("each", "manual").await;
    let (status, run_id, _) = fire(&engine.client, &url, json!({ "items": ["a", "b", "c"] })).await;
    assert_eq!(status, 202);
    let run_id = run_id.unwrap();
    let run = engine.wait_for_end("each", &run_id).await;
    assert_eq!(run["status"], "Succeeded", "{run}");
    let actions = engine.actions("each", &run_id).await;
    let call = actions.iter().find(|a| a["name"] == "Call").unwrap();
    assert_eq!(call["repetitionCount"], 3, "{call}");
    let count = actions.iter().find(|a| a["name"] == "Count").unwrap();
    assert_eq!(count["outputs"], 3);
    let (status, repetitions) = engine
        .get(&format!(
            "/api/workflows/each/runs/{run_id}/actions/Call/repetitions"
        ))
        .await;
    assert_eq!(status, 200);
    let bodies: Vec<_> = repetitions["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outputs"]["body"]["got"].clone())
        .collect();
    assert_eq!(bodies, [json!("a"), json!("b"), json!("c")]);
    let mut keys: Vec<_> = service
        .received_on("/echo/item")
        .iter()
        .map(|r| r.headers["idempotency-key"].clone())
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(
        keys.len(),
        3,
        "each iteration's call has its own idempotency key"
    );
}

/// A loop longer than one step's budget of actions runs in several steps (the run continues
/// in place between them, its lease kept) and ends with every iteration in order.
#[tokio::test]
async fn a_loop_longer_than_a_step_runs_to_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let document = request_workflow(json!({
        "Each": {
            "type": "Foreach", "foreach": "@range(0, 600)",
            "runtimeConfiguration": { "concurrency": { "repetitions": 1 } },
            "actions": { "Next": { "type": "Compose", "inputs": "@add(item(), 1)", "runAfter": {} } },
            "runAfter": {}
        },
        "After": { "type": "Compose", "inputs": "done", "runAfter": { "Each": ["Succeeded"] } }
    }));
    assert_eq!(engine.put_workflow("long", &document).await.0, 201);
    let url = engine.callback_url("long", "manual").await;
    let (status, run_id, _) = fire(&engine.client, &url, json!({})).await;
    assert_eq!(status, 202);
    let run_id = run_id.unwrap();
    let run = engine.wait_for_end("long", &run_id).await;
    assert_eq!(run["status"], "Succeeded", "{run}");
    let (status, repetitions) = engine
        .get(&format!(
            "/api/workflows/long/runs/{run_id}/actions/Next/repetitions"
        ))
        .await;
    assert_eq!(status, 200);
    let outputs: Vec<_> = repetitions["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outputs"].clone())
        .collect();
    let expected: Vec<_> = (1..=600).map(|n| json!(n)).collect();
    assert_eq!(outputs, expected);
    let actions = engine.actions("long", &run_id).await;
    let after = actions.iter().find(|a| a["name"] == "After").unwrap();
    assert_eq!(after["outputs"], "done");
}

/// A run that goes on step after step in place still sees a cancel that arrives meanwhile:
/// each of its commits hands it every event due, not only its own `Continue`.
#[tokio::test]
async fn a_cancel_stops_a_run_between_its_steps() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    // 100 x 5,000 iterations: far more than the test will wait for.
    let document = request_workflow(json!({
        "Outer": {
            "type": "Foreach", "foreach": "@range(0, 100)",
            "runtimeConfiguration": { "concurrency": { "repetitions": 1 } },
            "actions": {
                "Spin": {
                    "type": "Until", "expression": "@equals(1, 2)",
                    "limit": { "count": 5000, "timeout": "PT1H" },
                    "actions": { "Tick": { "type": "Compose", "inputs": 1, "runAfter": {} } },
                    "runAfter": {}
                }
            },
            "runAfter": {}
        }
    }));
    assert_eq!(engine.put_workflow("spin", &document).await.0, 201);
    let url = engine.callback_url("spin", "manual").await;
    let (status, run_id, _) = fire(&engine.client, &url, json!({})).await;
    assert_eq!(status, 202);
    let run_id = run_id.unwrap();
    // Well past the first steps' budgets: the run is going on in place.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let actions = engine.actions("spin", &run_id).await;
        let ticks = actions
            .iter()
            .find(|a| a["name"] == "Tick")
            .and_then(|a| a["repetitionCount"].as_u64());
        if ticks.is_some_and(|n| n >= 1_000) {
            break;
        }
        assert!(Instant::now() < deadline, "the loop did not get going");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (status, body) = engine
        .post(
            &format!("/api/workflows/spin/runs/{run_id}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let run = engine.wait_for_end("spin", &run_id).await;
    assert_eq!(run["status"], "Cancelled", "{run}");
}

#[tokio::test]
async fn if_switch_until_and_terminate() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let document = request_workflow(json!({
        "Init": { "type": "InitializeVariable", "inputs": { "variables": [ { "name": "n", "type": "integer", "value": 0 } ] }, "runAfter": {} },
        "Count_up": {
            "type": "Until", "expression": "@greaterOrEquals(variables('n'), 3)", "limit": { "count": 10 },
            "actions": { "Bump": { "type": "IncrementVariable", "inputs": { "name": "n" }, "runAfter": {} } },
            "runAfter": { "Init": ["Succeeded"] }
        },
        "Check": {
            "type": "If", "expression": "@equals(variables('n'), 3)",
            "actions": { "Yes": { "type": "Compose", "inputs": "three", "runAfter": {} } },
            "else": { "actions": { "No": { "type": "Compose", "inputs": "other", "runAfter": {} } } },
            "runAfter": { "Count_up": ["Succeeded"] }
        },
        "Route": {
            "type": "Switch", "expression": "@triggerBody()?['kind']",
            "cases": { "Stop": { "case": "stop", "actions": {
                "End": { "type": "Terminate", "inputs": { "runStatus": "Failed", "runError": { "code": "Stopped", "message": "asked to stop" } }, "runAfter": {} }
            } } },
            "default": { "actions": { "Go_on": { "type": "Compose", "inputs": "@variables('n')", "runAfter": {} } } },
            "runAfter": { "Check": ["Succeeded"] }
        }
    }));
    assert_eq!(engine.put_workflow("flow", &document).await.0, 201);
    let url = engine.callback_url("flow", "manual").await;

    let (_, run_id, _) = fire(&engine.client, &url, json!({ "kind": "go" })).await;
    let run_id = run_id.unwrap();
    let run = engine.wait_for_end("flow", &run_id).await;
    assert_eq!(run["status"], "Succeeded", "{run}");
    let actions = engine.actions("flow", &run_id).await;
    let by_name = |name: &str| actions.iter().find(|a| a["name"] == name).unwrap().clone();
    assert_eq!(by_name("Bump")["repetitionCount"], 3);
    assert_eq!(by_name("Yes")["status"], "Succeeded");
    assert_eq!(by_name("No")["status"], "Skipped");
    assert_eq!(by_name("Go_on")["outputs"], 3);

    let (_, run_id, _) = fire(&engine.client, &url, json!({ "kind": "stop" })).await;
    let run = engine.wait_for_end("flow", &run_id.unwrap()).await;
    assert_eq!(run["status"], "Failed", "{run}");
    assert_eq!(run["error"]["code"], "Stopped");
}

#[tokio::test]
async fn a_wait_fires_after_kill_9_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let document = request_workflow(json!({
        "Delay": { "type": "Wait", "inputs": { "interval": { "count": 1, "unit": "Second" } }, "runAfter": {} },
        "After": { "type": "Compose", "inputs": "woke", "runAfter": { "Delay": ["Succeeded"] } }
    }));
    assert_eq!(engine.put_workflow("sleepy", &document).await.0, 201);
    let url = engine.callback_url("sleepy", "manual").await;
    let (status, run_id, _) = fire(&engine.client, &url, json!({})).await;
    assert_eq!(status, 202);
    let run_id = run_id.unwrap();
    // The run is waiting on its timer (a row) when the engine dies.
    for _ in 0..100 {
        let actions = engine.actions("sleepy", &run_id).await;
        if actions.first().is_some_and(|a| a["status"] == "Running") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    engine.kill9();
    let engine = Engine::start_with(dir.path(), &[]);
    let run = engine.wait_for_end("sleepy", &run_id).await;
    assert_eq!(run["status"], "Succeeded", "{run}");
    let actions = engine.actions("sleepy", &run_id).await;
    assert_eq!(actions[1]["outputs"], "woke");
}
