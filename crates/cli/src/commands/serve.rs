//! `hookflow serve`: open the store, start the runtime and the HTTP server, stop cleanly on
//! Ctrl-C or SIGTERM.

use crate::config::Config;
use anyhow::Context;
use hookflow_runtime::{Options, Runtime, SystemClock};
use hookflow_server::ServerOptions;
use std::{net::SocketAddr, path::PathBuf, process::ExitCode, sync::Arc, time::Duration};
use tokio_util::sync::CancellationToken;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// TOML configuration file (flags and HOOKFLOW_* variables override it).
    #[arg(long, env = "HOOKFLOW_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:7071].
    #[arg(long, env = "HOOKFLOW_LISTEN")]
    listen: Option<SocketAddr>,
    /// Directory for the SQLite database [default: ./hookflow-data].
    #[arg(long, env = "HOOKFLOW_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// `postgres://user@host/db`: store state in PostgreSQL (several nodes may share it)
    /// instead of SQLite under the data directory.
    #[arg(long, env = "HOOKFLOW_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// How long a node holds a claimed run or effect, in milliseconds; on a shared database,
    /// the work of a node that died is taken over after this.
    #[arg(long, env = "HOOKFLOW_LEASE_MS")]
    lease_ms: Option<u64>,
    /// PostgreSQL schema holding hookflow's tables [default: the connection's search_path].
    #[arg(long, env = "HOOKFLOW_DATABASE_SCHEMA")]
    database_schema: Option<String>,
    /// Base URL callback URLs are built on [default: http://<listen>].
    #[arg(long, env = "HOOKFLOW_PUBLIC_URL")]
    public_url: Option<String>,
    /// Bearer token the management API requires.
    #[arg(long, env = "HOOKFLOW_API_TOKEN", hide_env_values = true)]
    api_token: Option<String>,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "HOOKFLOW_MAX_BODY_BYTES")]
    max_body_bytes: Option<usize>,
    /// Seconds a caller waits for a Response action.
    #[arg(long, env = "HOOKFLOW_INBOUND_TIMEOUT_SECS")]
    inbound_timeout_secs: Option<u64>,
    /// Milliseconds before the second attempt of a failed unsubscribe call (doubling after).
    #[arg(long, env = "HOOKFLOW_UNSUBSCRIBE_RETRY_BASE_MS")]
    unsubscribe_retry_base_ms: Option<u64>,
    /// Refuse outbound calls to loopback, link-local (cloud metadata), private and
    /// unique-local addresses (checked on the resolved address).
    #[arg(long, env = "HOOKFLOW_EGRESS_DENY_PRIVATE")]
    egress_deny_private: bool,
    /// Address ranges (CIDR, comma-separated) outbound calls may not reach.
    #[arg(long, env = "HOOKFLOW_EGRESS_DENY", value_delimiter = ',')]
    egress_deny: Vec<String>,
    /// Address ranges (CIDR, comma-separated) outbound calls may always reach.
    #[arg(long, env = "HOOKFLOW_EGRESS_ALLOW", value_delimiter = ',')]
    egress_allow: Vec<String>,
    /// A PEM file of CA certificates trusted for outbound TLS (repeatable).
    #[arg(
        long = "extra-ca-cert",
        env = "HOOKFLOW_EXTRA_CA_CERTS",
        value_delimiter = ','
    )]
    extra_ca_certs: Vec<PathBuf>,
    /// Authority of ActiveDirectoryOAuth when a definition names none.
    #[arg(long, env = "HOOKFLOW_OAUTH_AUTHORITY")]
    oauth_authority: Option<String>,
    /// Token endpoint for ManagedServiceIdentity (Azure IMDS protocol).
    #[arg(long, env = "HOOKFLOW_MSI_TOKEN_URL")]
    msi_token_url: Option<String>,
    /// Seconds an outbound call may take when its action sets no `limit.timeout`.
    #[arg(long, env = "HOOKFLOW_HTTP_TIMEOUT_SECS")]
    http_timeout_secs: Option<u64>,
    /// Seconds an outbound call may take to connect.
    #[arg(long, env = "HOOKFLOW_CONNECT_TIMEOUT_SECS")]
    connect_timeout_secs: Option<u64>,
    /// Milliseconds between polls of an asynchronous operation without Retry-After.
    #[arg(long, env = "HOOKFLOW_ASYNC_POLL_INTERVAL_MS")]
    async_poll_interval_ms: Option<u64>,
    /// The shortest wait between polls of an asynchronous operation, in milliseconds.
    #[arg(long, env = "HOOKFLOW_ASYNC_POLL_MIN_INTERVAL_MS")]
    async_poll_min_interval_ms: Option<u64>,
    /// Print the effective configuration as TOML and exit.
    #[arg(long)]
    dump_config: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = effective_config(&args)?;
    if args.dump_config {
        let mut shown = config.clone();
        if shown.api_token.is_some() {
            shown.api_token = Some("*sanitized*".into());
        }
        shown.database_url = shown.database_url.as_deref().map(crate::store::redact_url);
        print!("{}", toml::to_string(&shown)?);
        return Ok(ExitCode::SUCCESS);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HOOKFLOW_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
                // The PostgreSQL driver logs statement parameters at debug level, and those
                // are run state (secrets included): never below info, whatever HOOKFLOW_LOG says.
                .add_directive("tokio_postgres=info".parse().expect("a valid directive")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(config))?;
    Ok(ExitCode::SUCCESS)
}

fn effective_config(args: &Args) -> anyhow::Result<Config> {
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(dir) = &args.data_dir {
        config.data_dir = dir.clone();
    }
    if let Some(url) = &args.database_url {
        config.database_url = Some(url.clone());
    }
    if let Some(schema) = &args.database_schema {
        config.database_schema = Some(schema.clone());
    }
    if let Some(ms) = args.lease_ms {
        config.lease_ms = ms;
    }
    if let Some(url) = &args.public_url {
        config.public_url = Some(url.clone());
    }
    if let Some(token) = &args.api_token {
        config.api_token = Some(token.clone());
    }
    if let Some(bytes) = args.max_body_bytes {
        config.max_body_bytes = bytes;
    }
    if let Some(secs) = args.inbound_timeout_secs {
        config.inbound_timeout_secs = secs;
    }
    if let Some(ms) = args.unsubscribe_retry_base_ms {
        config.unsubscribe_retry_base_ms = ms;
    }
    config.egress_deny_private |= args.egress_deny_private;
    config.egress_deny.extend(args.egress_deny.iter().cloned());
    config
        .egress_allow
        .extend(args.egress_allow.iter().cloned());
    config
        .extra_ca_certs
        .extend(args.extra_ca_certs.iter().cloned());
    if let Some(authority) = &args.oauth_authority {
        config.oauth_authority = authority.clone();
    }
    if let Some(url) = &args.msi_token_url {
        config.msi_token_url = Some(url.clone());
    }
    if let Some(secs) = args.http_timeout_secs {
        config.http_timeout_secs = secs;
    }
    if let Some(secs) = args.connect_timeout_secs {
        config.connect_timeout_secs = secs;
    }
    if let Some(ms) = args.async_poll_interval_ms {
        config.async_poll_interval_ms = ms;
    }
    if let Some(ms) = args.async_poll_min_interval_ms {
        config.async_poll_min_interval_ms = ms;
    }
    // Checked now, so a bad range fails `--dump-config` too.
    config.outbound()?;
    Ok(config)
}

async fn serve(mut config: Config) -> anyhow::Result<()> {
    let opened = crate::store::open(&config).await?;
    let store = opened.store.clone();

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let bound = listener.local_addr()?;
    if config.public_url.is_none() {
        config.public_url = Some(format!("http://{bound}"));
    }
    let shutdown = CancellationToken::new();
    let options = Options {
        public_url: config.public_url(),
        http_timeout: Duration::from_secs(config.http_timeout_secs),
        max_response_bytes: config.max_response_bytes,
        lease: Duration::from_millis(config.lease_ms),
        max_concurrent_effects: 256,
        // As many as calls in flight: each call's outcome, and each callback, then finds a
        // free slot and steps its run at once, from memory. With 64, under load most of them
        // waited as inbox rows for the claim, their runs read back from disk, and runs were
        // accepted faster than they completed (webhook-action: completed 4,200 -> 5,000/s,
        // engine CPU -10%, measured; a step slot holds one run's state, ~10 KiB).
        max_concurrent_steps: 256,
        node_id: node_id(),
        unsubscribe_retry_base: Duration::from_millis(config.unsubscribe_retry_base_ms),
        webhook_timeout: Duration::from_secs(config.webhook_timeout_secs),
        max_webhook_timeout: Duration::from_secs(config.max_webhook_timeout_secs),
        dedup_retention: Duration::from_secs(config.dedup_retention_secs),
        outbound: config.outbound()?,
    };
    let (handle, loops) =
        Runtime::start(options, store, Arc::new(SystemClock), shutdown.clone()).await?;
    let app = hookflow_server::router(
        handle,
        ServerOptions {
            api_token: config.api_token.clone(),
            max_body_bytes: config.max_body_bytes,
            inbound_timeout: Duration::from_secs(config.inbound_timeout_secs),
        },
    );
    // Tests and scripts read this line to learn the port when listening on port 0.
    println!(
        "hookflow listening on http://{bound} (public URL {})",
        config.public_url()
    );
    tracing::info!(%bound, data_dir = %config.data_dir.display(), "serving");
    let signal = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        signal.cancel();
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await?;
    shutdown.cancel();
    let _ = loops.await;
    drop(opened);
    Ok(())
}

/// A fresh id per process: leases name the node holding them, and nodes sharing a PostgreSQL
/// database must never take each other's for their own.
fn node_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_default();
    let unique = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &unique[..12])
        .trim_start_matches('-')
        .to_owned()
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
