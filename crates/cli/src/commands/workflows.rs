//! `hookflow workflows`: the workflows of a running engine.

use crate::{client::Remote, table};
use hookflow_api::{List, Workflow};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the API's JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    remote: Remote,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (_, list): (u16, serde_json::Value) =
        args.remote
            .call(reqwest::Method::GET, "/api/workflows", None)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    let list: List<Workflow> = serde_json::from_value(list)?;
    let rows: Vec<Vec<String>> = list
        .value
        .into_iter()
        .map(|w| vec![w.name, w.state, w.version, w.changed_time])
        .collect();
    table::print(&["NAME", "STATE", "VERSION", "CHANGED"], &rows);
    Ok(ExitCode::SUCCESS)
}
