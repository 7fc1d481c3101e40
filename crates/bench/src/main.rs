//! `hookflow-bench`: the benchmark harness of issue 7. Starts the real engine binary on a
//! fresh data directory per scenario, drives it over HTTP on 127.0.0.1 with its own load
//! generator, measures a bare-axum baseline in the same run, prints a table and writes JSON.
//!
//! ```sh
//! cargo build --release -p hookflow -p hookflow-bench
//! target/release/hookflow-bench all            # full figures (docs/benchmarks.md)
//! target/release/hookflow-bench all --quick    # CI: small counts, asserts correctness only
//! ```
//!
//! Exit status: 0 when every scenario completed correctly, 1 on a correctness failure,
//! 2 when the harness itself could not run (e.g. the engine binary is missing).

mod baseline;
mod engine;
mod hooks;
mod load;
mod report;
mod scenarios;

use clap::Parser;

use report::{Machine, Report, Row};
use std::{path::PathBuf, process::ExitCode, time::Duration};

/// The engine's allocator, so that the bare-axum baseline (served by this binary) is the
/// ceiling of the same stack.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Benchmarks hookflow against a bare-axum baseline (issue 7)."
)]
struct Args {
    /// Scenarios to run: all, or any of baseline, ingest, webhook-trigger, webhook-action,
    /// waiting, long-run, pg. The baseline always runs when a load scenario does.
    #[arg(default_value = "all", value_parser = clap::builder::PossibleValuesParser::new(
        ["all", "baseline", "ingest", "webhook-trigger", "webhook-action", "waiting", "long-run",
         "pg"]))]
    scenarios: Vec<String>,
    /// Small counts, well under a minute; asserts correctness, never speed.
    #[arg(long)]
    quick: bool,
    /// The hookflow binary [default: `hookflow` next to this binary].
    #[arg(long)]
    engine: Option<PathBuf>,
    /// Where to write the JSON results.
    #[arg(long, default_value = "target/bench-results.json")]
    out: PathBuf,
    /// Concurrent connections of the load generator [default: 64; quick: 16].
    #[arg(long)]
    concurrency: Option<usize>,
    /// Requests per load scenario at most [default: 200000; quick: 300].
    #[arg(long)]
    requests: Option<u64>,
    /// Seconds per load scenario at most [default: 10; quick: 5].
    #[arg(long)]
    duration: Option<u64>,
    /// Repetitions of each timed chain in long-run (the lowest is kept) [default: 30; quick: 3].
    #[arg(long)]
    reps: Option<usize>,
    /// Runs parked at once in `waiting` [default: 100000; quick: 500].
    #[arg(long)]
    waiting_runs: Option<u64>,
    /// Concurrent callbacks when `waiting` resumes its runs [default: 128; quick: 16].
    #[arg(long)]
    callback_concurrency: Option<usize>,
    /// PostgreSQL server for the `pg` scenario (`postgres://user@host:port/db`; each setup
    /// gets a fresh schema, dropped afterwards). Without it, `pg` is skipped.
    #[arg(long)]
    database_url: Option<String>,
    /// Internal: serve the baseline (the harness starts itself with this flag).
    #[arg(long, hide = true)]
    serve_baseline: bool,
}

/// What every scenario gets.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub engine: PathBuf,
    pub quick: bool,
    pub concurrency: usize,
    pub requests: u64,
    pub duration: Duration,
    pub reps: usize,
    pub waiting_runs: u64,
    pub callback_concurrency: usize,
    /// The baseline's req/s, once measured.
    pub baseline_rps: Option<f64>,
    /// The PostgreSQL server of the `pg` scenario.
    pub database_url: Option<String>,
}

impl Ctx {
    pub fn load_parameters(&self) -> String {
        format!(
            "c={} n<={} t<={}s 1KiB",
            self.concurrency,
            self.requests,
            self.duration.as_secs()
        )
    }

    /// `throughput / baseline`.
    pub fn vs_baseline(&self, throughput: f64) -> Option<f64> {
        self.baseline_rps
            .filter(|b| *b > 0.0)
            .map(|b| throughput / b)
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.serve_baseline {
        return match baseline::serve() {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("baseline server: {error:#}");
                ExitCode::from(2)
            }
        };
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("building the tokio runtime");
    match runtime.block_on(run(args)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("hookflow-bench: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let engine = match args.engine {
        Some(path) => path,
        None => std::env::current_exe()?.with_file_name("hookflow"),
    };
    anyhow::ensure!(
        engine.is_file(),
        "no engine binary at {} (build it: cargo build --release -p hookflow -p hookflow-bench, \
         or pass --engine PATH)",
        engine.display()
    );
    let quick = args.quick;
    let mut ctx = Ctx {
        engine: engine.clone(),
        quick,
        concurrency: args.concurrency.unwrap_or(if quick { 16 } else { 64 }),
        requests: args.requests.unwrap_or(if quick { 300 } else { 200_000 }),
        duration: Duration::from_secs(args.duration.unwrap_or(if quick { 5 } else { 10 })),
        reps: args.reps.unwrap_or(if quick { 3 } else { 30 }).max(1),
        waiting_runs: args
            .waiting_runs
            .unwrap_or(if quick { 500 } else { 100_000 })
            .max(2),
        callback_concurrency: args
            .callback_concurrency
            .unwrap_or(if quick { 16 } else { 128 })
            .max(1),
        baseline_rps: None,
        database_url: args.database_url,
    };
    let selected = scenarios::select(&args.scenarios);
    let machine = Machine::detect();
    eprintln!(
        "hookflow-bench: {} on {} cores ({}), engine {}",
        selected.join(", "),
        machine.cores,
        machine.cpu_model,
        engine.display()
    );

    let mut rows: Vec<Row> = Vec::new();
    for name in &selected {
        eprintln!("== {name}");
        let produced = match scenarios::run(name, &mut ctx).await {
            Ok(produced) => produced,
            Err(error) => {
                let mut row = Row::new(name, "-");
                row.fail(format!("{error:#}"));
                vec![row]
            }
        };
        for row in &produced {
            if row.failed() {
                eprintln!("   {} / {}: {}", row.scenario, row.measure, row.status);
            }
        }
        rows.extend(produced);
    }

    let report = Report {
        started: jiff::Timestamp::now().to_string(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        machine,
        bench_profile: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
        .into(),
        engine: engine.display().to_string(),
        quick,
        targets: report::verdicts(&rows, ctx.concurrency),
        rows,
    };
    report.print();
    report.write(&args.out)?;
    eprintln!("\nresults written to {}", args.out.display());
    let failures = report.rows.iter().filter(|r| r.failed()).count();
    if failures > 0 {
        eprintln!("{failures} scenario figure(s) FAILED their correctness checks");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
