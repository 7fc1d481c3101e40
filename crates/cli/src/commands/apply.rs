//! `hookflow apply FILE --name NAME`: create or update a workflow on a running engine.

use crate::client::Remote;
use anyhow::Context;
use hookflow_api::Workflow;
use serde_json::{Value, json};
use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A workflow document (`{"definition": ..., "parameters": ...}`) or a bare definition.
    file: PathBuf,
    /// The workflow's name [default: the file name without extension].
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    remote: Remote,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let document = read_document(&args.file)?;
    let name = match args.name {
        Some(name) => name,
        None => args
            .file
            .file_stem()
            .and_then(|s| s.to_str())
            .context("cannot derive a name from the file; pass --name")?
            .to_owned(),
    };
    let (status, workflow): (u16, Workflow) = args.remote.call(
        reqwest::Method::PUT,
        &format!("/api/workflows/{name}"),
        Some(&document),
    )?;
    let verb = if status == 201 { "created" } else { "updated" };
    println!(
        "{verb} workflow {} (version {}, {})",
        workflow.name, workflow.version, workflow.state
    );
    Ok(ExitCode::SUCCESS)
}

/// Reads a JSON file; a bare definition (with `triggers` or `actions` at the top) is wrapped
/// as `{"definition": ...}`.
pub fn read_document(file: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let value: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", file.display()))?;
    let is_bare_definition = value.get("definition").is_none()
        && value.get("properties").is_none()
        && (value.get("triggers").is_some() || value.get("actions").is_some());
    Ok(if is_bare_definition {
        json!({ "definition": value })
    } else {
        value
    })
}
