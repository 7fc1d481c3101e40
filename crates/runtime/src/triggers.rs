//! Firing a Request trigger: check the signed URL, turn the HTTP request into trigger
//! outputs, and record the run durably before anyone is told it was accepted.

use crate::{Error, Handle, Result, SyncReply, compiled::Compiled, signing};
use base64::Engine as _;
use hookflow_engine::{Event, RunStatus, format_time};
use hookflow_expr::Scope;
use hookflow_model::{Trigger, TriggerKind};
use hookflow_store::{NewRun, RunRecord};
use serde_json::{Map, Value, json};
use std::{sync::Arc, time::Duration};

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
    /// A run was recorded; the caller gets `202`.
    Accepted { run_id: String },
    /// The trigger's conditions were false: no run.
    Skipped,
    /// The run answered synchronously (or ended without answering).
    Replied { run_id: String, reply: SyncReply },
    /// The run did not answer within the inbound timeout; it goes on.
    TimedOut { run_id: String },
}

impl Handle {
    /// Fires trigger `trigger` of workflow `workflow`. Returns once the run is durable (and,
    /// for workflows with a Response action, once it answered or `wait` ran out).
    pub async fn fire_trigger(
        &self,
        workflow: &str,
        trigger: &str,
        request: InboundRequest,
        wait: Duration,
    ) -> Result<Fired> {
        let record = self.workflow_record(workflow).await?;
        let sp = query_value(&request.query, "sp").unwrap_or_default();
        let sv = query_value(&request.query, "sv").unwrap_or_default();
        let sig = query_value(&request.query, "sig").unwrap_or_default();
        let granted = sp.eq_ignore_ascii_case(&signing::trigger_permission(trigger));
        if !granted
            || !signing::verify(
                [&record.primary_key, &record.secondary_key],
                &record.name,
                sp,
                sv,
                sig,
            )
        {
            return Err(Error::Unauthorized);
        }
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
        let TriggerKind::Request(spec) = &definition_trigger.kind else {
            return Err(Error::NotFound(format!(
                "trigger '{trigger}' is not a Request trigger"
            )));
        };
        let expected_method = spec.method.as_deref().unwrap_or("POST");
        if !request.method.eq_ignore_ascii_case(expected_method) {
            return Err(Error::MethodNotAllowed(format!(
                "trigger '{}' accepts {expected_method}, not {}",
                definition_trigger.name, request.method
            )));
        }
        let path_parameters = match_relative_path(
            spec.relative_path.as_deref(),
            request.relative_path.as_deref(),
        )
        .ok_or_else(|| Error::NotFound("no trigger path matches the request".into()))?;
        let outputs = trigger_outputs(definition_trigger, &request, path_parameters)?;
        let now = self.now();
        let run_id = uuid::Uuid::now_v7().simple().to_string();
        let trigger_object = json!({
            "name": definition_trigger.name,
            "inputs": {},
            "outputs": outputs,
            "startTime": format_time(now),
            "endTime": format_time(now),
            "trackingId": run_id,
            "clientTrackingId": run_id,
            "code": "OK",
            "status": "Succeeded",
        });
        if !conditions_hold(definition_trigger, &compiled, &record.name, &trigger_object)? {
            return Ok(Fired::Skipped);
        }
        // Register before the run exists, so an answer can never arrive before its listener.
        let reply = compiled
            .definition
            .has_response_action()
            .then(|| self.inner.responders.register(&run_id));
        let created = self
            .inner
            .store
            .create_run(NewRun {
                run: RunRecord {
                    id: run_id.clone(),
                    workflow: record.name.clone(),
                    version_id: record.version_id.clone(),
                    trigger_name: definition_trigger.name.clone(),
                    status: RunStatus::Running,
                    start_time: now,
                    end_time: None,
                    trigger: trigger_object,
                    outputs: None,
                    error: None,
                    seq: 0,
                },
                first_event: serde_json::to_value(Event::Start).expect("events serialize"),
            })
            .await;
        if let Err(error) = created {
            self.inner.responders.forget(&run_id);
            return Err(error.into());
        }
        self.inner.run_work.notify_one();
        let Some(reply) = reply else {
            return Ok(Fired::Accepted { run_id });
        };
        match tokio::time::timeout(wait, reply).await {
            Ok(Ok(reply)) => Ok(Fired::Replied { run_id, reply }),
            Ok(Err(_)) | Err(_) => {
                self.inner.responders.forget(&run_id);
                Ok(Fired::TimedOut { run_id })
            }
        }
    }
}

fn query_value<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
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
    let mut outputs = json!({ "headers": headers, "body": body });
    if !queries.is_empty() {
        outputs["queries"] = Value::Object(queries);
    }
    if !path_parameters.is_empty() {
        outputs["relativePathParameters"] = Value::Object(path_parameters);
    }
    Ok(outputs)
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

/// Trigger `conditions`: all must be true for a run to start (logicapps-spec §4.4).
fn conditions_hold(
    trigger: &Trigger,
    compiled: &Arc<Compiled>,
    workflow: &str,
    trigger_object: &Value,
) -> Result<bool> {
    let scope = ConditionScope {
        compiled,
        workflow,
        trigger: trigger_object,
    };
    for condition in &trigger.conditions {
        let value = condition.eval(&scope).map_err(|e| {
            Error::BadRequest(format!("trigger condition could not be evaluated: {e}"))
        })?;
        if value != Value::Bool(true) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// What a trigger condition may read: the current fire, parameters and the workflow.
struct ConditionScope<'a> {
    compiled: &'a Compiled,
    workflow: &'a str,
    trigger: &'a Value,
}

impl Scope for ConditionScope<'_> {
    fn trigger(&self) -> Result<Value, hookflow_expr::Error> {
        Ok(self.trigger.clone())
    }
    fn parameter(&self, name: &str) -> Result<Value, hookflow_expr::Error> {
        let params = &self.compiled.parameters;
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .ok_or_else(|| hookflow_expr::Error {
                kind: hookflow_expr::ErrorKind::InvalidArgument,
                message: format!("the workflow parameter '{name}' is not found"),
                span: None,
            })
    }
    fn workflow(&self) -> Result<Value, hookflow_expr::Error> {
        Ok(
            json!({ "name": self.workflow, "id": format!("/workflows/{}", self.workflow), "type": "Microsoft.Logic/workflows" }),
        )
    }
}
