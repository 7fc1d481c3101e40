//! Wake-ups between nodes: `NOTIFY` in the transactions that make work due, `LISTEN` on a
//! dedicated connection that turns other nodes' notifications into this node's [`WakeUps`].
//!
//! One channel per schema (nodes on other schemas of the same server hear nothing), the kind
//! of work as payload. A transaction notifies at most once per kind, in one statement
//! (`notify`), and PostgreSQL delivers only on commit — a rolled-back step wakes nobody.
//! The listener reconnects when its connection is lost and then wakes everything, since
//! notifications sent meanwhile are gone; the loops' polling of `next_due` stays as the
//! fallback for anything missed.

use crate::error::DbError;
use crate::pool;
use deadpool_postgres::GenericClient;
use hookflow_store::{Due, WakeUps};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, Config, NoTls};

/// How long the listener waits before reconnecting after losing its connection.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// The notification channel of a schema (schema names are checked lower-case identifiers,
/// so the name needs no quoting beyond the `LISTEN` statement's).
pub(crate) fn channel(schema: Option<&str>) -> String {
    match schema {
        Some(schema) => format!("hookflow_{schema}"),
        None => "hookflow".into(),
    }
}

/// Tells other nodes (and this one's listener) that `due` work exists, on commit of `tx`.
pub(crate) async fn notify(
    tx: &impl GenericClient,
    channel: &str,
    due: Due,
) -> Result<(), DbError> {
    if due.is_empty() {
        return Ok(());
    }
    pool::execute(
        tx,
        "SELECT pg_notify($1, kind) FROM unnest($2::text[]) AS kind",
        &[&channel, &due.words()],
    )
    .await?;
    Ok(())
}

/// The listener task; aborted (closing its connection) when dropped with the store.
pub(crate) struct Listener(JoinHandle<()>);

impl Drop for Listener {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts listening on `channel` with a connection of its own, feeding `wake_ups`.
pub(crate) fn listen(config: Config, channel: String, wake_ups: Arc<WakeUps>) -> Listener {
    Listener(tokio::spawn(async move {
        loop {
            match listen_once(&config, &channel, &wake_ups).await {
                Ok(()) => tracing::warn!(channel, "notification connection closed; reconnecting"),
                Err(error) => tracing::warn!(
                    channel,
                    error = %error.message(),
                    "notification connection failed; polling until it is back"
                ),
            }
            tokio::time::sleep(RECONNECT_DELAY).await;
        }
    }))
}

/// One connection's life: `LISTEN`, then wake for every notification until it ends.
async fn listen_once(
    config: &Config,
    channel: &str,
    wake_ups: &Arc<WakeUps>,
) -> Result<(), DbError> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let feed = wake_ups.clone();
    let driver = tokio::spawn(async move {
        while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            match message {
                Ok(AsyncMessage::Notification(note)) => feed.wake(Due::from_word(note.payload())),
                Ok(_) => {}
                Err(error) => return Err(DbError::from(error)),
            }
        }
        Ok(())
    });
    if let Err(error) = client.batch_execute(&format!("LISTEN \"{channel}\"")).await {
        driver.abort();
        return Err(error.into());
    }
    // Whatever was notified while nobody listened is lost: look for it now.
    wake_ups.wake(Due::ALL);
    let ended = driver.await;
    drop(client);
    match ended {
        Ok(result) => result,
        Err(join) => Err(crate::error::backend(format!("notification task: {join}"))),
    }
}
