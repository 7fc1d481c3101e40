//! `hookflow serve`: open the store, start the runtime and the HTTP server, stop cleanly on
//! Ctrl-C or SIGTERM.

use crate::config::Config;
use anyhow::Context;
use hookflow_runtime::{Options, Runtime, SystemClock};
use hookflow_server::ServerOptions;
use hookflow_store::Store;
use hookflow_store_sqlite::{SqliteOptions, SqliteStore};
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
        print!("{}", toml::to_string(&shown)?);
        return Ok(ExitCode::SUCCESS);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HOOKFLOW_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
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
    Ok(config)
}

async fn serve(mut config: Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let lock = lock_data_dir(&config.data_dir)?;
    let store = SqliteStore::open(
        &config.data_dir.join("hookflow.db"),
        SqliteOptions {
            synchronous_full: config.sync_full,
            ..Default::default()
        },
    )
    .context("opening the SQLite store")?;
    let store: Arc<dyn Store> = Arc::new(store);
    // One process owns a data directory (the lock above), so leases left by a previous process
    // are stale: its work is taken over now rather than when the leases expire.
    store.release_all_leases().await?;

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
        lease: Duration::from_secs(30),
        max_concurrent_effects: 256,
        max_concurrent_steps: 64,
        node_id: uuid_like_node_id(),
        unsubscribe_retry_base: Duration::from_millis(config.unsubscribe_retry_base_ms),
        webhook_timeout: Duration::from_secs(config.webhook_timeout_secs),
        max_webhook_timeout: Duration::from_secs(config.max_webhook_timeout_secs),
        dedup_retention: Duration::from_secs(config.dedup_retention_secs),
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
    drop(lock);
    Ok(())
}

/// Holds an exclusive lock on `<data_dir>/lock` for the life of the process.
fn lock_data_dir(dir: &std::path::Path) -> anyhow::Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("lock"))?;
    file.try_lock()
        .map_err(|_| anyhow::anyhow!("another hookflow process is using {}", dir.display()))?;
    Ok(file)
}

fn uuid_like_node_id() -> String {
    format!("node-{}", std::process::id())
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
