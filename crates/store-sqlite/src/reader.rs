//! The readers: a small pool of read connections used from `spawn_blocking`.
//!
//! In WAL mode readers never wait for the writer (each sees the last commit before its read
//! began), so reads run concurrently with each other and with the writer's commits. The pool
//! lock is held only to take or return a connection, never during a query. When every idle
//! connection is in use another one is opened; at most `max_idle` are kept afterwards.

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
    max_idle: usize,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub(crate) fn new(path: PathBuf, busy_timeout: Duration, max_idle: usize) -> Readers {
        Readers {
            path,
            busy_timeout,
            max_idle,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `op` on a read connection, off the async threads (SQLite calls block).
    pub(crate) async fn read<T, F>(self: &Arc<Self>, op: F) -> store::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, DbError> + Send + 'static,
    {
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let conn = pool.take()?;
            let result = op(&conn);
            pool.give_back(conn);
            Ok(result?)
        })
        .await
        .map_err(|e| store::Error::Backend(format!("read task failed: {e}")))?
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

    fn give_back(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.max_idle {
            idle.push(conn);
        }
    }
}
