//! The schema migrations, applied by [`crate::PostgresStore::connect`].
//!
//! The schema version is the highest `version` in `hookflow_migrations` (one row per applied
//! migration). A database written by a newer hookflow (a higher version than we know) is
//! refused rather than used, because this code would misread or corrupt tables it does not
//! know.
//!
//! Several nodes may start at once against a fresh database: the whole check-and-migrate runs
//! in one transaction holding a transaction-level advisory lock (keyed by the schema), so one
//! node migrates and the others, once it commits, find the schema current and apply nothing.

use crate::error::{DbError, backend};
use crate::pool;
use deadpool_postgres::Object;

/// The migrations, in order; the version of each is its position, from 1.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../migrations/0001_init.sql")),
    (
        "0002_subscription_leases",
        include_str!("../migrations/0002_subscription_leases.sql"),
    ),
    (
        "0003_recurrences",
        include_str!("../migrations/0003_recurrences.sql"),
    ),
    (
        "0004_done_action_unsubscribes",
        include_str!("../migrations/0004_done_action_unsubscribes.sql"),
    ),
    (
        "0005_run_indexes_ascending",
        include_str!("../migrations/0005_run_indexes_ascending.sql"),
    ),
];

/// The schema version this code writes: databases above it are refused.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// The first half of the advisory lock key: "hkf" in ASCII, marking the lock as ours.
const LOCK_CLASS: i32 = 0x0068_6b66;

/// Brings the schema up to date (creating `schema` first when given and missing).
pub(crate) async fn migrate(conn: &mut Object, schema: Option<&str>) -> Result<(), DbError> {
    let tx = conn.transaction().await?;
    // Keyed by the schema, so tests migrating their own schemas do not queue behind each
    // other. `current_schema()` is NULL when no schema on the search path exists yet.
    pool::execute(
        &tx,
        "SELECT pg_advisory_xact_lock($1, hashtext(coalesce($2::text, current_schema(), '')))",
        &[&LOCK_CLASS, &schema],
    )
    .await?;
    if let Some(schema) = schema {
        pool::check_schema_name(schema)?;
        // DDL takes no bound identifiers; the name passed `check_schema_name`.
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .await?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS hookflow_migrations ( \
             version    INTEGER PRIMARY KEY, \
             name       TEXT NOT NULL, \
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .await?;
    let version: i32 = pool::query_one(
        &tx,
        "SELECT coalesce(max(version), 0) FROM hookflow_migrations",
        &[],
    )
    .await?
    .try_get(0)?;
    if version > SCHEMA_VERSION {
        return Err(backend(format!(
            "the database schema is at version {version}, newer than this hookflow knows \
             ({SCHEMA_VERSION}); upgrade hookflow to use it"
        )));
    }
    for (applied, (name, sql)) in (1..).zip(MIGRATIONS).skip(version as usize) {
        tx.batch_execute(sql).await?;
        pool::execute(
            &tx,
            "INSERT INTO hookflow_migrations (version, name) VALUES ($1, $2)",
            &[&applied, name],
        )
        .await?;
        tracing::info!(version = applied, name, "applied store migration");
    }
    tx.commit().await?;
    Ok(())
}
