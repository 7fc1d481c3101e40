//! `waiting`: N runs (default 100,000) parked on an HttpWebhook action whose service (the
//! local webhook service, [`Mode::Record`]) keeps the callback URLs without calling back.
//! Workflow: Request → HttpWebhook (`Wait_for_approval`) → Compose (`Decision`).
//!
//! 1. **Park**: N trigger POSTs (1 KiB, the load generator at `--concurrency`), then wait
//!    until the service holds N distinct callback URLs and the engine is idle (no CPU for a
//!    second: every subscribe response recorded, every write committed).
//! 2. **RSS per waiting run**: engine `VmRSS` after parking minus `VmRSS` before (engine idle
//!    with the workflow saved), ÷ N. Also the same after the restart (a fresh process that
//!    has every run pending): restarted `VmRSS` minus the first engine's idle `VmRSS`, ÷ N.
//! 3. **Restart with N pending**: `kill -9`, start `hookflow serve` again on the same data
//!    directory (on a new port: the callback URLs' signatures do not cover the host, so the
//!    harness points the recorded URLs at the new port, as a proxy with a stable public URL
//!    would): process spawn → listening line, → `/healthz` 200, → first callback accepted
//!    (`200`, polled every millisecond).
//! 4. **Resume**: the other N − 1 callbacks fired with the load generator, one URL per request,
//!    at `--callback-concurrency`: resumes/s (a `200` leaves only once the resume is durable)
//!    and latency; then completed runs/s (first callback → last run's `endTime`).
//! 5. **Correctness**: every callback `200`; a repeated callback gets `409`; `/api/waits`
//!    empty; the Succeeded runs (all pages of `runs?status=Succeeded`) are exactly the N
//!    parked runs, no run Failed or still Running.

use super::ingest;
use crate::{
    Ctx,
    engine::{Server, parse_time_ms},
    hooks::{Hooks, Mode},
    load::{self, LoadSpec},
    report::{Latency, Row},
};
use axum::body::Bytes;
use serde_json::{Value, json};
use std::{
    collections::HashSet,
    sync::Arc,
    time::{Duration, Instant, UNIX_EPOCH},
};

const WORKFLOW: &str = "waiting";

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

fn callback_body() -> Bytes {
    Bytes::from_static(br#"{"decision":"approve"}"#)
}

pub async fn run(ctx: &Ctx) -> anyhow::Result<Vec<Row>> {
    let n = ctx.waiting_runs;
    let parameters = format!(
        "N={n}, park c={}, callbacks c={}",
        ctx.concurrency, ctx.callback_concurrency
    );
    let hooks = Hooks::start(Mode::Record).await?;
    let engine = Server::start_engine(&ctx.engine)?;
    eprintln!(
        "waiting: engine pid {} on {}, webhook service on {}",
        engine.pid(),
        engine.base,
        hooks.base
    );
    engine.put_workflow(WORKFLOW, definition(&hooks)).await?;
    let trigger = engine.callback_url(WORKFLOW).await?;
    engine
        .wait_idle(Duration::from_millis(500), Duration::from_secs(10))
        .await;
    let rss_before = engine.rss_kib().unwrap_or(0);

    // 1. Park N runs.
    let long = Duration::from_secs(3600);
    let park = load::run(LoadSpec {
        label: "waiting: park".into(),
        urls: [trigger].into(),
        targets: None,
        body: ingest::body(),
        concurrency: ctx.concurrency,
        max_requests: n,
        max_duration: long,
        expect_status: 202,
        keep_header: Some(hookflow_api::RUN_ID_HEADER),
    })
    .await;
    let mut parked = Row::new("waiting", "park N runs (202 = durable)")
        .parameters(&parameters)
        .throughput(park.throughput(), "runs/s")
        .latency(Latency::of(&park.latencies_us));
    if park.failed > 0 || park.kept.len() as u64 != n {
        parked.fail(format!(
            "{} of {n} runs accepted with a run id ({:?}): {:?}",
            park.kept.len(),
            park.statuses,
            park.sample_errors
        ));
    }
    parked.vs_baseline = ctx.vs_baseline(park.throughput());
    let park_started = Instant::now() - park.elapsed;
    let timeout = Duration::from_secs(120).max(Duration::from_millis(n * 5));
    let subscribed = hooks.wait_for_urls(n as usize, timeout, "waiting").await;
    let all_subscribed = park_started.elapsed();
    let idle = engine
        .wait_idle(Duration::from_secs(1), Duration::from_secs(120))
        .await;
    let rss_parked = engine.rss_kib().unwrap_or(0);
    let peak_first = engine.peak_rss_kib();
    parked.peak_rss_kib = peak_first;
    parked.extra("accept_s", park.elapsed.as_secs_f64());
    parked.extra("all_subscribed_s", all_subscribed.as_secs_f64());
    parked.extra(
        "subscribed_runs_per_s",
        subscribed as f64 / all_subscribed.as_secs_f64(),
    );
    parked.extra("subscribe_calls", hooks.subscribes());
    parked = parked.note(format!(
        "all {subscribed} subscribed after {:.1} s ({:.0} runs/s)",
        all_subscribed.as_secs_f64(),
        subscribed as f64 / all_subscribed.as_secs_f64()
    ));
    if (subscribed as u64) < n {
        parked.fail(format!("only {subscribed} of {n} runs subscribed"));
    }
    if !idle {
        parked.fail("the engine did not get idle after parking");
    }
    // The oldest waits (the API lists at most 10,000): all there and Subscribed.
    let listed = engine
        .get_json(&format!("/api/workflows/{WORKFLOW}/waits?top=10000"))
        .await?;
    let waits = listed["value"].as_array().cloned().unwrap_or_default();
    let not_subscribed = waits
        .iter()
        .filter(|w| w["subscription"] != "Subscribed")
        .count();
    if waits.len() as u64 != n.min(10_000) || not_subscribed > 0 {
        parked.fail(format!(
            "/api/waits lists {} waits ({not_subscribed} not Subscribed), expected {}",
            waits.len(),
            n.min(10_000)
        ));
    }

    let per_run_bytes =
        |rss_kib: u64| (rss_kib.saturating_sub(rss_before) * 1024) as f64 / n as f64;
    let mut memory = Row::new("waiting", "RSS per waiting run")
        .parameters(&parameters)
        .throughput(per_run_bytes(rss_parked), "B/run")
        .rss(peak_first)
        .note(format!(
            "VmRSS {:.1} -> {:.1} MiB after parking",
            rss_before as f64 / 1024.0,
            rss_parked as f64 / 1024.0
        ));
    memory.extra("rss_before_kib", rss_before);
    memory.extra("rss_parked_kib", rss_parked);
    eprintln!(
        "waiting: {n} parked; VmRSS {rss_before} -> {rss_parked} KiB ({:.0} B/run)",
        per_run_bytes(rss_parked)
    );

    // 3. Restart with N pending.
    let old_base = engine.base.clone();
    let dir = engine.kill()?;
    let engine = Server::start_engine_in(&ctx.engine, dir, "127.0.0.1:0")?;
    let listening = engine.listening_after;
    let deadline = Instant::now() + Duration::from_secs(120);
    let healthz = loop {
        if let Ok(response) = engine.client.get(engine.url("/healthz")).send().await
            && response.status().is_success()
        {
            break engine.spawned.elapsed();
        }
        anyhow::ensure!(Instant::now() < deadline, "/healthz not 200 after restart");
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    let urls: Vec<String> = hooks
        .urls()
        .into_iter()
        .map(|u| u.replacen(&old_base, &engine.base, 1))
        .collect();
    anyhow::ensure!(!urls.is_empty(), "no callback URL recorded");
    let callback = json!({ "decision": "approve" });
    let (first_status, first_callback) = loop {
        match engine.post_json(&urls[0], &callback).await {
            Ok((status, _)) if status != 503 && status != 502 => {
                break (status, engine.spawned.elapsed());
            }
            _ => {}
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "first callback not answered after restart"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    let mut restart = Row::new("waiting", "restart with N pending")
        .parameters(&parameters)
        .throughput(healthz.as_secs_f64() * 1000.0, "ms to /healthz")
        .note(format!(
            "spawn -> listening {:.0} ms, -> /healthz 200 {:.0} ms, -> first callback 200 {:.0} ms",
            listening.as_secs_f64() * 1000.0,
            healthz.as_secs_f64() * 1000.0,
            first_callback.as_secs_f64() * 1000.0
        ));
    restart.extra("listening_ms", listening.as_secs_f64() * 1000.0);
    restart.extra("healthz_ms", healthz.as_secs_f64() * 1000.0);
    restart.extra("first_callback_ms", first_callback.as_secs_f64() * 1000.0);
    if first_status != 200 {
        restart.fail(format!("first callback after restart: {first_status}"));
    }
    engine
        .wait_idle(Duration::from_millis(500), Duration::from_secs(30))
        .await;
    let rss_restarted = engine.rss_kib().unwrap_or(0);
    restart.peak_rss_kib = engine.peak_rss_kib();
    restart.extra("rss_idle_kib", rss_restarted);
    memory.extra("rss_restarted_kib", rss_restarted);
    memory.extra("bytes_per_run_after_restart", per_run_bytes(rss_restarted));
    memory.note = format!(
        "{}; after restart {:.1} MiB ({:.0} B/run)",
        memory.note,
        rss_restarted as f64 / 1024.0,
        per_run_bytes(rss_restarted)
    );
    eprintln!(
        "waiting: restarted: listening {:.0} ms, /healthz {:.0} ms, first callback {:.0} ms; \
         VmRSS {rss_restarted} KiB",
        listening.as_secs_f64() * 1000.0,
        healthz.as_secs_f64() * 1000.0,
        first_callback.as_secs_f64() * 1000.0
    );

    // 4. Resume the other N − 1.
    let targets: Arc<[String]> = urls[1..].iter().cloned().collect();
    let expected = targets.len() as u64;
    let resumed = load::run(LoadSpec {
        label: "waiting: resume".into(),
        urls: [String::new()].into(),
        targets: Some(targets),
        body: callback_body(),
        concurrency: ctx.callback_concurrency,
        max_requests: u64::MAX,
        max_duration: long,
        expect_status: 200,
        keep_header: None,
    })
    .await;
    let resume_rps = resumed.throughput();
    let mut resume = Row::new("waiting", "resume N-1 callbacks (200 = durable)")
        .parameters(&parameters)
        .throughput(resume_rps, "resumes/s")
        .latency(Latency::of(&resumed.latencies_us));
    resume.vs_baseline = ctx.vs_baseline(resume_rps);
    resume.extra("callbacks", resumed.ok);
    if resumed.failed > 0 || resumed.ok != expected {
        resume.fail(format!(
            "{} of {expected} callbacks answered 200 ({:?}): {:?}",
            resumed.ok, resumed.statuses, resumed.sample_errors
        ));
    }
    eprintln!(
        "waiting: {} callbacks, {resume_rps:.0} resumes/s; waiting for the runs to end",
        resumed.ok
    );

    // 5. Every run ends Succeeded, once.
    let mut completed = Row::new("waiting", "resumed runs completed").parameters(&parameters);
    let waited = Instant::now();
    let timeout = Duration::from_secs(60).max(Duration::from_millis(n * 5));
    loop {
        let waits = engine.get_json("/api/waits?top=1").await?;
        let empty = waits["value"].as_array().is_none_or(Vec::is_empty);
        if empty && !engine.any_run(WORKFLOW, "Running").await? {
            break;
        }
        if waited.elapsed() > timeout {
            completed.fail(format!("waits or Running runs left after {timeout:?}"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for url in urls.iter().take(3) {
        let (status, _) = engine.post_json(url, &callback).await?;
        if status != 409 {
            completed.fail(format!("a repeated callback got {status}, not 409"));
            break;
        }
    }
    let succeeded = engine.list_runs(WORKFLOW, "Succeeded").await?;
    let failed = engine.list_runs(WORKFLOW, "Failed").await?;
    let parked_ids: HashSet<&str> = park.kept.iter().map(String::as_str).collect();
    let ids: HashSet<&str> = succeeded.iter().map(|r| r.name.as_str()).collect();
    let missing = parked_ids.iter().filter(|id| !ids.contains(*id)).count();
    if succeeded.len() != ids.len() || ids.len() != parked_ids.len() || missing > 0 {
        completed.fail(format!(
            "{} Succeeded runs ({} distinct) for {} parked; {missing} parked runs not Succeeded",
            succeeded.len(),
            ids.len(),
            parked_ids.len()
        ));
    }
    if !failed.is_empty() {
        completed.fail(format!("{} runs Failed", failed.len()));
    }
    let resume_start_ms = resumed
        .started_at
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as i64);
    let last_end = succeeded
        .iter()
        .filter_map(|r| parse_time_ms(r.end_time.as_deref()?))
        .max()
        .unwrap_or(resume_start_ms);
    let span_s = ((last_end - resume_start_ms) as f64 / 1000.0).max(1e-3);
    completed = completed
        .throughput(expected as f64 / span_s, "runs/s")
        .note("N-1 runs / (first callback sent -> last run's endTime)");
    completed.extra("succeeded", succeeded.len() as u64);
    completed.extra("first_callback_to_last_end_s", span_s);

    let peak = engine.peak_rss_kib();
    resume.peak_rss_kib = peak;
    completed.peak_rss_kib = peak;
    eprintln!(
        "waiting: {} Succeeded; {:.0} completed/s",
        succeeded.len(),
        expected as f64 / span_s
    );
    Ok(vec![parked, memory, restart, resume, completed])
}
