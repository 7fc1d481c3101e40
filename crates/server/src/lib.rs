//! The HTTP layer: [`router`] builds the whole API as a value; only the binary serves it.
//!
//! - `/api/...`: the management API (workflows, versions, runs, actions, webhook
//!   subscriptions, trigger histories, and the HttpWebhook actions waiting for their callbacks
//!   at `/api/waits` and `/api/workflows/{name}/waits`), JSON, optionally behind a bearer token.
//! - `/workflows/{name}/triggers/{trigger}/paths/invoke[/...]`: signed trigger callback URLs.
//! - `/workflows/{name}/runs/{run}/actions/{action}/run`: signed callback URLs of waiting
//!   HttpWebhook actions.
//! - `/healthz`, `/api/openapi.json`.
//!
//! Only this crate knows axum and HTTP status codes; every error leaves as [`ApiError`].

mod callbacks;
mod error;
mod extract;
mod health;
mod openapi;
mod runs;
mod triggers;
mod workflows;

pub use error::ApiError;

use axum::{Router, extract::DefaultBodyLimit, middleware};
use hookflow_runtime::Handle;
use std::{sync::Arc, time::Duration};

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// When set, `/api/...` requires `Authorization: Bearer <token>`.
    pub api_token: Option<String>,
    /// Largest request body accepted; larger ones get `413` before they are buffered whole.
    pub max_body_bytes: usize,
    /// How long a caller waits for a Response action before getting `408`... the run goes on.
    pub inbound_timeout: Duration,
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub handle: Handle,
    pub options: Arc<ServerOptions>,
}

/// The whole HTTP surface of the engine.
pub fn router(handle: Handle, options: ServerOptions) -> Router {
    let max_body = options.max_body_bytes;
    let state = AppState {
        handle,
        options: Arc::new(options),
    };
    let api = Router::new()
        .merge(workflows::routes())
        .merge(runs::routes())
        .merge(triggers::routes())
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            extract::require_token,
        ));
    Router::new()
        .nest("/api", api.merge(openapi::routes()))
        .merge(callbacks::routes())
        .merge(health::routes())
        .fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "NotFound",
                "no such route",
            )
        })
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}
