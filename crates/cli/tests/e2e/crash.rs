//! Nothing accepted is lost: `kill -9` with runs acknowledged but not started and with calls
//! in flight, then `hookflow serve` again on the same data directory, and every run finishes.

use crate::support::{Engine, Service, fire, request_workflow};
use serde_json::json;

#[tokio::test]
async fn kill_9_and_restart_finishes_every_acknowledged_run() {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::start().await;
    let engine = Engine::start(&dir);
    let document = request_workflow(json!({
        "Call": {
            "type": "Http",
            "inputs": { "method": "POST", "uri": format!("{}/gated/work", service.base), "body": "@triggerBody()" },
            "runAfter": {}
        },
        "Done": { "type": "Compose", "inputs": "@body('Call')?['got']?['n']", "runAfter": { "Call": ["Succeeded"] } }
    }));
    assert_eq!(engine.put_workflow("durable", &document).await.0, 201);
    let url = engine.callback_url("durable", "manual").await;

    const RUNS: usize = 8;
    let mut run_ids = Vec::new();
    for n in 0..RUNS {
        let (status, run_id, _) = fire(&engine.client, &url, json!({ "n": n })).await;
        assert_eq!(status, 202);
        run_ids.push(run_id.unwrap());
    }
    // Every run has its call in flight (held by the gate) when the engine dies.
    service.wait_for_requests(RUNS).await;
    engine.kill9();

    let engine = Engine::start_with(dir.path(), &[]);
    service.open_gate();
    for (n, run_id) in run_ids.iter().enumerate() {
        let run = engine.wait_for_end("durable", run_id).await;
        assert_eq!(run["status"], "Succeeded", "{run}");
        assert_eq!(
            engine.actions("durable", run_id).await[1]["outputs"],
            json!(n)
        );
    }
    // Calls in flight at the crash were made again (at least once), with the same key.
    let received = service.received();
    assert!(
        received.len() >= RUNS * 2,
        "in-flight calls are repeated after a crash"
    );
    let first_key = &received[0].headers["idempotency-key"];
    assert_eq!(
        received
            .iter()
            .filter(|r| r.headers["idempotency-key"] == first_key)
            .count(),
        2
    );
}

#[tokio::test]
async fn runs_acknowledged_just_before_a_crash_start_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let document = request_workflow(json!({
        "Double": { "type": "Compose", "inputs": "@mul(triggerBody()['n'], 2)", "runAfter": {} }
    }));
    assert_eq!(engine.put_workflow("acked", &document).await.0, 201);
    let url = engine.callback_url("acked", "manual").await;
    let client = engine.client.clone();
    // Fire many runs concurrently and kill the engine as soon as the last is acknowledged:
    // some have not started, some are mid-step.
    let fires = (0..32).map(|n| {
        let client = client.clone();
        let url = url.clone();
        async move { fire(&client, &url, json!({ "n": n })).await }
    });
    let results = futures_util::future::join_all(fires).await;
    engine.kill9();
    let engine = Engine::start_with(dir.path(), &[]);
    for (n, (status, run_id, _)) in results.into_iter().enumerate() {
        assert_eq!(status, 202);
        let run_id = run_id.unwrap();
        let run = engine.wait_for_end("acked", &run_id).await;
        assert_eq!(run["status"], "Succeeded");
        assert_eq!(
            engine.actions("acked", &run_id).await[0]["outputs"],
            json!(n * 2)
        );
    }
}
