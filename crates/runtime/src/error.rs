//! Errors of runtime operations, kinds the HTTP layer maps to statuses.

use hookflow_model::Diagnostics;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The definition or request is invalid; every problem is listed.
    #[error("{0}")]
    Invalid(Diagnostics),
    /// A request that is well-formed but not acceptable (`BadRequest`).
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// The callback URL's signature is missing or wrong.
    #[error("the request's signature is missing or invalid")]
    Unauthorized,
    /// A callback failed its Standard Webhooks verification (`callbackVerification`).
    #[error("the webhook signature was rejected: {0}")]
    SignatureRejected(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The operation conflicts with the current state (e.g. cancelling a finished run).
    #[error("{0}")]
    Conflict(String),
    /// A webhook trigger's subscribe call failed: the change that needed it was not made.
    #[error("subscribing trigger '{trigger}' failed: {message}")]
    SubscribeFailed {
        trigger: String,
        status: Option<u16>,
        body: serde_json::Value,
        message: String,
    },
    #[error(transparent)]
    Store(#[from] hookflow_store::Error),
    /// A fault of the engine itself (a stored document that no longer parses, ...).
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
