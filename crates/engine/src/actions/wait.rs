//! Wait (Delay, Delay until): a durable timer. The action runs until the timer's event
//! (`TimerFired`) arrives; the runtime stores it as an inbox event due later, so nothing
//! sleeps and a restart loses nothing (logicapps-spec §6.10).

use super::{Finished, evaluate_inputs};
use crate::{ActionKey, Event, RunState, StepContext, Timer, Transition};
use jiff::{Span, Timestamp, tz::TimeZone};
use serde_json::Value;

pub(crate) fn start(
    state: &RunState,
    ctx: &StepContext<'_>,
    key: &ActionKey,
    transition: &mut Transition,
) -> Finished {
    let inputs = match evaluate_inputs(state, ctx, key.id) {
        Ok(inputs) => inputs,
        Err(failed) => return failed,
    };
    let due_at = match due_at(&inputs, ctx.now) {
        Ok(due_at) => due_at,
        Err(message) => return Finished::failed(Some(inputs), "InvalidTemplate", message),
    };
    if due_at <= ctx.now {
        return Finished::succeeded(Some(inputs), None);
    }
    transition.timers.push(Timer {
        due_at,
        event: Event::TimerFired {
            action: key.text(ctx.definition),
        },
    });
    Finished::Pending { inputs }
}

/// When the wait ends (Unix ms): `interval {count, unit}` from now, or `until {timestamp}`.
fn due_at(inputs: &Value, now: i64) -> Result<i64, String> {
    if let Some(until) = inputs.get("until") {
        let text = until
            .get("timestamp")
            .and_then(Value::as_str)
            .ok_or("until.timestamp: a timestamp such as 2030-01-01T00:00:00Z is required")?;
        let at: Timestamp = text
            .parse()
            .map_err(|e| format!("until.timestamp: '{text}' is not a timestamp: {e}"))?;
        return Ok(at.as_millisecond());
    }
    let interval = inputs
        .get("interval")
        .ok_or("interval or until is required")?;
    let count = match interval.get("count") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|c| *c >= 0)
    .ok_or("interval.count: a whole number of units, 0 or more, is required")?;
    let unit = interval
        .get("unit")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let span = match unit.to_ascii_lowercase().as_str() {
        "second" => Span::new().try_seconds(count),
        "minute" => Span::new().try_minutes(count),
        "hour" => Span::new().try_hours(count),
        "day" => Span::new().try_days(count),
        "week" => Span::new().try_weeks(count),
        "month" => Span::new().try_months(count),
        _ => {
            return Err(format!(
                "interval.unit: '{unit}' is not a unit (Second, Minute, Hour, Day, Week, Month)"
            ));
        }
    }
    .map_err(|e| format!("interval: {e}"))?;
    let start = Timestamp::from_millisecond(now).map_err(|e| e.to_string())?;
    // Days, weeks and months are calendar units: count them in UTC, as Logic Apps does.
    let end = TimeZone::UTC
        .to_datetime(start)
        .checked_add(span)
        .map_err(|e| format!("interval: {e}"))?;
    TimeZone::UTC
        .to_timestamp(end)
        .map(|end| end.as_millisecond())
        .map_err(|e| format!("interval: {e}"))
}
