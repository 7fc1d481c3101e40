//! Opening connections: the per-connection settings (WAL, `synchronous`, busy timeout,
//! foreign keys) and the schema migrations, applied when the writer connection opens.
//!
//! The schema version is `PRAGMA user_version`: the number of migrations applied. A database
//! written by a newer hookflow (a higher version than we know) is refused rather than used,
//! because this code would misread or corrupt tables it does not know.

use crate::SqliteOptions;
use crate::error::{DbError, backend};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

/// The migrations, in order; `user_version` counts how many were applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_triggers.sql"),
    include_str!("../migrations/0003_waits.sql"),
    include_str!("../migrations/0004_subscription_leases.sql"),
    include_str!("../migrations/0005_recurrences.sql"),
    include_str!("../migrations/0006_trigger_history_keys.sql"),
    include_str!("../migrations/0007_done_action_unsubscribes.sql"),
    include_str!("../migrations/0008_run_indexes_ascending.sql"),
];

/// The schema version this code writes: databases above it are refused.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The single write connection: creates the file when missing, switches it to WAL and brings
/// the schema up to date.
pub(crate) fn open_writer(path: &Path, options: &SqliteOptions) -> Result<Connection, DbError> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_millis(options.busy_timeout_ms))?;
    // WAL lets the readers run while the writer commits, and makes a commit one append (plus
    // one fsync under FULL) instead of a rollback-journal dance.
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(backend(format!(
            "{}: cannot switch to WAL mode (got '{mode}'); is it on a network file system?",
            path.display()
        )));
    }
    // FULL fsyncs the WAL on every commit, so an acknowledged write survives power loss; group
    // commit makes that one fsync per batch. NORMAL survives a process crash only.
    let synchronous = if options.synchronous_full {
        "FULL"
    } else {
        "NORMAL"
    };
    conn.pragma_update(None, "synchronous", synchronous)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // A batch with a failing command runs again with a savepoint per command (`writer.rs`);
    // with temporary storage on disk SQLite spills the savepoints' sub-journal to a temp file,
    // a `pwrite` per changed page. In memory it is only as big as one batch's changed pages.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // The writer runs a few dozen distinct statements; keep them all prepared.
    conn.set_prepared_statement_cache_capacity(64);
    plans_independent_of_bindings(&conn)?;
    migrate(&mut conn, path)?;
    Ok(conn)
}

/// A read connection. It is opened read-write with `query_only` rather than read-only: a
/// read-only connection cannot recover a WAL whose shared-memory file is missing.
pub(crate) fn open_reader(path: &Path, busy_timeout: Duration) -> Result<Connection, DbError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(busy_timeout)?;
    conn.pragma_update(None, "query_only", true)?;
    conn.set_prepared_statement_cache_capacity(32);
    plans_independent_of_bindings(&conn)?;
    Ok(conn)
}

/// Turns on SQLite's query planner stability guarantee: a statement's plan does not depend on
/// the values bound to it. Without it SQLite re-parses and re-plans a prepared statement on the
/// first step after a new value is bound to its `LIMIT ?` (every claim, every page of a list):
/// ~5% of the engine's CPU under load, measured. No plan here needs a bound value: the
/// partial indexes' conditions (`state = 'Waiting'`, `lease_until IS NOT NULL`) are spelled
/// the same in the statements that use them.
fn plans_independent_of_bindings(conn: &Connection) -> Result<(), DbError> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

/// Applies the missing migrations in one IMMEDIATE transaction, so two processes opening a
/// fresh file at once do not both apply them.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), DbError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version < 0 {
        return Err(backend(format!(
            "{}: invalid schema version {version}",
            path.display()
        )));
    }
    if version > SCHEMA_VERSION {
        return Err(backend(format!(
            "{}: schema version {version} is newer than this hookflow knows \
             ({SCHEMA_VERSION}); upgrade hookflow to open it",
            path.display()
        )));
    }
    for (applied, sql) in (1..).zip(MIGRATIONS).skip(version as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", applied)?;
        tracing::info!(path = %path.display(), version = applied, "applied store migration");
    }
    tx.commit()?;
    Ok(())
}
