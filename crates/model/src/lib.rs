//! The workflow definition model: a WDL definition parsed into typed, validated form with every
//! expression compiled once.
//!
//! [`parse_definition`] takes the JSON a user sent and returns the [`Definition`] *and* every
//! problem found, each with the JSON path where it is (`actions.Send.runAfter.Missing: no such
//! action`), never just the first. A definition with errors is never run. Compiling once, here,
//! is what lets every run of a version share the same parsed expressions (durability.md §7).
//!
//! Pure: no IO, no clock.

mod definition;
mod diagnostic;
mod parameters;
mod parse;
mod recurrence;
mod validate;

pub use definition::*;
pub use diagnostic::{Diagnostic, Diagnostics};
pub use parameters::effective_parameters;
pub use parse::duration::parse_duration_ms;
pub use parse::signing::check_webhook_secret;
pub use parse::{WorkflowDocument, parse_definition, parse_workflow_document};
pub use recurrence::{Frequency, Recurrence, Schedule, StartTime};
