//! Compose: its output is its evaluated inputs.

use super::{Finished, evaluate_inputs};
use crate::{RunState, StepContext};
use hookflow_model::ActionId;

pub(crate) fn start(state: &RunState, ctx: &StepContext<'_>, id: ActionId) -> Finished {
    match evaluate_inputs(state, ctx, id) {
        Ok(value) => Finished::succeeded(Some(value.clone()), Some(value)),
        Err(failed) => failed,
    }
}
