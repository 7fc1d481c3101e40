//! Expression errors: a kind, a message a user can act on, and where in the text it happened.

/// Byte range in the expression text (the text after `@` or inside `@{}`), for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// What went wrong, coarse enough for callers to branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text is not a valid expression (parse time).
    Syntax,
    /// A function that does not exist (parse time).
    UnknownFunction,
    /// A function called with the wrong number of arguments (parse time).
    Arity,
    /// An argument of the wrong type or value (evaluation time).
    InvalidArgument,
    /// Property or index access on something that has no such member, without `?`.
    InvalidAccess,
    /// A workflow function that this scope cannot answer (e.g. `triggerBody()` at validation).
    NotAvailable,
    /// Fuel, recursion or size limit exceeded.
    Limit,
}

/// An expression error. `Display` gives the message with the function and position, ready to
/// show in an action's error (`code: InvalidTemplate`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub span: Option<Span>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error without a position yet; the evaluator adds the span of the call it came from.
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            span: None,
        }
    }

    pub(crate) fn syntax(span: Span, message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Syntax,
            message: message.into(),
            span: Some(span),
        }
    }

    /// A function argument of the wrong type or value.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    pub(crate) fn limit(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Limit, message)
    }
}
