//! Recurrence triggers: each enabled workflow's Recurrence trigger has a timer row holding its
//! next occurrence (`Store::set_recurrences`, kept in line with the workflow by
//! [`Handle::sync_recurrences`]). The recurrence loop claims due timers and fires each
//! occurrence with `Store::fire_recurrence`: the run (with its first step), the trigger
//! history entry and the move to the next occurrence commit in one transaction, fenced by the
//! occurrence and the lease, so an occurrence starts one run across crashes and nodes.
//!
//! Missed occurrences follow Logic Apps ("if recurrences are missed, the Recurrence trigger
//! doesn't process the missed recurrences but restarts recurrences with the next scheduled
//! interval"): an occurrence found more than [`MISSED_AFTER`] late (the engine was down) is
//! skipped — one `Skipped` history entry — and the timer moves to the first occurrence after
//! now. A later but shorter delay (a busy node, a quick restart) still fires each occurrence,
//! in order. A disabled workflow has no timers; enabling it schedules from then on.

use crate::{Error, Handle, Result, scheduler, triggers};
use hookflow_engine::format_time;
use hookflow_model::{Recurrence, Trigger, TriggerKind};
use hookflow_store::{Claim, Fire, RecurrenceFire, RecurrenceTimer, TriggerHistoryRecord};
use serde_json::json;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// An occurrence due longer ago than this was missed: it is skipped, not fired.
pub(crate) const MISSED_AFTER: Duration = Duration::from_secs(60);

/// Timers handled per claim.
const CLAIM_LIMIT: u32 = 100;

impl Handle {
    /// Makes the workflow's timers match its committed state: one per Recurrence trigger of
    /// the current version while it is enabled, none otherwise (disabled, deleted). A trigger
    /// whose `recurrence` did not change keeps its timer (and its due occurrence); a new or
    /// changed one is scheduled from now.
    pub(crate) async fn sync_recurrences(&self, workflow: &str) -> Result<()> {
        let mut timers = Vec::new();
        if let Some(record) = self.inner.store.get_workflow(workflow).await?
            && record.enabled
        {
            let compiled = self.compiled(&record.version_id).await?;
            // Whole seconds: an anchor is where a schedule without `startTime` starts.
            let anchor = self.now().div_euclid(1_000) * 1_000;
            for trigger in &compiled.definition.triggers {
                let TriggerKind::Recurrence { recurrence } = &trigger.kind else {
                    continue;
                };
                if let Some(due_at) = recurrence.next_after(anchor, anchor - 1) {
                    timers.push(RecurrenceTimer {
                        workflow: workflow.to_owned(),
                        trigger: trigger.name.clone(),
                        recurrence: recurrence.raw.clone(),
                        anchor,
                        due_at,
                    });
                }
            }
        }
        self.inner.store.set_recurrences(workflow, timers).await?;
        self.inner.recurrence_work.notify_one();
        Ok(())
    }

    /// At start-up: every workflow's timers made to match it, and timers of workflows that
    /// are gone deleted (a crash between a change and its sync).
    pub(crate) async fn reconcile_recurrences(&self) -> Result<()> {
        let workflows = self.inner.store.list_workflows().await?;
        for workflow in &workflows {
            self.sync_recurrences(&workflow.name).await?;
        }
        for timer in self.inner.store.list_recurrences(None).await? {
            if !workflows.iter().any(|w| w.name == timer.workflow) {
                self.inner
                    .store
                    .set_recurrences(&timer.workflow, Vec::new())
                    .await?;
            }
        }
        Ok(())
    }

    /// Fires a Recurrence trigger now, outside its schedule (Logic Apps' "Run trigger"): the
    /// schedule is unchanged. Returns the run's id (`None` when its conditions were false).
    pub async fn run_trigger(&self, workflow: &str, trigger: &str) -> Result<Option<String>> {
        let record = self.workflow_record(workflow).await?;
        let compiled = self.compiled(&record.version_id).await?;
        let definition_trigger = compiled
            .definition
            .trigger(trigger)
            .filter(|t| matches!(t.kind, TriggerKind::Recurrence { .. }))
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "Recurrence trigger '{trigger}' of workflow '{workflow}'"
                ))
            })?;
        if !record.enabled {
            return Err(Error::Conflict(format!(
                "workflow '{workflow}' is disabled"
            )));
        }
        let now = self.now();
        let (fire, started) =
            self.scheduled_fire(&record, &compiled, definition_trigger, now, now)?;
        let run_id = fire.history.run_id.clone();
        if let Err(error) = self.inner.store.record_fire(fire).await {
            scheduler::not_started(self, &started);
            return Err(error.into());
        }
        self.after_fire(started);
        Ok(run_id)
    }

    /// The fire of one occurrence: its run (first step taken) unless the trigger's
    /// conditions are false, and its history entry.
    fn scheduled_fire(
        &self,
        record: &hookflow_store::WorkflowRecord,
        compiled: &std::sync::Arc<crate::Compiled>,
        trigger: &Trigger,
        scheduled: i64,
        now: i64,
    ) -> Result<(Fire, Vec<scheduler::Started>)> {
        let fire_id = uuid::Uuid::now_v7().simple().to_string();
        let inputs = match &trigger.kind {
            TriggerKind::Recurrence { recurrence } => recurrence.raw.clone(),
            _ => json!({}),
        };
        let mut object = triggers::trigger_object(&trigger.name, json!({}), now, &fire_id);
        object["inputs"] = inputs;
        object["scheduledTime"] = json!(format_time(scheduled));
        let scope = crate::trigger_scope::TriggerScope {
            workflow: &record.name,
            endpoint: &self.options().public_url,
            parameters: Some(&compiled.parameters),
            trigger: Some(&object),
            ..Default::default()
        };
        let mut history = TriggerHistoryRecord {
            id: fire_id,
            workflow: record.name.clone(),
            trigger: trigger.name.clone(),
            kind: "Fire".into(),
            status: "Succeeded".into(),
            start_time: now,
            end_time: now,
            run_id: None,
            detail: json!({ "scheduledTime": format_time(scheduled) }),
        };
        if !triggers::conditions_hold(trigger, &scope)? {
            history.status = "Skipped".into();
            history.detail["reason"] = json!("the trigger conditions evaluated to false");
            let fire = Fire {
                runs: Vec::new(),
                history,
                dedup: None,
            };
            return Ok((fire, Vec::new()));
        }
        let mut run =
            triggers::new_run(&record.name, &record.version_id, &trigger.name, object, now);
        let (first, commit) = scheduler::start(
            self,
            &run.run.id,
            compiled,
            &record.name,
            &record.primary_key,
            run.run.trigger.clone(),
            now,
        );
        run.started = Some(commit);
        history.run_id = Some(run.run.id.clone());
        history.detail["runIds"] = json!([run.run.id]);
        let fire = Fire {
            runs: vec![run],
            history,
            dedup: None,
        };
        Ok((fire, vec![first]))
    }

    /// Once a fire is durable: its runs' first calls go out, the scheduler looks.
    fn after_fire(&self, started: Vec<scheduler::Started>) {
        for first in started {
            scheduler::started(self, first);
        }
        self.wake_ups().runs.notify_one();
    }

    /// Handles one claimed timer: fires its occurrence (or skips it when missed) and moves it
    /// to the next. A timer the workflow no longer wants is re-synced instead.
    async fn handle_timer(&self, timer: RecurrenceTimer) -> Result<()> {
        let record = self
            .inner
            .store
            .get_workflow(&timer.workflow)
            .await?
            .filter(|r| r.enabled);
        let Some(record) = record else {
            return self.sync_recurrences(&timer.workflow).await;
        };
        let compiled = self.compiled(&record.version_id).await?;
        let wanted = compiled
            .definition
            .trigger(&timer.trigger)
            .and_then(|t| match &t.kind {
                TriggerKind::Recurrence { recurrence } if recurrence.raw == timer.recurrence => {
                    Some((t, recurrence))
                }
                _ => None,
            });
        let Some((trigger, recurrence)) = wanted else {
            return self.sync_recurrences(&timer.workflow).await;
        };
        let now = self.now();
        let missed = now - timer.due_at > MISSED_AFTER.as_millis() as i64;
        let (fire, started, next) = if missed {
            (
                missed_fire(&record.name, trigger, &timer, now),
                Vec::new(),
                recurrence.next_after(timer.anchor, now),
            )
        } else {
            let (fire, started) =
                self.scheduled_fire(&record, &compiled, trigger, timer.due_at, now)?;
            (fire, started, next_of(recurrence, &timer))
        };
        let handled = RecurrenceFire {
            workflow: timer.workflow.clone(),
            trigger: timer.trigger.clone(),
            occurrence: timer.due_at,
            owner: self.inner.options.node_id.clone(),
            fire: Some(fire),
            next,
        };
        let fired = self.inner.store.fire_recurrence(handled).await;
        if !matches!(fired, Ok(true)) {
            scheduler::not_started(self, &started);
        }
        if fired? {
            self.after_fire(started);
        } else {
            tracing::debug!(workflow = %timer.workflow, trigger = %timer.trigger,
                "occurrence already handled or rescheduled");
        }
        Ok(())
    }
}

/// The occurrence after the one just fired.
fn next_of(recurrence: &Recurrence, timer: &RecurrenceTimer) -> Option<i64> {
    recurrence.next_after(timer.anchor, timer.due_at)
}

/// The history entry of a missed occurrence: no run.
fn missed_fire(workflow: &str, trigger: &Trigger, timer: &RecurrenceTimer, now: i64) -> Fire {
    Fire {
        runs: Vec::new(),
        history: TriggerHistoryRecord {
            id: uuid::Uuid::now_v7().simple().to_string(),
            workflow: workflow.to_owned(),
            trigger: trigger.name.clone(),
            kind: "Fire".into(),
            status: "Skipped".into(),
            start_time: now,
            end_time: now,
            run_id: None,
            detail: json!({
                "scheduledTime": format_time(timer.due_at),
                "reason": "missed: the occurrence was not handled in time (was the engine down?); \
                           the schedule resumes with the next occurrence",
            }),
        },
        dedup: None,
    }
}

/// The recurrence loop: claims due timers and handles them, then sleeps until the earliest
/// timer is due (or it is woken by a change, or `IDLE_POLL` for timers another node set).
pub(crate) async fn run(handle: Handle, shutdown: CancellationToken) {
    loop {
        let now = handle.now();
        let claim = Claim {
            owner: handle.inner.options.node_id.clone(),
            now,
            lease_ms: handle.inner.options.lease.as_millis() as i64,
            limit: CLAIM_LIMIT,
        };
        match handle.inner.store.claim_recurrences(claim).await {
            Ok(timers) if !timers.is_empty() => {
                for timer in timers {
                    let (workflow, trigger) = (timer.workflow.clone(), timer.trigger.clone());
                    // The lease is kept on failure: the timer is retried when it expires.
                    if let Err(error) = handle.handle_timer(timer).await {
                        tracing::error!(workflow, trigger, %error, "firing a recurrence failed");
                    }
                }
                continue;
            }
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "claiming recurrence timers failed"),
        }
        let sleep = match handle.inner.store.list_recurrences(None).await {
            Ok(timers) => timers
                .iter()
                .map(|t| t.due_at)
                .min()
                .map(|due| Duration::from_millis((due - handle.now()).max(1) as u64)),
            Err(_) => None,
        }
        .unwrap_or(scheduler::IDLE_POLL)
        .min(scheduler::IDLE_POLL);
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = handle.inner.recurrence_work.notified() => {}
            _ = tokio::time::sleep(sleep) => {}
        }
    }
}
