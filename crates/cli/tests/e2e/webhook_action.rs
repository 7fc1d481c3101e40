//! The HttpWebhook action against a real local webhook service: a run waits durably (as rows)
//! until the service calls back, exactly one callback wins, a callback may even beat the
//! subscribe response, timeouts and cancellation unsubscribe, and a crash while waiting loses
//! nothing.

use crate::support::{Engine, Service, fire, request_workflow, status_json};
use serde_json::{Value, json};

/// Request → `Wait_for_approval` (HttpWebhook) → `Decide` (Compose of the callback's body).
fn approval_workflow(
    service: &str,
    subscribe_path: &str,
    timeout: Option<&str>,
    extra: Value,
) -> Value {
    let mut actions = json!({
        "Wait_for_approval": {
            "type": "HttpWebhook",
            "inputs": {
                "subscribe": {
                    "method": "POST",
                    "uri": format!("{service}{subscribe_path}"),
                    "body": { "callbackUrl": "@{listCallbackUrl()}", "document": "@triggerBody()?['document']" }
                },
                "unsubscribe": {
                    "method": "DELETE",
                    "uri": format!("{service}/hooks/subscriptions/@{{action().outputs.body.id}}")
                }
            },
            "runAfter": {}
        },
        "Decide": {
            "type": "Compose",
            "inputs": { "decision": "@body('Wait_for_approval')?['decision']", "by": "@outputs('Wait_for_approval')['headers']?['X-Approver']" },
            "runAfter": { "Wait_for_approval": ["Succeeded"] }
        }
    });
    if let Some(timeout) = timeout {
        actions["Wait_for_approval"]["limit"] = json!({ "timeout": timeout });
    }
    for (name, action) in extra.as_object().unwrap() {
        actions[name] = action.clone();
    }
    request_workflow(actions)
}

async fn post_callback(
    engine: &Engine,
    url: &str,
    body: Value,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let mut request = engine.client.post(url).json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    status_json(request.send().await.unwrap()).await
}

async fn action_status(engine: &Engine, workflow: &str, run_id: &str, action: &str) -> String {
    let (_, action) = engine
        .get(&format!(
            "/api/workflows/{workflow}/runs/{run_id}/actions/{action}"
        ))
        .await;
    action["status"].as_str().unwrap_or_default().to_owned()
}

/// Starts a run and returns its id and the callback URL the service was given.
async fn start_waiting_run(
    engine: &Engine,
    service: &Service,
    workflow: &str,
    subscribe_path: &str,
    count: usize,
) -> (String, String) {
    let url = engine.callback_url(workflow, "manual").await;
    let (status, run_id, _) = fire(&engine.client, &url, json!({ "document": "doc-1" })).await;
    assert_eq!(status, 202);
    let subscribed = service.wait_for(subscribe_path, count).await;
    let callback = subscribed[count - 1].body["callbackUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    (run_id.unwrap(), callback)
}

/// Waits until the action's subscribe call has returned and its answer is recorded.
async fn wait_for_subscribed(engine: &Engine, workflow: &str, run_id: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, action) = engine
            .get(&format!(
                "/api/workflows/{workflow}/runs/{run_id}/actions/Wait_for_approval"
            ))
            .await;
        if action["inputs"]["subscribeResponse"].is_object() {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{action}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_run_waits_for_the_callback_then_goes_on_and_unsubscribes() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let service = Service::start().await;
    engine
        .create_workflow(
            "approvals",
            &approval_workflow(&service.base, "/hooks/subscribe", None, json!({})),
        )
        .await;
    let (run_id, callback) =
        start_waiting_run(&engine, &service, "approvals", "/hooks/subscribe", 1).await;
    let subscribe = &service.received_on("/hooks/subscribe")[0];
    assert_eq!(subscribe.body["document"], "doc-1");
    assert_eq!(
        subscribe.headers["x-ms-workflow-operation-name"],
        "Wait_for_approval"
    );

    // Waiting: the action is Waiting and the run Running, with nothing in flight.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while action_status(&engine, "approvals", &run_id, "Wait_for_approval").await != "Waiting" {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        engine
            .get(&format!("/api/workflows/approvals/runs/{run_id}"))
            .await
            .1["status"],
        "Running"
    );

    // A bad signature changes nothing.
    assert_eq!(
        post_callback(&engine, &format!("{callback}x"), json!({}), &[])
            .await
            .0,
        401
    );

    let (status, _) = post_callback(
        &engine,
        &callback,
        json!({ "decision": "approve" }),
        &[("X-Approver", "ada"), ("Idempotency-Key", "d1")],
    )
    .await;
    assert_eq!(status, 200);
    let run = engine.wait_for_end("approvals", &run_id).await;
    assert_eq!(run["status"], "Succeeded", "{run}");
    let actions = engine.actions("approvals", &run_id).await;
    assert_eq!(
        actions[0]["outputs"]["body"],
        json!({ "decision": "approve" })
    );
    assert_eq!(actions[0]["inputs"]["subscribeResponse"]["statusCode"], 201);
    assert_eq!(
        actions[1]["outputs"],
        json!({ "decision": "approve", "by": "ada" })
    );

    // Unsubscribe, with the id the service returned and the tracking headers.
    let unsubscribed = service.wait_for("/hooks/subscriptions/1", 1).await;
    assert_eq!(unsubscribed[0].method, "DELETE");
    assert_eq!(
        unsubscribed[0].headers["x-ms-client-tracking-id"],
        run_id.as_str()
    );
    // Done, the owed unsubscribe leaves the ledger; its attempt stays in the history,
    // written in the same transaction.
    let histories = "/api/workflows/approvals/triggers/Wait_for_approval/histories";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let attempts = loop {
        let (status, body) = engine.get(histories).await;
        assert_eq!(status, 200, "{body}");
        let attempts = body["value"].as_array().cloned().unwrap_or_default();
        if !attempts.is_empty() || std::time::Instant::now() >= deadline {
            break attempts;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert_eq!(attempts[0]["status"], "Succeeded", "{attempts:?}");
    let (_, ledger) = engine.get("/api/workflows/approvals/subscriptions").await;
    assert_eq!(ledger["value"], json!([]), "{ledger}");

    // Later callbacks: a repeat of the winning delivery gets its answer again, others 409.
    assert_eq!(
        post_callback(
            &engine,
            &callback,
            json!({ "decision": "approve" }),
            &[("Idempotency-Key", "d1")]
        )
        .await
        .0,
        200
    );
    let (status, body) =
        post_callback(&engine, &callback, json!({ "decision": "reject" }), &[]).await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test]
async fn exactly_one_of_racing_callbacks_wins() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let service = Service::start().await;
    engine
        .create_workflow(
            "race",
            &approval_workflow(&service.base, "/hooks/subscribe", None, json!({})),
        )
        .await;
    let (run_id, callback) =
        start_waiting_run(&engine, &service, "race", "/hooks/subscribe", 1).await;
    let attempts = (0..16).map(|n| {
        let client = engine.client.clone();
        let callback = callback.clone();
        async move {
            client
                .post(&callback)
                .json(&json!({ "decision": n }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        15,
        "{statuses:?}"
    );
    let run = engine.wait_for_end("race", &run_id).await;
    assert_eq!(run["status"], "Succeeded");
}

#[tokio::test]
async fn a_callback_that_beats_the_subscribe_response_is_kept_until_subscribe_returns() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let service = Service::start().await;
    let document = approval_workflow(&service.base, "/gated/subscribe", None, json!({}));
    engine.create_workflow("early", &document).await;
    let (run_id, callback) =
        start_waiting_run(&engine, &service, "early", "/gated/subscribe", 1).await;
    // Subscribe is still in flight (held by the service) when the service calls back.
    assert_eq!(
        post_callback(&engine, &callback, json!({ "decision": "early" }), &[])
            .await
            .0,
        200
    );
    assert_eq!(
        action_status(&engine, "early", &run_id, "Wait_for_approval").await,
        "Waiting"
    );
    service.open_gate();
    let run = engine.wait_for_end("early", &run_id).await;
    assert_eq!(run["status"], "Succeeded");
    assert_eq!(
        engine.actions("early", &run_id).await[1]["outputs"]["decision"],
        "early"
    );
}

#[tokio::test]
async fn a_timeout_unsubscribes_and_runs_what_handles_it_even_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::start().await;
    let engine = Engine::start(&dir);
    let handled = approval_workflow(
        &service.base,
        "/hooks/subscribe",
        Some("PT1S"),
        json!({ "On_timeout": { "type": "Compose", "inputs": "@actions('Wait_for_approval')['code']", "runAfter": { "Wait_for_approval": ["TimedOut"] } } }),
    );
    let mut handled = handled;
    handled["definition"]["actions"]
        .as_object_mut()
        .unwrap()
        .remove("Decide");
    engine.create_workflow("patient", &handled).await;
    let (run_id, _) = start_waiting_run(&engine, &service, "patient", "/hooks/subscribe", 1).await;
    // The engine dies while the timer is pending (the subscribe call done, or the service
    // would see it again: calls in flight at a crash are repeated); it fires after the restart.
    wait_for_subscribed(&engine, "patient", &run_id).await;
    engine.kill9();
    let engine = Engine::start_with(dir.path(), &[]);
    let run = engine.wait_for_end("patient", &run_id).await;
    assert_eq!(run["status"], "Succeeded", "the timeout was handled: {run}");
    let actions = engine.actions("patient", &run_id).await;
    assert_eq!(actions[0]["status"], "TimedOut");
    assert_eq!(actions[0]["code"], "ActionTimedOut");
    assert_eq!(actions[1]["outputs"], "ActionTimedOut");
    service.wait_for("/hooks/subscriptions/1", 1).await;

    // Unhandled, a timeout fails the run and skips what needed success.
    let unhandled = approval_workflow(&service.base, "/hooks/subscribe", Some("PT0.2S"), json!({}));
    engine.create_workflow("impatient", &unhandled).await;
    let (run_id, callback) =
        start_waiting_run(&engine, &service, "impatient", "/hooks/subscribe", 2).await;
    let run = engine.wait_for_end("impatient", &run_id).await;
    assert_eq!(run["status"], "Failed");
    let actions = engine.actions("impatient", &run_id).await;
    assert_eq!(
        (actions[0]["status"].as_str(), actions[1]["status"].as_str()),
        (Some("TimedOut"), Some("Skipped"))
    );
    assert_eq!(
        post_callback(&engine, &callback, json!({}), &[]).await.0,
        409,
        "too late"
    );
}

#[tokio::test]
async fn cancelling_a_waiting_run_unsubscribes_and_refuses_its_callback() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let service = Service::start().await;
    engine
        .create_workflow(
            "cancel",
            &approval_workflow(&service.base, "/hooks/subscribe", None, json!({})),
        )
        .await;
    let (run_id, callback) =
        start_waiting_run(&engine, &service, "cancel", "/hooks/subscribe", 1).await;
    // Cancel once subscribe has returned, so there is a subscription to remove.
    wait_for_subscribed(&engine, "cancel", &run_id).await;
    assert_eq!(
        engine
            .post(
                &format!("/api/workflows/cancel/runs/{run_id}/cancel"),
                json!({})
            )
            .await
            .0,
        202
    );
    let run = engine.wait_for_end("cancel", &run_id).await;
    assert_eq!(run["status"], "Cancelled");
    assert_eq!(
        engine.actions("cancel", &run_id).await[0]["status"],
        "Cancelled"
    );
    service.wait_for("/hooks/subscriptions/1", 1).await;
    assert_eq!(
        post_callback(&engine, &callback, json!({}), &[]).await.0,
        409
    );
}

#[tokio::test]
async fn a_waiting_run_survives_kill_9_and_resumes_on_a_callback_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::start().await;
    let engine = Engine::start(&dir);
    engine
        .create_workflow(
            "durable",
            &approval_workflow(&service.base, "/hooks/subscribe", None, json!({})),
        )
        .await;
    const RUNS: usize = 12;
    let mut waiting = Vec::new();
    for n in 1..=RUNS {
        waiting.push(start_waiting_run(&engine, &service, "durable", "/hooks/subscribe", n).await);
    }
    for (run_id, _) in &waiting {
        wait_for_subscribed(&engine, "durable", run_id).await;
    }
    let (_, waits) = engine.get("/api/workflows/durable/waits").await;
    assert_eq!(waits["value"].as_array().unwrap().len(), RUNS, "{waits}");
    assert_eq!(waits["value"][0]["subscription"], "Subscribed");
    engine.kill9();
    let engine = Engine::start_with(dir.path(), &[]);
    for (n, (run_id, callback)) in waiting.iter().enumerate() {
        let (status, body) = post_callback(
            &engine,
            &engine.rebase(callback),
            json!({ "decision": n }),
            &[],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let run = engine.wait_for_end("durable", run_id).await;
        assert_eq!(run["status"], "Succeeded");
        assert_eq!(
            engine.actions("durable", run_id).await[1]["outputs"]["decision"],
            json!(n)
        );
    }
    // Nothing resumed twice: one subscribe and one unsubscribe per run, no wait left open.
    assert_eq!(service.received_on("/hooks/subscribe").len(), RUNS);
    let (_, waits) = engine.get("/api/waits").await;
    assert_eq!(waits["value"].as_array().unwrap().len(), 0, "{waits}");
    for n in 1..=RUNS {
        service
            .wait_for(&format!("/hooks/subscriptions/{n}"), 1)
            .await;
    }
}

#[tokio::test]
async fn deleting_the_workflow_cancels_a_waiting_run_and_a_failed_unsubscribe_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start_with(dir.path(), &["--unsubscribe-retry-base-ms", "20"]);
    let service = Service::start().await;
    let document = approval_workflow(&service.base, "/hooks/subscribe", None, json!({}));
    engine.create_workflow("gone", &document).await;
    let (run_id, callback) =
        start_waiting_run(&engine, &service, "gone", "/hooks/subscribe", 1).await;
    wait_for_subscribed(&engine, "gone", &run_id).await;
    let (_, waits) = engine.get("/api/waits").await;
    assert_eq!(waits["value"][0]["run"], run_id.as_str());
    assert_eq!(waits["value"][0]["action"], "Wait_for_approval");
    assert!(waits["value"][0]["deadline"].is_string());

    service.refuse_unsubscribes(1);
    let response = engine
        .client
        .delete(engine.url("/api/workflows/gone"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let run = engine.wait_for_end("gone", &run_id).await;
    assert_eq!(run["status"], "Cancelled");
    let attempts = service.wait_for("/hooks/subscriptions/1", 2).await;
    assert_eq!(attempts.len(), 2, "refused once, then accepted");
    assert_eq!(
        post_callback(&engine, &callback, json!({}), &[]).await.0,
        404,
        "the workflow is gone"
    );
}

#[tokio::test]
async fn a_failing_subscribe_fails_the_action_and_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let service = Service::start().await;
    let mut document = approval_workflow(&service.base, "/status/400", None, json!({}));
    document["definition"]["actions"]["Wait_for_approval"]["inputs"]["subscribe"]["retryPolicy"] =
        json!({ "type": "none" });
    engine.create_workflow("refused", &document).await;
    let url = engine.callback_url("refused", "manual").await;
    let (_, run_id, _) = fire(&engine.client, &url, json!({})).await;
    let run = engine.wait_for_end("refused", &run_id.unwrap()).await;
    assert_eq!(run["status"], "Failed");
    let actions = engine
        .actions("refused", run["name"].as_str().unwrap())
        .await;
    assert_eq!(actions[0]["status"], "Failed");
    assert_eq!(actions[0]["code"], "BadRequest");
}
