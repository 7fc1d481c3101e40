//! Running workflows: Request → Http → Response synchronously, 202 asynchronously, failures,
//! cancellation, and the history each leaves.

use crate::support::{Engine, Service, fire, request_workflow};
use serde_json::json;

#[tokio::test]
async fn request_http_response_answers_the_caller_and_records_every_action() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let service = Service::start().await;
    let document = request_workflow(json!({
        "Call_service": {
            "type": "Http",
            "inputs": {
                "method": "POST",
                "uri": format!("{}/echo/orders", service.base),
                "queries": { "source": "hook flow" },
                "headers": { "X-Order": "@{triggerBody()?['id']}" },
                "body": { "id": "@triggerBody()?['id']", "note": "@{toUpper('rush')}" }
            },
            "runAfter": {}
        },
        "Reply": {
            "type": "Response",
            "kind": "Http",
            "inputs": {
                "statusCode": 201,
                "headers": { "X-Handled-By": "hookflow" },
                "body": { "echoed": "@body('Call_service')?['got']", "status": "@outputs('Call_service')['statusCode']" }
            },
            "runAfter": { "Call_service": ["Succeeded"] }
        }
    }));
    let (status, body) = engine.put_workflow("orders", &document).await;
    assert_eq!(status, 201, "{body}");
    let url = engine.callback_url("orders", "manual").await;

    let (status, run_id, body) = fire(&engine.client, &url, json!({ "id": 42 })).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body,
        json!({ "echoed": { "id": 42, "note": "RUSH" }, "status": 200 })
    );
    let run_id = run_id.expect("run id header");

    let received = service.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].method, "POST");
    assert_eq!(received[0].path, "/echo/orders");
    assert_eq!(received[0].body, json!({ "id": 42, "note": "RUSH" }));
    assert_eq!(received[0].headers["x-order"], "42");
    assert!(
        received[0].headers.contains_key("idempotency-key"),
        "outbound calls carry a stable id"
    );

    let run = engine.wait_for_end("orders", &run_id).await;
    assert_eq!(run["status"], "Succeeded", "{run}");
    assert_eq!(run["trigger"]["outputs"]["body"], json!({ "id": 42 }));
    let actions = engine.actions("orders", &run_id).await;
    let names: Vec<_> = actions
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Call_service", "Reply"]);
    let call = &actions[0];
    assert_eq!(call["status"], "Succeeded");
    assert_eq!(call["code"], "OK");
    assert_eq!(
        call["inputs"]["uri"],
        format!("{}/echo/orders?source=hook%20flow", service.base)
    );
    assert_eq!(call["outputs"]["statusCode"], 200);
    assert!(call["startTime"].is_string() && call["endTime"].is_string());
    let (status, one) = engine
        .get(&format!(
            "/api/workflows/orders/runs/{run_id}/actions/Reply"
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(one["inputs"]["statusCode"], 201);
}

#[tokio::test]
async fn without_a_response_the_caller_gets_202_and_the_run_completes() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let document = request_workflow(json!({
        "Shape": { "type": "Compose", "inputs": { "name": "@{triggerBody()?['first']} @{triggerBody()?['last']}" }, "runAfter": {} },
        "Length": { "type": "compose", "inputs": "@length(outputs('Shape')['name'])", "runAfter": { "Shape": ["SUCCEEDED"] } }
    }));
    assert_eq!(engine.put_workflow("people", &document).await.0, 201);
    let url = engine.callback_url("people", "manual").await;
    let (status, run_id, _) = fire(
        &engine.client,
        &url,
        json!({ "first": "Ada", "last": "Lovelace" }),
    )
    .await;
    assert_eq!(status, 202);
    let run_id = run_id.expect("202 carries the run id");
    let run = engine.wait_for_end("people", &run_id).await;
    assert_eq!(run["status"], "Succeeded", "{run}");
    let actions = engine.actions("people", &run_id).await;
    assert_eq!(actions[0]["outputs"], json!({ "name": "Ada Lovelace" }));
    assert_eq!(actions[1]["outputs"], json!(12));
}

#[tokio::test]
async fn a_failing_call_fails_the_run_and_skips_what_depended_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let service = Service::start().await;
    let document = request_workflow(json!({
        "Call": { "type": "Http", "inputs": { "method": "GET", "uri": format!("{}/status/404", service.base) }, "runAfter": {} },
        "After_success": { "type": "Compose", "inputs": "never", "runAfter": { "Call": ["Succeeded"] } },
        "Reply": { "type": "Response", "inputs": { "statusCode": 200, "body": "ok" }, "runAfter": { "After_success": ["Succeeded"] } }
    }));
    assert_eq!(engine.put_workflow("failing", &document).await.0, 201);
    let url = engine.callback_url("failing", "manual").await;
    let (status, run_id, body) = fire(&engine.client, &url, json!({})).await;
    assert_eq!(
        status, 502,
        "a run that ends without its Response answers 502: {body}"
    );
    assert_eq!(body["error"]["code"], "NoResponse");
    let run = engine.wait_for_end("failing", &run_id.unwrap()).await;
    assert_eq!(run["status"], "Failed");
    assert_eq!(run["error"]["code"], "ActionFailed");
    let actions = engine
        .actions("failing", run["name"].as_str().unwrap())
        .await;
    let statuses: Vec<_> = actions
        .iter()
        .map(|a| (a["name"].as_str().unwrap(), a["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("Call", "Failed"),
            ("After_success", "Skipped"),
            ("Reply", "Skipped")
        ]
    );
    assert_eq!(actions[0]["code"], "NotFound");
    assert_eq!(actions[1]["error"]["code"], "ActionConditionFailed");
}

#[tokio::test]
async fn cancelling_a_run_stops_it_while_a_call_is_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let service = Service::start().await;
    let document = request_workflow(json!({
        "Slow": { "type": "Http", "inputs": { "method": "GET", "uri": format!("{}/gated/slow", service.base) }, "runAfter": {} },
        "Next": { "type": "Compose", "inputs": 1, "runAfter": { "Slow": ["Succeeded"] } }
    }));
    assert_eq!(engine.put_workflow("cancel-me", &document).await.0, 201);
    let url = engine.callback_url("cancel-me", "manual").await;
    let (_, run_id, _) = fire(&engine.client, &url, json!({})).await;
    let run_id = run_id.unwrap();
    service.wait_for_requests(1).await;
    let (status, _) = engine
        .post(
            &format!("/api/workflows/cancel-me/runs/{run_id}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(status, 202);
    let run = engine.wait_for_end("cancel-me", &run_id).await;
    assert_eq!(run["status"], "Cancelled");
    service.open_gate();
    let actions = engine.actions("cancel-me", &run_id).await;
    assert_eq!(
        actions.len(),
        1,
        "nothing ran after the cancel: {actions:?}"
    );
    assert_eq!(actions[0]["status"], "Cancelled");
    let (status, body) = engine
        .post(
            &format!("/api/workflows/cancel-me/runs/{run_id}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test]
async fn run_history_lists_newest_first_filters_by_status_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let document = request_workflow(json!({
        "Check": { "type": "Compose", "inputs": "@div(10, triggerBody()['d'])", "runAfter": {} }
    }));
    assert_eq!(engine.put_workflow("history", &document).await.0, 201);
    let url = engine.callback_url("history", "manual").await;
    let mut ids = Vec::new();
    for d in [1, 0, 2] {
        let (_, run_id, _) = fire(&engine.client, &url, json!({ "d": d })).await;
        let run_id = run_id.unwrap();
        engine.wait_for_end("history", &run_id).await;
        ids.push(run_id);
    }
    let (_, all) = engine.get("/api/workflows/history/runs").await;
    let listed: Vec<_> = all["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, [ids[2].clone(), ids[1].clone(), ids[0].clone()]);
    let (_, failed) = engine
        .get("/api/workflows/history/runs?status=Failed")
        .await;
    assert_eq!(failed["value"].as_array().unwrap().len(), 1);
    assert_eq!(failed["value"][0]["name"], ids[1].as_str());
    let failed_action = &engine.actions("history", &ids[1]).await[0];
    assert_eq!(failed_action["code"], "InvalidTemplate");
    assert!(
        failed_action["error"]["message"]
            .as_str()
            .unwrap()
            .contains("div"),
        "{failed_action}"
    );
    let (_, page) = engine.get("/api/workflows/history/runs?top=2").await;
    assert_eq!(page["value"].as_array().unwrap().len(), 2);
    let next = page["nextLink"]
        .as_str()
        .expect("a full page links to the next");
    let (_, rest) = engine.get(next).await;
    assert_eq!(rest["value"].as_array().unwrap().len(), 1);
    assert_eq!(rest["value"][0]["name"], ids[0].as_str());
}
