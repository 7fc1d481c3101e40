//! The imperative shell around the pure core: it owns the clock, the store, outbound HTTP and
//! the tasks that move runs forward.
//!
//! [`Runtime::start`] spawns its loops — the *scheduler* (claims runs with due inbox events,
//! applies them with [`hookflow_engine::step`], commits each step with its effects), the
//! *effect executor* (claims outbox effects, makes the HTTP calls, reports outcomes back as
//! events), the unsubscribe worker and the *recurrence loop* (fires Recurrence triggers'
//! occurrences) — and returns a cheap-to-clone [`Handle`], the only way to talk to them. Nothing
//! about a waiting run lives in memory: a restart finds all work in the store.

mod ahead;
mod callbacks;
mod client_assertion;
mod clock;
mod compiled;
mod credentials;
mod effects;
mod egress;
mod error;
mod outbound;
mod parameter_sources;
mod recurrences;
mod redact;
mod responders;
mod run_cache;
mod runs;
mod scheduler;
mod signing;
mod standard_webhooks;
mod subscriptions;
mod trigger_scope;
mod triggers;
mod workflow_cache;
mod workflows;

pub use callbacks::CallbackAnswer;
pub use clock::{Clock, SystemClock};
pub use egress::{Cidr, EgressPolicy};
pub use error::{Error, Result};
pub use outbound::OutboundOptions;
pub use redact::{SecureData, redact_record, secure_data, secure_values};

pub use responders::SyncReply;
pub use signing::CallbackUrl;
pub use subscriptions::subscription_view;
pub use triggers::{Fired, InboundRequest};
pub use workflows::{SaveResult, WorkflowView};

use compiled::Compiled;
use std::{collections::HashMap, sync::Arc, time::Duration};
use tokio_util::sync::CancellationToken;

/// Behaviour of the runtime, passed explicitly (see `cli` for where it comes from).
#[derive(Debug, Clone)]
pub struct Options {
    /// Base of every callback URL handed out (`http://127.0.0.1:7071`), without trailing `/`.
    pub public_url: String,
    /// Timeout of an outbound call when the action sets none.
    pub http_timeout: Duration,
    /// Largest outbound response body read.
    pub max_response_bytes: usize,
    /// How long a node keeps a claimed run or effect before others may take it over.
    pub lease: Duration,
    /// Outbound calls in flight at once.
    pub max_concurrent_effects: usize,
    /// Runs stepped at once.
    pub max_concurrent_steps: usize,
    /// Identifies this node in leases.
    pub node_id: String,
    /// How long a webhook action waits when it sets no `limit.timeout`.
    pub webhook_timeout: Duration,
    /// The longest wait a webhook action may ask for.
    pub max_webhook_timeout: Duration,
    /// Wait before the second unsubscribe attempt; it doubles with each further attempt.
    pub unsubscribe_retry_base: Duration,
    /// How long a delivery's `Idempotency-Key` / `webhook-id` is remembered.
    pub dedup_retention: Duration,
    /// The outbound client: egress policy, trusted CAs, token providers, async polling.
    pub outbound: OutboundOptions,
}

/// Shared state behind every [`Handle`].
struct Inner {
    options: Options,
    store: Arc<dyn hookflow_store::Store>,
    clock: Arc<dyn Clock>,
    definitions: compiled::Cache,
    /// Workflow records read by trigger fires and callbacks.
    workflows: workflow_cache::WorkflowCache,
    /// Bounds the runs stepped at once (`Options::max_concurrent_steps`).
    step_permits: Arc<tokio::sync::Semaphore>,
    /// Runs stepped recently, with the `seq` their cached state is at.
    runs: std::sync::Mutex<run_cache::RunCache<scheduler::CachedRun>>,
    /// Runs whose step this node is taking ahead (`scheduler::Ahead`), with their version.
    /// Locked after `runs` when both are.
    stepping_ahead: std::sync::Mutex<HashMap<String, ahead::SteppingAhead>>,
    responders: responders::Responders,
    http: outbound::Outbound,
    /// Wakes the recurrence loop: this node changed timers (other nodes' changes are found
    /// by its polling, at most `IDLE_POLL` late).
    recurrence_work: tokio::sync::Notify,
    /// Cancelled when the node stops: a continuing run is then released between its steps
    /// rather than stepped on in place (`scheduler`).
    shutdown: CancellationToken,
}

/// The way to talk to a running runtime. Cheap to clone.
#[derive(Clone)]
pub struct Handle {
    inner: Arc<Inner>,
}

/// Owns the runtime's loops.
pub struct Runtime;

impl Runtime {
    /// Starts the scheduler and the effect executor; they stop when `shutdown` is cancelled.
    pub async fn start(
        options: Options,
        store: Arc<dyn hookflow_store::Store>,
        clock: Arc<dyn Clock>,
        shutdown: CancellationToken,
    ) -> Result<(Handle, tokio::task::JoinHandle<()>)> {
        let http = outbound::Outbound::new(
            options.outbound.clone(),
            options.max_response_bytes,
            clock.clone(),
        )?;
        let inner = Arc::new(Inner {
            definitions: compiled::Cache::default(),
            workflows: Default::default(),
            step_permits: Arc::new(tokio::sync::Semaphore::new(options.max_concurrent_steps)),
            runs: Default::default(),
            stepping_ahead: Default::default(),
            responders: Default::default(),
            recurrence_work: tokio::sync::Notify::new(),
            shutdown: shutdown.clone(),
            options,
            store,
            clock,
            http,
        });
        let handle = Handle { inner };
        let scheduler = tokio::spawn(scheduler::run(handle.clone(), shutdown.clone()));
        let effects = tokio::spawn(effects::run(handle.clone(), shutdown.clone()));
        // Intents a crash left half-done are settled before anything else changes workflows.
        handle.reconcile_subscriptions().await?;
        handle.reconcile_recurrences().await?;
        let unsubscriber = tokio::spawn(subscriptions::run_unsubscribe_worker(
            handle.clone(),
            shutdown.clone(),
        ));
        let recurrences = tokio::spawn(recurrences::run(handle.clone(), shutdown));
        let joined = tokio::spawn(async move {
            let _ = tokio::join!(scheduler, effects, unsubscriber, recurrences);
        });
        Ok((handle, joined))
    }
}

impl Handle {
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    pub fn store(&self) -> &Arc<dyn hookflow_store::Store> {
        &self.inner.store
    }

    /// The store's wake-ups: they fire after writes that make work due, on this node or
    /// (on a shared backend) another.
    fn wake_ups(&self) -> &hookflow_store::WakeUps {
        self.inner.store.wake_ups()
    }

    fn now(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// The lease this node takes on a run where it records an event for it.
    fn lease_run(&self) -> hookflow_store::LeaseRun {
        hookflow_store::LeaseRun {
            owner: self.inner.options.node_id.clone(),
            lease_ms: self.inner.options.lease.as_millis() as i64,
        }
    }

    async fn compiled(&self, version_id: &str) -> Result<Arc<Compiled>> {
        self.inner
            .definitions
            .get(self.inner.store.as_ref(), version_id)
            .await
    }
}
