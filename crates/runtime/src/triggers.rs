//! Firing a trigger (Request, or an HttpWebhook trigger's callback): check the signed URL,
//! turn the HTTP request into trigger outputs, apply `conditions` and `splitOn`, recognise
//! repeated deliveries, and record the runs (with the trigger history entry) durably before
//! anyone is told they were accepted.

use crate::{
    Error, Handle, Result, SyncReply, signing, standard_webhooks, trigger_scope::TriggerScope,
};
use base64::Engine as _;
use hookflow_engine::{Event, RunStatus, format_time};
use hookflow_model::{Trigger, TriggerKind};
use hookflow_store::{DedupKey, Fire, FireOutcome, NewRun, RunRecord, TriggerHistoryRecord};
use serde_json::{Map, Value, json};
use std::time::Duration;

/// An inbound request to a trigger's callback URL, as the HTTP layer hands it over.
#[derive(Debug, Clone)]
pub struct InboundRequest {
    pub method: String,
    /// The path after `/paths/invoke/`, if any.
    pub relative_path: Option<String>,
    /// Decoded query pairs, the signature's included.
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What became of a fire.
#[derive(Debug)]
pub enum Fired {
    /// Runs were recorded (one, or one per `splitOn` item); the caller gets `202`.
    Accepted { run_ids: Vec<String> },
    /// A repeat of a delivery already accepted (same `Idempotency-Key` / `webhook-id`):
    /// nothing new was started; the caller gets the first answer again.
    Duplicate { run_ids: Vec<String> },
    /// The trigger's conditions were false: no run.
    Skipped,
    /// The run answered synchronously (or ended without answering).
    Replied { run_id: String, reply: SyncReply },
    /// The run did not answer within the inbound timeout; it goes on.
    TimedOut { run_id: String },
}

impl Handle {
    /// Fires trigger `trigger` of workflow `workflow` (a Request or HttpWebhook trigger).
    /// Returns once its runs are durable (and, for a workflow with a Response action, once it
    /// answered or `wait` ran out).
    pub async fn fire_trigger(
        &self,
        workflow: &str,
        trigger: &str,
        request: InboundRequest,
        wait: Duration,
    ) -> Result<Fired> {
        let record = self.cached_workflow_record(workflow).await?;
        let permission = signing::trigger_permission(trigger);
        // Trigger names match regardless of case, as everywhere in WDL.
        let sp = signing::verify_request(&record, &request.query, |sp| {
            sp.eq_ignore_ascii_case(&permission)
        })?;
        if !record.enabled {
            return Err(Error::NotFound(format!(
                "workflow '{workflow}' is disabled"
            )));
        }
        let compiled = self.compiled(&record.version_id).await?;
        let definition_trigger = compiled
            .definition
            .trigger(trigger)
            .filter(|t| signing::trigger_permission(&t.name).eq_ignore_ascii_case(sp))
            .ok_or_else(|| {
                Error::NotFound(format!("trigger '{trigger}' of workflow '{workflow}'"))
            })?;
        let (expected_method, relative_path, verification) = match &definition_trigger.kind {
            TriggerKind::Request(spec) => (
                spec.method.as_deref().unwrap_or("POST"),
                spec.relative_path.as_deref(),
                spec.verification.as_ref(),
            ),
            // A service calls a webhook trigger back with POST (logicapps-spec §1.4).
            TriggerKind::HttpWebhook(inputs) => ("POST", None, inputs.verification.as_ref()),
            _ => {
                return Err(Error::NotFound(format!(
                    "trigger '{trigger}' has no callback URL"
                )));
            }
        };
        if !request.method.eq_ignore_ascii_case(expected_method) {
            return Err(Error::MethodNotAllowed(format!(
                "trigger '{}' accepts {expected_method}, not {}",
                definition_trigger.name, request.method
            )));
        }
        let path_parameters = match_relative_path(relative_path, request.relative_path.as_deref())
            .ok_or_else(|| Error::NotFound("no trigger path matches the request".into()))?;
        // Before anything is recorded: a refused delivery starts nothing and leaves no
        // idempotency record.
        if let Some(verification) = verification {
            let scope = TriggerScope {
                workflow: &record.name,
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
            )?;
        }
        let outputs = trigger_outputs(definition_trigger, &request, path_parameters)?;
        let now = self.now();
        let fire_id = uuid::Uuid::now_v7().simple().to_string();
        let trigger_object = trigger_object(&definition_trigger.name, outputs, now, &fire_id);
        let scope = TriggerScope {
            workflow: &record.name,
            endpoint: &self.options().public_url,
            parameters: Some(&compiled.parameters),
            trigger: Some(&trigger_object),
            ..Default::default()
        };
        let dedup_key = delivery_key(&request.headers);
        let mut history = TriggerHistoryRecord {
            id: fire_id.clone(),
            workflow: record.name.clone(),
            trigger: definition_trigger.name.clone(),
            kind: "Fire".into(),
            status: "Succeeded".into(),
            start_time: now,
            end_time: now,
            run_id: None,
            detail: json!({}),
        };
        if !conditions_hold(definition_trigger, &scope)? {
            history.status = "Skipped".into();
            history.detail = json!({ "reason": "the trigger conditions evaluated to false" });
            let fire = Fire {
                runs: Vec::new(),
                history,
                dedup: self.dedup(&record.name, dedup_key, &[], now),
            };
            return Ok(match self.inner.store.record_fire(fire).await? {
                FireOutcome::Recorded => Fired::Skipped,
                FireOutcome::Duplicate { answer } => Fired::Duplicate {
                    run_ids: run_ids_of(&answer),
                },
            });
        }
        let triggers = match split(definition_trigger, &scope, &trigger_object)? {
            Some(items) => items,
            None => vec![trigger_object],
        };
        // Each run's first step is taken here and committed with the run itself.
        let mut started = Vec::new();
        let runs: Vec<NewRun> = triggers
            .into_iter()
            .map(|trigger| {
                let mut run = new_run(
                    &record.name,
                    &record.version_id,
                    &definition_trigger.name,
                    trigger,
                    now,
                );
                let (first, commit) = crate::scheduler::start(
                    self,
                    &run.run.id,
                    &compiled,
                    &record.name,
                    &record.primary_key,
                    run.run.trigger.clone(),
                    now,
                );
                run.started = Some(commit);
                started.push(first);
                run
            })
            .collect();
        let run_ids: Vec<String> = runs.iter().map(|r| r.run.id.clone()).collect();
        history.run_id = run_ids.first().cloned();
        history.detail = json!({ "runIds": run_ids });
        // A split fire answers 202 at once, as Logic Apps does (logicapps-spec §4.5).
        let answers_synchronously =
            compiled.definition.has_response_action() && definition_trigger.split_on.is_none();
        // Register before the run exists, so an answer can never arrive before its listener.
        let reply = answers_synchronously.then(|| self.inner.responders.register(&run_ids[0]));
        let fire = Fire {
            runs,
            history,
            dedup: self.dedup(&record.name, dedup_key, &run_ids, now),
        };
        let recorded = self.inner.store.record_fire(fire).await;
        let outcome = match recorded {
            Ok(outcome) => outcome,
            Err(error) => {
                self.inner.responders.forget(&run_ids[0]);
                crate::scheduler::not_started(self, &started);
                return Err(error.into());
            }
        };
        if let FireOutcome::Duplicate { answer } = outcome {
            self.inner.responders.forget(&run_ids[0]);
            crate::scheduler::not_started(self, &started);
            return Ok(Fired::Duplicate {
                run_ids: run_ids_of(&answer),
            });
        }
        for first in started {
            crate::scheduler::started(self, first);
        }
        let Some(reply) = reply else {
            return Ok(Fired::Accepted { run_ids });
        };
        let run_id = run_ids
            .into_iter()
            .next()
            .expect("a fire that runs has a run");
        match tokio::time::timeout(wait, reply).await {
            Ok(Ok(reply)) => Ok(Fired::Replied { run_id, reply }),
            Ok(Err(_)) | Err(_) => {
                self.inner.responders.forget(&run_id);
                Ok(Fired::TimedOut { run_id })
            }
        }
    }

    /// The record that makes a repeat of this delivery recognisable, if it carries a key.
    fn dedup(
        &self,
        workflow: &str,
        key: Option<String>,
        run_ids: &[String],
        now: i64,
    ) -> Option<DedupKey> {
        key.map(|key| DedupKey {
            workflow: workflow.to_owned(),
            key,
            answer: json!({ "runIds": run_ids }),
            expires_at: now + self.inner.options.dedup_retention.as_millis() as i64,
        })
    }
}

/// The delivery's own id, when the sender gives one: `Idempotency-Key`, or Standard Webhooks'
/// `webhook-id`.
pub(crate) fn delivery_key(headers: &[(String, String)]) -> Option<String> {
    ["idempotency-key", "webhook-id"].iter().find_map(|wanted| {
        headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(name, value)| format!("{}:{value}", name.to_ascii_lowercase()))
    })
}

fn run_ids_of(answer: &Value) -> Vec<String> {
    answer["runIds"]
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(|id| id.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn trigger_object(name: &str, outputs: Value, now: i64, tracking_id: &str) -> Value {
    let mut trigger = json!({
        "name": name,
        "inputs": {},
        "outputs": null,
        "startTime": format_time(now),
        "endTime": format_time(now),
        "trackingId": tracking_id,
        "clientTrackingId": tracking_id,
        "code": "OK",
        "status": "Succeeded",
    });
    // Moved in: `json!` would copy the outputs node by node.
    trigger["outputs"] = outputs;
    trigger
}

pub(crate) fn new_run(
    workflow: &str,
    version_id: &str,
    trigger_name: &str,
    trigger: Value,
    now: i64,
) -> NewRun {
    NewRun {
        run: RunRecord {
            id: uuid::Uuid::now_v7().simple().to_string(),
            workflow: workflow.to_owned(),
            version_id: version_id.to_owned(),
            trigger_name: trigger_name.to_owned(),
            status: RunStatus::Running,
            start_time: now,
            end_time: None,
            trigger: trigger.into(),
            outputs: None,
            error: None,
            variables: None,
            seq: 0,
        },
        first_event: hookflow_store::json_text(&Event::Start),
        started: None,
    }
}

/// `splitOn`: one trigger object per item of the array it yields, each with that item as
/// its body (logicapps-spec §4.5). Without `splitOn`, `None`: the fire itself is the one.
fn split(trigger: &Trigger, scope: &TriggerScope<'_>, fire: &Value) -> Result<Option<Vec<Value>>> {
    let Some(split_on) = &trigger.split_on else {
        return Ok(None);
    };
    let items = split_on
        .eval(scope)
        .map_err(|e| Error::BadRequest(format!("triggers.{}.splitOn: {e}", trigger.name)))?;
    let Value::Array(items) = items else {
        return Err(Error::BadRequest(format!(
            "triggers.{}.splitOn: expected an array in the request, got {}",
            trigger.name,
            json_type(&items)
        )));
    };
    if items.len() > MAX_SPLIT_ITEMS {
        return Err(Error::BadRequest(format!(
            "triggers.{}.splitOn: {} items exceed the limit of {MAX_SPLIT_ITEMS}",
            trigger.name,
            items.len()
        )));
    }
    Ok(Some(
        items
            .into_iter()
            .map(|item| {
                let mut object = fire.clone();
                object["outputs"]["body"] = item;
                object
            })
            .collect(),
    ))
}

/// The documented limit of `splitOn` items.
const MAX_SPLIT_ITEMS: usize = 100_000;

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The names in a relative path template: `customers/{id}` → `["id"]`.
pub(crate) fn path_parameter_names(template: &str) -> Vec<String> {
    template
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_owned)
        .collect()
}

/// Matches the request's relative path against the trigger's template, returning the
/// parameters; `None` when they don't match.
fn match_relative_path(template: Option<&str>, actual: Option<&str>) -> Option<Map<String, Value>> {
    let template = template.map(|t| t.trim_matches('/')).unwrap_or_default();
    let actual = actual.map(|a| a.trim_matches('/')).unwrap_or_default();
    let mut parameters = Map::new();
    if template.is_empty() && actual.is_empty() {
        return Some(parameters);
    }
    let template_segments: Vec<_> = template.split('/').collect();
    let actual_segments: Vec<_> = actual.split('/').collect();
    if template_segments.len() != actual_segments.len() {
        return None;
    }
    for (want, got) in template_segments.iter().zip(&actual_segments) {
        match want.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                let decoded = percent_encoding::percent_decode_str(got)
                    .decode_utf8_lossy()
                    .into_owned();
                parameters.insert(name.to_owned(), Value::String(decoded));
            }
            None if want.eq_ignore_ascii_case(got) => {}
            None => return None,
        }
    }
    Some(parameters)
}

/// `{headers, body, queries, relativePathParameters}` of a fire (logicapps-spec §4.2, E9).
fn trigger_outputs(
    trigger: &Trigger,
    request: &InboundRequest,
    path_parameters: Map<String, Value>,
) -> Result<Value> {
    let keep_authorization = trigger
        .operation_options
        .has("IncludeAuthorizationHeadersInOutputs");
    let mut headers = Map::new();
    for (name, value) in &request.headers {
        if name.eq_ignore_ascii_case("authorization") && !keep_authorization {
            continue;
        }
        headers.insert(name.clone(), Value::String(value.clone()));
    }
    let content_type = request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.as_str());
    let body = body_value(content_type, &request.body)?;
    let queries: Map<String, Value> = request
        .query
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "api-version" | "sp" | "sv" | "sig"))
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    // Built by moving the values in: `json!` would copy them node by node.
    let mut outputs = Map::new();
    outputs.insert("headers".into(), Value::Object(headers));
    outputs.insert("body".into(), body);
    if !queries.is_empty() {
        outputs.insert("queries".into(), Value::Object(queries));
    }
    if !path_parameters.is_empty() {
        outputs.insert(
            "relativePathParameters".into(),
            Value::Object(path_parameters),
        );
    }
    Ok(Value::Object(outputs))
}

/// A request body as WDL sees it: JSON parsed, text as a string, anything else as a content
/// envelope (errata E9).
pub(crate) fn body_value(content_type: Option<&str>, body: &[u8]) -> Result<Value> {
    if body.is_empty() {
        return Ok(Value::Null);
    }
    let media_type = content_type
        .and_then(|c| c.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase());
    match media_type.as_deref() {
        Some(m) if m == "application/json" || m.ends_with("+json") => serde_json::from_slice(body)
            .map_err(|e| Error::BadRequest(format!("the request body is not valid JSON: {e}"))),
        Some(m) if m.starts_with("text/") => {
            Ok(Value::String(String::from_utf8_lossy(body).into_owned()))
        }
        _ => Ok(json!({
            "$content-type": content_type.unwrap_or("application/octet-stream"),
            "$content": base64::engine::general_purpose::STANDARD.encode(body),
        })),
    }
}

/// Trigger `conditions`: all must be true for a fire to start a run (logicapps-spec §4.4).
pub(crate) fn conditions_hold(trigger: &Trigger, scope: &TriggerScope<'_>) -> Result<bool> {
    for condition in &trigger.conditions {
        let value = condition
            .eval(scope)
            .map_err(|e| Error::BadRequest(format!("triggers.{}.conditions: {e}", trigger.name)))?;
        if value != Value::Bool(true) {
            return Ok(false);
        }
    }
    Ok(true)
}
