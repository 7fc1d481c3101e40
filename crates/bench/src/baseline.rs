//! The baseline: a bare axum handler that reads the body and answers `202`, run as a child
//! process (this binary with `--serve-baseline`) so it is measured exactly like the engine —
//! its own process and tokio runtime, the same load generator — giving the ceiling of this
//! machine's HTTP stack. Also the scenario that measures it.

use crate::{
    Ctx,
    engine::Server,
    load::{self, LoadSpec},
    report::{Latency, Row},
};
use axum::{Router, body::Bytes, http::StatusCode, routing::post};

/// The child process: serve until killed. Prints `baseline listening on http://ADDR` first.
pub fn serve() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let app = Router::new().route("/", post(|_body: Bytes| async { StatusCode::ACCEPTED }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("baseline listening on http://{}", listener.local_addr()?);
        axum::serve(listener, app).await?;
        Ok(())
    })
}

/// Drives the baseline with the ingest load; its throughput is what the others are compared to.
/// `measure` names the measurement (the baseline is measured again after the scenarios whose
/// ratio to it matters: see `scenarios::bracketed`).
///
/// It runs for the load's whole duration, not until the request count is reached: the baseline
/// would reach it in a fifth of the time the engine takes, and a ratio of a 2 s window to a
/// 10 s one compares two different samples of this machine's drift.
pub async fn run(ctx: &Ctx, measure: &str) -> anyhow::Result<Row> {
    let server = Server::start_baseline()?;
    eprintln!("baseline: bare axum on {}", server.base);
    let result = load::run(LoadSpec {
        label: "baseline".into(),
        urls: [server.url("/")].into(),
        targets: None,
        body: crate::scenarios::ingest::body(),
        concurrency: ctx.concurrency,
        max_requests: if ctx.quick { ctx.requests } else { u64::MAX },
        max_duration: ctx.duration,
        expect_status: 202,
        keep_header: None,
    })
    .await;
    let mut row = Row::new("baseline", measure)
        .parameters(ctx.load_parameters())
        .throughput(result.throughput(), "req/s")
        .latency(Latency::of(&result.latencies_us))
        .rss(server.peak_rss_kib());
    row.extra("requests", result.ok);
    if result.failed > 0 {
        row.fail(format!(
            "{} of {} requests failed: {:?}",
            result.failed, result.sent, result.sample_errors
        ));
    }
    Ok(row)
}
