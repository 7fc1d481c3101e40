//! The state of one run as the engine sees it: run status, trigger object, variables and one
//! [`ActionState`] per action execution — per `(action, repetition)`, since an action inside a
//! loop runs once per iteration (see [`crate::Repetition`]).
//!
//! It is rebuilt from the store's rows ([`RunState::restore`]) and kept in memory by the
//! runtime between steps; a step changes it in place and reports which parts changed, so only
//! those rows are written. What is not stored (the progress of running loops) is derived from
//! the rows on restore, so a restored state equals the live one.

use crate::{ActionKey, ActionStatus, Repetition, RunStatus};
use hookflow_model::{ActionId, ActionKind, Definition};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub struct RunState {
    pub status: RunStatus,
    /// The trigger object the run started with (`{name, outputs, startTime, ...}`). Shared
    /// with the run's record: a request body is kept once in memory, not per copy.
    pub trigger: Arc<Value>,
    /// Every action execution that has started (or been skipped).
    actions: BTreeMap<ActionKey, ActionState>,
    /// Whether a Response action has answered the caller.
    pub responded: bool,
    pub end_time: Option<i64>,
    pub outputs: Option<Value>,
    pub error: Option<Value>,
    /// The run's variables by declared name (looked up regardless of case).
    pub variables: Map<String, Value>,
    /// How far each running loop instance has got; derived from the rows on restore.
    pub(crate) loops: BTreeMap<ActionKey, LoopProgress>,
    /// The repetition of the action being worked on: [`RunState::action`] and
    /// [`RunState::action_mut`] address that action's enclosing iterations through it. Empty
    /// between steps.
    pub(crate) cursor: Repetition,
    /// How many enclosing loops each action has (indexed by [`ActionId`]).
    depths: Vec<u8>,
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

/// Progress of one running Foreach or Until instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LoopProgress {
    /// Iterations started (they start in index order).
    pub started: u32,
    /// Iterations whose actions have all finished.
    pub done: u32,
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
    pub fn new(definition: &Definition, trigger: impl Into<Arc<Value>>) -> Self {
        Self {
            status: RunStatus::Running,
            trigger: trigger.into(),
            actions: BTreeMap::new(),
            responded: false,
            end_time: None,
            outputs: None,
            error: None,
            variables: Map::new(),
            loops: BTreeMap::new(),
            cursor: Repetition::none(),
            depths: loop_depths(definition),
        }
    }

    /// Rebuilds a run from stored rows: `(name, canonical repetition, state)`. Rows naming an
    /// action the definition does not have (impossible for a run pinned to its version), or
    /// with a repetition that does not fit the action, are ignored.
    pub fn restore(
        definition: &Definition,
        run: RunFields,
        actions: impl IntoIterator<Item = (String, String, ActionState)>,
    ) -> Self {
        let mut state = Self::new(definition, run.trigger);
        state.status = run.status;
        state.end_time = run.end_time;
        state.outputs = run.outputs;
        state.error = run.error;
        state.variables = run.variables;
        for (name, repetition, action) in actions {
            let (Some(id), Some(repetition)) =
                (definition.action_id(&name), Repetition::parse(&repetition))
            else {
                continue;
            };
            if repetition.0.len() == state.depth(id) {
                state.actions.insert(ActionKey::new(id, repetition), action);
            }
        }
        // Whether the caller was answered is derived: a succeeded Response action answered.
        state.responded = state.actions.iter().any(|(key, a)| {
            matches!(definition.action(key.id).kind, ActionKind::Response)
                && a.status == ActionStatus::Succeeded
        });
        state.loops = derive_loops(definition, &state.actions);
        state
    }

    /// The execution of `id` in the iteration the engine is working on (between steps: the
    /// execution outside loops).
    pub fn action(&self, id: ActionId) -> Option<&ActionState> {
        self.actions.get(&self.key(id))
    }

    /// One execution by its key.
    pub fn get(&self, key: &ActionKey) -> Option<&ActionState> {
        self.actions.get(key)
    }

    /// Every action execution, ordered by action then repetition.
    pub fn actions(&self) -> impl Iterator<Item = (&ActionKey, &ActionState)> {
        self.actions.iter()
    }

    /// Whether an outbound Http call is in flight (the runtime keeps such runs cached).
    pub fn has_call_in_flight(&self, definition: &Definition) -> bool {
        self.actions.iter().any(|(key, a)| {
            a.status == ActionStatus::Running
                && matches!(definition.action(key.id).kind, ActionKind::Http)
        })
    }

    pub(crate) fn action_mut(&mut self, id: ActionId) -> Option<&mut ActionState> {
        let key = self.key(id);
        self.actions.get_mut(&key)
    }

    pub(crate) fn get_mut(&mut self, key: &ActionKey) -> Option<&mut ActionState> {
        self.actions.get_mut(key)
    }

    pub(crate) fn insert(&mut self, key: ActionKey, action: ActionState) {
        self.actions.insert(key, action);
    }

    /// The key of `id` in the current iteration.
    pub(crate) fn key(&self, id: ActionId) -> ActionKey {
        ActionKey::new(id, self.cursor.truncated(self.depth(id)))
    }

    /// How many loops enclose `id`.
    pub(crate) fn depth(&self, id: ActionId) -> usize {
        self.depths.get(id.0 as usize).copied().unwrap_or(0) as usize
    }

    /// The executions of `id` whose repetition starts with `prefix`, in repetition order.
    pub(crate) fn executions_under<'a>(
        &'a self,
        id: ActionId,
        prefix: &Repetition,
    ) -> impl DoubleEndedIterator<Item = (&'a ActionKey, &'a ActionState)> + 'a {
        let start = ActionKey::new(id, prefix.clone());
        let mut upper = prefix.0.clone();
        upper.resize(self.depth(id).max(prefix.0.len()), u32::MAX);
        let end = ActionKey::new(id, Repetition(upper));
        self.actions.range(start..=end)
    }
}

/// The run-level fields [`RunState::restore`] needs.
#[derive(Debug, Clone)]
pub struct RunFields {
    pub status: RunStatus,
    pub trigger: Arc<Value>,
    pub end_time: Option<i64>,
    pub outputs: Option<Value>,
    pub error: Option<Value>,
    pub variables: Map<String, Value>,
}

fn loop_depths(definition: &Definition) -> Vec<u8> {
    // Parents come before children in the arena, so one pass in order suffices.
    let mut depths: Vec<u8> = Vec::with_capacity(definition.actions.len());
    for action in &definition.actions {
        let depth = match &action.parent {
            None => 0,
            Some(parent) => {
                let container = definition.action(parent.container);
                let inside_loop = matches!(
                    container.kind,
                    ActionKind::Foreach { .. } | ActionKind::Until { .. }
                );
                depths
                    .get(parent.container.0 as usize)
                    .copied()
                    .unwrap_or(0)
                    + u8::from(inside_loop)
            }
        };
        depths.push(depth);
    }
    depths
}

/// The progress of every running loop, from the rows: an iteration has started when one of
/// its actions has a row, and is done when every action of the loop body has a finished row
/// (every action of a finished iteration has one: it ran or was skipped).
fn derive_loops(
    definition: &Definition,
    actions: &BTreeMap<ActionKey, ActionState>,
) -> BTreeMap<ActionKey, LoopProgress> {
    let mut body_sizes: BTreeMap<ActionId, u32> = BTreeMap::new();
    // (loop key, iteration) -> finished rows of its body.
    let mut finished: BTreeMap<(ActionKey, u32), u32> = BTreeMap::new();
    let mut loops: BTreeMap<ActionKey, LoopProgress> = BTreeMap::new();
    for (key, action) in actions {
        let Some(parent) = &definition.action(key.id).parent else {
            continue;
        };
        let container = parent.container;
        if !matches!(
            definition.action(container).kind,
            ActionKind::Foreach { .. } | ActionKind::Until { .. }
        ) {
            continue;
        }
        let Some((&iteration, outer)) = key.repetition.0.split_last() else {
            continue;
        };
        let loop_key = ActionKey::new(container, Repetition(outer.to_vec()));
        if actions
            .get(&loop_key)
            .is_none_or(|l| l.status.is_terminal())
        {
            continue;
        }
        let progress = loops.entry(loop_key.clone()).or_insert(LoopProgress {
            started: 0,
            done: 0,
        });
        progress.started = progress.started.max(iteration + 1);
        if action.status.is_terminal() {
            *finished.entry((loop_key, iteration)).or_insert(0) += 1;
        }
        body_sizes.entry(container).or_insert_with(|| {
            definition
                .actions
                .iter()
                .filter(|a| a.parent.as_ref().is_some_and(|p| p.container == container))
                .count() as u32
        });
    }
    for ((loop_key, _), count) in finished {
        if body_sizes.get(&loop_key.id) == Some(&count)
            && let Some(progress) = loops.get_mut(&loop_key)
        {
            progress.done += 1;
        }
    }
    loops
}
