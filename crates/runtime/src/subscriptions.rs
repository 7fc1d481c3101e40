//! Webhook trigger subscriptions and their ledger.
//!
//! The wanted set of subscriptions is derived from a workflow's state: for an enabled
//! workflow, one per HttpWebhook trigger of its current version, identified by the
//! *fingerprint* of its evaluated subscribe request (callback URL included). Changes go in two
//! phases:
//!
//! 1. [`Handle::subscribe_missing`], before the change is committed: each wanted subscription
//!    not already Active is written to the ledger as `Subscribing` (intent before effect), then
//!    subscribe is called (with the trigger's retry policy). A failure undoes what this change
//!    subscribed and fails the change, which is then not committed.
//! 2. [`Handle::settle_subscriptions`], after the change is committed (and at start-up): every
//!    live ledger entry the workflow's state no longer wants — its trigger removed or changed,
//!    the workflow disabled or deleted, or a `Subscribing` intent left by a crash — becomes
//!    `Unsubscribing`. The unsubscribe worker ([`run_unsubscribe_worker`]) calls unsubscribe
//!    until the service accepts it (or gives up), never blocking the change that caused it.

use crate::{Error, Handle, Result, compiled::Compiled, signing, trigger_scope::TriggerScope};
use hookflow_engine::{
    HttpOutcome, HttpRequest, RetryPolicy, build_request, format_time, is_retryable_status,
};
use hookflow_model::{Trigger, TriggerKind};
use hookflow_store::{
    Claim, SubscriptionRecord, SubscriptionState, SubscriptionUpdate, TriggerHistoryRecord,
    WorkflowRecord,
};
use serde::Deserialize as _;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Unsubscribe attempts before a subscription is abandoned.
const MAX_UNSUBSCRIBE_ATTEMPTS: u32 = 20;
/// Longest wait between unsubscribe attempts.
const MAX_UNSUBSCRIBE_BACKOFF: Duration = Duration::from_secs(600);

/// A subscription the workflow's state wants, evaluated.
pub(crate) struct Wanted {
    trigger: String,
    request: HttpRequest,
    retry: RetryPolicy,
    fingerprint: String,
    callback_url: String,
    /// `{"inputs": ..., "parameters": ...}` (see `SubscriptionRecord::unsubscribe`).
    unsubscribe: Option<Value>,
}

/// The keys a change will leave the workflow with (they sign the callback URLs).
pub(crate) struct Keys<'a> {
    pub primary: &'a str,
    pub secondary: &'a str,
}

impl Handle {
    /// The subscriptions an enabled workflow with this version and these keys wants.
    pub(crate) fn wanted_subscriptions(
        &self,
        workflow: &str,
        compiled: &Compiled,
        keys: &Keys<'_>,
    ) -> Result<Vec<Wanted>> {
        let mut wanted = Vec::new();
        for trigger in &compiled.definition.triggers {
            let TriggerKind::HttpWebhook(inputs) = &trigger.kind else {
                continue;
            };
            let callback_url = self.callback_url(workflow, trigger, keys)?;
            let scope = TriggerScope {
                workflow,
                endpoint: &self.inner.options.public_url,
                parameters: Some(&compiled.parameters),
                callback_url: Some(&callback_url),
                ..Default::default()
            };
            let place = |what: &str| format!("triggers.{}.inputs.subscribe{what}", trigger.name);
            let evaluated = inputs
                .subscribe
                .eval(&scope)
                .map_err(|e| Error::BadRequest(format!("{}: {e}", place(""))))?;
            let retry = RetryPolicy::parse(evaluated.get("retryPolicy"))
                .map_err(|e| Error::BadRequest(format!("{}: {e}", place(""))))?;
            let mut request = build_request(
                &evaluated,
                self.inner.options.http_timeout.as_millis() as u64,
                String::new(),
            )
            .map_err(|e| Error::BadRequest(format!("{}: {e}", place(""))))?;
            let fingerprint = fingerprint(&request, &callback_url);
            request.idempotency_key =
                format!("subscribe/{workflow}/{}/{fingerprint}", trigger.name);
            let unsubscribe = trigger.raw.get("inputs").and_then(|i| i.get("unsubscribe")).filter(|_| inputs.unsubscribe.is_some()).map(|raw| {
                json!({ "inputs": normalized_unsubscribe(raw), "parameters": compiled.parameters })
            });
            wanted.push(Wanted {
                trigger: trigger.name.clone(),
                request,
                retry,
                fingerprint,
                callback_url,
                unsubscribe,
            });
        }
        Ok(wanted)
    }

    /// The callback URL of a webhook trigger, signed with the key its `accessKeyType` names.
    fn callback_url(&self, workflow: &str, trigger: &Trigger, keys: &Keys<'_>) -> Result<String> {
        let secondary = trigger
            .raw
            .get("inputs")
            .and_then(|i| i.get("accessKeyType"))
            .and_then(Value::as_str)
            .is_some_and(|k| k.eq_ignore_ascii_case("Secondary"));
        let key = if secondary {
            keys.secondary
        } else {
            keys.primary
        };
        Ok(self.signed_trigger_url(workflow, &trigger.name, key, None))
    }

    /// Phase 1: subscribes every wanted subscription not already Active. On failure, undoes
    /// what it subscribed and returns the error; the caller then commits nothing.
    pub(crate) async fn subscribe_missing(
        &self,
        workflow: &str,
        version_id: &str,
        wanted: &[Wanted],
    ) -> Result<()> {
        let existing = self.inner.store.list_subscriptions(Some(workflow)).await?;
        let mut made: Vec<SubscriptionRecord> = Vec::new();
        for want in wanted {
            let active = existing.iter().any(|s| {
                s.state == SubscriptionState::Active
                    && s.trigger == want.trigger
                    && s.fingerprint == want.fingerprint
            });
            if active {
                continue;
            }
            match self.subscribe(workflow, version_id, want).await {
                Ok(record) => made.push(record),
                Err(error) => {
                    for mut record in made {
                        self.mark_unsubscribing(&mut record).await?;
                    }
                    return Err(error);
                }
            }
        }
        Ok(())
    }

    /// Records the intent, calls subscribe (retrying per the policy), records the outcome.
    async fn subscribe(
        &self,
        workflow: &str,
        version_id: &str,
        want: &Wanted,
    ) -> Result<SubscriptionRecord> {
        let now = self.now();
        let mut record = SubscriptionRecord {
            id: uuid::Uuid::now_v7().simple().to_string(),
            workflow: workflow.to_owned(),
            trigger: want.trigger.clone(),
            version_id: version_id.to_owned(),
            state: SubscriptionState::Subscribing,
            target: want.request.uri.clone(),
            fingerprint: want.fingerprint.clone(),
            callback_url: want.callback_url.clone(),
            subscribe_response: None,
            unsubscribe: want.unsubscribe.clone(),
            attempts: 0,
            next_attempt_at: None,
            last_error: None,
            created_at: now,
            updated_at: now,
        };
        self.inner.store.insert_subscription(record.clone()).await?;
        let mut request = want.request.clone();
        add_tracking_headers(&mut request, &record);
        let mut retry = 0;
        let outcome = loop {
            record.attempts += 1;
            let started = self.now();
            let outcome = self.inner.http.send(&request).await;
            let failed = describe_failure(&outcome);
            let entry = self.history_entry(
                &record,
                "Subscribe",
                started,
                failed.as_deref(),
                response_detail(&outcome),
            );
            self.inner.store.add_trigger_history(entry).await?;
            let retryable = match &outcome {
                HttpOutcome::Response { status, .. } => is_retryable_status(*status),
                HttpOutcome::Error { .. } => true,
            };
            retry += 1;
            let delay = if failed.is_some() && retryable {
                want.retry
                    .delay_ms(retry, uuid::Uuid::new_v4().as_u128() as u64)
            } else {
                None
            };
            match delay {
                Some(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                None => break outcome,
            }
        };
        record.updated_at = self.now();
        match &outcome {
            HttpOutcome::Response {
                status,
                headers,
                body,
            } if (200..300).contains(status) => {
                record.state = SubscriptionState::Active;
                record.subscribe_response =
                    Some(json!({ "statusCode": status, "headers": headers, "body": body }));
                self.transition(&record, SubscriptionState::Subscribing, None)
                    .await?;
                Ok(record)
            }
            _ => {
                let message = describe_failure(&outcome).unwrap_or_default();
                record.state = SubscriptionState::Failed;
                record.last_error = Some(message.clone());
                self.transition(&record, SubscriptionState::Subscribing, None)
                    .await?;
                let (status, body) = match outcome {
                    HttpOutcome::Response { status, body, .. } => (Some(status), body),
                    HttpOutcome::Error { .. } => (None, Value::Null),
                };
                Err(Error::SubscribeFailed {
                    trigger: want.trigger.clone(),
                    status,
                    body,
                    message,
                })
            }
        }
    }

    /// Phase 2: brings the ledger of `workflow` in line with its committed state.
    pub(crate) async fn settle_subscriptions(&self, workflow: &str) -> Result<()> {
        let live: Vec<_> = self
            .inner
            .store
            .list_subscriptions(Some(workflow))
            .await?
            .into_iter()
            .filter(|s| !s.state.is_terminal())
            .collect();
        if live.is_empty() {
            return Ok(());
        }
        let wanted = match self.inner.store.get_workflow(workflow).await? {
            Some(record) if record.enabled => self.wanted_for(&record).await.unwrap_or_else(|error| {
                tracing::warn!(workflow, %error, "cannot evaluate the wanted subscriptions; releasing all");
                Vec::new()
            }),
            _ => Vec::new(),
        };
        let mut kept: Vec<&str> = Vec::new();
        for mut sub in live {
            let wanted_here = wanted
                .iter()
                .find(|w| w.trigger == sub.trigger && w.fingerprint == sub.fingerprint);
            match (sub.state, wanted_here) {
                (SubscriptionState::Active, Some(want))
                    if !kept.contains(&want.trigger.as_str()) =>
                {
                    kept.push(&want.trigger);
                    let current = self
                        .inner
                        .store
                        .get_workflow(workflow)
                        .await?
                        .map(|w| w.version_id);
                    if let Some(version) = current.filter(|v| *v != sub.version_id) {
                        sub.version_id = version;
                        sub.updated_at = self.now();
                        self.transition(&sub, SubscriptionState::Active, None)
                            .await?;
                    }
                }
                (SubscriptionState::Unsubscribing, _) => {}
                _ => self.mark_unsubscribing(&mut sub).await?,
            }
        }
        Ok(())
    }

    async fn wanted_for(&self, record: &WorkflowRecord) -> Result<Vec<Wanted>> {
        let compiled = self.compiled(&record.version_id).await?;
        let keys = Keys {
            primary: &record.primary_key,
            secondary: &record.secondary_key,
        };
        self.wanted_subscriptions(&record.name, &compiled, &keys)
    }

    async fn mark_unsubscribing(&self, sub: &mut SubscriptionRecord) -> Result<()> {
        let now = self.now();
        let was = sub.state;
        sub.state = SubscriptionState::Unsubscribing;
        sub.attempts = 0;
        sub.next_attempt_at = Some(now);
        sub.updated_at = now;
        self.transition(sub, was, None).await
    }

    /// Stores `sub` if its entry is still in state `expected` (and leased by `owner`): a
    /// ledger entry moves by compare-and-set, so of two nodes only one makes a transition.
    async fn transition(
        &self,
        sub: &SubscriptionRecord,
        expected: SubscriptionState,
        owner: Option<&str>,
    ) -> Result<()> {
        let update = SubscriptionUpdate {
            record: sub.clone(),
            expected,
            owner: owner.map(str::to_owned),
            history: None,
            remove: false,
        };
        Ok(self.inner.store.update_subscription(update).await?)
    }

    /// Settles every workflow that has live ledger entries: run at start-up, so intents left
    /// by a crash are undone or confirmed. Each under its workflow's lock, so a node starting
    /// while another changes the workflow waits for that change (and does not take its
    /// in-flight `Subscribing` intent for a crash's).
    pub async fn reconcile_subscriptions(&self) -> Result<()> {
        let mut workflows: Vec<String> = self
            .inner
            .store
            .list_subscriptions(None)
            .await?
            .into_iter()
            .filter(|s| !s.state.is_terminal())
            .map(|s| s.workflow)
            .collect();
        workflows.sort_unstable();
        workflows.dedup();
        for workflow in workflows {
            let _lock = self.inner.store.lock_workflow(&workflow).await?;
            self.settle_subscriptions(&workflow).await?;
        }
        Ok(())
    }

    /// One unsubscribe attempt for `sub` (state Unsubscribing, due).
    async fn unsubscribe(&self, mut sub: SubscriptionRecord) -> Result<()> {
        let started = self.now();
        let request = match unsubscribe_request(
            &sub,
            self.inner.options.http_timeout,
            &self.inner.options.public_url,
        ) {
            Ok(Some(request)) => request,
            Ok(None) => {
                sub.state = SubscriptionState::Removed;
                sub.next_attempt_at = None;
                sub.updated_at = started;
                return self.unsubscribed(&sub, None).await;
            }
            Err(message) => {
                // The inputs cannot be evaluated: retrying cannot help.
                let entry =
                    self.history_entry(&sub, "Unsubscribe", started, Some(&message), Value::Null);
                sub.state = SubscriptionState::Abandoned;
                sub.last_error = Some(message);
                sub.next_attempt_at = None;
                sub.updated_at = started;
                return self.unsubscribed(&sub, Some(entry)).await;
            }
        };
        sub.attempts += 1;
        let outcome = self.inner.http.send(&request).await;
        // A service that no longer knows the subscription has nothing left to remove.
        let gone = matches!(
            outcome,
            HttpOutcome::Response {
                status: 404 | 410,
                ..
            }
        );
        let failed = if gone {
            None
        } else {
            describe_failure(&outcome)
        };
        let entry = self.history_entry(
            &sub,
            "Unsubscribe",
            started,
            failed.as_deref(),
            response_detail(&outcome),
        );
        let now = self.now();
        sub.updated_at = now;
        match failed {
            None => {
                sub.state = SubscriptionState::Removed;
                sub.next_attempt_at = None;
                sub.last_error = None;
            }
            Some(message) if sub.attempts >= MAX_UNSUBSCRIBE_ATTEMPTS => {
                sub.state = SubscriptionState::Abandoned;
                sub.next_attempt_at = None;
                sub.last_error = Some(message);
            }
            Some(message) => {
                let base = self.inner.options.unsubscribe_retry_base.as_millis() as u64;
                let backoff = base
                    .saturating_mul(1 << (sub.attempts - 1).min(20))
                    .min(MAX_UNSUBSCRIBE_BACKOFF.as_millis() as u64);
                sub.next_attempt_at = Some(now + backoff as i64);
                sub.last_error = Some(message);
            }
        }
        self.unsubscribed(&sub, Some(entry)).await
    }

    /// Records the outcome of an unsubscribe attempt this node leased, with the attempt's
    /// history entry if it made a call: one write. A webhook action's unsubscribe that is
    /// done leaves the ledger (its attempts stay in the history): one row per action
    /// execution would otherwise pile up, to be read at every start-up and save.
    async fn unsubscribed(
        &self,
        sub: &SubscriptionRecord,
        history: Option<TriggerHistoryRecord>,
    ) -> Result<()> {
        let update = SubscriptionUpdate {
            record: sub.clone(),
            expected: SubscriptionState::Unsubscribing,
            owner: Some(self.inner.options.node_id.clone()),
            history,
            remove: sub.state == SubscriptionState::Removed && owed_by_action(sub),
        };
        Ok(self.inner.store.update_subscription(update).await?)
    }

    /// The history entry of one subscribe or unsubscribe attempt of `sub`.
    fn history_entry(
        &self,
        sub: &SubscriptionRecord,
        kind: &str,
        started: i64,
        failure: Option<&str>,
        detail: Value,
    ) -> TriggerHistoryRecord {
        let mut detail = match detail {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        detail.insert("subscription".into(), Value::String(sub.id.clone()));
        detail.insert("attempt".into(), json!(sub.attempts));
        if let Some(failure) = failure {
            detail.insert("error".into(), Value::String(failure.to_owned()));
        }
        TriggerHistoryRecord {
            id: uuid::Uuid::now_v7().simple().to_string(),
            workflow: sub.workflow.clone(),
            trigger: sub.trigger.clone(),
            kind: kind.to_owned(),
            status: if failure.is_some() {
                "Failed"
            } else {
                "Succeeded"
            }
            .to_owned(),
            start_time: started,
            end_time: self.now(),
            run_id: None,
            detail: Value::Object(detail),
        }
    }
}

/// The worker that carries out due unsubscribe calls. Each pass leases the due entries
/// (`claim_unsubscribes`), so nodes never call the same unsubscribe at once, and makes their
/// calls with bounded concurrency.
pub(crate) async fn run_unsubscribe_worker(handle: Handle, shutdown: CancellationToken) {
    let options = &handle.inner.options;
    // A lease outlasts the call it covers (the call times out first).
    let lease = options.lease.max(options.http_timeout * 2);
    loop {
        let claim = Claim {
            owner: options.node_id.clone(),
            now: handle.now(),
            lease_ms: lease.as_millis() as i64,
            limit: UNSUBSCRIBE_BATCH,
        };
        let claimed = match handle.inner.store.claim_unsubscribes(claim).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::error!(%error, "claiming owed unsubscribes failed");
                Vec::new()
            }
        };
        if !claimed.is_empty() {
            let mut calls = tokio::task::JoinSet::new();
            for sub in claimed {
                if calls.len() >= UNSUBSCRIBE_CONCURRENCY {
                    calls.join_next().await;
                }
                let handle = handle.clone();
                calls.spawn(async move {
                    if let Err(error) = handle.unsubscribe(sub).await {
                        tracing::error!(%error, "unsubscribe attempt could not be recorded");
                    }
                });
            }
            while calls.join_next().await.is_some() {}
            continue;
        }
        // Nothing due that nobody holds: sleep until the earliest owed entry is due (one
        // another node holds counts as not due: its outcome wakes us, or the poll does).
        let now = handle.now();
        let next_due = match handle.inner.store.list_owed_unsubscribes(1).await {
            Ok(owed) => owed.first().and_then(|s| s.next_attempt_at),
            Err(error) => {
                tracing::error!(%error, "listing owed unsubscribes failed");
                None
            }
        };
        let idle = crate::scheduler::IDLE_POLL * 5;
        let sleep = match next_due {
            Some(due) if due > now => Duration::from_millis((due - now) as u64).min(idle),
            _ => idle,
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = handle.wake_ups().unsubscribes.notified() => {}
            _ = tokio::time::sleep(sleep) => {}
        }
    }
}

/// Owed unsubscribes read per pass of the worker.
const UNSUBSCRIBE_BATCH: u32 = 256;
/// Unsubscribe calls in flight at once.
const UNSUBSCRIBE_CONCURRENCY: usize = 32;

/// Evaluates a subscription's unsubscribe inputs. `Ok(None)`: there is no unsubscribe call.
/// The key of an entry's `unsubscribe` under which a webhook action's owed call is stored,
/// evaluated (`scheduler::action_unsubscribe`); a trigger's holds its inputs instead.
pub(crate) const ACTION_REQUEST: &str = "request";

/// Whether the entry is an unsubscribe a webhook action owes (not a trigger's subscription).
fn owed_by_action(sub: &SubscriptionRecord) -> bool {
    sub.unsubscribe
        .as_ref()
        .is_some_and(|template| template.get(ACTION_REQUEST).is_some())
}

fn unsubscribe_request(
    sub: &SubscriptionRecord,
    timeout: Duration,
    endpoint: &str,
) -> Result<Option<HttpRequest>, String> {
    let Some(template) = &sub.unsubscribe else {
        return Ok(None);
    };
    // A webhook action's unsubscribe was evaluated by the engine, in its run's scope.
    if let Some(request) = template.get(ACTION_REQUEST) {
        return HttpRequest::deserialize(request)
            .map(Some)
            .map_err(|e| format!("stored unsubscribe request: {e}"));
    }
    let inputs = template.get("inputs").cloned().unwrap_or(Value::Null);
    let parameters = template
        .get("parameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let compiled = hookflow_expr::compile_value(&inputs).map_err(|errors| {
        errors
            .iter()
            .map(|(path, e)| format!("unsubscribe{path}: {e}"))
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let scope = TriggerScope {
        workflow: &sub.workflow,
        endpoint,
        parameters: Some(&parameters),
        callback_url: Some(&sub.callback_url),
        action: Some(json!({ "outputs": sub.subscribe_response.clone().unwrap_or(Value::Null) })),
        ..Default::default()
    };
    let evaluated = compiled
        .eval(&scope)
        .map_err(|e| format!("inputs.unsubscribe: {e}"))?;
    let mut request = build_request(
        &evaluated,
        timeout.as_millis() as u64,
        format!("unsubscribe/{}", sub.id),
    )
    .map_err(|e| format!("inputs.unsubscribe: {e}"))?;
    add_tracking_headers(&mut request, sub);
    Ok(Some(request))
}

/// Every subscribe and unsubscribe call says which subscription it is about.
fn add_tracking_headers(request: &mut HttpRequest, sub: &SubscriptionRecord) {
    request.headers.retain(|(name, _)| {
        !name.eq_ignore_ascii_case("x-ms-client-tracking-id")
            && !name.eq_ignore_ascii_case("x-ms-workflow-operation-name")
    });
    request
        .headers
        .push(("x-ms-client-tracking-id".into(), sub.id.clone()));
    request
        .headers
        .push(("x-ms-workflow-operation-name".into(), sub.trigger.clone()));
}

/// `unsubscribe` as written, with `url` accepted as a synonym of `uri`.
fn normalized_unsubscribe(raw: &Value) -> Value {
    let mut raw = raw.clone();
    if let Some(object) = raw.as_object_mut()
        && !object.contains_key("uri")
        && let Some(url) = object.remove("url")
    {
        object.insert("uri".into(), url);
    }
    raw
}

fn fingerprint(request: &HttpRequest, callback_url: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(serde_json::to_vec(request).expect("requests serialize"));
    hasher.update(callback_url.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Why an outbound call counts as failed, or `None` for a 2xx.
fn describe_failure(outcome: &HttpOutcome) -> Option<String> {
    match outcome {
        HttpOutcome::Response { status, .. } if (200..300).contains(status) => None,
        HttpOutcome::Response { status, body, .. } => {
            Some(format!("the service answered {status}: {}", short(body)))
        }
        HttpOutcome::Error { code, message } => Some(format!("{code}: {message}")),
    }
}

fn response_detail(outcome: &HttpOutcome) -> Value {
    match outcome {
        HttpOutcome::Response { status, body, .. } => json!({ "statusCode": status, "body": body }),
        HttpOutcome::Error { code, message } => json!({ "code": code, "message": message }),
    }
}

fn short(body: &Value) -> String {
    let text = match body {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text.chars().take(500).collect()
}

/// A subscription as the API shows it (no callback URL: it carries the signature).
pub fn subscription_view(sub: &SubscriptionRecord) -> Value {
    json!({
        "id": sub.id,
        "workflow": sub.workflow,
        "trigger": sub.trigger,
        "version": sub.version_id,
        "state": sub.state.as_str(),
        "target": sub.target,
        "attempts": sub.attempts,
        "nextAttemptTime": sub.next_attempt_at.map(format_time),
        "lastError": sub.last_error,
        "subscribeResponse": sub.subscribe_response.as_ref().map(|r| json!({ "statusCode": r.get("statusCode"), "body": r.get("body") })),
        "createdTime": format_time(sub.created_at),
        "changedTime": format_time(sub.updated_at),
    })
}

/// Keeps `signing` in one place for URLs: the trigger URL path for a workflow and trigger.
pub(crate) fn trigger_base_path(public_url: &str, workflow: &str, trigger: &str) -> String {
    format!(
        "{public_url}/workflows/{}/triggers/{}/paths/invoke",
        signing::encode(workflow),
        signing::encode(trigger)
    )
}
