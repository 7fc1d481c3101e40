//! The `hookflow` binary: `serve` runs the engine; the other commands validate definitions
//! offline or talk to a running engine's management API.

mod client;
mod commands;
mod config;
mod store;
mod table;

use clap::{Parser, Subcommand};

/// jemalloc rather than glibc malloc: the engine allocates small, short-lived values on many
/// threads (and frees them on others), where glibc spent ~20% of the CPU under load, much of it
/// waiting on arena locks. mimalloc was faster still but kept ~100 MiB after a burst of parked
/// runs; jemalloc returns it (measured with the bench harness: docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// hookflow: a self-hosted workflow engine for Logic Apps definitions, started and resumed by
/// webhooks.
#[derive(Debug, Parser)]
#[command(name = "hookflow", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
#[expect(
    clippy::large_enum_variant,
    reason = "parsed once at start-up: boxing `serve`'s many flags would save nothing"
)]
enum Command {
    /// Run the engine (state in SQLite under the data directory).
    Serve(commands::serve::Args),
    /// Check a workflow file offline; exits non-zero listing every problem.
    Validate(commands::validate::Args),
    /// Evaluate an expression offline, optionally against a JSON context.
    Eval(commands::eval::Args),
    /// Create or update a workflow on a running engine from a file.
    Apply(commands::apply::Args),
    /// List the workflows of a running engine.
    Workflows(commands::workflows::Args),
    /// List the runs of a workflow, newest first.
    Runs(commands::runs::Args),
    /// Inspect one run.
    Run {
        #[command(subcommand)]
        command: commands::run::Command,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => commands::serve::run(args),
        Command::Validate(args) => commands::validate::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Apply(args) => commands::apply::run(args),
        Command::Workflows(args) => commands::workflows::run(args),
        Command::Runs(args) => commands::runs::run(args),
        Command::Run { command } => commands::run::run(command),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
