//! One module per command.

pub mod apply;
pub mod eval;
pub mod run;
pub mod runs;
pub mod serve;
pub mod validate;
pub mod workflows;
