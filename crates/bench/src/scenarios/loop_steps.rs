//! Part of `long-run`: long runs made of loop iterations, whose per-step cost must stay flat.
//!
//! - A sequential Foreach over 10,000 items (`range(0, N)`, a Compose per item).
//! - A 1,000-step run: an Until going round 1,000 times (an IncrementVariable per iteration),
//!   since a definition holds at most 500 actions.
//!
//! The engine runs at most a fixed number of actions per step (then goes on with a
//! `Continue` step), and a step reads the clock once, so the actions of one engine step share
//! one start time. Grouping the repetitions by start time gives the engine steps; the gap to
//! the next step's start is that step's cost (commit included; the last step, which also ends
//! the run, is left out). The figures compare the first quarter of the steps with the last
//! quarter, per step and per action, pooled over several runs. `--quick` runs smaller loops
//! once and checks results only.

use crate::{
    Ctx,
    engine::{Server, parse_time_ms},
    report::Row,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Runs of each loop shape in a full benchmark (see [`one`]).
const LOOP_REPS: usize = 5;

/// One row per shape.
pub async fn rows(ctx: &Ctx, engine: &Server) -> anyhow::Result<Vec<Row>> {
    let (items, rounds, reps) = if ctx.quick {
        (2_000, 600, 1)
    } else {
        (10_000, 1_000, LOOP_REPS)
    };
    let foreach = json!({
        "triggers": { "manual": { "type": "Request", "kind": "Http" } },
        "actions": {
            "Each": {
                "type": "Foreach",
                "foreach": format!("@range(0, {items})"),
                "runtimeConfiguration": { "concurrency": { "repetitions": 1 } },
                "actions": {
                    "Next": { "type": "Compose", "inputs": "@add(item(), 1)", "runAfter": {} }
                },
                "runAfter": {}
            }
        }
    });
    let until = json!({
        "triggers": { "manual": { "type": "Request", "kind": "Http" } },
        "actions": {
            "Init": {
                "type": "InitializeVariable",
                "inputs": { "variables": [{ "name": "n", "type": "integer", "value": 0 }] },
                "runAfter": {}
            },
            "Count": {
                "type": "Until",
                "expression": format!("@equals(variables('n'), {rounds})"),
                "limit": { "count": rounds, "timeout": "PT1H" },
                "actions": {
                    "Bump": { "type": "IncrementVariable", "inputs": { "name": "n", "value": 1 }, "runAfter": {} }
                },
                "runAfter": { "Init": ["Succeeded"] }
            }
        }
    });
    Ok(vec![
        one(
            engine,
            "loop-foreach",
            "Next",
            foreach,
            items,
            reps,
            &format!("Foreach over {items} items (sequential)"),
        )
        .await?,
        one(
            engine,
            "loop-until",
            "Bump",
            until,
            rounds,
            reps,
            &format!("{rounds}-step run (Until x {rounds})"),
        )
        .await?,
    ])
}

/// Runs one loop workflow `reps` times, checks every iteration of every run, and compares
/// the first quarter of each run's engine steps with the last quarter, pooled over the runs.
/// One run is not enough here: its steps last 1-3 ms, timestamps have ms resolution, and a
/// quarter of 40 steps is ten samples; pooling several runs shrinks that quantisation and this
/// machine's noise, while each run's early and late steps stay milliseconds apart.
async fn one(
    engine: &Server,
    workflow: &str,
    looped: &str,
    definition: Value,
    iterations: usize,
    reps: usize,
    label: &str,
) -> anyhow::Result<Row> {
    let runs = if reps == 1 {
        "1 run".to_owned()
    } else {
        format!("{reps} runs")
    };
    let mut row = Row::new("long-run", label).parameters(runs.clone());
    engine.put_workflow(workflow, definition).await?;
    let url = engine.callback_url(workflow).await?;
    let (mut early, mut late) = (Vec::new(), Vec::new());
    let (mut wall, mut engine_steps) = (Duration::ZERO, 0);
    for _ in 0..reps {
        let measured = match measure(engine, workflow, looped, &url, iterations, label).await? {
            Ok(measured) => measured,
            Err(failure) => {
                row.fail(failure);
                return Ok(row);
            }
        };
        let (mut steps, took) = measured;
        wall += took;
        engine_steps += steps.len();
        // The last step also ends the run, in the same step: its length is unknown.
        steps.pop();
        let quarter = (steps.len() / 4).max(1).min(steps.len());
        early.extend_from_slice(&steps[..quarter]);
        late.extend_from_slice(&steps[steps.len() - quarter..]);
    }
    row.extra("wall_ms", wall.as_secs_f64() * 1000.0);
    row.extra("engine_steps", engine_steps);
    let Some(((early_step, early_action), (late_step, late_action))) =
        cost(&early).zip(cost(&late))
    else {
        return Ok(row.note("too few steps to compare"));
    };
    row.extra("per_step_ms_early", early_step);
    row.extra("per_step_ms_late", late_step);
    row.extra("per_action_us_early", early_action);
    row.extra("per_action_us_late", late_action);
    row.extra("late_over_early", late_action / early_action);
    Ok(row
        .throughput((iterations * reps) as f64 / wall.as_secs_f64(), "actions/s")
        .note(format!(
            "{engine_steps} engine steps in {runs}; first quarters {early_step:.2} ms/step \
             ({early_action:.1} us/action) vs last quarters {late_step:.2} ms/step \
             ({late_action:.1} us/action): {:.2}x",
            late_action / early_action
        )))
}

/// One run of a loop workflow: its engine steps and the time from trigger to end seen, or why
/// it is wrong (not Succeeded, an iteration missing or failed, the wrong last output).
async fn measure(
    engine: &Server,
    workflow: &str,
    looped: &str,
    url: &str,
    iterations: usize,
    label: &str,
) -> anyhow::Result<Result<(Vec<(i64, usize)>, Duration), String>> {
    let sent = Instant::now();
    let response = engine.client.post(url).json(&json!({})).send().await?;
    let status = response.status().as_u16();
    let run_id = response
        .headers()
        .get(hookflow_api::RUN_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(run_id) = run_id.filter(|_| status == 202) else {
        return Ok(Err(format!("trigger answered {status}")));
    };
    let (run, seen) = engine
        .wait_for_end(
            workflow,
            &run_id,
            Duration::from_millis(5),
            Duration::from_secs(600),
        )
        .await?;
    let wall = seen - sent;
    eprintln!("long-run: {label}: {} in {wall:?}", run.status);
    if run.status != "Succeeded" {
        return Ok(Err(format!("run {run_id} {}: {:?}", run.status, run.error)));
    }
    let repetitions = engine
        .get_json(&format!(
            "/api/workflows/{workflow}/runs/{run_id}/actions/{looped}/repetitions"
        ))
        .await?;
    let repetitions = repetitions["value"].as_array().cloned().unwrap_or_default();
    let succeeded = repetitions
        .iter()
        .filter(|r| r["status"] == "Succeeded")
        .count();
    if repetitions.len() != iterations || succeeded != iterations {
        return Ok(Err(format!(
            "{} repetitions of {looped}, {succeeded} Succeeded (expected {iterations})",
            repetitions.len()
        )));
    }
    // Every iteration saw its own item (Foreach) or the count so far (Until): the last one
    // says the loop went round exactly `iterations` times, in order.
    let last_output = repetitions
        .last()
        .map(|r| match r["outputs"]["body"]["value"].clone() {
            Value::Null => r["outputs"].clone(),
            value => value,
        });
    if last_output != Some(json!(iterations)) {
        return Ok(Err(format!(
            "last iteration's output is {last_output:?}, expected {iterations}"
        )));
    }
    let mut starts: Vec<i64> = repetitions
        .iter()
        .filter_map(|r| r["startTime"].as_str().and_then(parse_time_ms))
        .collect();
    starts.sort_unstable();
    let end = run.end_time.as_deref().and_then(parse_time_ms);
    Ok(Ok((steps(&starts, end.unwrap_or_default()), wall)))
}

/// The engine steps of a loop as `(ms, actions)`: actions sharing a start time ran in one
/// step, which lasted until the next step's start (the last one until the run's end).
fn steps(starts: &[i64], end: i64) -> Vec<(i64, usize)> {
    let mut groups: Vec<(i64, usize)> = Vec::new();
    for &start in starts {
        match groups.last_mut() {
            Some((at, count)) if *at == start => *count += 1,
            _ => groups.push((start, 1)),
        }
    }
    let nexts: Vec<i64> = groups.iter().skip(1).map(|g| g.0).chain([end]).collect();
    groups
        .iter()
        .zip(nexts)
        .map(|(&(at, count), next)| (next - at, count))
        .collect()
}

/// Mean ms per step and us per action over some steps.
fn cost(steps: &[(i64, usize)]) -> Option<(f64, f64)> {
    let ms: i64 = steps.iter().map(|s| s.0).sum();
    let actions: usize = steps.iter().map(|s| s.1).sum();
    (!steps.is_empty() && actions > 0).then(|| {
        (
            ms as f64 / steps.len() as f64,
            ms as f64 * 1000.0 / actions as f64,
        )
    })
}
