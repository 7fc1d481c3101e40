//! Events: everything that can happen to a run, as the runtime reports it. Persisted in the
//! run's inbox as JSON, so this format is a compatibility boundary: add variants, never change
//! the meaning of one.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    /// The run was created by its trigger: start the first actions.
    Start,
    /// An outbound HTTP call made for an action came back (or could not be made).
    HttpCompleted {
        action: String,
        outcome: HttpOutcome,
    },
    /// The user asked to cancel the run.
    Cancel,
    /// The subscribe call of a webhook action came back (or could not be made).
    SubscribeCompleted {
        action: String,
        outcome: HttpOutcome,
    },
    /// The service called a waiting webhook action back. Its wait was resolved by this
    /// callback before the event was written, so it is the only one.
    CallbackReceived {
        action: String,
        headers: Map<String, Value>,
        body: Value,
    },
    /// A webhook action's `limit.timeout` passed while it waited (its wait was resolved by
    /// the timeout before the event was written).
    WaitTimedOut { action: String },
    /// A durable timer of a Wait action is due. `action` is the execution's key text (the
    /// name, with `#<repetition>` inside loops: see [`crate::Repetition`]).
    TimerFired { action: String },
    /// The work a step left when it reached its budget (`Limits::max_actions_per_step`): the
    /// run goes on from here in a later step, so one step does bounded work and other runs get
    /// their turn in between.
    Continue { agenda: Vec<Pending> },
}

/// One item of a step's agenda, by execution key text (see [`crate::Repetition`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "work")]
pub enum Pending {
    /// Start or skip the execution when its `runAfter` is decided.
    Consider { action: String },
    /// The execution reached a terminal status: its successors and container move on.
    Finished { action: String },
}

/// What came back from an outbound HTTP call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum HttpOutcome {
    /// A response arrived, whatever its status.
    Response {
        status: u16,
        headers: Map<String, Value>,
        body: Value,
    },
    /// No response: connection refused, timeout, invalid URL, body too large...
    Error { code: String, message: String },
}
