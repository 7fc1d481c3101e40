//! `webhook-action` (not available yet: the HttpWebhook action is being built). Will be
//! Request → HttpWebhook (a local service that calls the callback URL back at once) → Compose:
//! completed runs/s, and the resume latency (callback received → next action started, from the
//! Compose's startTime and the service's own timestamp of the callback), p99 target < 5 ms.

use crate::{Ctx, report::Row};

pub fn run(_ctx: &Ctx) -> Vec<Row> {
    vec![Row::not_available(
        "webhook-action",
        "completed runs/s, resume latency",
    )]
}
