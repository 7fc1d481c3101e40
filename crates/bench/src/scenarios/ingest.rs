//! `ingest`: concurrent POSTs of a 1 KiB JSON body to a Request trigger's callback URL
//! (workflow: trigger → Compose → done). Figures: accepted runs/s (a `202` is only sent once
//! the run is committed, so accepted = durable) with the client-side latency, and completed
//! runs/s with each run's start → end time. Correctness: every `202`'s run id is found among
//! the workflow's Succeeded runs once nothing is Running any more.

use crate::{
    Ctx,
    engine::{Server, parse_time_ms},
    load::{self, LoadResult, LoadSpec},
    report::{Latency, Row},
};
use axum::body::Bytes;
use serde_json::{Value, json};
use std::{
    collections::HashSet,
    time::{Duration, Instant, UNIX_EPOCH},
};

const WORKFLOW: &str = "ingest";

/// A JSON object of exactly 1,024 bytes.
pub fn body() -> Bytes {
    let head = r#"{"id":42,"kind":"bench","payload":""#;
    let tail = r#""}"#;
    let pad = "x".repeat(1024 - head.len() - tail.len());
    let text = format!("{head}{pad}{tail}");
    debug_assert_eq!(text.len(), 1024);
    Bytes::from(text)
}

fn definition() -> Value {
    json!({
        "triggers": { "manual": { "type": "Request", "kind": "Http" } },
        "actions": {
            "Compose": {
                "type": "Compose",
                "inputs": { "id": "@triggerBody()?['id']", "kind": "@triggerBody()?['kind']" },
                "runAfter": {}
            }
        }
    })
}

/// A clock tick of `/proc/<pid>/stat` (`USER_HZ` is 100 on Linux), in microseconds.
const TICK_US: f64 = 10_000.0;

pub async fn run(ctx: &Ctx) -> anyhow::Result<Vec<Row>> {
    run_on(ctx, &[Server::start_engine(&ctx.engine)?]).await
}

/// The scenario on running engines: one, or the nodes of a cluster sharing a database (the
/// load goes round robin over them).
pub async fn run_on(ctx: &Ctx, engines: &[Server]) -> anyhow::Result<Vec<Row>> {
    let engine = &engines[0];
    engine.put_workflow(WORKFLOW, definition()).await?;
    let url = engine.callback_url(WORKFLOW).await?;
    eprintln!("ingest: engine pid {} on {}", engine.pid(), engine.base);
    let cpu_start = cpu_ticks(engines);
    let (mut accepted, result) = accept(ctx, "ingest", spread(engines, &url)).await;
    let (mut completed, _) =
        completion(engines, ctx, "ingest", WORKFLOW, &result, cpu_start).await?;
    let rss = peak_rss_kib(engines);
    accepted.peak_rss_kib = rss;
    completed.peak_rss_kib = rss;
    Ok(vec![accepted, completed])
}

/// A callback URL on every engine.
pub fn spread(engines: &[Server], url: &str) -> Vec<String> {
    engines.iter().map(|e| e.rebase(url)).collect()
}

/// The engines' peak RSS, summed.
/// The engines' CPU time so far, in clock ticks (all nodes of a cluster together).
pub fn cpu_ticks(engines: &[Server]) -> Option<u64> {
    engines.iter().map(Server::cpu_ticks).sum()
}

pub fn peak_rss_kib(engines: &[Server]) -> Option<u64> {
    engines.iter().map(Server::peak_rss_kib).sum()
}

/// Drives trigger callback URLs (one per engine, round robin) with the load (1 KiB bodies,
/// `202` with a run id expected): the `accepted (202 = durable)` row and the load's result.
pub async fn accept(ctx: &Ctx, scenario: &str, urls: Vec<String>) -> (Row, LoadResult) {
    let result = load::run(LoadSpec {
        label: scenario.into(),
        urls: urls.into(),
        targets: None,
        body: body(),
        concurrency: ctx.concurrency,
        max_requests: ctx.requests,
        max_duration: ctx.duration,
        expect_status: 202,
        keep_header: Some(hookflow_api::RUN_ID_HEADER),
    })
    .await;
    let accepted_rps = result.throughput();
    let mut accepted = Row::new(scenario, "accepted (202 = durable)")
        .parameters(ctx.load_parameters())
        .throughput(accepted_rps, "runs/s")
        .latency(Latency::of(&result.latencies_us));
    accepted.vs_baseline = ctx.vs_baseline(accepted_rps);
    accepted.extra("accepted", result.ok);
    if result.failed > 0 {
        accepted.fail(format!(
            "{} of {} requests not accepted ({:?}): {:?}",
            result.failed, result.sent, result.statuses, result.sample_errors
        ));
    }
    if result.kept.len() as u64 != result.ok {
        accepted.fail("a 202 came without a run id header");
    }
    (accepted, result)
}

/// Waits until `workflow` has no Running run, checks that every accepted run (the run ids
/// kept by the load) Succeeded and none Failed, and returns the `completed` row — accepted
/// runs over first request sent → last run's `endTime`, latency = each run's
/// `startTime → endTime` — with the accepted runs as the API lists them. `cpu_start` is the
/// engine's CPU time when the load began: the row gets the engine's CPU time per run, a figure
/// that other processes on a shared machine disturb much less than throughput.
pub async fn completion(
    engines: &[Server],
    ctx: &Ctx,
    scenario: &str,
    workflow: &str,
    result: &LoadResult,
    cpu_start: Option<u64>,
) -> anyhow::Result<(Row, Vec<hookflow_api::Run>)> {
    let engine = &engines[0];
    let mut completed = Row::new(scenario, "completed").parameters(ctx.load_parameters());
    let waited = Instant::now();
    let timeout = Duration::from_secs(60).max(Duration::from_millis(result.ok * 10));
    eprintln!(
        "{scenario}: {} accepted; waiting for them to complete",
        result.ok
    );
    while engine.any_run(workflow, "Running").await? {
        if waited.elapsed() > timeout {
            completed.fail(format!("runs still Running after {timeout:?}"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Read before listing the runs: listing them all costs the engine CPU too.
    let cpu_us_per_run = cpu_start
        .zip(cpu_ticks(engines))
        .filter(|_| result.ok > 0)
        .map(|(start, end)| end.saturating_sub(start) as f64 * TICK_US / result.ok as f64);
    let succeeded = engine.list_runs(workflow, "Succeeded").await?;
    let failed = engine.list_runs(workflow, "Failed").await?;
    let ids: HashSet<&str> = succeeded.iter().map(|r| r.name.as_str()).collect();
    let accepted_ids: HashSet<&str> = result.kept.iter().map(String::as_str).collect();
    let missing = accepted_ids.iter().filter(|id| !ids.contains(*id)).count();
    if missing > 0 || !failed.is_empty() {
        completed.fail(format!(
            "{missing} accepted runs not Succeeded; {} Failed runs",
            failed.len()
        ));
    }

    // Completed runs/s: accepted runs over first request sent → last run's endTime.
    let start_ms = result
        .started_at
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as i64);
    let mut last_end = start_ms;
    let mut run_us: Vec<u64> = Vec::with_capacity(succeeded.len());
    let runs: Vec<hookflow_api::Run> = succeeded
        .into_iter()
        .filter(|r| accepted_ids.contains(r.name.as_str()))
        .collect();
    for run in &runs {
        let start = parse_time_ms(&run.start_time);
        let end = run.end_time.as_deref().and_then(parse_time_ms);
        if let (Some(start), Some(end)) = (start, end) {
            last_end = last_end.max(end);
            run_us.push((end - start).max(0) as u64 * 1000);
        }
    }
    run_us.sort_unstable();
    let span_s = ((last_end - start_ms) as f64 / 1000.0).max(1e-3);
    let completed_rps = result.ok as f64 / span_s;
    let cpu_note = cpu_us_per_run.map_or(String::new(), |us| {
        completed.extra("engine_cpu_us_per_run", us.round());
        format!("; engine CPU {us:.0} us/run")
    });
    completed = completed
        .throughput(completed_rps, "runs/s")
        .latency(Latency::of(&run_us))
        .note(format!(
            "latency = run startTime -> endTime (engine clock, ms resolution){cpu_note}"
        ));
    completed.vs_baseline = ctx.vs_baseline(completed_rps);
    completed.extra("succeeded", runs.len() as u64);
    completed.extra("first_request_to_last_end_s", span_s);
    eprintln!(
        "{scenario}: {} Succeeded, {:.0} accepted/s, {completed_rps:.0} completed/s{cpu_note}",
        runs.len(),
        result.throughput()
    );
    Ok((completed, runs))
}
