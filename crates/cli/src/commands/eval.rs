//! `hookflow eval EXPRESSION [--context FILE]`: evaluates a WDL expression offline and prints
//! the result as JSON; on an error prints the message (with its position) and exits non-zero.
//!
//! The expression is written as in a definition (`@add(1, 2)`, `Hello @{triggerBody()?.name}`)
//! or bare (`add(1, 2)`). The context file supplies what workflow functions read (`trigger`,
//! `actions`, `parameters`, `variables`, `now`, ...; see `hookflow_expr::StaticScope`).

use anyhow::Context as _;
use hookflow_expr::{StaticScope, Value, parse_expr, parse_template};
use std::hash::{BuildHasher, Hasher};
use std::{path::PathBuf, process::ExitCode};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The expression: a template (`@...`, text with `@{...}`) or a bare expression.
    expression: String,
    /// A JSON file with the data workflow functions read: {"trigger", "actions",
    /// "parameters", "variables", "now", ...}.
    #[arg(long)]
    context: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let context: Value = match &args.context {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not valid JSON", path.display()))?
        }
        None => Value::Null,
    };
    let scope = StaticScope::from_context(&context)
        .context("invalid context")?
        .with_default_now(std::time::SystemTime::now())
        .with_default_seed(random_seed());
    match evaluate(&args.expression, &scope) {
        Ok(value) => {
            println!("{}", serde_json::to_string_pretty(&value)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("error: {error}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Text that starts with `@` or holds `@{` is a template, as in a definition; anything else is
/// one bare expression.
fn evaluate(text: &str, scope: &StaticScope) -> Result<Value, hookflow_expr::Error> {
    if text.starts_with('@') || text.contains("@{") {
        parse_template(text)?.eval(scope)
    } else {
        parse_expr(text)?.eval(scope)
    }
}

/// Fresh bits for `guid()` and `rand()`: the standard library's per-process random hasher keys.
fn random_seed() -> u64 {
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}
