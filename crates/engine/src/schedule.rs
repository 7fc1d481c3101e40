//! Moving a run forward: deciding which actions start, which are skipped, when a container's
//! content is done, and when the run has ended (logicapps-spec §5.2).
//!
//! The work of one step is an [`Agenda`] drained in order: *consider* an execution (start it,
//! skip it, or leave it for later) and *finished* (an execution reached a terminal status:
//! consider its successors, and tell its container). Synchronous actions finish inside the
//! step that starts them, so one step walks as far as it can without waiting for the outside
//! world; an agenda rather than recursion keeps a Foreach over 100,000 synchronous items from
//! exhausting the stack. A step starts at most `Limits::max_actions_per_step` executions: the
//! agenda left then is handed to a later step as an `Event::Continue` due at once, so per-step
//! cost stays flat and other runs are stepped in between.

use crate::step::enter;
use crate::{
    ActionKey, ActionState, ActionStatus, Event, Pending, Repetition, RunState, StepContext, Timer,
    Transition, actions, containers, finish,
};
use hookflow_model::{ActionId, RunAfterStatus};
use serde_json::json;
use std::collections::VecDeque;

/// Work left in this step.
#[derive(Default)]
pub(crate) struct Agenda(VecDeque<Work>);

pub(crate) enum Work {
    /// Start or skip the execution if its `runAfter` is decided.
    Consider(ActionKey),
    /// The execution reached a terminal status.
    Finished(ActionKey),
}

impl Agenda {
    /// The agenda a `Continue` event carries; `None` when a key does not belong to the
    /// definition (it always does: a run keeps its version).
    pub(crate) fn from_pending(ctx: &StepContext<'_>, pending: &[Pending]) -> Option<Self> {
        let mut agenda = Agenda::default();
        for item in pending {
            agenda.0.push_back(match item {
                Pending::Consider { action } => {
                    Work::Consider(ActionKey::parse(ctx.definition, action)?)
                }
                Pending::Finished { action } => {
                    Work::Finished(ActionKey::parse(ctx.definition, action)?)
                }
            });
        }
        Some(agenda)
    }

    /// The executions this agenda will consider (to re-establish loop progress).
    pub(crate) fn considered(&self) -> impl Iterator<Item = &ActionKey> {
        self.0.iter().filter_map(|work| match work {
            Work::Consider(key) => Some(key),
            Work::Finished(_) => None,
        })
    }

    fn to_pending(&self, ctx: &StepContext<'_>) -> Vec<Pending> {
        self.0
            .iter()
            .map(|work| match work {
                Work::Consider(key) => Pending::Consider {
                    action: key.text(ctx.definition),
                },
                Work::Finished(key) => Pending::Finished {
                    action: key.text(ctx.definition),
                },
            })
            .collect()
    }

    pub(crate) fn consider(&mut self, key: ActionKey) {
        self.0.push_back(Work::Consider(key));
    }

    pub(crate) fn finished(&mut self, key: ActionKey) {
        self.0.push_back(Work::Finished(key));
    }
}

/// Drains `agenda`, then ends the run if nothing is left in flight.
pub(crate) fn drive(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    mut agenda: Agenda,
    transition: &mut Transition,
) {
    let mut budget = ctx.limits.max_actions_per_step.max(1);
    // Once the budget is spent, executions to consider wait for a later step, while finished
    // ones are still followed through (cheap, and it leaves loop progress as the rows say).
    let mut deferred = Agenda::default();
    while let Some(work) = agenda.0.pop_front() {
        // A Terminate action ended the run: nothing else starts.
        if state.status.is_terminal() {
            return;
        }
        match work {
            Work::Consider(key) => {
                if state.get(&key).is_some() {
                    continue;
                }
                if budget == 0 {
                    deferred.consider(key);
                    continue;
                }
                enter(state, transition, &key.repetition);
                match readiness(state, ctx, &key) {
                    Readiness::NotYet => continue,
                    Readiness::Run => actions::start(state, ctx, &key, transition, &mut agenda),
                    Readiness::Skip(error) => skip(state, ctx, &key, error, transition),
                }
                budget -= 1;
                if state.get(&key).is_some_and(|a| a.status.is_terminal()) {
                    agenda.finished(key);
                }
            }
            Work::Finished(key) => {
                for &next in ctx.plan.successors(key.id) {
                    agenda.consider(ActionKey::new(next, key.repetition.clone()));
                }
                if let Some(parent) = &ctx.definition.action(key.id).parent {
                    containers::child_finished(
                        state,
                        ctx,
                        &key,
                        parent.container,
                        transition,
                        &mut agenda,
                    );
                }
            }
        }
    }
    if state.status.is_terminal() {
        return;
    }
    if !deferred.0.is_empty() {
        continue_later(state, ctx, &deferred, transition);
        return;
    }
    // Containers finish only when their content has, so the top level decides.
    let settled = ctx.definition.top_level.iter().all(|&id| {
        state
            .get(&ActionKey::new(id, Repetition::none()))
            .is_none_or(|a| a.status.is_terminal())
    });
    if settled {
        enter(state, transition, &Repetition::none());
        finish::complete_run(state, ctx, transition);
    }
}

/// Hands the rest of the agenda to a later step of this run, due at once. Loop progress is
/// left as a restart would derive it from the rows; the `Continue` step restores the rest.
fn continue_later(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    agenda: &Agenda,
    transition: &mut Transition,
) {
    for key in agenda.considered() {
        crate::on_continue::unstart_rowless(state, ctx, key);
    }
    transition.timers.push(Timer {
        due_at: ctx.now,
        event: Event::Continue {
            agenda: agenda.to_pending(ctx),
        },
    });
}

/// After `finished` (in the iteration being worked on) reached a terminal status outside of
/// [`drive`] (an outcome arrived), schedules what follows it.
pub(crate) fn settle_after(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    finished: ActionId,
    transition: &mut Transition,
) {
    let mut agenda = Agenda::default();
    agenda.finished(state.key(finished));
    drive(state, ctx, agenda, transition);
}

enum Readiness {
    /// A predecessor has not finished.
    NotYet,
    Run,
    /// A predecessor finished with a status the action does not run after.
    Skip(serde_json::Value),
}

fn readiness(state: &RunState, ctx: &StepContext<'_>, key: &ActionKey) -> Readiness {
    let action = ctx.definition.action(key.id);
    let mut unmet = None;
    for run_after in &action.run_after {
        // Predecessors sit in the same container, hence in the same iteration.
        let pred_key = ActionKey::new(run_after.action, key.repetition.clone());
        let Some(pred) = state.get(&pred_key).filter(|a| a.status.is_terminal()) else {
            return Readiness::NotYet;
        };
        if unmet.is_none() && !run_after.statuses.contains(as_run_after(pred.status)) {
            let pred_name = &ctx.definition.action(run_after.action).name;
            unmet = Some(json!({
                "code": "ActionConditionFailed",
                "message": format!(
                    "The execution of template action '{}' is skipped: the 'runAfter' condition for action '{}' is not satisfied. Expected status values '{}' and actual value '{}'.",
                    action.name,
                    pred_name,
                    expected_statuses(run_after.statuses),
                    pred.status
                ),
            }));
        }
    }
    match unmet {
        Some(error) => Readiness::Skip(error),
        None => Readiness::Run,
    }
}

fn skip(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    key: &ActionKey,
    error: serde_json::Value,
    transition: &mut Transition,
) {
    state.insert(key.clone(), skipped(ctx.now, error));
    transition.touch_key(key);
}

/// A Skipped execution with its reason.
pub(crate) fn skipped(now: i64, error: serde_json::Value) -> ActionState {
    ActionState {
        status: ActionStatus::Skipped,
        code: Some("ActionSkipped".into()),
        start_time: Some(now),
        end_time: Some(now),
        inputs: None,
        outputs: None,
        error: Some(error),
    }
}

/// How a finished action's status reads in `runAfter` terms. Cancelled only happens when the
/// whole run is cancelled, after which nothing is scheduled; it reads as Failed.
pub(crate) fn as_run_after(status: ActionStatus) -> RunAfterStatus {
    match status {
        ActionStatus::Succeeded => RunAfterStatus::Succeeded,
        ActionStatus::Skipped => RunAfterStatus::Skipped,
        ActionStatus::TimedOut => RunAfterStatus::TimedOut,
        ActionStatus::Failed
        | ActionStatus::Cancelled
        | ActionStatus::Running
        | ActionStatus::Waiting => RunAfterStatus::Failed,
    }
}

fn expected_statuses(set: hookflow_model::StatusSet) -> String {
    [
        (RunAfterStatus::Succeeded, "Succeeded"),
        (RunAfterStatus::Failed, "Failed"),
        (RunAfterStatus::Skipped, "Skipped"),
        (RunAfterStatus::TimedOut, "TimedOut"),
    ]
    .iter()
    .filter(|(s, _)| set.contains(*s))
    .map(|(_, name)| *name)
    .collect::<Vec<_>>()
    .join(", ")
}
