//! Connections: turning the URL and [`PostgresOptions`] into a client configuration, the
//! pool (deadpool-postgres: bounded, with a statement cache per connection), the statement
//! helpers every SQL module uses, and the throw-away schemas of tests.
//!
//! Per-connection settings travel in the startup packet (`options=-c name=value`), not as
//! `SET` after connecting, so every pooled connection has them from its first statement and
//! no hook can forget one: `statement_timeout` and, when a schema is configured, `search_path`.

use crate::PostgresOptions;
use crate::error::{DbError, backend};
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use std::time::Duration;
use tokio_postgres::config::Host;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Config, NoTls, Row};

/// The parameters of one statement.
pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// The client configuration: the URL plus our per-connection settings.
pub(crate) fn config(url: &str, options: &PostgresOptions) -> Result<Config, DbError> {
    let mut config: Config = url
        .parse()
        .map_err(|e| backend(format!("invalid PostgreSQL URL: {e}")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_millis(options.connect_timeout_ms));
    }
    if config.get_application_name().is_none() {
        config.application_name("hookflow");
    }
    let mut startup = config.get_options().unwrap_or_default().to_owned();
    // 0 disables the timeout, as in PostgreSQL itself.
    startup.push_str(&format!(
        " -c statement_timeout={}",
        options.statement_timeout_ms
    ));
    if let Some(schema) = &options.schema {
        check_schema_name(schema)?;
        startup.push_str(&format!(" -c search_path={schema}"));
    }
    config.options(startup.trim_start());
    Ok(config)
}

/// Schema names are restricted to lower-case identifiers, so the name means the same in the
/// startup options (where PostgreSQL folds unquoted names to lower case) and in the quoted
/// `CREATE SCHEMA`, and needs no escaping in either.
pub(crate) fn check_schema_name(schema: &str) -> Result<(), DbError> {
    let mut chars = schema.chars();
    let valid = schema.len() <= 63
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return Err(backend(format!(
            "invalid schema name '{schema}': use lower-case letters, digits and '_' \
             (at most 63, not starting with a digit)"
        )));
    }
    Ok(())
}

/// `postgres://user@host:port/dbname`, for error messages: never the password.
pub(crate) fn describe(config: &Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let port = config
                .get_ports()
                .get(i)
                .or(config.get_ports().first())
                .copied()
                .unwrap_or(5432);
            match host {
                Host::Tcp(name) => format!("{name}:{port}"),
                #[cfg(unix)]
                Host::Unix(path) => format!("{}:{port}", path.display()),
            }
        })
        .collect();
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let dbname = config.get_dbname().unwrap_or_default();
    format!("postgres://{user}{}/{dbname}", hosts.join(","))
}

/// The pool. Connections open lazily; `connect` takes one at once to fail early.
pub(crate) fn build(config: Config, options: &PostgresOptions) -> Result<Pool, DbError> {
    // Fast recycling only checks that the connection is open: a broken one surfaces as a
    // failed statement, and the pool drops it.
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(options.max_connections.max(1))
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_millis(options.acquire_timeout_ms)))
        .create_timeout(Some(Duration::from_millis(options.connect_timeout_ms)))
        .recycle_timeout(Some(Duration::from_millis(options.connect_timeout_ms)))
        .build()
        .map_err(|e| backend(format!("cannot build the PostgreSQL pool: {e}")))
}

// Statement helpers: every statement is constant text, prepared once per connection (the
// pool's statement cache) and run with bound parameters.

pub(crate) async fn execute(
    db: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
) -> Result<u64, DbError> {
    let statement = db.prepare_cached(sql).await?;
    Ok(db.execute(&statement, params).await?)
}

pub(crate) async fn query(
    db: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
) -> Result<Vec<Row>, DbError> {
    let statement = db.prepare_cached(sql).await?;
    Ok(db.query(&statement, params).await?)
}

pub(crate) async fn query_opt(
    db: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
) -> Result<Option<Row>, DbError> {
    let statement = db.prepare_cached(sql).await?;
    Ok(db.query_opt(&statement, params).await?)
}

pub(crate) async fn query_one(
    db: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
) -> Result<Row, DbError> {
    let statement = db.prepare_cached(sql).await?;
    Ok(db.query_one(&statement, params).await?)
}

/// A schema made for one test store, dropped (with everything in it) when this is dropped.
pub(crate) struct TemporarySchema {
    /// The connection settings without the schema's `search_path`.
    pub(crate) config: Config,
    pub(crate) name: String,
}

impl Drop for TemporarySchema {
    /// Drop is synchronous and may run inside (or after) the test's runtime, so the drop runs
    /// on a short-lived thread with its own runtime, and this waits for it: the schema is gone
    /// when the store is. A failure is only logged: a leftover schema is harmless.
    fn drop(&mut self) {
        let config = self.config.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async move {
                let (client, connection) =
                    config.connect(NoTls).await.map_err(|e| e.to_string())?;
                let connection = tokio::spawn(connection);
                // The store's own sessions may be unable to finish what they were doing (the
                // test's runtime is blocked here, or gone), and an open transaction of theirs
                // would hold locks the drop waits for: end them first. They carry the
                // schema's name as their application name.
                let ended = client
                    .execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE application_name = $1 AND pid <> pg_backend_pid()",
                        &[&name],
                    )
                    .await
                    .map_err(|e| e.to_string());
                // The name was generated and checked by `check_schema_name`: DDL cannot take
                // a bound identifier.
                let sql = format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE");
                let result = match ended {
                    Ok(_) => client.batch_execute(&sql).await.map_err(|e| e.to_string()),
                    Err(error) => Err(error),
                };
                drop(client);
                let _ = connection.await;
                result
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(schema = %self.name, %error, "cannot drop a test schema");
            }
            Err(_) => tracing::warn!(schema = %self.name, "dropping a test schema panicked"),
        }
    }
}
