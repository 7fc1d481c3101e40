//! Effects: what the engine asks the runtime to do after a step is committed. `Http` and
//! `Subscribe` effects are persisted in the outbox (intent before effect) and carried out at least once; their
//! outcome comes back as [`crate::Event::HttpCompleted`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Effect {
    /// Make an outbound HTTP call for `action`.
    Http {
        action: String,
        request: HttpRequest,
    },
    /// Call a webhook action's subscribe, retrying per `retry`; the outcome comes back as
    /// [`crate::Event::SubscribeCompleted`].
    Subscribe {
        action: String,
        request: HttpRequest,
        retry: crate::RetryPolicy,
    },
    /// Answer the request that started the run (a Response action). Not persisted: the
    /// caller's connection lives only in the process that accepted it; the response is also in
    /// the action's history.
    Respond {
        action: String,
        response: ResponseMessage,
    },
}

/// An outbound request, fully evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpRequest {
    /// Upper-case method.
    pub method: String,
    /// Absolute URL, `queries` already appended.
    pub uri: String,
    pub headers: Vec<(String, String)>,
    /// `None`: no body. A JSON string is sent as text; anything else as JSON.
    pub body: Option<Value>,
    /// Total time allowed for the call (`limit.timeout` or the engine default).
    pub timeout_ms: Option<u64>,
    /// Stable across retries and re-executions after a crash, sent as a header so services can
    /// deduplicate (outbound calls are at-least-once).
    pub idempotency_key: String,
}

/// What a Response action answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseMessage {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}
