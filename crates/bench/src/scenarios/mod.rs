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

pub async fn run(name: &str, ctx: &mut Ctx) -> anyhow::Result<Vec<Row>> {
    match name {
        "baseline" => {
            let row = crate::baseline::run(ctx).await?;
            ctx.baseline_rps = row.throughput.filter(|_| !row.failed());
            Ok(vec![row])
        }
        "ingest" => ingest::run(ctx).await,
        "webhook-trigger" => webhook_trigger::run(ctx).await,
        "webhook-action" => webhook_action::run(ctx).await,
        "waiting" => waiting::run(ctx).await,
        "long-run" => long_run::run(ctx).await,
        "pg" => pg::run(ctx).await,
        other => anyhow::bail!("unknown scenario {other}"),
    }
}
