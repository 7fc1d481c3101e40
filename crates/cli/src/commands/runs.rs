//! `hookflow runs NAME`: a workflow's runs, newest first.

use crate::{client::Remote, table};
use hookflow_api::{List, Run};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The workflow.
    name: String,
    /// Only runs with this status (Running, Succeeded, Failed, Cancelled, TimedOut).
    #[arg(long)]
    status: Option<String>,
    /// How many runs at most.
    #[arg(long, default_value_t = 50)]
    top: u32,
    /// Print the API's JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    remote: Remote,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut path = format!("/api/workflows/{}/runs?top={}", args.name, args.top);
    if let Some(status) = &args.status {
        path.push_str(&format!("&status={status}"));
    }
    let (_, list): (u16, serde_json::Value) =
        args.remote.call(reqwest::Method::GET, &path, None)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    let list: List<Run> = serde_json::from_value(list)?;
    let rows: Vec<Vec<String>> = list
        .value
        .into_iter()
        .map(|r| {
            vec![
                r.name,
                r.status,
                r.start_time,
                r.end_time.unwrap_or_default(),
            ]
        })
        .collect();
    table::print(&["RUN", "STATUS", "START", "END"], &rows);
    Ok(ExitCode::SUCCESS)
}
