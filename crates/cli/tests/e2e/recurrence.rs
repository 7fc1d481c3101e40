//! Recurrence triggers through the real binary: a schedule every second produces runs, each
//! with its own `scheduledTime`; `kill -9` and a restart neither lose nor double an
//! occurrence; disabling and changing the trigger stop it; "Run trigger" fires one at once.
//! Runs are awaited by polling the API; "nothing more happens" is observed against a second
//! workflow's schedule that keeps running, never with a fixed sleep.

use crate::support::Engine;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn recurrence_workflow(recurrence: Value) -> Value {
    json!({
        "definition": {
            "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#",
            "contentVersion": "1.0.0.0",
            "triggers": { "Tick": { "type": "Recurrence", "recurrence": recurrence } },
            "actions": {
                "When": { "type": "Compose", "inputs": "@trigger()['scheduledTime']", "runAfter": {} }
            }
        }
    })
}

fn every_second() -> Value {
    recurrence_workflow(json!({ "frequency": "Second", "interval": 1 }))
}

/// The workflow's runs, oldest first.
async fn runs(engine: &Engine, workflow: &str) -> Vec<Value> {
    let (status, body) = engine
        .get(&format!("/api/workflows/{workflow}/runs?top=1000"))
        .await;
    assert_eq!(status, 200, "{body}");
    let mut runs = body["value"].as_array().unwrap().clone();
    runs.reverse();
    runs
}

/// Polls until the workflow has at least `count` runs.
async fn wait_for_runs(engine: &Engine, workflow: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let runs = runs(engine, workflow).await;
        if runs.len() >= count {
            return runs;
        }
        assert!(
            Instant::now() < deadline,
            "{workflow}: only {} of {count} runs",
            runs.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Scheduled times (Unix ms) of the runs, in run order.
fn scheduled(runs: &[Value]) -> Vec<i64> {
    runs.iter()
        .map(|run| {
            let text = run["trigger"]["scheduledTime"]
                .as_str()
                .unwrap_or_else(|| panic!("no scheduledTime: {run}"));
            text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
        })
        .collect()
}

/// Lets a marker workflow's schedule run `ticks` more occurrences: time passes with the
/// recurrence loop demonstrably working.
async fn let_ticks_pass(engine: &Engine, marker: &str, ticks: usize) {
    let seen = runs(engine, marker).await.len();
    wait_for_runs(engine, marker, seen + ticks).await;
}

#[tokio::test]
async fn a_schedule_every_second_runs_and_disable_and_changes_stop_it() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    engine.create_workflow("ticker", &every_second()).await;
    engine.create_workflow("marker", &every_second()).await;

    let first = wait_for_runs(&engine, "ticker", 3).await;
    let times = scheduled(&first);
    for pair in times.windows(2) {
        assert_eq!(
            pair[1] - pair[0],
            1_000,
            "one occurrence a second: {times:?}"
        );
    }
    // A run sees its occurrence as `trigger().scheduledTime`, and ends.
    let run_id = first[0]["name"].as_str().unwrap();
    let run = engine.wait_for_end("ticker", run_id).await;
    assert_eq!(run["status"], "Succeeded", "{run}");
    let when = &engine.actions("ticker", run_id).await[0];
    assert_eq!(when["outputs"], run["trigger"]["scheduledTime"], "{when}");
    // Each fire is in the trigger's history with its run.
    let (_, history) = engine
        .get("/api/workflows/ticker/triggers/Tick/histories")
        .await;
    let entries = history["value"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|h| h["run"] == run_id && h["status"] == "Succeeded")
    );

    // Disabled: no more runs, while the marker's schedule goes on.
    let (status, _) = engine
        .post("/api/workflows/ticker/disable", json!({}))
        .await;
    assert_eq!(status, 200);
    let at_disable = runs(&engine, "ticker").await.len();
    let_ticks_pass(&engine, "marker", 3).await;
    assert_eq!(runs(&engine, "ticker").await.len(), at_disable);

    // Enabled again: it resumes from now (the disabled stretch is not made up for).
    let (status, _) = engine.post("/api/workflows/ticker/enable", json!({})).await;
    assert_eq!(status, 200);
    let resumed = wait_for_runs(&engine, "ticker", at_disable + 2).await;
    let times = scheduled(&resumed);
    assert!(
        times[at_disable] - times[at_disable - 1] >= 3_000,
        "no burst for the disabled time: {times:?}"
    );

    // A new version whose schedule starts next year: the old schedule stops at once.
    let later = recurrence_workflow(json!({
        "frequency": "Second", "interval": 1, "startTime": "2999-01-01T00:00:00Z"
    }));
    let (status, body) = engine.put_workflow("ticker", &later).await;
    assert_eq!(status, 200, "{body}");
    let at_change = runs(&engine, "ticker").await.len();
    let_ticks_pass(&engine, "marker", 3).await;
    assert_eq!(runs(&engine, "ticker").await.len(), at_change);

    // Nothing left running.
    let (status, _) = engine
        .post("/api/workflows/marker/disable", json!({}))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn kill_9_and_restart_neither_loses_nor_doubles_an_occurrence() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    engine.create_workflow("clock", &every_second()).await;
    let before = wait_for_runs(&engine, "clock", 3).await.len();
    engine.kill9();

    // A quick restart (well within a minute) catches up on the occurrences it was down for.
    let engine = Engine::start_with(dir.path(), &[]);
    wait_for_runs(&engine, "clock", before + 4).await;
    let (status, _) = engine.post("/api/workflows/clock/disable", json!({})).await;
    assert_eq!(status, 200);
    let times = scheduled(&runs(&engine, "clock").await);
    for pair in times.windows(2) {
        assert_eq!(
            pair[1] - pair[0],
            1_000,
            "every occurrence once, none lost, none doubled: {times:?}"
        );
    }
}

#[tokio::test]
async fn run_trigger_fires_a_monthly_schedule_now() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let monthly = recurrence_workflow(json!({
        "frequency": "Month", "interval": 1, "startTime": "2999-01-01T00:00:00Z"
    }));
    engine.create_workflow("monthly", &monthly).await;
    let (status, body) = engine
        .post("/api/workflows/monthly/triggers/Tick/run", json!({}))
        .await;
    assert_eq!(status, 202, "{body}");
    let run_id = body["runId"].as_str().unwrap();
    let run = engine.wait_for_end("monthly", run_id).await;
    assert_eq!(run["status"], "Succeeded", "{run}");
    assert!(run["trigger"]["scheduledTime"].is_string(), "{run}");
    assert_eq!(run["trigger"]["inputs"]["frequency"], "Month", "{run}");

    let (status, body) = engine
        .post("/api/workflows/monthly/triggers/Nope/run", json!({}))
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = engine
        .post("/api/workflows/monthly/disable", json!({}))
        .await;
    assert_eq!(status, 200);
    let (status, body) = engine
        .post("/api/workflows/monthly/triggers/Tick/run", json!({}))
        .await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test]
async fn an_invalid_recurrence_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(&dir);
    let bad = recurrence_workflow(json!({
        "frequency": "Day", "interval": 1, "timeZone": "Mars Standard Time"
    }));
    let (status, body) = engine.put_workflow("bad", &bad).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string()
            .contains("triggers.Tick.recurrence.timeZone"),
        "{body}"
    );
    assert_eq!(engine.get("/api/workflows/bad").await.0, 404);
}
