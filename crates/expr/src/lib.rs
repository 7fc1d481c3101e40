//! The expression language of the Workflow Definition Language (WDL).
//!
//! A JSON string in a definition is a [`Template`]: a literal, a whole expression (`"@add(1, 2)"`,
//! which keeps its JSON type) or text with `@{...}` interpolations (always a string). The text of
//! an expression is parsed once into an [`Expr`] and evaluated many times against a [`Scope`],
//! which is where workflow functions (`triggerBody()`, `body('x')`, `parameters('p')`, ...) get
//! their data. Values are `serde_json::Value`s: WDL values are JSON values, and serde_json keeps
//! integers and floats apart, which `div(11, 5)` = 2 needs.
//!
//! This crate does no IO and reads no clock: `utcNow()`, `guid()` and `rand()` ask the [`Scope`].
//! Evaluation is bounded (recursion depth, fuel, result sizes) because expressions come from API
//! users.
//!
//! Pipeline: [`lexer`] turns text into tokens, [`parser`] builds the [`ast`] (resolving function
//! names against the table in [`functions`] so unknown names and wrong arities fail at parse
//! time), and [`eval`] walks the tree. [`template`] is the JSON-facing layer on top.
//!
//! Binary and typed content travels as content envelopes (`{"$content-type", "$content"}`,
//! [`content`]); [`xml`] holds the XML conversions and the XPath evaluator. [`StaticScope`] is a
//! scope over fixed JSON data, for `hookflow eval` and tests.

mod ast;
mod content;
mod decimal;
mod error;
mod eval;
mod functions;
mod lexer;
mod limits;
mod multipart;
mod parser;
mod scope;
mod static_scope;
mod template;
mod value;
mod xml;

pub use error::{Error, ErrorKind, Result, Span};
pub use functions::{
    FunctionInfo, call_function, function_info, function_names, windows_time_zone,
};
pub use limits::{
    MAX_EXPRESSION_CHARS, MAX_FUEL, MAX_PARSE_DEPTH, MAX_RANGE_COUNT, MAX_RESULT_BYTES,
};
pub use scope::Scope;
pub use serde_json::Value;
pub use static_scope::StaticScope;
pub use template::{
    CompiledValue, Expr, Segment, Template, compile_value, parse_expr, parse_template,
};
pub use value::to_text;
