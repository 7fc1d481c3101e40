//! Callers waiting for a synchronous answer (a Response action). In memory by nature: the
//! caller's connection lives only in the process that accepted it. If that process dies the
//! caller sees the connection drop and the run still completes from the store.

use hookflow_engine::ResponseMessage;
use serde_json::Value;
use std::collections::HashMap;
use tokio::sync::oneshot;

/// What a waiting caller gets.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncReply {
    /// A Response action answered.
    Response(ResponseMessage),
    /// The run ended without a Response answering (it failed or skipped it).
    RunEnded {
        status: String,
        error: Option<Value>,
    },
}

#[derive(Default)]
pub(crate) struct Responders {
    waiting: std::sync::Mutex<HashMap<String, oneshot::Sender<SyncReply>>>,
}

impl Responders {
    pub fn register(&self, run_id: &str) -> oneshot::Receiver<SyncReply> {
        let (tx, rx) = oneshot::channel();
        self.waiting
            .lock()
            .expect("responders lock")
            .insert(run_id.to_owned(), tx);
        rx
    }

    /// Answers the caller of `run_id`, if one is still waiting.
    pub fn reply(&self, run_id: &str, reply: SyncReply) {
        let sender = self.waiting.lock().expect("responders lock").remove(run_id);
        if let Some(sender) = sender {
            let _ = sender.send(reply);
        }
    }

    pub fn forget(&self, run_id: &str) {
        self.waiting.lock().expect("responders lock").remove(run_id);
    }
}
