//! Webhook action callbacks: the signed URL a waiting action hands its service, and what
//! happens when the service calls it (logicapps-spec §2.5). The first valid callback resolves
//! the action's wait — atomically, with its event appended to the run's inbox — and gets
//! `200` once that is durable; later ones get `409` (a repeat of the winning delivery gets the
//! winner's answer again).

use crate::{
    Error, Handle, Result,
    ahead::Pickup,
    compiled::Compiled,
    scheduler::StepSlot,
    signing,
    signing::{API_VERSION, SAS_VERSION},
    standard_webhooks,
    trigger_scope::TriggerScope,
    triggers::{InboundRequest, body_value, delivery_key},
};
use hookflow_engine::Event;
use hookflow_model::ActionKind;
use hookflow_store::{CallbackDelivery, CallbackOutcome, Delivered, Handoff};
use serde_json::{Map, Value};

/// What a callback achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackAnswer {
    /// It resumed the action (or repeats the delivery that did).
    Accepted,
    /// The action no longer waits: another callback won, it timed out, or was cancelled.
    Conflict(String),
}

impl Handle {
    /// The callback URL of `action` in `run_id`, signed with `key`: unique per run and action.
    pub(crate) fn action_callback_url(
        &self,
        workflow: &str,
        run_id: &str,
        action: &str,
        key: &str,
    ) -> String {
        let sp = action_permission(run_id, action);
        let sig = signing::sign(key, workflow, &sp, SAS_VERSION);
        format!(
            "{}/workflows/{}/runs/{}/actions/{}/run?api-version={API_VERSION}&sp={}&sv={SAS_VERSION}&sig={sig}",
            self.inner.options.public_url,
            signing::encode(workflow),
            signing::encode(run_id),
            signing::encode(action),
            signing::encode(&sp)
        )
    }

    /// Delivers a callback to a waiting webhook action.
    pub async fn action_callback(
        &self,
        workflow: &str,
        run_id: &str,
        action: &str,
        request: InboundRequest,
    ) -> Result<CallbackAnswer> {
        let record = self.cached_workflow_record(workflow).await?;
        let permission = action_permission(run_id, action);
        signing::verify_request(&record, &request.query, |sp| sp == permission)?;
        if !request.method.eq_ignore_ascii_case("POST") {
            return Err(Error::MethodNotAllowed(format!(
                "a callback is a POST, not a {}",
                request.method
            )));
        }
        // Disabling a workflow invalidates its waiting actions' callback URLs (2026 docs).
        if !record.enabled {
            return Err(Error::NotFound(format!(
                "workflow '{workflow}' is disabled"
            )));
        }
        // Read now: verifying needs the run's version, and its step can start from it.
        let preloaded = match crate::scheduler::preload(self, run_id).await {
            Err(Error::NotFound(_)) => Err(not_waiting(run_id, action)),
            preloaded => preloaded,
        }?;
        self.verify_action_callback(&record.name, preloaded.compiled(), action, &request)?;
        let mut preloaded = Some(preloaded);
        let mut headers = Map::new();
        let content_type = request
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.clone());
        for (name, value) in &request.headers {
            if !name.eq_ignore_ascii_case("authorization") {
                headers.insert(name.clone(), Value::String(value.clone()));
            }
        }
        let body = body_value(content_type.as_deref(), &request.body)?;
        let event = Event::CallbackReceived {
            action: action.to_owned(),
            headers,
            body,
        };
        let slot = StepSlot::try_take(self);
        let recorded = hookflow_store::json_text(&event);
        // With a step slot, the run's step is taken here and committed with the callback.
        let (handoff, ahead, now) = match slot {
            Some(_) => {
                let read = Some(&mut preloaded);
                let (pickup, now) = Pickup::for_event(self, run_id, event, read).await;
                let (handoff, ahead) = pickup.handoff(self.lease_run());
                (handoff, ahead, now)
            }
            None => (Handoff::default(), None, self.now()),
        };
        let delivery = CallbackDelivery {
            run_id: run_id.to_owned(),
            action: action.to_owned(),
            delivery_key: delivery_key(&request.headers),
            event: recorded,
            now,
            handoff,
        };
        match self.inner.store.accept_callback(delivery).await? {
            CallbackOutcome::Accepted(delivered) => {
                if let Some(ahead) = ahead {
                    ahead.settle(&delivered);
                }
                if let (Delivered::Claimed(claimed), Some(slot)) = (delivered, slot) {
                    crate::scheduler::step_claimed(self, claimed, slot, preloaded);
                }
                Ok(CallbackAnswer::Accepted)
            }
            CallbackOutcome::Repeat => Ok(CallbackAnswer::Accepted),
            CallbackOutcome::Refused { by } => Ok(CallbackAnswer::Conflict(match by.as_str() {
                "Callback" => "the action was already resumed by another callback".to_owned(),
                "TimedOut" => "the action timed out".to_owned(),
                _ => "the action no longer waits for a callback".to_owned(),
            })),
            CallbackOutcome::NotFound => Err(not_waiting(run_id, action)),
        }
    }
}

impl Handle {
    /// Checks the callback against the waiting action's `callbackVerification`, from the
    /// version the run started on, before the wait is touched.
    fn verify_action_callback(
        &self,
        workflow: &str,
        compiled: &Compiled,
        action: &str,
        request: &InboundRequest,
    ) -> Result<()> {
        // Inside a loop the key names the iteration: `Name#000003`.
        let name = action.rsplit_once('#').map_or(action, |(name, _)| name);
        let verification = compiled.definition.action_id(name).and_then(|id| {
            match &compiled.definition.action(id).kind {
                ActionKind::HttpWebhook(inputs) => inputs.verification.as_ref(),
                _ => None,
            }
        });
        let Some(verification) = verification else {
            return Ok(());
        };
        let scope = TriggerScope {
            workflow,
            endpoint: &self.options().public_url,
            parameters: Some(&compiled.parameters),
            ..Default::default()
        };
        standard_webhooks::check_callback(
            verification,
            &scope,
            &request.headers,
            &request.body,
            self.now(),
        )
    }
}

fn not_waiting(run_id: &str, action: &str) -> Error {
    Error::NotFound(format!("waiting action '{action}' of run '{run_id}'"))
}

/// The permission an action callback URL grants.
fn action_permission(run_id: &str, action: &str) -> String {
    format!("/runs/{run_id}/actions/{action}/run")
}
