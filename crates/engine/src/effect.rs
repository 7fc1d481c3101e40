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
        /// Set when this call polls an asynchronous operation (a `202` with `Location`): the
        /// call is due only after the service's `Retry-After` (or the engine's default) has
        /// passed. Absent in effects stored before polling existed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        poll: Option<Poll>,
        /// Set when this call retries a failed attempt (the action's `retryPolicy`): the call
        /// is due at `due_at`, not before. Absent in effects stored before retries existed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry: Option<Retry>,
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
    /// Authentication the runtime resolves before sending (a client certificate, a token to
    /// fetch). Basic and Raw are plain `Authorization` headers instead. Absent in effects
    /// stored before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<OutboundAuth>,
    /// How the runtime signs the request as sent (a hookflow extension: `inputs.signing`).
    /// Absent in effects stored before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing: Option<OutboundSigning>,
}

/// A signature the runtime adds over the request's bytes as sent. The secret travels like
/// `OutboundAuth`'s: to the runtime, never into history, logs or `Debug`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum OutboundSigning {
    /// Standard Webhooks v1: `webhook-id` (the request's idempotency key, stable across
    /// attempts), `webhook-timestamp` (the attempt's time) and `webhook-signature`.
    StandardWebhooks {
        /// `whsec_<base64 key>`, checked when the request was built.
        secret: String,
    },
}

impl OutboundSigning {
    /// The type's name as definitions spell it.
    pub fn type_name(&self) -> &'static str {
        match self {
            OutboundSigning::StandardWebhooks { .. } => "StandardWebhooks",
        }
    }
}

impl std::fmt::Debug for OutboundSigning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(self.type_name()).finish_non_exhaustive()
    }
}

/// When a poll of an asynchronous operation is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Poll {
    /// When the `202` was handled (Unix ms): the wait counts from here.
    pub requested_at: i64,
    /// The service's `Retry-After`, in milliseconds; `None`: the engine's default interval.
    pub retry_after_ms: Option<u64>,
    /// When the whole operation times out (Unix ms): the poll is never due later, so its
    /// answer can end the action then. Absent in effects stored before deadlines existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<i64>,
}

/// A retry of an Http action's call, decided by the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Retry {
    /// Which retry this is (1 for the second attempt).
    pub number: u32,
    /// When the retry is due (Unix ms): the policy's delay (or the service's `Retry-After`)
    /// after the failed attempt was handled.
    pub due_at: i64,
}

impl Effect {
    /// The earliest time (Unix ms) this effect may be carried out, given the engine's default
    /// and minimum poll intervals; `None`: at once.
    pub fn not_before(&self, default_poll_ms: u64, min_poll_ms: u64) -> Option<i64> {
        if let Effect::Http {
            retry: Some(retry), ..
        } = self
        {
            return Some(retry.due_at);
        }
        let Effect::Http {
            poll: Some(poll), ..
        } = self
        else {
            return None;
        };
        let wait = poll
            .retry_after_ms
            .unwrap_or(default_poll_ms)
            .max(min_poll_ms);
        let due = poll
            .requested_at
            .saturating_add(i64::try_from(wait).unwrap_or(i64::MAX));
        Some(poll.deadline.map_or(due, |deadline| due.min(deadline)))
    }
}

/// Authentication that needs the outbound client: secrets travel with the request to the
/// runtime (the outbox is the engine's own store) but never into history, logs or `Debug`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum OutboundAuth {
    /// Mutual TLS with a PKCS#12 client certificate.
    ClientCertificate {
        /// The PFX file, base64.
        pfx: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password: Option<String>,
    },
    /// An OAuth 2.0 client-credentials token from Microsoft Entra ID (or a compatible
    /// authority), sent as `Authorization: Bearer`.
    ActiveDirectoryOAuth {
        /// `None`: the engine's configured authority.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authority: Option<String>,
        tenant: String,
        audience: String,
        #[serde(rename = "clientId")]
        client_id: String,
        secret: String,
    },
    /// ActiveDirectoryOAuth with a certificate credential: the client-credentials grant
    /// authenticates with a client assertion (a JWT signed with the PFX's private key).
    ActiveDirectoryOAuthCertificate {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authority: Option<String>,
        tenant: String,
        audience: String,
        #[serde(rename = "clientId")]
        client_id: String,
        /// The PFX file, base64.
        pfx: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password: Option<String>,
    },
    /// A token for `audience` from the engine's managed identity endpoint.
    ManagedServiceIdentity {
        audience: String,
        /// A user-assigned identity's resource id; `None`: the system-assigned one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        identity: Option<String>,
    },
}

impl OutboundAuth {
    /// The type's name as definitions spell it.
    pub fn type_name(&self) -> &'static str {
        match self {
            OutboundAuth::ClientCertificate { .. } => "ClientCertificate",
            OutboundAuth::ActiveDirectoryOAuth { .. }
            | OutboundAuth::ActiveDirectoryOAuthCertificate { .. } => "ActiveDirectoryOAuth",
            OutboundAuth::ManagedServiceIdentity { .. } => "ManagedServiceIdentity",
        }
    }
}

/// Only what is not secret: requests are logged with `{:?}` in places.
impl std::fmt::Debug for OutboundAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutboundAuth::ClientCertificate { .. } => {
                f.debug_struct("ClientCertificate").finish_non_exhaustive()
            }
            OutboundAuth::ActiveDirectoryOAuth {
                authority,
                tenant,
                audience,
                client_id,
                ..
            }
            | OutboundAuth::ActiveDirectoryOAuthCertificate {
                authority,
                tenant,
                audience,
                client_id,
                ..
            } => f
                .debug_struct("ActiveDirectoryOAuth")
                .field("authority", authority)
                .field("tenant", tenant)
                .field("audience", audience)
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            OutboundAuth::ManagedServiceIdentity { audience, identity } => f
                .debug_struct("ManagedServiceIdentity")
                .field("audience", audience)
                .field("identity", identity)
                .finish(),
        }
    }
}

/// What a Response action answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseMessage {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}
