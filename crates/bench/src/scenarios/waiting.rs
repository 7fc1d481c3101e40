//! `waiting` (not available yet: needs the HttpWebhook action). Will park N runs (default
//! 100,000) on an HttpWebhook action whose service keeps the callback URLs, then: engine RSS
//! per waiting run (VmRSS after / N), restart with all N pending (kill, start, time to the
//! listening line and a first successful API call), and all N callbacks fired concurrently
//! with the load generator: resumes/s until every run Succeeded.

use crate::{Ctx, report::Row};

pub fn run(_ctx: &Ctx) -> Vec<Row> {
    vec![Row::not_available(
        "waiting",
        "RSS/run, restart time, resumes/s",
    )]
}
