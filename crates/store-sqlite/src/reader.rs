//! The readers: a fixed pool of read connections used from `spawn_blocking`.
//!
//! In WAL mode readers never wait for the writer (each sees the last commit before its read
//! began), so reads run concurrently with each other and with the writer's commits. At most
//! `size` reads run at once (a semaphore; more wait their turn asynchronously), and every
//! connection opened is kept: opening one re-reads the schema and re-prepares statements,
//! which under load cost more than the reads themselves (measured with the bench harness).
//! The pool lock is held only to take or return a connection, never during a query.

use crate::error::DbError;
use crate::schema;
use hookflow_store as store;
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

pub(crate) struct Readers {
    path: PathBuf,
    busy_timeout: Duration,
    permits: tokio::sync::Semaphore,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub(crate) fn new(path: PathBuf, busy_timeout: Duration, size: usize) -> Readers {
        Readers {
            path,
            busy_timeout,
            permits: tokio::sync::Semaphore::new(size.max(1)),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `op` on a read connection, off the async threads (SQLite calls block).
    pub(crate) async fn read<T, F>(self: &Arc<Self>, op: F) -> store::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, DbError> + Send + 'static,
    {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| store::Error::Backend("the read pool is closed".into()))?;
        let pool = Arc::clone(self);
        let result = tokio::task::spawn_blocking(move || {
            let conn = pool.take()?;
            let result = op(&conn);
            pool.give_back(conn);
            Ok(result?)
        })
        .await
        .map_err(|e| store::Error::Backend(format!("read task failed: {e}")))?;
        drop(permit);
        result
    }

    fn take(&self) -> Result<Connection, DbError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(conn) => Ok(conn),
            None => schema::open_reader(&self.path, self.busy_timeout),
        }
    }

    /// Keeps the connection: there are never more than `size` (one per permit).
    fn give_back(&self, conn: Connection) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(conn);
    }
}
