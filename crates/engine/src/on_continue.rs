//! `Event::Continue`: the rest of the work of a step that reached its budget. Loop progress is
//! re-established first: a step may have stopped just after starting a loop's iteration and
//! before any of its actions had a row, and a state restored from rows (after a restart) does
//! not know that iteration started; the agenda does.

use crate::schedule::{Agenda, drive};
use crate::state::LoopProgress;
use crate::{ActionKey, Pending, Repetition, RunState, StepContext, Transition};
use hookflow_model::ActionKind;

pub(crate) fn handle(
    state: &mut RunState,
    ctx: &StepContext<'_>,
    pending: &[Pending],
    transition: &mut Transition,
) {
    let Some(agenda) = Agenda::from_pending(ctx, pending) else {
        return;
    };
    for key in agenda.considered() {
        started_by_agenda(state, ctx, key);
    }
    drive(state, ctx, agenda, transition);
}

/// Counts the iteration `key` belongs to as started in its nearest enclosing loop.
fn started_by_agenda(state: &mut RunState, ctx: &StepContext<'_>, key: &ActionKey) {
    let Some((loop_key, iteration)) = enclosing_loop(state, ctx, key) else {
        return;
    };
    let progress = state.loops.entry(loop_key).or_insert(LoopProgress {
        started: 0,
        done: 0,
    });
    progress.started = progress.started.max(iteration + 1);
}

/// When a step stops with `key` still to consider and its iteration has no row yet, counts
/// that iteration (and those after it) as not started, as the rows would say after a
/// restart; [`handle`] counts it again. Iterations start in index order, so the iterations
/// without rows are the last ones started.
pub(crate) fn unstart_rowless(state: &mut RunState, ctx: &StepContext<'_>, key: &ActionKey) {
    let Some((loop_key, iteration)) = enclosing_loop(state, ctx, key) else {
        return;
    };
    let has_rows = ctx.plan.children(loop_key.id).iter().any(|&child| {
        state
            .get(&ActionKey::new(child, key.repetition.clone()))
            .is_some()
    });
    if has_rows {
        return;
    }
    if let Some(progress) = state.loops.get_mut(&loop_key) {
        progress.started = progress.started.min(iteration);
        if progress.started == 0 && progress.done == 0 {
            state.loops.remove(&loop_key);
        }
    }
}

/// The running loop whose iteration `key` belongs to, with that iteration's index.
fn enclosing_loop(
    state: &RunState,
    ctx: &StepContext<'_>,
    key: &ActionKey,
) -> Option<(ActionKey, u32)> {
    let &iteration = key.repetition.0.last()?;
    let mut id = key.id;
    let container = loop {
        let parent = ctx.definition.action(id).parent.as_ref()?;
        if matches!(
            ctx.definition.action(parent.container).kind,
            ActionKind::Foreach { .. } | ActionKind::Until { .. }
        ) {
            break parent.container;
        }
        id = parent.container;
    };
    let outer = key.repetition.0[..key.repetition.0.len() - 1].to_vec();
    let loop_key = ActionKey::new(container, Repetition(outer));
    state
        .get(&loop_key)
        .is_some_and(|l| !l.status.is_terminal())
        .then_some((loop_key, iteration))
}
