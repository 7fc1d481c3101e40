//! Managing workflows: versions, a run pinned to the version it started with, every kind of
//! invalid definition rejected with its path and nothing saved, and the callback URL's
//! protections (401/404/405/413).

use crate::support::{Engine, Service, fire, request_workflow};
use serde_json::{Value, json};

#[tokio::test]
async fn each_save_is_a_version_and_a_run_keeps_the_version_it_started_with() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let service = Service::start().await;
    let version = |label: &str| {
        request_workflow(json!({
            "Wait_for_service": { "type": "Http", "inputs": { "method": "GET", "uri": format!("{}/gated/{label}", service.base) }, "runAfter": {} },
            "Label": { "type": "Compose", "inputs": label, "runAfter": { "Wait_for_service": ["Succeeded"] } }
        }))
    };
    let (status, v1) = engine.put_workflow("pinned", &version("first")).await;
    assert_eq!(status, 201, "{v1}");
    let url = engine.callback_url("pinned", "manual").await;
    let (_, run_id, _) = fire(&engine.client, &url, json!({})).await;
    let run_id = run_id.unwrap();
    service.wait_for_requests(1).await;

    let (status, v2) = engine.put_workflow("pinned", &version("second")).await;
    assert_eq!(status, 200, "an update answers 200: {v2}");
    assert_ne!(v1["version"], v2["version"]);
    service.open_gate();

    let run = engine.wait_for_end("pinned", &run_id).await;
    assert_eq!(run["status"], "Succeeded");
    assert_eq!(run["version"], v1["version"], "the run kept its version");
    assert_eq!(
        engine.actions("pinned", &run_id).await[1]["outputs"],
        "first"
    );

    let (_, second_run, _) = fire(&engine.client, &url, json!({})).await;
    let second_run = second_run.unwrap();
    let run = engine.wait_for_end("pinned", &second_run).await;
    assert_eq!(run["version"], v2["version"]);
    assert_eq!(
        engine.actions("pinned", &second_run).await[1]["outputs"],
        "second"
    );

    let (status, versions) = engine.get("/api/workflows/pinned/versions").await;
    assert_eq!(status, 200);
    let listed: Vec<&Value> = versions["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["version"])
        .collect();
    assert_eq!(listed, [&v2["version"], &v1["version"]], "newest first");
    let (_, current) = engine.get("/api/workflows/pinned").await;
    assert_eq!(current["version"], v2["version"]);
}

#[tokio::test]
async fn invalid_definitions_are_rejected_with_every_problem_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let good = request_workflow(json!({ "A": { "type": "Compose", "inputs": 1, "runAfter": {} } }));
    let (_, saved) = engine.put_workflow("guarded", &good).await;

    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "unknown action type",
            request_workflow(json!({ "A": { "type": "Teleport", "runAfter": {} } })),
            "definition.actions.A.type",
        ),
        (
            "runAfter to a missing action",
            request_workflow(
                json!({ "A": { "type": "Compose", "inputs": 1, "runAfter": { "Missing": ["Succeeded"] } } }),
            ),
            "definition.actions.A.runAfter.Missing",
        ),
        (
            "a cycle",
            request_workflow(json!({
                "A": { "type": "Compose", "inputs": 1, "runAfter": { "B": ["Succeeded"] } },
                "B": { "type": "Compose", "inputs": 1, "runAfter": { "A": ["Succeeded"] } }
            })),
            "definition.actions.A.runAfter",
        ),
        (
            "malformed expression",
            request_workflow(
                json!({ "A": { "type": "Compose", "inputs": "@concat('a',", "runAfter": {} } }),
            ),
            "definition.actions.A.inputs",
        ),
        (
            "unknown function",
            request_workflow(
                json!({ "A": { "type": "Compose", "inputs": "@frobnicate(1)", "runAfter": {} } }),
            ),
            "definition.actions.A.inputs",
        ),
        (
            "wrong parameter type",
            json!({
                "definition": {
                    "parameters": { "limit": { "type": "int", "defaultValue": 1 } },
                    "triggers": { "manual": { "type": "Request", "kind": "Http" } },
                    "actions": {}
                },
                "parameters": { "limit": { "value": "ten" } }
            }),
            "parameters.limit",
        ),
    ];
    for (what, document, path) in cases {
        let (status, body) = engine.put_workflow("guarded", &document).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert_eq!(body["error"]["code"], "InvalidDefinition", "{what}: {body}");
        let details = body["error"]["details"].as_array().unwrap();
        assert!(
            details
                .iter()
                .any(|d| d["path"].as_str().unwrap().starts_with(path)),
            "{what}: expected a problem at {path}, got {body}"
        );
    }

    // Several problems in one definition are all reported.
    let many = request_workflow(json!({
        "A": { "type": "Teleport", "runAfter": {} },
        "B": { "type": "Compose", "inputs": "@nope()", "runAfter": { "Ghost": ["Succeeded"] } }
    }));
    let (status, body) = engine.put_workflow("guarded", &many).await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["details"].as_array().unwrap().len() >= 3,
        "{body}"
    );

    // Not JSON at all.
    let response = engine
        .client
        .put(engine.url("/api/workflows/guarded"))
        .header("content-type", "application/json")
        .body("{ nope")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    let (_, current) = engine.get("/api/workflows/guarded").await;
    assert_eq!(current["version"], saved["version"], "nothing was saved");
    let (_, versions) = engine.get("/api/workflows/guarded/versions").await;
    assert_eq!(versions["value"].as_array().unwrap().len(), 1);
    let (status, _) = engine.get("/api/workflows/never-saved").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn callback_urls_are_signed_and_guarded() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start_with(dir.path(), &["--max-body-bytes", "4096"]);
    let document =
        request_workflow(json!({ "A": { "type": "Compose", "inputs": 1, "runAfter": {} } }));
    assert_eq!(engine.put_workflow("guarded", &document).await.0, 201);
    let url = engine.callback_url("guarded", "manual").await;
    let runs = |engine: &Engine| {
        let client = engine.client.clone();
        let url = engine.url("/api/workflows/guarded/runs");
        async move {
            client
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()["value"]
                .as_array()
                .unwrap()
                .len()
        }
    };

    let tampered = format!("{}x", url);
    assert_eq!(fire(&engine.client, &tampered, json!({})).await.0, 401);
    let unsigned = url.split("&sig=").next().unwrap().to_owned();
    assert_eq!(fire(&engine.client, &unsigned, json!({})).await.0, 401);
    let other_trigger = url.replace("/triggers/manual/", "/triggers/other/");
    assert_eq!(
        fire(&engine.client, &other_trigger, json!({})).await.0,
        401,
        "the signature grants one trigger"
    );
    assert_eq!(engine.client.get(&url).send().await.unwrap().status(), 405);
    let big = "x".repeat(10_000);
    assert_eq!(
        fire(&engine.client, &url, json!({ "big": big })).await.0,
        413
    );
    assert_eq!(runs(&engine).await, 0, "none of them started a run");

    let secondary = engine
        .post(
            "/api/workflows/guarded/triggers/manual/listCallbackUrl",
            json!({ "keyType": "Secondary" }),
        )
        .await
        .1;
    let secondary = secondary["value"].as_str().unwrap().to_owned();
    assert_ne!(secondary, url);
    assert_eq!(fire(&engine.client, &secondary, json!({})).await.0, 202);

    assert_eq!(
        engine
            .post("/api/workflows/guarded/disable", json!({}))
            .await
            .0,
        200
    );
    assert_eq!(fire(&engine.client, &url, json!({})).await.0, 404);
    assert_eq!(
        engine
            .post("/api/workflows/guarded/enable", json!({}))
            .await
            .0,
        200
    );
    assert_eq!(fire(&engine.client, &url, json!({})).await.0, 202);
    let response = engine
        .client
        .delete(engine.url("/api/workflows/guarded"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(fire(&engine.client, &url, json!({})).await.0, 404);
    assert_eq!(runs(&engine).await, 2, "run history outlives the workflow");
}
