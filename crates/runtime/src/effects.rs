//! The effect executor: claims outbox effects, carries them out (outbound HTTP calls, bounded
//! in number), and reports each outcome to its run's inbox — deleting the effect in the same
//! transaction, so an outcome is recorded exactly once even if the call was made twice.

use crate::{
    Handle,
    ahead::Pickup,
    scheduler::{StepSlot, wait_for_work},
};
use hookflow_engine::{Effect, Event, HttpOutcome, is_retryable_status};
use hookflow_store::{Claim, Delivered, EffectRecord, Handoff, NewEvent};
use serde::Deserialize as _;
use std::sync::Arc;
use tokio::{sync::Semaphore, task::JoinSet};
use tokio_util::sync::CancellationToken;

pub(crate) async fn run(handle: Handle, shutdown: CancellationToken) {
    let permits = Arc::new(Semaphore::new(handle.inner.options.max_concurrent_effects));
    let mut tasks = JoinSet::new();
    loop {
        while tasks.try_join_next().is_some() {}
        let available = permits.available_permits() as u32;
        if available == 0 {
            // Every slot is busy: wait for one to free up before claiming more.
            let permit = tokio::select! {
                _ = shutdown.cancelled() => break,
                permit = permits.clone().acquire_owned() => permit,
            };
            drop(permit);
            continue;
        }
        let claim = Claim {
            owner: handle.inner.options.node_id.clone(),
            now: handle.now(),
            lease_ms: handle.inner.options.lease.as_millis() as i64,
            limit: available,
        };
        let claimed = match handle.inner.store.claim_effects(claim).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::error!(%error, "claiming effects failed");
                Vec::new()
            }
        };
        if claimed.is_empty() {
            if !wait_for_work(&handle, &handle.wake_ups().effects, &shutdown).await {
                break;
            }
            continue;
        }
        for effect in claimed {
            let permit = permits
                .clone()
                .acquire_owned()
                .await
                .expect("semaphore never closed");
            let handle = handle.clone();
            tasks.spawn(async move {
                carry_out(&handle, effect).await;
                drop(permit);
            });
        }
    }
    tasks.abort_all();
}

async fn carry_out(handle: &Handle, record: EffectRecord) {
    let owner = handle.inner.options.node_id.as_str();
    let effect = match Effect::deserialize(&record.effect) {
        Ok(effect) => effect,
        Err(error) => {
            tracing::error!(effect_id = record.id, %error, "an outbox effect this version cannot read");
            return;
        }
    };
    // A poll of an asynchronous operation, or an Http retry the engine scheduled, that is not
    // due yet waits as its row, due later: no task sleeps meanwhile.
    let due = handle.inner.http.due_at(&effect, record.due_at);
    if due > handle.now() {
        match handle.inner.store.retry_effect(record.id, owner, due).await {
            // Deferred, or taken over by another node: either way not ours to call now.
            Ok(()) | Err(hookflow_store::Error::Conflict(_)) => return,
            Err(error) => {
                tracing::error!(effect_id = record.id, %error, "deferring an effect not yet due failed")
            }
        }
    }
    let event = match effect {
        Effect::Http {
            action, request, ..
        } => {
            let outcome = handle.inner.http.send(&request).await;
            if let HttpOutcome::Error { code, message } = &outcome {
                tracing::info!(
                    run_id = record.run_id,
                    action,
                    code,
                    message,
                    "outbound call failed"
                );
            }
            Event::HttpCompleted { action, outcome }
        }
        Effect::Subscribe {
            action,
            request,
            retry,
        } => {
            let outcome = handle.inner.http.send(&request).await;
            let retryable = match &outcome {
                HttpOutcome::Response { status, .. } => is_retryable_status(*status),
                HttpOutcome::Error { .. } => true,
            };
            // A retry waits as the effect's row, due later: no task sleeps meanwhile.
            let delay = retryable
                .then(|| retry.delay_ms(record.attempts + 1, uuid::Uuid::new_v4().as_u128() as u64))
                .flatten();
            if let Some(delay) = delay {
                match handle
                    .inner
                    .store
                    .retry_effect(record.id, owner, handle.now() + delay as i64)
                    .await
                {
                    Ok(()) => return,
                    Err(error) => {
                        tracing::error!(effect_id = record.id, %error, "scheduling a subscribe retry failed")
                    }
                }
            }
            Event::SubscribeCompleted { action, outcome }
        }
        // Never persisted: answered in memory after the step's commit.
        Effect::Respond { .. } => return,
    };
    let recorded = hookflow_store::json_text(&event);
    let slot = StepSlot::try_take(handle);
    // With a step slot, the run's step is taken here and committed with the outcome.
    let (handoff, ahead, now) = match slot {
        Some(_) => {
            let (pickup, now) = Pickup::for_event(handle, &record.run_id, event, None).await;
            let (handoff, ahead) = pickup.handoff(handle.lease_run());
            (handoff, ahead, now)
        }
        None => (Handoff::default(), None, handle.now()),
    };
    let outcome = NewEvent {
        run_id: record.run_id.clone(),
        event: recorded,
        due_at: now,
    };
    match handle
        .inner
        .store
        .complete_effect(record.id, owner, outcome, handoff)
        .await
    {
        Ok(delivered) => {
            if let Some(ahead) = ahead {
                ahead.settle(&delivered);
            }
            if let (Delivered::Claimed(claimed), Some(slot)) = (delivered, slot) {
                crate::scheduler::step_claimed(handle, claimed, slot, None)
            }
        }
        // The lease ran out and another node took the effect over: its outcome counts.
        Err(hookflow_store::Error::Conflict(_)) => {
            tracing::info!(
                effect_id = record.id,
                "effect taken over by another node; outcome dropped"
            )
        }
        Err(error) => {
            tracing::error!(effect_id = record.id, %error, "recording an effect's outcome failed")
        }
    }
}
