//! The engine's configuration: one typed tree, filled from defaults, then an optional TOML
//! file, then `HOOKFLOW_*` environment variables, then flags (later sources win).

use serde::{Deserialize, Serialize};
use std::{net::SocketAddr, path::PathBuf};

/// Everything `hookflow serve` can be told. Every field is documented in `--help` and in
/// `hookflow serve --dump-config`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory holding the SQLite database.
    pub data_dir: PathBuf,
    /// Base URL callback URLs are built on (default: from the listen address).
    pub public_url: Option<String>,
    /// Bearer token required by the management API (none: open, for a loopback engine).
    pub api_token: Option<String>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Seconds a caller waits for a Response action.
    pub inbound_timeout_secs: u64,
    /// Seconds an outbound call may take when its action sets no `limit.timeout`.
    pub http_timeout_secs: u64,
    /// Largest outbound response body read, in bytes.
    pub max_response_bytes: usize,
    /// fsync every commit (FULL): acknowledged work survives power loss, not only crashes.
    pub sync_full: bool,
    /// Milliseconds before the second attempt of a failed unsubscribe call (doubling after).
    pub unsubscribe_retry_base_ms: u64,
    /// Seconds a delivery's `Idempotency-Key` / `webhook-id` is remembered.
    pub dedup_retention_secs: u64,
    /// Seconds a webhook action waits for its callback when it sets no `limit.timeout`.
    pub webhook_timeout_secs: u64,
    /// The longest `limit.timeout` a webhook action may ask for, in seconds.
    pub max_webhook_timeout_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 7071)),
            data_dir: PathBuf::from("hookflow-data"),
            public_url: None,
            api_token: None,
            max_body_bytes: 100 * 1024 * 1024,
            inbound_timeout_secs: 120,
            http_timeout_secs: 120,
            max_response_bytes: 100 * 1024 * 1024,
            sync_full: true,
            unsubscribe_retry_base_ms: 1_000,
            dedup_retention_secs: 24 * 3600,
            webhook_timeout_secs: 90 * 24 * 3600,
            max_webhook_timeout_secs: 90 * 24 * 3600,
        }
    }
}

impl Config {
    /// Reads the TOML file, if given, over the defaults.
    pub fn load(file: Option<&std::path::Path>) -> anyhow::Result<Self> {
        let Some(file) = file else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("reading config file {}: {e}", file.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("config file {}: {e}", file.display()))
    }

    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }
}
