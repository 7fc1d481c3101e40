//! The engine's configuration: one typed tree, filled from defaults, then an optional TOML
//! file, then `HOOKFLOW_*` environment variables, then flags (later sources win).

use serde::{Deserialize, Serialize};
use std::{net::SocketAddr, path::PathBuf, time::Duration};

/// Everything `hookflow serve` can be told. Every field is documented in `--help` and in
/// `hookflow serve --dump-config`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory holding the SQLite database.
    pub data_dir: PathBuf,
    /// `postgres://...`: use PostgreSQL instead of the embedded SQLite store (several nodes
    /// may share it). Unset: SQLite under `data-dir`.
    pub database_url: Option<String>,
    /// The PostgreSQL schema for hookflow's tables (created if missing).
    pub database_schema: Option<String>,
    /// Milliseconds a node holds a claimed run or effect before others may take it over.
    pub lease_ms: u64,
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
    /// Seconds a webhook action waits for its callback, and a polled asynchronous operation
    /// (`202` + `Location`) may take, when the action sets no `limit.timeout`.
    pub webhook_timeout_secs: u64,
    /// The longest `limit.timeout` a webhook action may ask for, in seconds.
    pub max_webhook_timeout_secs: u64,
    /// Seconds an outbound call may take to connect (TCP and TLS).
    pub connect_timeout_secs: u64,
    /// Refuse outbound calls to loopback, link-local (cloud metadata), private, shared and
    /// unique-local addresses, checked on the resolved address at connect time.
    pub egress_deny_private: bool,
    /// Further address ranges (CIDR) outbound calls may not reach.
    pub egress_deny: Vec<String>,
    /// Address ranges (CIDR) outbound calls may always reach, whatever the deny rules say.
    pub egress_allow: Vec<String>,
    /// PEM files of CA certificates trusted for outbound TLS besides the system's.
    pub extra_ca_certs: Vec<PathBuf>,
    /// Authority of ActiveDirectoryOAuth authentication when a definition names none.
    pub oauth_authority: String,
    /// Token endpoint for ManagedServiceIdentity authentication (Azure IMDS protocol); unset,
    /// definitions using it are refused.
    pub msi_token_url: Option<String>,
    /// Milliseconds between polls of an asynchronous operation whose 202 has no Retry-After.
    pub async_poll_interval_ms: u64,
    /// The shortest wait between polls of an asynchronous operation, in milliseconds.
    pub async_poll_min_interval_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 7071)),
            data_dir: PathBuf::from("hookflow-data"),
            database_url: None,
            database_schema: None,
            lease_ms: 30_000,
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
            connect_timeout_secs: 10,
            egress_deny_private: false,
            egress_deny: Vec::new(),
            egress_allow: Vec::new(),
            extra_ca_certs: Vec::new(),
            oauth_authority: "https://login.microsoftonline.com".into(),
            msi_token_url: None,
            async_poll_interval_ms: 20_000,
            async_poll_min_interval_ms: 1_000,
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

    /// The outbound client's settings; fails on a range that is not an address or CIDR.
    pub fn outbound(&self) -> anyhow::Result<hookflow_runtime::OutboundOptions> {
        let ranges = |list: &[String], key: &str| {
            list.iter()
                .map(|r| {
                    hookflow_runtime::Cidr::parse(r).map_err(|e| anyhow::anyhow!("{key}: {e}"))
                })
                .collect::<anyhow::Result<Vec<_>>>()
        };
        Ok(hookflow_runtime::OutboundOptions {
            connect_timeout: Duration::from_secs(self.connect_timeout_secs),
            egress: hookflow_runtime::EgressPolicy {
                deny_private: self.egress_deny_private,
                deny: ranges(&self.egress_deny, "egress-deny")?,
                allow: ranges(&self.egress_allow, "egress-allow")?,
            },
            extra_ca_certs: self.extra_ca_certs.clone(),
            oauth_authority: self.oauth_authority.clone(),
            msi_token_url: self.msi_token_url.clone(),
            async_poll_interval: Duration::from_millis(self.async_poll_interval_ms),
            async_poll_min_interval: Duration::from_millis(self.async_poll_min_interval_ms),
        })
    }

    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }
}
