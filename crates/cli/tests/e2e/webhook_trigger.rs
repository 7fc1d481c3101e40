//! The HttpWebhook trigger against a real local webhook service: subscribe on create and
//! enable, runs started by callbacks, no re-subscribe on a no-op save, unsubscribe (with the
//! id the service returned) on change, disable, delete and trigger removal, subscribe
//! failures that change nothing, the callback URL's guards, key regeneration, idempotent
//! redelivery, conditions and splitOn, a crash between subscribe and its commit, and a
//! failing unsubscribe retried until the service accepts it.

use crate::support::{Engine, Service, request_workflow, webhook_workflow};
use serde_json::{Value, json};

fn compose_body() -> Value {
    json!({
        "Read": {
            "type": "Compose",
            "inputs": { "order": "@triggerBody()?['order']", "via": "@triggerOutputs()['headers']?['X-Source']" },
            "runAfter": {}
        }
    })
}

async fn subscriptions(engine: &Engine, workflow: &str) -> Vec<Value> {
    let (status, body) = engine
        .get(&format!("/api/workflows/{workflow}/subscriptions"))
        .await;
    assert_eq!(status, 200, "{body}");
    body["value"].as_array().unwrap().clone()
}

/// Waits until the workflow's ledger shows `states` (in order of creation).
async fn wait_for_states(engine: &Engine, workflow: &str, states: &[&str]) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let subs = subscriptions(engine, workflow).await;
        let now: Vec<_> = subs
            .iter()
            .map(|s| s["state"].as_str().unwrap().to_owned())
            .collect();
        if now == states {
            return subs;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "ledger of {workflow}: {now:?}, want {states:?}: {subs:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn post_to(
    engine: &Engine,
    url: &str,
    body: Value,
    headers: &[(&str, &str)],
) -> (u16, Option<String>) {
    let mut request = engine.client.post(url).json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let run_id = response
        .headers()
        .get("x-ms-workflow-run-id")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), run_id)
}

#[tokio::test]
async fn subscribes_fires_runs_and_unsubscribes_through_the_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let service = Service::start().await;

    // Saved enabled: subscribe, with the callback URL in the body.
    let (status, body) = engine
        .put_workflow(
            "orders",
            &webhook_workflow(&service.base, "created", compose_body()),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let subscribed = service.wait_for("/hooks/subscribe", 1).await;
    let callback = subscribed[0].body["callbackUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(subscribed[0].body["topic"], "created");
    assert!(
        subscribed[0]
            .headers
            .contains_key("x-ms-client-tracking-id")
    );
    let subs = wait_for_states(&engine, "orders", &["Active"]).await;
    assert_eq!(subs[0]["subscribeResponse"]["body"]["id"], "1");
    assert!(
        subs[0].get("callbackUrl").is_none(),
        "the signed URL is not shown"
    );

    // Each POST to the callback URL starts a run that reads the body and headers.
    let (status, run_id) = post_to(
        &engine,
        &callback,
        json!({ "order": 7 }),
        &[("X-Source", "shop")],
    )
    .await;
    assert_eq!(status, 202);
    let run_id = run_id.unwrap();
    assert_eq!(
        engine.wait_for_end("orders", &run_id).await["status"],
        "Succeeded"
    );
    assert_eq!(
        engine.actions("orders", &run_id).await[0]["outputs"],
        json!({ "order": 7, "via": "shop" })
    );

    // A save that changes nothing the trigger depends on makes no new subscribe call.
    let mut same = webhook_workflow(&service.base, "created", compose_body());
    same["definition"]["actions"]["Read"]["inputs"]["extra"] = json!(true);
    assert_eq!(engine.put_workflow("orders", &same).await.0, 200);
    assert_eq!(
        service.received_on("/hooks/subscribe").len(),
        1,
        "no duplicate registration"
    );
    assert_eq!(subscriptions(&engine, "orders").await.len(), 1);
    assert_eq!(
        post_to(&engine, &callback, json!({}), &[]).await.0,
        202,
        "the URL still works"
    );

    // A changed trigger: the old subscription is removed (by the id it got), a new one made.
    assert_eq!(
        engine
            .put_workflow(
                "orders",
                &webhook_workflow(&service.base, "updated", compose_body())
            )
            .await
            .0,
        200
    );
    let subscribed = service.wait_for("/hooks/subscribe", 2).await;
    assert_eq!(subscribed[1].body["topic"], "updated");
    let removed = service.wait_for("/hooks/subscriptions/1", 1).await;
    assert_eq!(removed[0].method, "DELETE");
    assert_eq!(removed[0].headers["x-ms-workflow-operation-name"], "events");
    assert!(removed[0].headers.contains_key("x-ms-client-tracking-id"));
    wait_for_states(&engine, "orders", &["Removed", "Active"]).await;

    // Disable unsubscribes; the callback URL answers 404; enable subscribes again.
    assert_eq!(
        engine
            .post("/api/workflows/orders/disable", json!({}))
            .await
            .0,
        200
    );
    service.wait_for("/hooks/subscriptions/2", 1).await;
    assert_eq!(post_to(&engine, &callback, json!({}), &[]).await.0, 404);
    assert_eq!(
        engine
            .post("/api/workflows/orders/enable", json!({}))
            .await
            .0,
        200
    );
    service.wait_for("/hooks/subscribe", 3).await;
    wait_for_states(&engine, "orders", &["Removed", "Removed", "Active"]).await;

    // Saving without the trigger unsubscribes.
    let without =
        request_workflow(json!({ "A": { "type": "Compose", "inputs": 1, "runAfter": {} } }));
    assert_eq!(engine.put_workflow("orders", &without).await.0, 200);
    service.wait_for("/hooks/subscriptions/3", 1).await;
    wait_for_states(&engine, "orders", &["Removed", "Removed", "Removed"]).await;

    // Deleting unsubscribes.
    assert_eq!(
        engine
            .put_workflow(
                "orders",
                &webhook_workflow(&service.base, "again", compose_body())
            )
            .await
            .0,
        200
    );
    service.wait_for("/hooks/subscribe", 4).await;
    let response = engine
        .client
        .delete(engine.url("/api/workflows/orders"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    service.wait_for("/hooks/subscriptions/4", 1).await;
    let (_, all) = engine.get("/api/subscriptions").await;
    assert!(
        all["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["state"] != "Active"),
        "{all}"
    );

    // The trigger's history shows the fires and every subscribe/unsubscribe attempt.
    let (status, history) = engine
        .get("/api/workflows/orders/triggers/events/histories")
        .await;
    assert_eq!(status, 200);
    let kinds: Vec<_> = history["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "Subscribe").count(),
        4,
        "{history}"
    );
    assert!(kinds.iter().filter(|k| **k == "Fire").count() >= 2);
}

#[tokio::test]
async fn a_failing_subscribe_fails_the_save_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let service = Service::start().await;
    let mut failing = webhook_workflow(&service.base, "t", compose_body());
    failing["definition"]["triggers"]["events"]["inputs"]["subscribe"]["uri"] =
        json!(format!("{}/status/503", service.base));

    let (status, body) = engine.put_workflow("fragile", &failing).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "WebhookSubscribeFailed");
    assert!(
        body["error"]["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("503"),
        "the service's status is shown: {body}"
    );
    assert_eq!(
        engine.get("/api/workflows/fragile").await.0,
        404,
        "nothing was saved"
    );

    // An existing workflow stays as it was.
    let (_, saved) = engine
        .put_workflow("fragile", &request_workflow(json!({})))
        .await;
    assert_eq!(engine.put_workflow("fragile", &failing).await.0, 502);
    let (_, current) = engine.get("/api/workflows/fragile").await;
    assert_eq!(current["version"], saved["version"]);
    let ledger = subscriptions(&engine, "fragile").await;
    assert!(ledger.iter().all(|s| s["state"] == "Failed"), "{ledger:?}");
}

#[tokio::test]
async fn callbacks_are_guarded_keys_regenerate_and_redeliveries_start_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start_with(dir.path(), &["--max-body-bytes", "4096"]);
    let service = Service::start().await;
    assert_eq!(
        engine
            .put_workflow(
                "guarded",
                &webhook_workflow(&service.base, "t", compose_body())
            )
            .await
            .0,
        201
    );
    let callback = service.wait_for("/hooks/subscribe", 1).await[0].body["callbackUrl"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_eq!(
        post_to(&engine, &format!("{callback}x"), json!({}), &[])
            .await
            .0,
        401
    );
    assert_eq!(
        post_to(
            &engine,
            callback.split("&sig=").next().unwrap(),
            json!({}),
            &[]
        )
        .await
        .0,
        401
    );
    assert_eq!(
        engine
            .client
            .put(&callback)
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .status(),
        405
    );
    assert_eq!(
        post_to(
            &engine,
            &callback,
            json!({ "big": "x".repeat(10_000) }),
            &[]
        )
        .await
        .0,
        413
    );

    // Redelivery with the same key gets the first answer and starts nothing new.
    let (status, first) = post_to(
        &engine,
        &callback,
        json!({ "order": 1 }),
        &[("Idempotency-Key", "abc")],
    )
    .await;
    assert_eq!(status, 202);
    let (status, again) = post_to(
        &engine,
        &callback,
        json!({ "order": 1 }),
        &[("Idempotency-Key", "abc")],
    )
    .await;
    assert_eq!((status, &again), (202, &first));
    let (_, by_webhook_id) =
        post_to(&engine, &callback, json!({}), &[("webhook-id", "msg_1")]).await;
    let (_, repeat) = post_to(&engine, &callback, json!({}), &[("webhook-id", "msg_1")]).await;
    assert_eq!(by_webhook_id, repeat);
    assert_ne!(by_webhook_id, first);
    let (_, runs) = engine.get("/api/workflows/guarded/runs").await;
    assert_eq!(
        runs["value"].as_array().unwrap().len(),
        2,
        "two deliveries, two runs: {runs}"
    );

    // Regenerating the primary key invalidates the old URL and subscribes the new one.
    let (status, body) = engine
        .post(
            "/api/workflows/guarded/regenerateAccessKey",
            json!({ "keyType": "Primary" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let resubscribed = service.wait_for("/hooks/subscribe", 2).await;
    let new_callback = resubscribed[1].body["callbackUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_callback, callback);
    service.wait_for("/hooks/subscriptions/1", 1).await;
    assert_eq!(post_to(&engine, &callback, json!({}), &[]).await.0, 401);
    assert_eq!(post_to(&engine, &new_callback, json!({}), &[]).await.0, 202);
}

#[tokio::test]
async fn conditions_skip_fires_and_split_on_makes_one_run_per_item() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let service = Service::start().await;
    let mut document = webhook_workflow(
        &service.base,
        "t",
        json!({
            "Item": { "type": "Compose", "inputs": "@triggerBody()?['id']", "runAfter": {} }
        }),
    );
    let trigger = &mut document["definition"]["triggers"]["events"];
    trigger["conditions"] = json!([{ "expression": "@equals(triggerBody()?['kind'], 'order')" }]);
    assert_eq!(engine.put_workflow("split", &document).await.0, 201);
    let callback = service.wait_for("/hooks/subscribe", 1).await[0].body["callbackUrl"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, run_id) = post_to(&engine, &callback, json!({ "kind": "refund" }), &[]).await;
    assert_eq!(
        (status, run_id),
        (202, None),
        "a false condition creates no run"
    );
    let (_, history) = engine
        .get("/api/workflows/split/triggers/events/histories")
        .await;
    assert_eq!(history["value"][0]["status"], "Skipped");
    assert_eq!(
        engine.get("/api/workflows/split/runs").await.1["value"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    document["definition"]["triggers"]["events"]["splitOn"] = json!("@triggerBody()?['items']");
    document["definition"]["triggers"]["events"]["conditions"] = json!([]);
    assert_eq!(engine.put_workflow("split", &document).await.0, 200);
    assert_eq!(
        service.received_on("/hooks/subscribe").len(),
        1,
        "conditions and splitOn are not subscribe inputs"
    );
    let (status, _) = post_to(
        &engine,
        &callback,
        json!({ "items": [{ "id": 1 }, { "id": 2 }, { "id": 3 }] }),
        &[],
    )
    .await;
    assert_eq!(status, 202);
    let (_, history) = engine
        .get("/api/workflows/split/triggers/events/histories")
        .await;
    let run_ids: Vec<String> = history["value"][0]["detail"]["runIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(run_ids.len(), 3);
    let mut outputs = Vec::new();
    for run_id in &run_ids {
        assert_eq!(
            engine.wait_for_end("split", run_id).await["status"],
            "Succeeded"
        );
        outputs.push(engine.actions("split", run_id).await[0]["outputs"].clone());
    }
    outputs.sort_by_key(|v| v.as_i64());
    assert_eq!(outputs, [json!(1), json!(2), json!(3)]);
}

#[tokio::test]
async fn a_crash_between_subscribe_and_its_commit_is_undone_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::start().await;
    let engine = Engine::start(&dir);
    let mut document = webhook_workflow(&service.base, "t", compose_body());
    // The service holds the subscribe call open: the engine dies while it is in flight. The
    // unsubscribe names the subscriber by its callback URL: no subscribe response was kept.
    document["definition"]["triggers"]["events"]["inputs"]["subscribe"]["uri"] =
        json!(format!("{}/gated/subscribe", service.base));
    document["definition"]["triggers"]["events"]["inputs"]["unsubscribe"] = json!({
        "method": "POST",
        "uri": format!("{}/hooks/unsubscribe", service.base),
        "body": { "callbackUrl": "@{listCallbackUrl()}" }
    });
    let client = engine.client.clone();
    let url = engine.url("/api/workflows/crashy");
    let save = tokio::spawn(async move { client.put(url).json(&document).send().await });
    let subscribe = service.wait_for("/gated/subscribe", 1).await;
    engine.kill9();
    assert!(
        save.await.unwrap().is_err(),
        "the save was never acknowledged"
    );
    service.open_gate();

    let engine = Engine::start_with(dir.path(), &[]);
    let unsubscribed = service.wait_for("/hooks/unsubscribe", 1).await;
    assert_eq!(
        unsubscribed[0].body["callbackUrl"],
        subscribe[0].body["callbackUrl"]
    );
    assert_eq!(engine.get("/api/workflows/crashy").await.0, 404);
    // The ledger records the unsubscribe once the service has answered it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, all) = engine.get("/api/subscriptions").await;
        if all["value"][0]["state"] == "Removed" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{all}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_failing_unsubscribe_is_retried_until_the_service_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start_with(dir.path(), &["--unsubscribe-retry-base-ms", "20"]);
    let service = Service::start().await;
    assert_eq!(
        engine
            .put_workflow(
                "stubborn",
                &webhook_workflow(&service.base, "t", compose_body())
            )
            .await
            .0,
        201
    );
    service.wait_for("/hooks/subscribe", 1).await;
    service.refuse_unsubscribes(2);
    assert_eq!(
        engine
            .post("/api/workflows/stubborn/disable", json!({}))
            .await
            .0,
        200,
        "unsubscribe never blocks"
    );
    let attempts = service.wait_for("/hooks/subscriptions/1", 3).await;
    assert_eq!(attempts.len(), 3);
    let subs = wait_for_states(&engine, "stubborn", &["Removed"]).await;
    assert_eq!(subs[0]["attempts"], 3);
    let (_, history) = engine
        .get("/api/workflows/stubborn/triggers/events/histories")
        .await;
    let unsubscribes: Vec<_> = history["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["kind"] == "Unsubscribe")
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        unsubscribes,
        ["Succeeded", "Failed", "Failed"],
        "newest first"
    );
}

#[tokio::test]
async fn a_webhook_definition_from_the_conformance_corpus_subscribes_and_runs() {
    // The Logic Apps docs' PubSubHubbub example, unchanged but for its hub's host.
    let corpus = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/conformance/definitions/05-docs-pubsubhubbub-webhook-trigger.json"
    );
    let file: Value = serde_json::from_str(&std::fs::read_to_string(corpus).unwrap()).unwrap();
    let definition = file["definition"].clone();
    let text = definition.to_string();
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let service = Service::start().await;
    // Point the hub at the local service's echo endpoint.
    let local = text.replace(
        "https://pubsubhubbub.appspot.com/",
        &format!("{}/echo/", service.base),
    );
    let definition: Value = serde_json::from_str(&local).unwrap();
    let (status, body) = engine
        .put_workflow("hub", &json!({ "definition": definition }))
        .await;
    assert_eq!(status, 201, "{body}");
    let subscribe = service.wait_for("/echo/subscribe", 1).await;
    assert_eq!(subscribe[0].body["hub.mode"], "subscribe");
    let callback = subscribe[0].body["hub.callback"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        post_to(&engine, &callback, json!({ "article": 1 }), &[])
            .await
            .0,
        202
    );
    let response = engine
        .client
        .delete(engine.url("/api/workflows/hub"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let calls = service.wait_for("/echo/subscribe", 2).await;
    assert_eq!(calls[1].body["hub.mode"], "unsubscribe");
    assert!(
        calls[1].body["hub.callback"]
            .as_str()
            .unwrap()
            .ends_with(&callback),
        "{:?}",
        calls[1]
    );
}
