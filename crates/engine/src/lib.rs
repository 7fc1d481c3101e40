//! The run state machine of hookflow.
//!
//! [`step`] applies one [`Event`] to a [`RunState`] and returns a [`Transition`]: which action
//! rows and run fields changed, and the [`Effect`]s the runtime must carry out (outbound HTTP
//! calls, answering the caller). The runtime persists the changes and the effects in one
//! transaction, carries the effects out, and feeds their outcomes back as events.
//!
//! Pure and deterministic: no IO, no clock, no randomness, no tasks. Time and random bits
//! arrive in the [`StepContext`]; replaying a run's events from the same state gives the same
//! result.

mod actions;
mod condition;
mod containers;
mod context;
mod effect;
mod event;
mod finish;
mod on_cancel;
mod on_continue;
mod on_http_completed;
mod on_start;
mod on_timer_fired;
mod plan;
mod repetition;
mod retry;
mod schedule;
mod scope;
mod state;
mod status;
mod step;

pub use actions::http::{REDACTED, build_request, recorded_inputs};
pub use context::{Environment, Limits, StepContext};
pub use effect::{
    Effect, HttpRequest, OutboundAuth, OutboundSigning, Poll, ResponseMessage, Retry,
};
pub use event::{Event, HttpOutcome, Pending};
pub use plan::Plan;
pub use repetition::{ActionKey, Repetition};
pub use retry::{RetryPolicy, is_retryable_status};
pub use scope::{format_time, lookup_parameter};
pub use state::{ActionState, RunFields, RunState};
pub use status::{ActionStatus, RunStatus, UnknownStatus};
pub use step::{Timer, Transition, Unsubscribe, WaitChange, step};
