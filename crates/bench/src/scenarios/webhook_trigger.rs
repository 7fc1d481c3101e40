//! `webhook-trigger` (not available yet: the HttpWebhook trigger is being built). Will be
//! `ingest` through an HttpWebhook trigger's callback URL: subscribe the workflow (the local
//! service records the callback URL), then POST 1 KiB bodies to it with the load generator;
//! accepted and completed runs/s, latency, peak RSS, ratio to the baseline.

use crate::{Ctx, report::Row};

pub fn run(_ctx: &Ctx) -> Vec<Row> {
    vec![Row::not_available(
        "webhook-trigger",
        "accepted / completed",
    )]
}
