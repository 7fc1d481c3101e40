//! The per-workflow lock of workflow changes: a session-level advisory lock on a pooled
//! connection, held by the returned guard. Every node using the schema takes the same key,
//! so changes to one workflow (and their subscribe calls) are serialised across nodes.

use crate::error::DbError;
use crate::pool;
use deadpool_postgres::{Object, Pool};
use hookflow_store::WorkflowLock;

/// The first half of the lock key: "hkw" in ASCII (the migration lock is "hkf").
const LOCK_CLASS: i32 = 0x0068_6b77;

/// Waits (at most the statement timeout) for the lock of `name` in `schema`.
pub(crate) async fn lock_workflow(
    pool: &Pool,
    schema: Option<&str>,
    name: &str,
) -> Result<WorkflowLock, DbError> {
    let conn = pool.get().await?;
    let key = format!("{}/{name}", schema.unwrap_or(""));
    pool::execute(
        &conn,
        "SELECT pg_advisory_lock($1, hashtext($2))",
        &[&LOCK_CLASS, &key],
    )
    .await?;
    Ok(WorkflowLock::new(Held(Some(conn))))
}

/// The connection holding the lock. On drop it is unlocked before going back to the pool; a
/// connection that cannot be unlocked is closed instead (which releases the lock too), so a
/// pooled connection never carries a lock to its next user.
struct Held(Option<Object>);

impl Drop for Held {
    fn drop(&mut self) {
        let Some(conn) = self.0.take() else { return };
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
