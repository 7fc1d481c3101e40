//! A trigger's `recurrence` object: checked field by field (each problem named by its path)
//! into a [`Recurrence`] the runtime schedules.
//!
//! Values must be literal: the schedule is computed when the workflow is saved, with no run
//! (and no parameters evaluated) to read an expression in.

use super::ctx::{Ctx, Path, check_keys, json_type};
use crate::recurrence::{Frequency, Recurrence, Schedule, StartTime};
use jiff::{Timestamp, civil::DateTime, civil::Weekday, tz::TimeZone};
use serde_json::{Map, Value};

const RECURRENCE_KEYS: &[&str] = &[
    "frequency",
    "interval",
    "startTime",
    "endTime",
    "timeZone",
    "schedule",
];

const SCHEDULE_KEYS: &[&str] = &["hours", "minutes", "weekDays", "monthDays"];

/// The `recurrence` member of a trigger (required). On errors, diagnostics are recorded and a
/// placeholder is returned: the definition is rejected anyway.
pub(crate) fn parse(ctx: &mut Ctx, trigger: &Map<String, Value>, path: &Path) -> Recurrence {
    let mut out = Recurrence {
        frequency: Frequency::Minute,
        interval: 1,
        start_time: None,
        end_time: None,
        time_zone: None,
        zone: TimeZone::UTC,
        schedule: Schedule::default(),
        raw: Value::Null,
    };
    let Some(value) = ctx.required(trigger, "recurrence", path) else {
        return out;
    };
    out.raw = value.clone();
    let path = path.key("recurrence");
    let Some(object) = ctx.object(value, &path) else {
        return out;
    };
    check_keys(ctx, object, RECURRENCE_KEYS, &path);
    if let Some(value) = ctx.required(object, "frequency", &path) {
        let found = value.as_str().and_then(|f| {
            Frequency::ALL
                .into_iter()
                .find(|k| k.as_str().eq_ignore_ascii_case(f.trim()))
        });
        match found {
            Some(frequency) => out.frequency = frequency,
            None => ctx.error(
                &path.key("frequency"),
                format!("expected one of Second, Minute, Hour, Day, Week, Month, got {value}"),
            ),
        }
    }
    if let Some(value) = ctx.required(object, "interval", &path) {
        let max = out.frequency.max_interval();
        // Exported templates sometimes write the interval as a string (`"1"`).
        match integer(value).filter(|n| (1..=i64::from(max)).contains(n)) {
            Some(n) => out.interval = n as u32,
            None => ctx.error(
                &path.key("interval"),
                format!(
                    "expected an integer from 1 to {max} (at most 500 days) for frequency {}, got {value}",
                    out.frequency.as_str()
                ),
            ),
        }
    }
    if let Some(value) = object.get("timeZone") {
        let zone = value.as_str().and_then(|name| {
            hookflow_expr::windows_time_zone(name).map(|zone| (name.to_owned(), zone))
        });
        match zone {
            Some((name, zone)) => {
                out.time_zone = Some(name);
                out.zone = zone;
            }
            None => ctx.error(
                &path.key("timeZone"),
                format!("expected a Windows time-zone name such as \"W. Europe Standard Time\", got {value}"),
            ),
        }
    }
    out.start_time = time(ctx, object, "startTime", &path);
    out.end_time = time(ctx, object, "endTime", &path);
    if let Some(value) = object.get("schedule") {
        out.schedule = schedule(ctx, value, out.frequency, &path.key("schedule"));
    }
    out
}

/// `startTime` / `endTime`: ISO 8601, with an offset (an instant) or without (local time in
/// `timeZone`).
fn time(ctx: &mut Ctx, object: &Map<String, Value>, key: &str, path: &Path) -> Option<StartTime> {
    let value = object.get(key)?;
    let parsed = value.as_str().and_then(|text| {
        let text = text.trim();
        text.parse::<Timestamp>()
            .map(StartTime::Instant)
            .or_else(|_| text.parse::<DateTime>().map(StartTime::Local))
            .ok()
    });
    if parsed.is_none() {
        ctx.error(
            &path.key(key),
            format!("expected a date and time such as \"2026-01-31T08:00:00Z\" or \"2026-01-31T08:00:00\", got {value}"),
        );
    }
    parsed
}

fn schedule(ctx: &mut Ctx, value: &Value, frequency: Frequency, path: &Path) -> Schedule {
    let mut out = Schedule::default();
    let Some(object) = ctx.object(value, path) else {
        return out;
    };
    check_keys(ctx, object, SCHEDULE_KEYS, path);
    if matches!(
        frequency,
        Frequency::Second | Frequency::Minute | Frequency::Hour
    ) && !object.is_empty()
    {
        ctx.error(
            path,
            format!(
                "a schedule applies to frequency Day, Week or Month, not {}",
                frequency.as_str()
            ),
        );
        return out;
    }
    out.hours = numbers(ctx, object, "hours", 0..=23, path);
    out.minutes = numbers(ctx, object, "minutes", 0..=59, path);
    out.month_days = numbers(ctx, object, "monthDays", -31..=31, path)
        .into_iter()
        .filter(|d| *d != 0)
        .collect();
    if object.contains_key("monthDays") && frequency != Frequency::Month {
        ctx.error(
            &path.key("monthDays"),
            "monthDays applies to frequency Month",
        );
    }
    if object.get("monthDays").is_some_and(|d| {
        d.as_array()
            .is_some_and(|a| a.iter().any(|v| integer(v) == Some(0)))
    }) {
        ctx.error(
            &path.key("monthDays"),
            "a month day is 1 to 31, or -1 to -31",
        );
    }
    if let Some(value) = object.get("weekDays") {
        if frequency != Frequency::Week {
            ctx.error(&path.key("weekDays"), "weekDays applies to frequency Week");
        }
        out.week_days = week_days(ctx, value, &path.key("weekDays"));
    }
    out
}

/// An array of integers in `range` (numbers or numeric strings, as exported templates write).
fn numbers(
    ctx: &mut Ctx,
    object: &Map<String, Value>,
    key: &str,
    range: std::ops::RangeInclusive<i8>,
    path: &Path,
) -> Vec<i8> {
    let Some(value) = object.get(key) else {
        return Vec::new();
    };
    let path = path.key(key);
    let Some(items) = value.as_array() else {
        ctx.error(
            &path,
            format!("expected an array, got {}", json_type(value)),
        );
        return Vec::new();
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let lo = i64::from(*range.start());
        let hi = i64::from(*range.end());
        match integer(item).filter(|n| (lo..=hi).contains(n)) {
            Some(n) => out.push(n as i8),
            None => ctx.error(
                &path.index(i),
                format!("expected an integer from {lo} to {hi}, got {item}"),
            ),
        }
    }
    out
}

fn week_days(ctx: &mut Ctx, value: &Value, path: &Path) -> Vec<Weekday> {
    const DAYS: [(&str, Weekday); 7] = [
        ("Sunday", Weekday::Sunday),
        ("Monday", Weekday::Monday),
        ("Tuesday", Weekday::Tuesday),
        ("Wednesday", Weekday::Wednesday),
        ("Thursday", Weekday::Thursday),
        ("Friday", Weekday::Friday),
        ("Saturday", Weekday::Saturday),
    ];
    let Some(items) = value.as_array() else {
        ctx.error(path, format!("expected an array, got {}", json_type(value)));
        return Vec::new();
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let day = item.as_str().and_then(|name| {
            DAYS.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
                .map(|(_, d)| *d)
        });
        match day {
            Some(day) => out.push(day),
            None => ctx.error(
                &path.index(i),
                format!("expected a day of the week such as \"Monday\", got {item}"),
            ),
        }
    }
    out
}

/// An integer written as a JSON number or a numeric string.
fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
