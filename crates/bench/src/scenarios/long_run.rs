//! `long-run`: does the cost of a step stay flat as a run grows?
//!
//! 1. One run of a 1,000-step Compose chain (step k = `@add(outputs(step k-1), 1)`, so the
//!    last output must be 1,000): it must Succeed with 1,000 Succeeded actions. Per-step cost
//!    is read from the actions' startTime/endTime over windows (steps 1–100 vs 901–1000).
//! 2. Because the engine runs every synchronous action of a chain inside one step with one
//!    clock reading, those timestamps are all equal; the per-step cost is therefore also
//!    measured from outside: chains of 0, 100, 900 and 1,000 Composes ending in a Response are
//!    called synchronously (the reply leaves after the step's commit), the lowest time of
//!    `--reps` calls is kept per length (noise — fsync, scheduling — only adds time; medians
//!    are in the JSON too), and cost per step over steps 1–100 is
//!    `(T(100) - T(0)) / 100`, over 901–1000 `(T(1000) - T(900)) / 100`.
//! 3. A Foreach over 10,000 items and a 1,000-step Until (`loop_steps`): per engine step,
//!    first quarter vs last quarter, pooled over five runs of each.
//!
//! A workflow holds at most 500 actions (Logic Apps' limit, enforced at save time), so a flat
//! chain cannot reach step 1,000: the chain is capped at the limit the engine reports (500
//! steps; 499 + Response for the timed chains) and the rows say so; part 3 reaches 1,000 steps
//! with loop iterations. The engine cuts a step at a fixed number of actions, so the chains of
//! part 2 span a few engine steps each.

use crate::{
    Ctx,
    engine::{Server, parse_time_ms},
    report::Row,
};
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};

const STEPS: usize = 1000;
const WINDOW: usize = 100;

fn step_name(k: usize) -> String {
    format!("Step_{k:04}")
}

/// trigger → Step_0001 … Step_{length}, each after and one more than the previous;
/// then a Response with the last output when `respond`.
fn chain(length: usize, respond: bool) -> Value {
    let mut actions = Map::new();
    for k in 1..=length {
        let (inputs, run_after) = if k == 1 {
            (json!(1), json!({}))
        } else {
            let prev = step_name(k - 1);
            (
                json!(format!("@add(outputs('{prev}'), 1)")),
                json!({ prev: ["Succeeded"] }),
            )
        };
        actions.insert(
            step_name(k),
            json!({ "type": "Compose", "inputs": inputs, "runAfter": run_after }),
        );
    }
    if respond {
        let (body, run_after) = match length {
            0 => (json!(0), json!({})),
            _ => (
                json!(format!("@outputs('{}')", step_name(length))),
                json!({ step_name(length): ["Succeeded"] }),
            ),
        };
        actions.insert(
            "Reply".into(),
            json!({
                "type": "Response",
                "inputs": { "statusCode": 200, "body": body },
                "runAfter": run_after
            }),
        );
    }
    json!({
        "triggers": { "manual": { "type": "Request", "kind": "Http" } },
        "actions": actions
    })
}

pub async fn run(ctx: &Ctx) -> anyhow::Result<Vec<Row>> {
    let engine = Server::start_engine(&ctx.engine)?;
    eprintln!("long-run: engine pid {} on {}", engine.pid(), engine.base);
    let steps = match engine.put_workflow("chain", chain(STEPS, false)).await {
        Ok(()) => STEPS,
        Err(error) => match action_limit(&format!("{error:#}")) {
            Some(limit) if limit > 2 * WINDOW => {
                eprintln!("long-run: the engine allows {limit} actions; chains capped at that");
                engine.put_workflow("chain", chain(limit, false)).await?;
                limit
            }
            _ => return Err(error),
        },
    };
    let mut rows = vec![one_long_run(&engine, steps).await?];
    rows.push(per_step_cost(ctx, &engine, steps).await?);
    let rss = engine.peak_rss_kib();
    for row in &mut rows {
        row.peak_rss_kib = rss;
    }
    rows.extend(super::loop_steps::rows(ctx, &engine).await?);
    Ok(rows)
}

/// `N` from the engine's "too many actions: M (at most N)".
fn action_limit(message: &str) -> Option<usize> {
    let (_, rest) = message.split_once("too many actions")?;
    let (_, rest) = rest.split_once("at most ")?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// How a row names a chain of `steps` (saying when the action limit capped it).
fn chain_label(steps: usize) -> String {
    if steps == STEPS {
        format!("{STEPS}-step Compose chain")
    } else {
        format!("{steps}-step Compose chain (capped: action limit)")
    }
}

/// Part 1: the long run (already saved as `chain`), checked action by action.
async fn one_long_run(engine: &Server, steps: usize) -> anyhow::Result<Row> {
    let workflow = "chain";
    let url = engine.callback_url(workflow).await?;
    let mut row = Row::new("long-run", &chain_label(steps)).parameters("1 run");
    let sent = Instant::now();
    let response = engine.client.post(&url).json(&json!({})).send().await?;
    let status = response.status().as_u16();
    let run_id = response
        .headers()
        .get(hookflow_api::RUN_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(run_id) = run_id.filter(|_| status == 202) else {
        row.fail(format!(
            "trigger answered {status}: {}",
            response.text().await?
        ));
        return Ok(row);
    };
    let (run, seen) = engine
        .wait_for_end(
            workflow,
            &run_id,
            Duration::from_millis(2),
            Duration::from_secs(120),
        )
        .await?;
    let wall = seen - sent;
    eprintln!("long-run: {steps}-step run {} in {wall:?}", run.status);
    if run.status != "Succeeded" {
        row.fail(format!("run {run_id} {}: {:?}", run.status, run.error));
    }
    let actions = engine.actions(workflow, &run_id).await?;
    let succeeded = actions.iter().filter(|a| a.status == "Succeeded").count();
    if actions.len() != steps || succeeded != steps {
        row.fail(format!(
            "{} actions, {succeeded} Succeeded (expected {steps})",
            actions.len()
        ));
    }
    let last = actions.iter().find(|a| a.name == step_name(steps));
    if last.and_then(|a| a.outputs.as_ref()) != Some(&json!(steps)) {
        row.fail(format!(
            "last step's output is {:?}, expected {steps}",
            last.and_then(|a| a.outputs.as_ref())
        ));
    }

    // Per-step cost from the actions' own times, over windows.
    let times = |k: usize| {
        actions.iter().find(|a| a.name == step_name(k)).map(|a| {
            (
                a.start_time.as_deref().and_then(parse_time_ms),
                a.end_time.as_deref().and_then(parse_time_ms),
            )
        })
    };
    let window_ms = |from: usize, to: usize| -> Option<f64> {
        let (start, _) = times(from)?;
        let (_, end) = times(to)?;
        Some((end? - start?) as f64 / (to - from + 1) as f64)
    };
    let early = window_ms(1, WINDOW);
    let late = window_ms(steps - WINDOW + 1, steps);
    let engine_ms = run
        .end_time
        .as_deref()
        .and_then(parse_time_ms)
        .zip(parse_time_ms(&run.start_time))
        .map(|(end, start)| end - start);
    row.extra("wall_ms", wall.as_secs_f64() * 1000.0);
    row.extra("run_start_to_end_ms", engine_ms);
    row.extra("timestamps_per_step_ms_early", early);
    row.extra("timestamps_per_step_ms_late", late);
    let note = match (early, late) {
        (Some(e), Some(l)) if e == 0.0 && l == 0.0 => {
            "action timestamps equal within each window (one engine step): see per-step row"
                .to_owned()
        }
        (Some(e), Some(l)) => format!(
            "timestamps: {e:.3} ms/step (1-{WINDOW}) vs {l:.3} ({}-{steps})",
            steps - WINDOW + 1
        ),
        _ => "actions lack times".to_owned(),
    };
    Ok(row
        .throughput(steps as f64 / wall.as_secs_f64(), "steps/s")
        .note(format!(
            "POST -> Succeeded seen: {:.1} ms; {note}",
            wall.as_secs_f64() * 1000.0
        )))
}

/// Part 2: per-step cost early and late in a run, from synchronous chains of several lengths.
async fn per_step_cost(ctx: &Ctx, engine: &Server, steps: usize) -> anyhow::Result<Row> {
    // The Response is one more action: keep within the limit when the chain was capped.
    let last = if steps == STEPS { STEPS } else { steps - 1 };
    let lengths = [0, WINDOW, last - WINDOW, last];
    let mut urls = Vec::new();
    for length in lengths {
        let name = format!("chain-{length}");
        engine.put_workflow(&name, chain(length, true)).await?;
        urls.push(engine.callback_url(&name).await?);
    }
    let mut row = Row::new("long-run", "per-step cost, early vs late").parameters(format!(
        "chains of {lengths:?} + Response, {} reps",
        ctx.reps
    ));
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); lengths.len()];
    // One warm-up call each (compiled-version cache, connections), then interleaved reps so
    // drift hits every length alike.
    for rep in 0..=ctx.reps {
        for (i, (length, url)) in lengths.iter().zip(&urls).enumerate() {
            let sent = Instant::now();
            let response = engine.client.post(url).json(&json!({})).send().await?;
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let ms = sent.elapsed().as_secs_f64() * 1000.0;
            if status != 200 || body != json!(length) {
                row.fail(format!("chain of {length}: {status} {body}"));
            }
            if rep > 0 {
                samples[i].push(ms);
            }
        }
        eprintln!("long-run: per-step reps {rep}/{}", ctx.reps);
    }
    let medians: Vec<f64> = samples.iter_mut().map(|s| median(s)).collect();
    let lowest: Vec<f64> = samples.iter().map(|s| s[0]).collect();
    let early_us = (lowest[1] - lowest[0]) / WINDOW as f64 * 1000.0;
    let late_us = (lowest[3] - lowest[2]) / WINDOW as f64 * 1000.0;
    let ratio = late_us / early_us;
    for ((length, median), low) in lengths.iter().zip(&medians).zip(&lowest) {
        row.extra(&format!("median_ms_chain_{length}"), *median);
        row.extra(&format!("lowest_ms_chain_{length}"), *low);
    }
    if early_us <= 0.0 || late_us <= 0.0 {
        // Noise larger than the windows' cost: no verdict (more --reps help).
        row.extra("unresolved", true);
        return Ok(row.note(format!(
            "unresolved: differences within noise ({early_us:.1} / {late_us:.1} us/step); \
             raise --reps"
        )));
    }
    row.extra("per_step_us_early", early_us);
    row.extra("per_step_us_late", late_us);
    row.extra("early_window", format!("1-{WINDOW}"));
    row.extra("late_window", format!("{}-{last}", last - WINDOW + 1));
    row.extra("late_over_early", ratio);
    Ok(row
        .throughput(1e6 / late_us.max(1e-3), "steps/s")
        .note(format!(
            "{early_us:.1} us/step (1-{WINDOW}) vs {late_us:.1} ({}-{last}): {ratio:.2}x; \
             T({last}) = {:.1} ms (lowest of {})",
            last - WINDOW + 1,
            lowest[3],
            ctx.reps
        )))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}
