//! Definition versions parsed, validated and compiled once, then shared by every run that uses
//! them (durability.md §7). A version is immutable, so a cached entry never goes stale.

use crate::{Error, Result};
use hookflow_engine::Plan;
use hookflow_model::Definition;
use hookflow_store::Store;
use serde_json::{Map, Value};
use std::{collections::HashMap, sync::Arc};

/// One version, ready to run.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub definition: Definition,
    pub plan: Plan,
    /// Effective parameter values: defaults overlaid by the workflow's values.
    pub parameters: Map<String, Value>,
    /// The document's `state`: `Some(true)` Enabled, `Some(false)` Disabled, `None` unsaid.
    pub enabled: Option<bool>,
}

impl Compiled {
    /// Compiles a saved document (`{"definition": ..., "parameters": ...}`).
    pub fn from_document(document: &Value) -> Result<Self> {
        let document = crate::parameter_sources::resolve(document).map_err(Error::Invalid)?;
        let parsed = hookflow_model::parse_workflow_document(&document).map_err(Error::Invalid)?;
        let parameters =
            hookflow_model::effective_parameters(&parsed.definition, &parsed.parameters);
        let plan = Plan::new(&parsed.definition);
        Ok(Self {
            definition: parsed.definition,
            plan,
            parameters,
            enabled: parsed.enabled,
        })
    }
}

#[derive(Default)]
pub(crate) struct Cache {
    versions: std::sync::RwLock<HashMap<String, Arc<Compiled>>>,
}

impl Cache {
    pub async fn get(&self, store: &dyn Store, version_id: &str) -> Result<Arc<Compiled>> {
        if let Some(found) = self.versions.read().expect("cache lock").get(version_id) {
            return Ok(found.clone());
        }
        let version = store
            .get_version(version_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("definition version '{version_id}'")))?;
        let compiled = Arc::new(Compiled::from_document(&version.document).map_err(|e| {
            Error::Internal(format!(
                "stored version '{version_id}' no longer compiles: {e}"
            ))
        })?);
        self.versions
            .write()
            .expect("cache lock")
            .insert(version_id.to_owned(), compiled.clone());
        Ok(compiled)
    }

    /// Seeds the cache with a version compiled at save time, so its first run compiles nothing.
    pub fn insert(&self, version_id: &str, compiled: Arc<Compiled>) {
        self.versions
            .write()
            .expect("cache lock")
            .insert(version_id.to_owned(), compiled);
    }
}
