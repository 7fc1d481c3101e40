//! `webhook-action`: Request → HttpWebhook (`Wait_for_approval`) → Compose (`Decision`,
//! `@body('Wait_for_approval')?['decision']`), driven by the ingest load (1 KiB bodies).
//! The local webhook service calls back at once: on each subscribe call it spawns a task
//! that POSTs `{"decision": "approve"}` to the callback URL — usually before its own
//! subscribe response has left, so the engine sees callback and subscribe response in either
//! order.
//!
//! Figures:
//! - `accepted (202 = durable)`: the trigger acknowledgements, as in `ingest`;
//! - `completed`: accepted runs / (first request → last run's `endTime`), with each run's
//!   start → end time (subscribe call + callback + resume + Compose);
//! - `resume: callback → run end`: for every callback, the service's wall clock when it sent
//!   the POST → the run's `endTime` (the Compose after the wait is the last action, so this is
//!   callback received → next action started *and finished* and committed). Engine times have
//!   millisecond resolution, so each figure is within −1/+0 ms; the service answers at once,
//!   so "beyond the service's own time" is all of it;
//! - `resume: callback → 200`: callback POST sent → the engine's `200`, which is sent only
//!   once the resume is durable (µs resolution, client side).
//!
//! The load runs twice, each time on a fresh engine: at `--concurrency` (throughput; the
//! engine accepts faster than it completes, so latencies there are mostly queueing) and with
//! one connection, ≤ 1,000 requests, ≤ 5 s (rows suffixed `(c=1)`: what a resume costs when
//! nothing queues — the figure for the latency target).
//!
//! Correctness: every accepted run Succeeded; every run got exactly one callback, answered
//! `200`; a sample of runs has `Decision` = "approve".

use super::ingest;
use crate::{
    Ctx,
    engine::{Server, parse_time_ms},
    hooks::{Hooks, Mode},
    report::{Latency, Row},
};
use serde_json::{Value, json};
use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

const WORKFLOW: &str = "webhook-action";

fn definition(hooks: &Hooks) -> Value {
    json!({
        "triggers": { "manual": { "type": "Request", "kind": "Http" } },
        "actions": {
            "Wait_for_approval": {
                "type": "HttpWebhook",
                "inputs": hooks.webhook_inputs(),
                "runAfter": {}
            },
            "Decision": {
                "type": "Compose",
                "inputs": "@body('Wait_for_approval')?['decision']",
                "runAfter": { "Wait_for_approval": ["Succeeded"] }
            }
        }
    })
}

pub async fn run(ctx: &Ctx) -> anyhow::Result<Vec<Row>> {
    // Under the full load the engine accepts runs faster than it completes them, so latency
    // there is queueing; one connection shows what a resume costs when nothing queues.
    let light = Ctx {
        concurrency: 1,
        requests: if ctx.quick { 20 } else { 1000 },
        duration: Duration::from_secs(5),
        ..ctx.clone()
    };
    let mut rows = phase(ctx, "").await?;
    rows.extend(phase(&light, " (c=1)").await?);
    Ok(rows)
}

/// One engine, one load: the four rows, their measures suffixed with `suffix`.
async fn phase(ctx: &Ctx, suffix: &str) -> anyhow::Result<Vec<Row>> {
    let hooks = Hooks::start(Mode::CallBackAtOnce).await?;
    let engine = Server::start_engine(&ctx.engine)?;
    phase_on(ctx, suffix, &hooks, &[engine]).await
}

/// The load on running engines (one, or the nodes of a cluster: triggers go round robin,
/// each callback to the node whose URL the service was given).
pub async fn phase_on(
    ctx: &Ctx,
    suffix: &str,
    hooks: &Hooks,
    engines: &[Server],
) -> anyhow::Result<Vec<Row>> {
    let engine = &engines[0];
    eprintln!(
        "webhook-action: engine pid {} on {}, webhook service on {}",
        engine.pid(),
        engine.base,
        hooks.base
    );
    engine.put_workflow(WORKFLOW, definition(hooks)).await?;
    let url = engine.callback_url(WORKFLOW).await?;

    let cpu_start = ingest::cpu_ticks(engines);
    let (mut accepted, result) =
        ingest::accept(ctx, "webhook-action", ingest::spread(engines, &url)).await;
    // Every accepted run subscribes once; the service calls back each time.
    let timeout = Duration::from_secs(60).max(Duration::from_millis(result.ok * 10));
    let subscribed = hooks
        .wait_for_urls(result.ok as usize, timeout, "webhook-action")
        .await;
    let callbacks_done = hooks.wait_callbacks_done(timeout).await;
    let (mut completed, runs) =
        ingest::completion(engines, ctx, "webhook-action", WORKFLOW, &result, cpu_start).await?;
    if (subscribed as u64) < result.ok {
        completed.fail(format!(
            "{subscribed} of {} accepted runs subscribed",
            result.ok
        ));
    }
    if !callbacks_done {
        completed.fail("callbacks still in flight after the timeout");
    }

    let callbacks = hooks.callbacks();
    let mut resume = Row::new(
        "webhook-action",
        &format!("resume: callback -> run end{suffix}"),
    )
    .parameters(ctx.load_parameters())
    .note("service's POST sent -> run endTime (ms resolution)");
    let mut acked = Row::new(
        "webhook-action",
        &format!("resume: callback -> 200{suffix}"),
    )
    .parameters(ctx.load_parameters())
    .note("callback POST sent -> engine's 200 (resume durable)");

    // Exactly one callback per accepted run, each answered 200.
    let accepted_ids: HashSet<&str> = result.kept.iter().map(String::as_str).collect();
    let mut per_run: HashMap<&str, usize> = HashMap::new();
    for callback in &callbacks {
        *per_run.entry(callback.run_id.as_str()).or_default() += 1;
    }
    let not_ok: Vec<String> = callbacks
        .iter()
        .filter(|c| c.status != 200)
        .take(5)
        .map(|c| format!("{}: {} after {} attempts", c.run_id, c.status, c.attempts))
        .collect();
    let without = accepted_ids
        .iter()
        .filter(|id| !per_run.contains_key(*id))
        .count();
    let repeated = per_run.values().filter(|n| **n > 1).count();
    if !not_ok.is_empty() || without > 0 || repeated > 0 {
        acked.fail(format!(
            "callbacks not answered 200: {not_ok:?}; {without} accepted runs without a \
             callback; {repeated} runs called back more than once"
        ));
    }
    let retried = callbacks.iter().filter(|c| c.attempts > 1).count();
    acked.extra("callbacks", callbacks.len() as u64);
    acked.extra("callbacks_retried", retried as u64);

    // Resume latency: callback sent → run endTime.
    let ends: HashMap<&str, i64> = runs
        .iter()
        .filter_map(|r| Some((r.name.as_str(), parse_time_ms(r.end_time.as_deref()?)?)))
        .collect();
    let mut resume_us: Vec<u64> = callbacks
        .iter()
        .filter_map(|c| {
            let end_us = ends.get(c.run_id.as_str())? * 1000;
            Some((end_us - c.sent_unix_us).max(0) as u64)
        })
        .collect();
    resume_us.sort_unstable();
    let mut ack_us: Vec<u64> = callbacks
        .iter()
        .filter(|c| c.status == 200)
        .map(|c| c.answered_us)
        .collect();
    ack_us.sort_unstable();
    resume = resume.latency(Latency::of(&resume_us));
    resume.extra("measured", resume_us.len() as u64);
    acked = acked.latency(Latency::of(&ack_us));
    if resume_us.len() < accepted_ids.len() {
        resume.fail(format!(
            "resume latency for {} of {} runs",
            resume_us.len(),
            accepted_ids.len()
        ));
    }

    // A sample of runs: the callback's body reached the Compose.
    for run in runs.iter().take(5) {
        let actions = engine.actions(WORKFLOW, &run.name).await?;
        let decision = actions.iter().find(|a| a.name == "Decision");
        let wait = actions.iter().find(|a| a.name == "Wait_for_approval");
        let ok = wait.is_some_and(|w| w.status == "Succeeded")
            && decision.is_some_and(|d| {
                d.status == "Succeeded" && d.outputs.as_ref() == Some(&json!("approve"))
            });
        if !ok {
            completed.fail(format!(
                "run {}: Decision is not \"approve\" after the callback",
                run.name
            ));
            break;
        }
    }
    // Owed unsubscribes go out from a worker; report how many arrived by now.
    tokio::time::sleep(Duration::from_millis(if ctx.quick { 200 } else { 1000 })).await;
    completed.extra("subscribe_calls", hooks.subscribes());
    completed.extra("unsubscribe_calls_seen", hooks.unsubscribes());

    let rss = ingest::peak_rss_kib(engines);
    for row in [&mut accepted, &mut completed, &mut resume, &mut acked] {
        row.peak_rss_kib = rss;
    }
    for row in [&mut accepted, &mut completed] {
        row.measure.push_str(suffix);
    }
    eprintln!(
        "webhook-action{suffix}: {} callbacks, resume p99 {:.2} ms (callback -> run end), {:.2} ms \
         (callback -> 200)",
        callbacks.len(),
        resume.latency_ms.map_or(f64::NAN, |l| l.p99),
        acked.latency_ms.map_or(f64::NAN, |l| l.p99)
    );
    Ok(vec![accepted, completed, resume, acked])
}
