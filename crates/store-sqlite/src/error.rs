//! The crate-internal error, so `?` works on rusqlite and serde_json calls inside the SQL
//! modules; it becomes a [`store::Error`] at the trait boundary (the writer and the readers).

use hookflow_store as store;

pub(crate) enum DbError {
    /// A contract outcome the caller acts on (`Conflict`, `NotFound`) or a message of ours.
    Store(store::Error),
    Sqlite(rusqlite::Error),
    /// A stored JSON column that does not parse: the database was changed behind our back.
    Json(serde_json::Error),
}

impl From<store::Error> for DbError {
    fn from(error: store::Error) -> Self {
        DbError::Store(error)
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(error: rusqlite::Error) -> Self {
        DbError::Sqlite(error)
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
            DbError::Sqlite(error) => store::Error::Backend(format!("sqlite: {error}")),
            DbError::Json(error) => {
                store::Error::Backend(format!("stored JSON is corrupt: {error}"))
            }
        }
    }
}

/// A [`store::Error::Backend`] with our own message.
pub(crate) fn backend(message: impl Into<String>) -> DbError {
    DbError::Store(store::Error::Backend(message.into()))
}
