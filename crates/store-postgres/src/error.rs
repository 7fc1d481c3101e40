//! The crate-internal error, so `?` works on tokio-postgres, pool and serde_json calls inside
//! the SQL modules; it becomes a [`store::Error`] at the trait boundary (`lib.rs`).

use deadpool_postgres::PoolError;
use hookflow_store as store;

pub(crate) enum DbError {
    /// A contract outcome the caller acts on (`Conflict`, `NotFound`) or a message of ours.
    Store(store::Error),
    Postgres(tokio_postgres::Error),
    /// No connection could be had from the pool (server unreachable, pool exhausted).
    Pool(PoolError),
    /// A JSON value we build (an engine event) did not serialise.
    Json(serde_json::Error),
}

impl From<store::Error> for DbError {
    fn from(error: store::Error) -> Self {
        DbError::Store(error)
    }
}

impl From<tokio_postgres::Error> for DbError {
    fn from(error: tokio_postgres::Error) -> Self {
        DbError::Postgres(error)
    }
}

impl From<PoolError> for DbError {
    fn from(error: PoolError) -> Self {
        DbError::Pool(error)
    }
}

impl From<serde_json::Error> for DbError {
    fn from(error: serde_json::Error) -> Self {
        DbError::Json(error)
    }
}

impl From<DbError> for store::Error {
    fn from(error: DbError) -> Self {
        match error {
            DbError::Store(error) => error,
            other => store::Error::Backend(other.message()),
        }
    }
}

impl DbError {
    /// What went wrong, without the `storage backend error` prefix, for messages that
    /// wrap it.
    pub(crate) fn message(&self) -> String {
        match self {
            DbError::Store(store::Error::Backend(message)) => message.clone(),
            DbError::Store(error) => error.to_string(),
            DbError::Postgres(error) => postgres_message(error),
            DbError::Pool(error) => pool_message(error),
            DbError::Json(error) => format!("JSON: {error}"),
        }
    }
}

/// A [`store::Error::Backend`] with our own message.
pub(crate) fn backend(message: impl Into<String>) -> DbError {
    DbError::Store(store::Error::Backend(message.into()))
}

/// The server's own words when it sent an error (message, detail, SQLSTATE), else the
/// client's (connection closed, timeout, a column that did not convert).
pub(crate) fn postgres_message(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => {
            let mut message = format!("postgres: {} ({})", db.message(), db.code().code());
            if let Some(detail) = db.detail() {
                message.push_str(": ");
                message.push_str(detail);
            }
            message
        }
        // The client's error names what failed ("error connecting to server"); its sources
        // say why ("Connection refused").
        None => {
            let mut message = format!("postgres: {error}");
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                message.push_str(": ");
                message.push_str(&cause.to_string());
                source = cause.source();
            }
            message
        }
    }
}

fn pool_message(error: &PoolError) -> String {
    match error {
        PoolError::Backend(error) => postgres_message(error),
        PoolError::Timeout(_) => {
            "postgres: timed out waiting for a connection (server unreachable or pool exhausted)"
                .into()
        }
        other => format!("postgres connection pool: {other}"),
    }
}
