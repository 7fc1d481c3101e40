//! Retry policies of the Http action (spec §5.5): a service that fails twice then succeeds,
//! retried on a `fixed` policy, with the engine killed between attempts (the schedule is rows:
//! the retry row and the action's `retryHistory` survive the restart); a cancelled run's
//! scheduled retry is never sent.

use crate::support::{Engine, Service, fire, request_workflow};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_service_failing_twice_is_retried_until_it_succeeds_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let service = Service::start().await;
    // `PT1S` is below Logic Apps Consumption's PT5S minimum; hookflow accepts down to PT1S.
    let document = request_workflow(json!({
        "Call": {
            "type": "Http",
            "inputs": {
                "method": "POST",
                "uri": format!("{}/flaky/2/orders", service.base),
                "body": { "id": "@{guid()}" },
                "retryPolicy": { "type": "fixed", "count": 3, "interval": "PT1S" }
            },
            "runAfter": {}
        }
    }));
    let (status, body) = engine.put_workflow("flaky", &document).await;
    assert_eq!(status, 201, "{body}");
    let url = engine.callback_url("flaky", "manual").await;
    let (status, run_id, body) = fire(&engine.client, &url, json!({})).await;
    assert_eq!(status, 202, "{body}");
    let run_id = run_id.expect("run id header");

    // Once the first failure is recorded (the retry is a row due a second later), kill the
    // engine: the restarted one carries on with the schedule.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let actions = engine.actions("flaky", &run_id).await;
        if history(&actions[0]).len() == 1 {
            assert_eq!(actions[0]["status"], "Running", "{}", actions[0]);
            break;
        }
        assert!(Instant::now() < deadline, "no retry recorded: {actions:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    engine.kill9();
    let engine = Engine::start_with(dir.path(), &[]);

    let run = engine.wait_for_end("flaky", &run_id).await;
    assert_eq!(run["status"], "Succeeded", "{run}");
    let actions = engine.actions("flaky", &run_id).await;
    let call = &actions[0];
    assert_eq!(call["status"], "Succeeded", "{call}");
    assert_eq!(call["outputs"]["statusCode"], 200, "{call}");
    assert_eq!(call["outputs"]["body"]["attempt"], 3, "{call}");
    let history = history(call);
    assert_eq!(history.len(), 2, "{call}");
    for entry in &history {
        assert_eq!(entry["code"], "ServiceUnavailable", "{entry}");
        assert_eq!(entry["error"]["code"], "ServiceUnavailable", "{entry}");
        assert!(entry["startTime"].is_string() && entry["endTime"].is_string());
    }

    // Three attempts, the same request each time (body and Idempotency-Key), a second apart.
    let received = service.received_on("/flaky/2/orders");
    assert_eq!(received.len(), 3, "one request per attempt");
    let key = &received[0].headers["idempotency-key"];
    for request in &received {
        assert_eq!(request.method, "POST");
        assert_eq!(&request.headers["idempotency-key"], key);
        assert_eq!(request.body, received[0].body);
    }
    let waited = (ms_of_day(&history[1]["startTime"]) - ms_of_day(&history[0]["endTime"]))
        .rem_euclid(86_400_000);
    assert!(
        waited >= 1_000,
        "the retry waits the policy's interval: {history:?}"
    );
}

fn history(action: &Value) -> Vec<Value> {
    action["outputs"]["retryHistory"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Milliseconds since midnight of a `YYYY-MM-DDTHH:MM:SS.fffffffZ` time.
fn ms_of_day(time: &Value) -> i64 {
    let text = time.as_str().expect("a time");
    let (_, clock) = text.split_once('T').expect("a date and a time");
    let clock = clock.trim_end_matches('Z');
    let (hms, fraction) = clock.split_once('.').unwrap_or((clock, "0"));
    let parts: Vec<i64> = hms.split(':').map(|p| p.parse().unwrap()).collect();
    let millis: i64 = format!("{fraction:0<3}")[..3].parse().unwrap();
    ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1_000 + millis
}

/// A cancelled run's retry, already scheduled as an outbox row due later, is never sent: the
/// cancel step deletes it. Proof by order, not by waiting a fixed time: a second run with the
/// same policy, started after the cancel, gets two retries out (each due later than the
/// cancelled run's would have been) while the cancelled run's path sees only its first call.
#[tokio::test]
async fn a_cancelled_runs_scheduled_retry_is_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let service = Service::start().await;
    let document = request_workflow(json!({
        "Call": {
            "type": "Http",
            "inputs": {
                "method": "POST",
                "uri": format!("{}/flaky/99/@{{triggerBody()['name']}}", service.base),
                "retryPolicy": { "type": "fixed", "count": 3, "interval": "PT2S" }
            },
            "runAfter": {}
        }
    }));
    let (status, body) = engine.put_workflow("retrying", &document).await;
    assert_eq!(status, 201, "{body}");
    let url = engine.callback_url("retrying", "manual").await;

    let (status, cancelled, _) = fire(&engine.client, &url, json!({ "name": "a" })).await;
    assert_eq!(status, 202);
    let cancelled = cancelled.unwrap();
    // The first attempt failed and its retry is scheduled.
    let deadline = Instant::now() + Duration::from_secs(30);
    while history(&engine.actions("retrying", &cancelled).await[0]).is_empty() {
        assert!(Instant::now() < deadline, "no retry scheduled");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (status, body) = engine
        .post(
            &format!("/api/workflows/retrying/runs/{cancelled}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let run = engine.wait_for_end("retrying", &cancelled).await;
    assert_eq!(run["status"], "Cancelled", "{run}");

    let (status, _, _) = fire(&engine.client, &url, json!({ "name": "b" })).await;
    assert_eq!(status, 202);
    service.wait_for("/flaky/99/b", 3).await;
    assert_eq!(
        service.received_on("/flaky/99/a").len(),
        1,
        "the cancelled run's retry went out"
    );
}
