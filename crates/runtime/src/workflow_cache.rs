//! Workflow records for the hot paths (trigger fires, action callbacks, loading a run): each
//! would otherwise read its workflow's row from the store on every request.
//!
//! This node's own workflow changes invalidate the cache at once, so a single node never sees a
//! stale record. A change made by another node (several nodes on PostgreSQL) is seen once the
//! entry is older than [`TTL`]: disabling a workflow or regenerating a key there takes effect
//! here up to that late. Management reads never use the cache.

use hookflow_store::WorkflowRecord;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

/// How long a cached record is trusted without reading the store again.
pub(crate) const TTL: Duration = Duration::from_secs(1);

#[derive(Default)]
pub(crate) struct WorkflowCache {
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    records: HashMap<String, (Instant, Arc<WorkflowRecord>)>,
    /// Bumped by every invalidation: a read that began before one must not fill the cache
    /// with what it read (it may predate the change).
    generation: u64,
}

impl WorkflowCache {
    /// The cached record, if fresh; else the generation a fill must present.
    pub(crate) fn get(&self, name: &str) -> Result<Arc<WorkflowRecord>, u64> {
        let entries = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.records.get(name) {
            Some((at, record)) if at.elapsed() < TTL => Ok(record.clone()),
            _ => Err(entries.generation),
        }
    }

    /// Caches `record`, read from the store after [`WorkflowCache::get`] returned `generation`.
    pub(crate) fn fill(&self, name: &str, generation: u64, record: Arc<WorkflowRecord>) {
        let mut entries = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.generation == generation {
            entries
                .records
                .insert(name.to_owned(), (Instant::now(), record));
        }
    }

    /// Forgets `name`: called after this node changed it.
    pub(crate) fn invalidate(&self, name: &str) {
        let mut entries = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        entries.generation += 1;
        entries.records.remove(name);
    }
}
