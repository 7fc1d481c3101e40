//! The bounds that keep evaluation of user-written expressions cheap and predictable.
//!
//! Expressions arrive through the API, so every dimension a hostile input could blow up (text
//! length, nesting, work, result size) has a hard cap; exceeding one is an `ErrorKind::Limit`.
//! XML has its own caps in `xml/` (no DTDs, 1,000,000 nodes, 256 levels for the recursive
//! conversions, a step budget for XPath).

/// Longest expression text accepted, in characters (the documented WDL limit).
pub const MAX_EXPRESSION_CHARS: usize = 8_192;

/// Deepest nesting of the syntax tree (calls, array literals, member accesses).
pub const MAX_PARSE_DEPTH: usize = 64;

/// Syntax-tree nodes one evaluation may visit. Generous for real expressions, small enough that a
/// runaway evaluation ends in milliseconds.
pub const MAX_FUEL: u64 = 100_000;

/// Largest string (in bytes) or array (in items) any function may produce. The documented limit
/// for `concat`/`join` results is 104,857,600 characters; we apply it to every result.
///
/// Decision: the limits page also lists a 131,072-character "evaluation result" limit for
/// `concat`, `base64` and `string`, which contradicts those functions' own reference (104,857,600
/// for `concat`). We do not enforce the smaller number: a stricter limit here could only break
/// a workflow that runs in Azure, while memory stays bounded by this cap and by the
/// per-evaluation total (twice this) in `eval.rs`.
pub const MAX_RESULT_BYTES: usize = 104_857_600;

/// Largest `count` accepted by `range()` (documented limit).
pub const MAX_RANGE_COUNT: i64 = 100_000;
