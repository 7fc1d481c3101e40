//! Managing workflows: save (a new immutable version each time), read, list, enable, disable,
//! delete, validate, and hand out trigger callback URLs.

use crate::{
    CallbackUrl, Error, Handle, Result,
    compiled::Compiled,
    signing::{self, API_VERSION, SAS_VERSION},
    subscriptions::{Keys, subscription_view, trigger_base_path},
};
use hookflow_model::TriggerKind;
use hookflow_store::{SaveWorkflow, TriggerHistoryRecord, VersionRecord, WorkflowRecord};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// A workflow as the API shows it: secure parameter values are never included.
#[derive(Debug, Clone)]
pub struct WorkflowView {
    pub record: WorkflowRecord,
    pub definition: Value,
    /// `{name: {"value": ...}}`, secure values replaced.
    pub parameters: Value,
}

#[derive(Debug, Clone)]
pub struct SaveResult {
    pub created: bool,
    pub workflow: WorkflowView,
}

impl Handle {
    /// Validates `document` (a PUT body) and stores it as the workflow's new current version.
    /// An invalid document changes nothing; neither does a webhook trigger whose subscribe
    /// call fails.
    pub async fn save_workflow(&self, name: &str, document: &Value) -> Result<SaveResult> {
        check_name(name)?;
        let compiled = Arc::new(Compiled::from_document(document)?);
        self.check_managed_identities(document)?;
        let enabled_in_document = compiled.enabled;
        let _lock = self.inner.store.lock_workflow(name).await?;
        let existing = self.inner.store.get_workflow(name).await?;
        let enabled = enabled_in_document
            .or(existing.as_ref().map(|w| w.enabled))
            .unwrap_or(true);
        let (primary_key, secondary_key) = match &existing {
            Some(w) => (w.primary_key.clone(), w.secondary_key.clone()),
            None => (signing::new_key(), signing::new_key()),
        };
        let stored = stored_document(document);
        let version_id = uuid::Uuid::now_v7().simple().to_string();
        if enabled {
            let keys = Keys {
                primary: &primary_key,
                secondary: &secondary_key,
            };
            let wanted = self.wanted_subscriptions(name, &compiled, &keys)?;
            self.subscribe_missing(name, &version_id, &wanted).await?;
        }
        let outcome = self
            .inner
            .store
            .save_workflow(SaveWorkflow {
                name: name.to_owned(),
                version_id: version_id.clone(),
                document: stored.clone(),
                enabled,
                now: self.now(),
                primary_key,
                secondary_key,
            })
            .await;
        self.inner.workflows.invalidate(name);
        let outcome = outcome?;
        self.inner.definitions.insert(&version_id, compiled.clone());
        self.settle_subscriptions(name).await?;
        self.sync_recurrences(name).await?;
        Ok(SaveResult {
            created: outcome.created,
            workflow: view(outcome.workflow, &stored, &compiled),
        })
    }

    /// Checks a document without saving anything.
    pub fn validate_workflow(&self, document: &Value) -> Result<()> {
        Compiled::from_document(document)?;
        self.check_managed_identities(document)
    }

    pub async fn get_workflow(&self, name: &str) -> Result<WorkflowView> {
        let record = self.workflow_record(name).await?;
        self.view_of(record).await
    }

    pub async fn list_workflows(&self) -> Result<Vec<WorkflowView>> {
        let mut views = Vec::new();
        for record in self.inner.store.list_workflows().await? {
            views.push(self.view_of(record).await?);
        }
        Ok(views)
    }

    /// Enables or disables the workflow. Enabling subscribes its webhook triggers first (a
    /// failure leaves it disabled); disabling unsubscribes them.
    pub async fn set_enabled(&self, name: &str, enabled: bool) -> Result<WorkflowView> {
        let _lock = self.inner.store.lock_workflow(name).await?;
        let record = self.workflow_record(name).await?;
        if enabled && !record.enabled {
            let compiled = self.compiled(&record.version_id).await?;
            let keys = Keys {
                primary: &record.primary_key,
                secondary: &record.secondary_key,
            };
            let wanted = self.wanted_subscriptions(name, &compiled, &keys)?;
            self.subscribe_missing(name, &record.version_id, &wanted)
                .await?;
        }
        let record = self
            .inner
            .store
            .set_workflow_enabled(name, enabled, self.now())
            .await;
        self.inner.workflows.invalidate(name);
        let record = record?.ok_or_else(|| not_found(name))?;
        self.settle_subscriptions(name).await?;
        self.sync_recurrences(name).await?;
        self.view_of(record).await
    }

    /// Deletes the workflow (its runs stay in history, cancelled if still running) and
    /// unsubscribes its webhook triggers.
    pub async fn delete_workflow(&self, name: &str) -> Result<()> {
        let _lock = self.inner.store.lock_workflow(name).await?;
        let deleted = self.inner.store.delete_workflow(name).await;
        self.inner.workflows.invalidate(name);
        if !deleted? {
            return Err(not_found(name));
        }
        self.settle_subscriptions(name).await?;
        self.sync_recurrences(name).await?;
        // Deleting a workflow cancels its runs (logicapps-spec §5.4); waiting webhook actions
        // unsubscribe as they are cancelled.
        self.cancel_running_runs(name).await
    }

    /// Replaces one access key: every URL signed with the old one stops working. Webhook
    /// triggers whose callback URL was signed with it subscribe again with the new URL first
    /// (a failure leaves the old key in place).
    pub async fn regenerate_access_key(&self, name: &str, secondary: bool) -> Result<WorkflowView> {
        let _lock = self.inner.store.lock_workflow(name).await?;
        let record = self.workflow_record(name).await?;
        let key = signing::new_key();
        if record.enabled {
            let compiled = self.compiled(&record.version_id).await?;
            let keys = if secondary {
                Keys {
                    primary: &record.primary_key,
                    secondary: &key,
                }
            } else {
                Keys {
                    primary: &key,
                    secondary: &record.secondary_key,
                }
            };
            let wanted = self.wanted_subscriptions(name, &compiled, &keys)?;
            self.subscribe_missing(name, &record.version_id, &wanted)
                .await?;
        }
        let record = self
            .inner
            .store
            .set_workflow_key(name, secondary, &key, self.now())
            .await;
        self.inner.workflows.invalidate(name);
        let record = record?.ok_or_else(|| not_found(name))?;
        self.settle_subscriptions(name).await?;
        self.sync_recurrences(name).await?;
        self.view_of(record).await
    }

    pub async fn list_versions(&self, name: &str) -> Result<Vec<VersionRecord>> {
        self.workflow_record(name).await?;
        Ok(self.inner.store.list_versions(name).await?)
    }

    /// The signed URL that fires `trigger` (a Request or HttpWebhook trigger) of the
    /// workflow's current version.
    pub async fn trigger_callback_url(
        &self,
        name: &str,
        trigger: &str,
        secondary: bool,
    ) -> Result<CallbackUrl> {
        let record = self.workflow_record(name).await?;
        let compiled = self.compiled(&record.version_id).await?;
        let found = compiled
            .definition
            .trigger(trigger)
            .ok_or_else(|| Error::NotFound(format!("trigger '{trigger}' of workflow '{name}'")))?;
        let (method, relative_path) = match &found.kind {
            TriggerKind::Request(request) => {
                (request.method.clone(), request.relative_path.clone())
            }
            TriggerKind::HttpWebhook(_) => (None, None),
            _ => {
                return Err(Error::BadRequest(format!(
                    "trigger '{}' is not a Request or HttpWebhook trigger: it has no callback URL",
                    found.name
                )));
            }
        };
        let key = if secondary {
            &record.secondary_key
        } else {
            &record.primary_key
        };
        let sp = signing::trigger_permission(&found.name);
        let sig = signing::sign(key, &record.name, &sp, SAS_VERSION);
        let relative_path_parameters = relative_path
            .as_deref()
            .map(crate::triggers::path_parameter_names)
            .unwrap_or_default();
        Ok(CallbackUrl {
            value: self.signed_trigger_url(
                &record.name,
                &found.name,
                key,
                relative_path.as_deref(),
            ),
            method: method.unwrap_or_else(|| "POST".into()),
            base_path: trigger_base_path(&self.inner.options.public_url, &record.name, &found.name),
            sp,
            sig,
            relative_path,
            relative_path_parameters,
        })
    }

    /// A trigger URL signed with `key`, with an optional relative path.
    pub(crate) fn signed_trigger_url(
        &self,
        workflow: &str,
        trigger: &str,
        key: &str,
        relative_path: Option<&str>,
    ) -> String {
        let sp = signing::trigger_permission(trigger);
        let sig = signing::sign(key, workflow, &sp, SAS_VERSION);
        let base_path = trigger_base_path(&self.inner.options.public_url, workflow, trigger);
        let path = match relative_path {
            Some(relative) => format!("{base_path}/{relative}"),
            None => base_path,
        };
        format!(
            "{path}?api-version={API_VERSION}&sp={}&sv={SAS_VERSION}&sig={sig}",
            signing::encode(&sp)
        )
    }

    /// The subscription ledger, of one workflow or of all.
    pub async fn list_subscriptions(&self, workflow: Option<&str>) -> Result<Vec<Value>> {
        if let Some(name) = workflow {
            self.workflow_record(name).await?;
        }
        let subscriptions = self.inner.store.list_subscriptions(workflow).await?;
        Ok(subscriptions.iter().map(subscription_view).collect())
    }

    /// A trigger's history, newest first.
    pub async fn trigger_histories(
        &self,
        workflow: &str,
        trigger: &str,
        limit: u32,
    ) -> Result<Vec<TriggerHistoryRecord>> {
        Ok(self
            .inner
            .store
            .list_trigger_histories(workflow, trigger, limit)
            .await?)
    }

    /// The workflow's record for a hot path (see `workflow_cache` for how fresh it is).
    pub(crate) async fn cached_workflow_record(&self, name: &str) -> Result<Arc<WorkflowRecord>> {
        let generation = match self.inner.workflows.get(name) {
            Ok(record) => return Ok(record),
            Err(generation) => generation,
        };
        let record = Arc::new(self.workflow_record(name).await?);
        self.inner.workflows.fill(name, generation, record.clone());
        Ok(record)
    }

    pub(crate) async fn workflow_record(&self, name: &str) -> Result<WorkflowRecord> {
        self.inner
            .store
            .get_workflow(name)
            .await?
            .ok_or_else(|| not_found(name))
    }

    async fn view_of(&self, record: WorkflowRecord) -> Result<WorkflowView> {
        let version = self
            .inner
            .store
            .get_version(&record.version_id)
            .await?
            .ok_or_else(|| {
                Error::Internal(format!("version '{}' is missing", record.version_id))
            })?;
        let compiled = self.compiled(&record.version_id).await?;
        Ok(view(record, &version.document, &compiled))
    }
}

fn not_found(name: &str) -> Error {
    Error::NotFound(format!("workflow '{name}'"))
}

/// Workflow names end up in URLs and paths: keep them to a safe alphabet.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 80
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "workflow name '{name}' is invalid: use 1 to 80 letters, digits, '-', '_' or '.'"
        )))
    }
}

/// What is stored of a PUT body: the definition and the parameter values.
fn stored_document(document: &Value) -> Value {
    let root = document.get("properties").unwrap_or(document);
    json!({
        "definition": root.get("definition").cloned().unwrap_or(Value::Null),
        "parameters": root.get("parameters").cloned().unwrap_or_else(|| json!({})),
    })
}

fn view(record: WorkflowRecord, stored: &Value, compiled: &Compiled) -> WorkflowView {
    let mut parameters = stored
        .get("parameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    redact_secure(&mut parameters, compiled);
    WorkflowView {
        record,
        definition: stored.get("definition").cloned().unwrap_or(Value::Null),
        parameters: Value::Object(parameters),
    }
}

/// Secure parameters (`securestring`, `secureobject`) are never returned.
fn redact_secure(parameters: &mut Map<String, Value>, compiled: &Compiled) {
    for declared in &compiled.definition.parameters {
        if !declared.ty.is_secure() {
            continue;
        }
        for (name, value) in parameters.iter_mut() {
            if name.eq_ignore_ascii_case(&declared.name) {
                *value = json!({ "value": hookflow_engine::REDACTED });
            }
        }
    }
}
