//! Opening the configured store: embedded SQLite under the data directory (the default), or
//! PostgreSQL when a database URL is given (several engine nodes may share it).

use crate::config::Config;
use anyhow::Context;
use hookflow_store::Store;
use hookflow_store_postgres::{PostgresOptions, PostgresStore};
use hookflow_store_sqlite::{SqliteOptions, SqliteStore};
use std::{fs::File, sync::Arc};

/// The open store, and what must live as long as it.
pub struct Opened {
    pub store: Arc<dyn Store>,
    /// The data directory's lock (SQLite only): one process owns a SQLite database.
    pub _lock: Option<File>,
}

pub async fn open(config: &Config) -> anyhow::Result<Opened> {
    match config.database_url.as_deref().filter(|url| !url.is_empty()) {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let options = PostgresOptions {
                schema: config.database_schema.clone(),
                ..PostgresOptions::default()
            };
            let store = PostgresStore::connect(url, options)
                .await
                .context("opening the PostgreSQL store")?;
            // Other nodes may hold live leases: nothing is released here; work of a node
            // that died is taken over when its leases expire.
            Ok(Opened {
                store: Arc::new(store),
                _lock: None,
            })
        }
        Some(other) => anyhow::bail!(
            "database-url: '{}' is not a postgres:// URL (leave it unset for the embedded SQLite store)",
            redact_url(other)
        ),
        None => {
            std::fs::create_dir_all(&config.data_dir).with_context(|| {
                format!("creating data directory {}", config.data_dir.display())
            })?;
            let lock = lock_data_dir(&config.data_dir)?;
            let options = SqliteOptions {
                synchronous_full: config.sync_full,
                ..Default::default()
            };
            let store = SqliteStore::open(&config.data_dir.join("hookflow.db"), options)
                .context("opening the SQLite store")?;
            let store: Arc<dyn Store> = Arc::new(store);
            // One process owns a data directory (the lock above), so leases left by a previous
            // process are stale: its work is taken over now rather than when they expire.
            store.release_all_leases().await?;
            Ok(Opened {
                store,
                _lock: Some(lock),
            })
        }
    }
}

/// Holds an exclusive lock on `<data_dir>/lock` for the life of the process.
fn lock_data_dir(dir: &std::path::Path) -> anyhow::Result<File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("lock"))?;
    file.try_lock()
        .map_err(|_| anyhow::anyhow!("another hookflow process is using {}", dir.display()))?;
    Ok(file)
}

/// A database URL as it may be shown: without its password.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => {
                    format!("{}{user}:*sanitized*{}", &url[..scheme + 3], &url[at..])
                }
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
