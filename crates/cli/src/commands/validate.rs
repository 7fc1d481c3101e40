//! `hookflow validate FILE`: offline; every problem listed, non-zero exit when any.

use std::{path::PathBuf, process::ExitCode};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A workflow document (`{"definition": ...}`) or a bare definition.
    file: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let document = super::apply::read_document(&args.file)?;
    match hookflow_model::parse_workflow_document(&document) {
        Ok(_) => {
            println!("{}: valid", args.file.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(diagnostics) => {
            eprintln!(
                "{}: {} problem(s)",
                args.file.display(),
                diagnostics.0.len()
            );
            for diagnostic in &diagnostics.0 {
                eprintln!("  {diagnostic}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}
