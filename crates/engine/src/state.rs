//! The state of one run as the engine sees it: run status, trigger object and one
//! [`ActionState`] per action that has started (or been skipped).
//!
//! It is rebuilt from the store's rows ([`RunState::restore`]) and kept in memory by the
//! runtime between steps; a step changes it in place and reports which parts changed, so only
//! those rows are written.

use crate::{ActionStatus, RunStatus};
use hookflow_model::{ActionId, Definition};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct RunState {
    pub status: RunStatus,
    /// The trigger object the run started with (`{name, outputs, startTime, ...}`).
    pub trigger: Value,
    /// Indexed by [`ActionId`]; `None` until the action starts or is skipped.
    pub actions: Vec<Option<ActionState>>,
    /// Whether a Response action has answered the caller.
    pub responded: bool,
    pub end_time: Option<i64>,
    pub outputs: Option<Value>,
    pub error: Option<Value>,
}

/// One action's execution: what history shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionState {
    pub status: ActionStatus,
    pub code: Option<String>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub inputs: Option<Value>,
    pub outputs: Option<Value>,
    pub error: Option<Value>,
}

impl ActionState {
    pub(crate) fn running(now: i64) -> Self {
        Self {
            status: ActionStatus::Running,
            code: None,
            start_time: Some(now),
            end_time: None,
            inputs: None,
            outputs: None,
            error: None,
        }
    }
}

impl RunState {
    /// A fresh run, before its `Start` event.
    pub fn new(definition: &Definition, trigger: Value) -> Self {
        Self {
            status: RunStatus::Running,
            trigger,
            actions: vec![None; definition.actions.len()],
            responded: false,
            end_time: None,
            outputs: None,
            error: None,
        }
    }

    /// Rebuilds a run from stored rows. Rows naming an action the definition does not have
    /// (impossible for a run pinned to its version) are ignored.
    pub fn restore(
        definition: &Definition,
        run: RunFields,
        actions: impl IntoIterator<Item = (String, ActionState)>,
    ) -> Self {
        let mut state = Self::new(definition, run.trigger);
        state.status = run.status;
        state.end_time = run.end_time;
        state.outputs = run.outputs;
        state.error = run.error;
        for (name, action) in actions {
            if let Some(id) = definition.action_id(&name) {
                state.actions[id.0 as usize] = Some(action);
            }
        }
        // Whether the caller was answered is derived: a succeeded Response action answered.
        state.responded = definition.actions.iter().enumerate().any(|(i, a)| {
            matches!(a.kind, hookflow_model::ActionKind::Response)
                && state.actions[i]
                    .as_ref()
                    .is_some_and(|s| s.status == ActionStatus::Succeeded)
        });
        state
    }

    pub fn action(&self, id: ActionId) -> Option<&ActionState> {
        self.actions[id.0 as usize].as_ref()
    }

    pub(crate) fn action_mut(&mut self, id: ActionId) -> Option<&mut ActionState> {
        self.actions[id.0 as usize].as_mut()
    }

    pub(crate) fn set_action(&mut self, id: ActionId, action: ActionState) {
        self.actions[id.0 as usize] = Some(action);
    }
}

/// The run-level fields [`RunState::restore`] needs.
#[derive(Debug, Clone)]
pub struct RunFields {
    pub status: RunStatus,
    pub trigger: Value,
    pub end_time: Option<i64>,
    pub outputs: Option<Value>,
    pub error: Option<Value>,
}
