//! `webhook-trigger`: `ingest` through an HttpWebhook trigger's callback URL. Saving the
//! workflow (HttpWebhook trigger → Compose) subscribes to the local webhook service, which
//! records the callback URL it is given; the load generator then POSTs 1 KiB JSON bodies to
//! that URL. Figures as for `ingest`: accepted runs/s (`202` = durable) with client latency,
//! completed runs/s with each run's start → end time, peak RSS, ratio to the baseline.
//! Correctness: exactly one subscribe, every `202`'s run Succeeded, none Failed.

use super::ingest;
use crate::{
    Ctx,
    engine::Server,
    hooks::{Hooks, Mode},
    report::Row,
};
use serde_json::{Value, json};

const WORKFLOW: &str = "webhook-trigger";

fn definition(hooks: &Hooks) -> Value {
    json!({
        "triggers": {
            "On_event": { "type": "HttpWebhook", "inputs": hooks.webhook_inputs() }
        },
        "actions": {
            "Compose": {
                "type": "Compose",
                "inputs": { "id": "@triggerBody()?['id']", "kind": "@triggerBody()?['kind']" },
                "runAfter": {}
            }
        }
    })
}

pub async fn run(ctx: &Ctx) -> anyhow::Result<Vec<Row>> {
    let hooks = Hooks::start(Mode::Record).await?;
    let engine = Server::start_engine(&ctx.engine)?;
    eprintln!(
        "webhook-trigger: engine pid {} on {}, webhook service on {}",
        engine.pid(),
        engine.base,
        hooks.base
    );
    // Saving subscribes (before the PUT is answered).
    engine.put_workflow(WORKFLOW, definition(&hooks)).await?;
    let urls = hooks.urls();
    let [url] = urls.as_slice() else {
        anyhow::bail!(
            "expected one subscription with a callback URL on save, the service got {} \
             ({} subscribe calls)",
            urls.len(),
            hooks.subscribes()
        );
    };

    let engines = std::slice::from_ref(&engine);
    let cpu_start = ingest::cpu_ticks(engines);
    let (mut accepted, result) = ingest::accept(ctx, "webhook-trigger", vec![url.clone()]).await;
    let (mut completed, _) = ingest::completion(
        engines,
        ctx,
        "webhook-trigger",
        WORKFLOW,
        &result,
        cpu_start,
    )
    .await?;
    if hooks.subscribes() != 1 {
        completed.fail(format!(
            "{} subscribe calls for one trigger",
            hooks.subscribes()
        ));
    }
    completed.extra("subscribe_calls", hooks.subscribes());
    let rss = engine.peak_rss_kib();
    accepted.peak_rss_kib = rss;
    completed.peak_rss_kib = rss;
    Ok(vec![accepted, completed])
}
