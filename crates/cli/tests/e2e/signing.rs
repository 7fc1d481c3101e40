//! Standard Webhooks (a hookflow extension): outbound calls signed with `inputs.signing` (Http
//! actions, webhook subscribe and unsubscribe), checked here over the bytes the service
//! received; inbound callbacks checked against `callbackVerification` (Request and HttpWebhook
//! triggers, the HttpWebhook action), where a refused one starts or resumes nothing. The
//! secret comes from a securestring parameter and appears in no API response and no log.

use crate::support::{Engine, Received, Service, request_workflow, status_json, webhook_workflow};
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// The Standard Webhooks reference libraries' test secret.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// Its key, which must never be seen outside a signature.
const KEY: &str = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn signature(id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = base64::engine::general_purpose::STANDARD
        .decode(KEY)
        .unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(tag)
    )
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Checks a received request's signature over its raw body; returns its `webhook-id`.
fn assert_signed(received: &Received) -> String {
    let header = |name: &str| {
        received
            .headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} on {} {}", received.method, received.path))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let id = header("webhook-id");
    let timestamp: i64 = header("webhook-timestamp").parse().unwrap();
    assert!(
        (now() - timestamp).abs() < 600,
        "timestamp {timestamp} is the attempt's time"
    );
    assert_eq!(
        header("webhook-signature"),
        signature(&id, timestamp, &received.raw),
        "signature of {} {}",
        received.method,
        received.path
    );
    id
}

/// Headers of a delivery signed with [`SECRET`] at `timestamp`.
fn signed_headers(id: &str, timestamp: i64, body: &[u8]) -> Vec<(String, String)> {
    vec![
        ("webhook-id".into(), id.into()),
        ("webhook-timestamp".into(), timestamp.to_string()),
        ("webhook-signature".into(), signature(id, timestamp, body)),
    ]
}

async fn post_raw(
    engine: &Engine,
    url: &str,
    body: &[u8],
    headers: &[(String, String)],
) -> (u16, Value) {
    let mut request = engine
        .client
        .post(url)
        .header("Content-Type", "application/json")
        .body(body.to_vec());
    for (name, value) in headers {
        request = request.header(name, value);
    }
    status_json(request.send().await.unwrap()).await
}

fn with_secret(mut document: Value) -> Value {
    document["definition"]["parameters"] = json!({ "hookSecret": { "type": "securestring" } });
    document["parameters"] = json!({ "hookSecret": { "value": SECRET } });
    document
}

fn signing() -> Value {
    json!({ "type": "StandardWebhooks", "secret": "@parameters('hookSecret')" })
}

async fn run_count(engine: &Engine, workflow: &str) -> usize {
    let (_, runs) = engine.get(&format!("/api/workflows/{workflow}/runs")).await;
    runs["value"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn outbound_calls_are_signed_and_the_secret_stays_secret() {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::start().await;
    let (engine, log) = Engine::start_logged(&dir.path().join("data"), &[], "debug");
    let base = &service.base;
    let document = with_secret(request_workflow(json!({
        // Fails once (503), then succeeds: two attempts of one call.
        "Notify": { "type": "Http", "runAfter": {},
            "inputs": { "method": "POST", "uri": format!("{base}/flaky/1/notify"),
                "body": { "event": "order.created", "text": "héllo" },
                "headers": { "Webhook-Id": "written-by-hand" },
                "signing": signing(),
                "retryPolicy": { "type": "fixed", "count": 1, "interval": "PT1S" } } },
        "Unsigned": { "type": "Http", "runAfter": {},
            "inputs": { "method": "POST", "uri": format!("{base}/echo/unsigned"), "body": "plain" } },
        "Approval": { "type": "HttpWebhook", "runAfter": { "Notify": ["Succeeded"] },
            "inputs": {
                "subscribe": { "method": "POST", "uri": format!("{base}/hooks/subscribe"),
                    "body": { "callbackUrl": "@{listCallbackUrl()}" }, "signing": signing() },
                "unsubscribe": { "method": "DELETE",
                    "uri": format!("{base}/hooks/subscriptions/@{{action().outputs.body.id}}"),
                    "signing": signing() },
                "callbackVerification": { "type": "StandardWebhooks", "secret": "@parameters('hookSecret')" }
            } }
    })));
    engine.create_workflow("signed", &document).await;
    let url = engine.callback_url("signed", "manual").await;
    let (status, run_id, _) = crate::support::fire(&engine.client, &url, json!({})).await;
    assert_eq!(status, 202);
    let run_id = run_id.unwrap();

    // Both attempts are signed over their own bytes, with one webhook-id.
    let attempts = service.wait_for("/flaky/1/notify", 2).await;
    let ids: Vec<String> = attempts.iter().map(assert_signed).collect();
    assert_eq!(attempts[0].headers.get_all("webhook-id").iter().count(), 1);
    assert_eq!(ids[0], ids[1], "the id is stable across retries");
    assert_eq!(ids[0], format!("{run_id}/Notify"));
    let unsigned = service.wait_for("/echo/unsigned", 1).await;
    assert!(unsigned[0].headers.get("webhook-signature").is_none());

    // The webhook action's subscribe is signed; its callback must be too.
    let subscribed = service.wait_for("/hooks/subscribe", 1).await;
    assert_signed(&subscribed[0]);
    let callback = subscribed[0].body["callbackUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = br#"{"approved": true}"#;
    let forged = signed_headers("msg_1", now(), br#"{"approved": false}"#);
    let (status, refused) = post_raw(&engine, &callback, body, &forged).await;
    assert_eq!(status, 401, "{refused}");
    assert_eq!(refused["error"]["code"], "WebhookSignatureInvalid");
    let (_, waits) = engine.get("/api/waits").await;
    assert_eq!(
        waits["value"].as_array().unwrap().len(),
        1,
        "still waiting: {waits}"
    );
    let (status, accepted) = post_raw(
        &engine,
        &callback,
        body,
        &signed_headers("msg_1", now(), body),
    )
    .await;
    assert_eq!(status, 200, "{accepted}");
    let run = engine.wait_for_end("signed", &run_id).await;
    assert_eq!(run["status"], "Succeeded", "{run}");
    let unsubscribed = service.wait_for("/hooks/subscriptions/1", 1).await;
    assert_eq!(unsubscribed[0].method, "DELETE");
    assert_signed(&unsubscribed[0]);

    // History shows the signing type only; the secret is nowhere.
    let actions = engine.actions("signed", &run_id).await;
    let notify = actions.iter().find(|a| a["name"] == "Notify").unwrap();
    assert_eq!(
        notify["inputs"]["signing"],
        json!({ "type": "StandardWebhooks" })
    );
    let approval = actions.iter().find(|a| a["name"] == "Approval").unwrap();
    assert_eq!(
        approval["inputs"]["subscribe"]["signing"],
        json!({ "type": "StandardWebhooks" })
    );
    let mut seen = vec![serde_json::to_string(&actions).unwrap()];
    for path in [
        "/api/workflows/signed".to_owned(),
        format!("/api/workflows/signed/runs/{run_id}"),
        "/api/waits".to_owned(),
        "/api/subscriptions".to_owned(),
    ] {
        seen.push(engine.get(&path).await.1.to_string());
    }
    seen.push(log.lock().unwrap().clone());
    for text in seen {
        assert!(!text.contains(KEY), "the secret leaked: {text}");
    }
}

#[tokio::test]
async fn a_request_trigger_starts_runs_only_for_signed_deliveries() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let mut document = with_secret(request_workflow(json!({
        "Echo": { "type": "Compose", "inputs": "@triggerBody()", "runAfter": {} }
    })));
    document["definition"]["triggers"]["manual"]["inputs"]["callbackVerification"] =
        json!({ "type": "StandardWebhooks", "secret": "@parameters('hookSecret')" });
    engine.create_workflow("verified", &document).await;
    let url = engine.callback_url("verified", "manual").await;
    let body = br#"{"test": 2432232314}"#;
    let good = signed_headers("msg_p5jXN8AQM9LWM0D4loKWxJek", now(), body);
    let without = |name: &str| -> Vec<(String, String)> {
        good.iter().filter(|(n, _)| n != name).cloned().collect()
    };
    let refusals = [
        ("wrong key", {
            let mut headers = good.clone();
            headers[2].1 = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".into();
            headers
        }),
        (
            "body changed",
            signed_headers("msg_p5jXN8AQM9LWM0D4loKWxJek", now(), b"{}"),
        ),
        (
            "stale",
            signed_headers("msg_p5jXN8AQM9LWM0D4loKWxJek", now() - 3600, body),
        ),
        ("no signature", without("webhook-signature")),
        ("no timestamp", without("webhook-timestamp")),
        ("no id", without("webhook-id")),
    ];
    for (case, headers) in &refusals {
        let (status, answer) = post_raw(&engine, &url, body, headers).await;
        assert_eq!(status, 401, "{case}: {answer}");
        assert_eq!(answer["error"]["code"], "WebhookSignatureInvalid", "{case}");
    }
    assert_eq!(run_count(&engine, "verified").await, 0, "nothing started");
    // Refused deliveries left no idempotency record: the same webhook-id, now valid, runs.
    let (status, _) = post_raw(&engine, &url, body, &good).await;
    assert_eq!(status, 202);
    // Several signatures (key rotation): one that matches is enough.
    let mut rotated = signed_headers("msg_2", now(), body);
    rotated[2].1 = format!(
        "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= {}",
        rotated[2].1
    );
    let (status, _) = post_raw(&engine, &url, body, &rotated).await;
    assert_eq!(status, 202);
    assert_eq!(run_count(&engine, "verified").await, 2);
}

#[tokio::test]
async fn a_webhook_trigger_signs_its_subscribe_and_verifies_its_callbacks() {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::start().await;
    let engine = Engine::start(&dir);
    let mut document = with_secret(webhook_workflow(
        &service.base,
        "orders",
        json!({ "Echo": { "type": "Compose", "inputs": "@triggerBody()", "runAfter": {} } }),
    ));
    let inputs = &mut document["definition"]["triggers"]["events"]["inputs"];
    inputs["subscribe"]["signing"] = signing();
    inputs["unsubscribe"]["signing"] = signing();
    inputs["callbackVerification"] = json!({ "type": "StandardWebhooks", "secret": "@parameters('hookSecret')", "toleranceSeconds": 60 });
    engine.create_workflow("events", &document).await;
    let subscribed = service.wait_for("/hooks/subscribe", 1).await;
    assert_signed(&subscribed[0]);
    let callback = subscribed[0].body["callbackUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = br#"{"order": 7}"#;
    // Outside the trigger's 60 s tolerance.
    let stale = signed_headers("msg_a", now() - 120, body);
    let (status, answer) = post_raw(&engine, &callback, body, &stale).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(run_count(&engine, "events").await, 0);
    let (status, _) = post_raw(
        &engine,
        &callback,
        body,
        &signed_headers("msg_a", now(), body),
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(run_count(&engine, "events").await, 1);
    // Disabling unsubscribes, signed too.
    let (status, _) = engine
        .post("/api/workflows/events/disable", json!({}))
        .await;
    assert_eq!(status, 200);
    let unsubscribed = service.wait_for("/hooks/subscriptions/1", 1).await;
    assert_signed(&unsubscribed[0]);
}

#[tokio::test]
async fn signing_mistakes_are_refused_at_save_with_their_path() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let mut document = request_workflow(json!({
        "Call": { "type": "Http", "runAfter": {},
            "inputs": { "method": "POST", "uri": "http://127.0.0.1:9/",
                "signing": { "type": "HmacHex", "secret": "whsec_AAAA" } } },
        "Hook": { "type": "HttpWebhook", "runAfter": {},
            "inputs": {
                "subscribe": { "method": "POST", "uri": "http://127.0.0.1:9/",
                    "signing": { "type": "StandardWebhooks", "secret": "plain-text" } },
                "callbackVerification": { "type": "StandardWebhooks" } } }
    }));
    document["definition"]["triggers"]["manual"]["inputs"]["callbackVerification"] =
        json!({ "type": "StandardWebhooks", "secret": "whsec_AAAA", "toleranceSeconds": -1 });
    let (status, body) = engine.put_workflow("bad", &document).await;
    assert_eq!(status, 400, "{body}");
    let paths: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    for expected in [
        "definition.actions.Call.inputs.signing.type",
        "definition.actions.Hook.inputs.subscribe.signing.secret",
        "definition.actions.Hook.inputs.callbackVerification.secret",
        "definition.triggers.manual.inputs.callbackVerification.toleranceSeconds",
    ] {
        assert!(paths.contains(&expected), "{expected} in {body}");
    }
    assert!(
        !body.to_string().contains("plain-text"),
        "the secret is not echoed: {body}"
    );
}
