//! The per-workflow lock of workflow changes: a session-level advisory lock on a pooled
//! connection, held by the returned guard. Every node using the schema takes the same key,
//! so changes to one workflow (and their subscribe calls) are serialised across nodes.
//!
//! A holder (or a waiter, blocked in `pg_advisory_lock`) keeps its connection, and the change
//! it makes needs more: so only a quarter of the pool may be lock connections (`LockSlots`);
//! further lock-takers queue in the process, holding nothing, and the pool never runs dry.

use crate::error::DbError;
use crate::pool;
use deadpool_postgres::{Object, Pool};
use hookflow_store::WorkflowLock;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The first half of the lock key: "hkw" in ASCII (the migration lock is "hkf").
const LOCK_CLASS: i32 = 0x0068_6b77;

/// How many pooled connections may hold or wait for workflow locks at once.
pub(crate) struct LockSlots(Arc<Semaphore>);

impl LockSlots {
    pub(crate) fn new(max_connections: usize) -> LockSlots {
        LockSlots(Arc::new(Semaphore::new((max_connections / 4).max(1))))
    }
}

/// Waits (at most the statement timeout, once it has a connection) for the lock of `name` in
/// `schema`.
pub(crate) async fn lock_workflow(
    pool: &Pool,
    slots: &LockSlots,
    schema: Option<&str>,
    name: &str,
) -> Result<WorkflowLock, DbError> {
    let slot = slots
        .0
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| crate::error::backend("the store is closing"))?;
    let conn = pool.get().await?;
    let key = format!("{}/{name}", schema.unwrap_or(""));
    pool::execute(
        &conn,
        "SELECT pg_advisory_lock($1, hashtext($2))",
        &[&LOCK_CLASS, &key],
    )
    .await?;
    Ok(WorkflowLock::new(Held {
        conn: Some(conn),
        _slot: slot,
    }))
}

/// The connection holding the lock. On drop it is unlocked before going back to the pool; a
/// connection that cannot be unlocked is closed instead (which releases the lock too), so a
/// pooled connection never carries a lock to its next user.
struct Held {
    conn: Option<Object>,
    /// Freed with the lock: the next lock-taker may take a connection.
    _slot: OwnedSemaphorePermit,
}

impl Drop for Held {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if conn
                        .batch_execute("SELECT pg_advisory_unlock_all()")
                        .await
                        .is_err()
                    {
                        drop(Object::take(conn));
                    }
                });
            }
            Err(_) => drop(Object::take(conn)),
        }
    }
}
