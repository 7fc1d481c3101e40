//! The writer: one `std::thread` owning the only write connection, committing queued
//! commands in groups.
//!
//! Every write method of the store becomes a command (a closure over the connection) sent
//! through a bounded channel. The thread takes whatever is queued, up to `max_batch`, runs it
//! all in one transaction — with the commands that arrive while it runs — and commits once,
//! then answers each caller. Under load, commands
//! pile up while a commit's fsync is in flight, so one fsync acknowledges many writes; under
//! light load a batch is a single command and nothing waits for company.
//!
//! A command that fails (a `Conflict`, a constraint) rolls back only its own changes and the
//! rest of the batch still commits: the batch first runs without savepoints (commands rarely
//! fail), and when one fails it runs again with a SAVEPOINT per command. If the transaction
//! itself fails (IO error, disk full, failed COMMIT), every command of the
//! batch is answered with that error: none of them is durable.
//!
//! A dedicated thread rather than a tokio task because SQLite calls block (the fsync above
//! all), and a plain thread rather than `spawn_blocking` because it lives as long as the store.

use crate::error::DbError;
use hookflow_store as store;
use rusqlite::Connection;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use tokio::sync::{mpsc, oneshot};

/// Counters of the writer, for tests and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteStats {
    /// Write commands executed (each store write method is one command).
    pub commands: u64,
    /// Transactions committed; `commands / batches` is the mean group size.
    pub batches: u64,
    /// Transactions that failed as a whole (every command in them got an error).
    pub failed_batches: u64,
}

pub(crate) struct Writer {
    /// `None` only while dropping: closing the channel is what stops the thread.
    queue: Option<mpsc::Sender<Box<dyn Job>>>,
    thread: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub(crate) fn start(conn: Connection, max_batch: usize) -> store::Result<Writer> {
        let max_batch = max_batch.max(1);
        // Room for a few batches: beyond that, callers wait for space (backpressure) instead of
        // growing the queue without bound.
        let (queue, commands) = mpsc::channel(max_batch * 4);
        let counters = Arc::new(Counters::default());
        let thread = std::thread::Builder::new()
            .name("hookflow-sqlite-writer".into())
            .spawn({
                let counters = Arc::clone(&counters);
                move || run(conn, commands, max_batch, &counters)
            })
            .map_err(|e| store::Error::Backend(format!("cannot start the writer thread: {e}")))?;
        Ok(Writer {
            queue: Some(queue),
            thread: Some(thread),
            counters,
        })
    }

    /// Runs `op` in the writer's next transaction and returns its result once that
    /// transaction is committed (or the error, with nothing of `op` written).
    ///
    /// If the caller stops waiting, the command still runs: like any database call, a write
    /// whose answer was not seen may or may not have happened.
    pub(crate) async fn write<T, F>(&self, op: F) -> store::Result<T>
    where
        T: Send + 'static,
        F: Fn(&Connection) -> Result<T, DbError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let command = Box::new(Command {
            op,
            outcome: None,
            reply,
        });
        let queue = self.queue.as_ref().ok_or_else(stopped)?;
        queue.send(command).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    pub(crate) fn stats(&self) -> WriteStats {
        WriteStats {
            commands: self.counters.commands.load(Ordering::Relaxed),
            batches: self.counters.batches.load(Ordering::Relaxed),
            failed_batches: self.counters.failed_batches.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Writer {
    /// Closes the queue and waits for the thread: it commits what is already queued, then
    /// closes the connection (checkpointing the WAL). This blocks for at most one batch.
    fn drop(&mut self) {
        self.queue.take();
        let panicked = self
            .thread
            .take()
            .is_some_and(|thread| thread.join().is_err());
        if panicked {
            tracing::error!("the SQLite writer thread panicked");
        }
    }
}

#[derive(Default)]
struct Counters {
    commands: AtomicU64,
    batches: AtomicU64,
    failed_batches: AtomicU64,
}

/// A queued write, type-erased so one channel carries commands of every result type.
trait Job: Send {
    /// Runs the command on the open transaction; `Err` carries its failure for logging.
    fn execute(&mut self, conn: &Connection) -> Result<(), String>;
    /// Answers the caller once the batch's fate is known (`Err` when it was not committed).
    fn answer(self: Box<Self>, batch: Result<(), &str>);
}

struct Command<T, F> {
    /// `Fn`, not `FnOnce`: a batch rolled back because one of its commands failed runs the
    /// others again.
    op: F,
    outcome: Option<store::Result<T>>,
    reply: oneshot::Sender<store::Result<T>>,
}

impl<T, F> Job for Command<T, F>
where
    T: Send,
    F: Fn(&Connection) -> Result<T, DbError> + Send,
{
    fn execute(&mut self, conn: &Connection) -> Result<(), String> {
        let outcome = (self.op)(conn).map_err(store::Error::from);
        let status = outcome.as_ref().map(|_| ()).map_err(ToString::to_string);
        self.outcome = Some(outcome);
        status
    }

    fn answer(self: Box<Self>, batch: Result<(), &str>) {
        let outcome = match (self.outcome, batch) {
            // Its own failure stands either way: nothing of it was written.
            (Some(Err(error)), _) => Err(error),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (_, Err(message)) => Err(store::Error::Backend(message.to_owned())),
            (None, Ok(())) => Err(store::Error::Backend("command was not executed".into())),
        };
        // The caller may have stopped waiting; the outcome is then nobody's business.
        let _ = self.reply.send(outcome);
    }
}

fn stopped() -> store::Error {
    store::Error::Backend("the SQLite writer thread has stopped".into())
}

/// The thread's loop: block for one command, run it and whatever else is queued (meanwhile
/// too) in one transaction, commit, answer.
fn run(
    conn: Connection,
    mut commands: mpsc::Receiver<Box<dyn Job>>,
    max_batch: usize,
    counters: &Counters,
) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(max_batch);
    while let Some(first) = commands.blocking_recv() {
        batch.push(first);
        let committed = commit(&conn, &mut batch, &mut commands, max_batch);
        counters
            .commands
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        match &committed {
            Ok(()) => counters.batches.fetch_add(1, Ordering::Relaxed),
            Err(error) => {
                tracing::error!(commands = batch.len(), %error, "SQLite write batch failed");
                counters.failed_batches.fetch_add(1, Ordering::Relaxed)
            }
        };
        let committed = committed.as_ref().copied().map_err(String::as_str);
        for job in batch.drain(..) {
            job.answer(committed);
        }
    }
}

/// Runs the batch in one transaction and commits it. Commands queued while it runs join it
/// (up to `max_batch`): a larger group for the same one commit, and no command waits for a
/// later one.
///
/// Optimistically without savepoints: a savepoint costs two statements and a copy of every
/// page its command changes, and commands rarely fail. When one does, the transaction is
/// rolled back and the batch runs again with a savepoint per command, so that only the
/// failed command's changes go (commands are `Fn`: running one again recomputes its outcome).
fn commit(
    conn: &Connection,
    batch: &mut Vec<Box<dyn Job>>,
    more: &mut mpsc::Receiver<Box<dyn Job>>,
    max_batch: usize,
) -> Result<(), String> {
    match transaction(conn, batch, Some((more, max_batch))) {
        Err(Failed::Command) => match transaction(conn, batch, None) {
            Ok(()) => Ok(()),
            Err(Failed::Batch(error)) => Err(error),
            Err(Failed::Command) => Err("a command failed inside its savepoint".into()),
        },
        Err(Failed::Batch(error)) => Err(error),
        Ok(()) => Ok(()),
    }
}

/// Why a transaction of the writer did not commit.
enum Failed {
    /// A command failed (without savepoints): run the batch again with them.
    Command,
    /// The transaction itself failed: none of the batch is written.
    Batch(String),
}

/// One transaction over the batch: without savepoints when `more` is given (taking the
/// commands that arrive meanwhile), else with one savepoint per command.
fn transaction(
    conn: &Connection,
    batch: &mut Vec<Box<dyn Job>>,
    mut more: Option<(&mut mpsc::Receiver<Box<dyn Job>>, usize)>,
) -> Result<(), Failed> {
    exec(conn, "BEGIN IMMEDIATE").map_err(Failed::Batch)?;
    let savepoints = more.is_none();
    let mut executed = 0;
    let result = loop {
        let ran = batch[executed..].iter_mut().try_for_each(|job| {
            if savepoints {
                execute_in_savepoint(conn, job).map_err(Failed::Batch)
            } else {
                execute_alone(conn, job)
            }
        });
        if let Err(failed) = ran {
            break Err(failed);
        }
        executed = batch.len();
        let Some((queue, max_batch)) = more.as_mut() else {
            break Ok(());
        };
        if batch.len() >= *max_batch {
            break Ok(());
        }
        match queue.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break Ok(()),
        }
    };
    let result = result.and_then(|()| exec(conn, "COMMIT").map_err(Failed::Batch));
    if result.is_err() && !conn.is_autocommit() {
        // Best effort: if even ROLLBACK fails the connection is unusable and the next BEGIN
        // reports it.
        let _ = exec(conn, "ROLLBACK");
    }
    result
}

/// Runs one command of the open transaction, with no savepoint.
fn execute_alone(conn: &Connection, job: &mut Box<dyn Job>) -> Result<(), Failed> {
    let executed = job.execute(conn);
    aborted(conn, &executed).map_err(Failed::Batch)?;
    executed.map_err(|_| Failed::Command)
}

/// Runs one command of the open transaction in its own savepoint.
fn execute_in_savepoint(conn: &Connection, job: &mut Box<dyn Job>) -> Result<(), String> {
    exec(conn, "SAVEPOINT command")?;
    let executed = job.execute(conn);
    aborted(conn, &executed)?;
    if executed.is_err() {
        exec(conn, "ROLLBACK TO command")?;
    }
    exec(conn, "RELEASE command")
}

/// Some errors (IO, disk full, out of memory) make SQLite roll back the whole transaction on
/// its own; nothing of the batch is left to commit.
fn aborted(conn: &Connection, executed: &Result<(), String>) -> Result<(), String> {
    if conn.is_autocommit() {
        return Err(format!(
            "transaction aborted: {}",
            executed.as_ref().err().map_or("by SQLite", String::as_str)
        ));
    }
    Ok(())
}

/// Runs one of the writer's fixed control statements, prepared once.
fn exec(conn: &Connection, sql: &str) -> Result<(), String> {
    conn.prepare_cached(sql)
        .and_then(|mut statement| statement.execute([]))
        .map(drop)
        .map_err(|e| format!("{sql}: {e}"))
}
