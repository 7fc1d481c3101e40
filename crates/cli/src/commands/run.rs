//! `hookflow run show NAME RUN`: one run and what each of its actions did.

use crate::{client::Remote, table};
use hookflow_api::{ActionResult, List, Run};
use serde_json::json;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Show a run and its actions.
    Show {
        /// The workflow.
        name: String,
        /// The run id.
        run: String,
        /// Print the API's JSON (the run with its actions) instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        remote: Remote,
    },
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    let Command::Show {
        name,
        run,
        json,
        remote,
    } = command;
    let base = format!("/api/workflows/{name}/runs/{run}");
    let (_, run_value): (u16, serde_json::Value) =
        remote.call(reqwest::Method::GET, &base, None)?;
    let (_, actions_value): (u16, serde_json::Value) =
        remote.call(reqwest::Method::GET, &format!("{base}/actions"), None)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({ "run": run_value, "actions": actions_value["value"] })
            )?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let run: Run = serde_json::from_value(run_value)?;
    let actions: List<ActionResult> = serde_json::from_value(actions_value)?;
    println!(
        "run {} of {} (version {})",
        run.name, run.workflow, run.version
    );
    println!(
        "status {}  started {}  ended {}",
        run.status,
        run.start_time,
        run.end_time.unwrap_or_default()
    );
    if let Some(error) = &run.error {
        println!("error {error}");
    }
    println!();
    let rows: Vec<Vec<String>> = actions
        .value
        .into_iter()
        .map(|a| {
            let error = a
                .error
                .as_ref()
                .and_then(|e| e.get("message"))
                .and_then(|m| m.as_str())
                .unwrap_or_default()
                .to_owned();
            vec![
                a.name,
                a.status,
                a.code.unwrap_or_default(),
                a.start_time.unwrap_or_default(),
                error,
            ]
        })
        .collect();
    table::print(&["ACTION", "STATUS", "CODE", "START", "ERROR"], &rows);
    Ok(ExitCode::SUCCESS)
}
