//! Micro-benchmark of the group-committing writer: 64 tasks creating runs as fast as they
//! can, under `synchronous = FULL` and `NORMAL`. Prints runs per second and the mean batch.
//!
//! `cargo run --release -p hookflow-store-sqlite --example create_runs [runs-per-task]`
//! (the database goes to the system temporary directory: put it on the disk you care about
//! with `TMPDIR`).

use hookflow_engine::RunStatus;
use hookflow_store::{NewRun, RunRecord, SaveWorkflow, Store};
use hookflow_store_sqlite::{SqliteOptions, SqliteStore};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

const TASKS: usize = 64;

#[tokio::main]
async fn main() {
    let per_task: usize = std::env::args()
        .nth(1)
        .map_or(200, |arg| arg.parse().unwrap());
    for synchronous_full in [true, false] {
        let options = SqliteOptions {
            synchronous_full,
            ..SqliteOptions::default()
        };
        let store = Arc::new(SqliteStore::open_temporary(options).unwrap());
        store.save_workflow(save()).await.unwrap();
        let before = store.stats();

        let started = Instant::now();
        let tasks: Vec<_> = (0..TASKS)
            .map(|task| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    for i in 0..per_task {
                        store
                            .create_run(new_run(format!("run-{task}-{i}")))
                            .await
                            .unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let elapsed = started.elapsed().as_secs_f64();

        let stats = store.stats();
        let runs = (TASKS * per_task) as f64;
        let batches = (stats.batches - before.batches) as f64;
        println!(
            "synchronous={}: {runs} create_run in {elapsed:.2} s = {:.0}/s, {batches} commits, \
             {:.1} runs per commit",
            if synchronous_full { "FULL" } else { "NORMAL" },
            runs / elapsed,
            runs / batches,
        );
    }
}

fn save() -> SaveWorkflow {
    SaveWorkflow {
        name: "bench".into(),
        version_id: "bench-1".into(),
        document: json!({"definition": {}, "parameters": {}}),
        enabled: true,
        now: 0,
        primary_key: "pk".into(),
        secondary_key: "sk".into(),
    }
}

fn new_run(id: String) -> NewRun {
    NewRun {
        first_event: hookflow_store::json_text(&json!({"start": {"body": {"orderId": 42}}})),
        started: None,
        run: RunRecord {
            id,
            workflow: "bench".into(),
            version_id: "bench-1".into(),
            trigger_name: "manual".into(),
            status: RunStatus::Running,
            start_time: 1_700_000_000_000,
            end_time: None,
            trigger: json!({"name": "manual", "outputs": {"body": {"orderId": 42}}}).into(),
            outputs: None,
            error: None,
            variables: None,
            seq: 0,
        },
    }
}
