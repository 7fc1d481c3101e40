//! The scenarios of issue 7, one module each, in the order they run. A scenario returns one
//! [`Row`] per figure (a figure whose engine feature has not landed is a "not available yet"
//! row).

pub mod ingest;
pub mod long_run;
pub mod loop_steps;
pub mod pg;
pub mod waiting;
pub mod webhook_action;
pub mod webhook_trigger;

use crate::{Ctx, report::Row};

/// Every scenario, in running order (the baseline first: the others are ratios to it).
pub const ALL: [&str; 7] = [
    "baseline",
    "ingest",
    "webhook-trigger",
    "webhook-action",
    "waiting",
    "long-run",
    "pg",
];

/// Scenarios compared with the baseline: selecting one selects the baseline too.
const NEEDS_BASELINE: [&str; 5] = [
    "ingest",
    "webhook-trigger",
    "webhook-action",
    "waiting",
    "pg",
];

/// The scenarios to run for the names given on the command line, in running order.
pub fn select(names: &[String]) -> Vec<&'static str> {
    let all = names.iter().any(|n| n == "all");
    let wanted = |s: &str| all || names.iter().any(|n| n == s);
    let baseline = wanted("baseline") || NEEDS_BASELINE.iter().any(|s| wanted(s));
    ALL.into_iter()
        .filter(|s| {
            if *s == "baseline" {
                baseline
            } else {
                wanted(s)
            }
        })
        .collect()
}

/// The baseline row's measure.
pub const BASELINE: &str = "bare axum 202";

/// Measures the baseline again right after `scenario` and compares the scenario's rows with the
/// mean of the two baselines around it. This machine's speed drifts (the baseline moved 26%
/// between two runs minutes apart): a ratio to a baseline measured just before and just after
/// the scenario inherits much less of that drift than one to a single measurement made
/// before every scenario. The new measurement is the next scenario's "before".
async fn bracketed(ctx: &mut Ctx, scenario: &str, mut rows: Vec<Row>) -> anyhow::Result<Vec<Row>> {
    let before = ctx.baseline_rps;
    let again = crate::baseline::run(ctx, &format!("{BASELINE}, after {scenario}")).await?;
    let after = again.throughput.filter(|_| !again.failed());
    if let (Some(before), Some(after)) = (before, after) {
        let around = (before + after) / 2.0;
        for row in rows.iter_mut().filter(|row| row.vs_baseline.is_some()) {
            row.vs_baseline = row.throughput.map(|t| t / around);
            row.extra("baseline_around_rps", around.round());
        }
    }
    ctx.baseline_rps = after.or(before);
    rows.push(again);
    Ok(rows)
}

pub async fn run(name: &str, ctx: &mut Ctx) -> anyhow::Result<Vec<Row>> {
    match name {
        "baseline" => {
            let row = crate::baseline::run(ctx, BASELINE).await?;
            ctx.baseline_rps = row.throughput.filter(|_| !row.failed());
            Ok(vec![row])
        }
        "ingest" => {
            let rows = ingest::run(ctx).await?;
            bracketed(ctx, "ingest", rows).await
        }
        "webhook-trigger" => {
            let rows = webhook_trigger::run(ctx).await?;
            bracketed(ctx, "webhook-trigger", rows).await
        }
        "webhook-action" => webhook_action::run(ctx).await,
        "waiting" => waiting::run(ctx).await,
        "long-run" => long_run::run(ctx).await,
        "pg" => pg::run(ctx).await,
        other => anyhow::bail!("unknown scenario {other}"),
    }
}
