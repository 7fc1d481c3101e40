//! Occurrences of Recurrence schedules, as a table: each row is a `recurrence` object, the
//! anchor (when the schedule was created), the time to look after, and the next occurrences
//! `next_after` must give, chained (each one is looked up after the previous). Covers starts in
//! the past and the future, calendar frequencies across daylight-saving changes, schedules and
//! `endTime`.

use hookflow_model::{Recurrence, TriggerKind, parse_definition};
use jiff::Timestamp;
use serde_json::{Value, json};

struct Row {
    name: &'static str,
    recurrence: Value,
    anchor: &'static str,
    after: &'static str,
    /// The expected occurrences in UTC; `"none"` for the end of the schedule.
    expected: &'static [&'static str],
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            name: "no start: fires at the anchor, then every interval",
            recurrence: json!({"frequency": "Second", "interval": 1}),
            anchor: "2026-01-01T00:00:00Z",
            after: "2025-12-31T23:59:59.999Z",
            expected: &[
                "2026-01-01T00:00:00Z",
                "2026-01-01T00:00:01Z",
                "2026-01-01T00:00:02Z",
            ],
        },
        Row {
            name: "past start: past occurrences are discarded",
            recurrence: json!({"frequency": "Minute", "interval": 5, "startTime": "2026-01-01T00:02:00Z"}),
            anchor: "2026-01-01T10:00:00Z",
            after: "2026-01-01T10:00:30Z",
            expected: &["2026-01-01T10:02:00Z", "2026-01-01T10:07:00Z"],
        },
        Row {
            name: "docs example: every two days from a past start",
            recurrence: json!({"frequency": "Day", "interval": 2, "startTime": "2017-09-07T14:00:00Z"}),
            anchor: "2017-09-08T13:00:00Z",
            after: "2017-09-08T13:00:00Z",
            expected: &[
                "2017-09-09T14:00:00Z",
                "2017-09-11T14:00:00Z",
                "2017-09-13T14:00:00Z",
            ],
        },
        Row {
            name: "future start: nothing before it",
            recurrence: json!({"frequency": "Hour", "interval": 1, "startTime": "2026-06-01T00:15:00Z"}),
            anchor: "2026-01-01T00:00:00Z",
            after: "2026-01-01T00:00:00Z",
            expected: &["2026-06-01T00:15:00Z", "2026-06-01T01:15:00Z"],
        },
        Row {
            name: "string interval, as exported templates write it",
            recurrence: json!({"frequency": "Hour", "interval": "1"}),
            anchor: "2026-01-01T00:00:00Z",
            after: "2026-01-01T00:30:00Z",
            expected: &["2026-01-01T01:00:00Z"],
        },
        Row {
            name: "daily 08:00 local stays 08:00 across spring forward",
            recurrence: json!({"frequency": "Day", "interval": 1, "startTime": "2026-03-27T08:00:00", "timeZone": "W. Europe Standard Time"}),
            anchor: "2026-01-01T00:00:00Z",
            after: "2026-01-01T00:00:00Z",
            expected: &[
                "2026-03-27T07:00:00Z",
                "2026-03-28T07:00:00Z",
                "2026-03-29T06:00:00Z",
                "2026-03-30T06:00:00Z",
            ],
        },
        Row {
            name: "hourly counts elapsed hours across spring forward",
            recurrence: json!({"frequency": "Hour", "interval": 1, "startTime": "2026-03-29T00:30:00", "timeZone": "W. Europe Standard Time"}),
            anchor: "2026-01-01T00:00:00Z",
            after: "2026-01-01T00:00:00Z",
            expected: &[
                "2026-03-28T23:30:00Z",
                "2026-03-29T00:30:00Z",
                "2026-03-29T01:30:00Z",
            ],
        },
        Row {
            name: "a local time skipped by spring forward moves forward by the gap",
            recurrence: json!({"frequency": "Day", "interval": 1, "startTime": "2026-03-28T02:30:00", "timeZone": "W. Europe Standard Time"}),
            anchor: "2026-01-01T00:00:00Z",
            after: "2026-01-01T00:00:00Z",
            expected: &[
                "2026-03-28T01:30:00Z",
                "2026-03-29T01:30:00Z",
                "2026-03-30T00:30:00Z",
            ],
        },
        Row {
            name: "a local time repeated by fall back fires once, the first time",
            recurrence: json!({"frequency": "Day", "interval": 1, "startTime": "2026-10-24T02:30:00", "timeZone": "W. Europe Standard Time"}),
            anchor: "2026-01-01T00:00:00Z",
            after: "2026-01-01T00:00:00Z",
            expected: &[
                "2026-10-24T00:30:00Z",
                "2026-10-25T00:30:00Z",
                "2026-10-26T01:30:00Z",
            ],
        },
        Row {
            name: "a start with an offset is an instant; days count in the zone",
            recurrence: json!({"frequency": "Day", "interval": 1, "startTime": "2026-03-07T09:00:00-08:00", "timeZone": "Pacific Standard Time"}),
            anchor: "2026-01-01T00:00:00Z",
            after: "2026-01-01T00:00:00Z",
            expected: &["2026-03-07T17:00:00Z", "2026-03-08T16:00:00Z"],
        },
        Row {
            name: "schedule: hours and minutes, no start",
            recurrence: json!({"frequency": "Day", "interval": 1, "schedule": {"hours": [8, 16], "minutes": [30]}}),
            anchor: "2026-01-01T10:00:00Z",
            after: "2026-01-01T10:00:00Z",
            expected: &[
                "2026-01-01T16:30:00Z",
                "2026-01-02T08:30:00Z",
                "2026-01-02T16:30:00Z",
            ],
        },
        Row {
            name: "schedule: hours only take the anchor's minute",
            recurrence: json!({"frequency": "Day", "interval": 1, "schedule": {"hours": ["8"]}}),
            anchor: "2026-01-01T10:17:45Z",
            after: "2026-01-01T10:17:45Z",
            expected: &["2026-01-02T08:17:00Z", "2026-01-03T08:17:00Z"],
        },
        Row {
            name: "schedule: every 15 minutes at the marks",
            recurrence: json!({"frequency": "Day", "interval": 1, "schedule": {"hours": [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23], "minutes": [0, 15, 30, 45]}}),
            anchor: "2026-01-01T23:37:10Z",
            after: "2026-01-01T23:37:10Z",
            expected: &[
                "2026-01-01T23:45:00Z",
                "2026-01-02T00:00:00Z",
                "2026-01-02T00:15:00Z",
            ],
        },
        Row {
            name: "schedule: local hours in a zone across spring forward",
            recurrence: json!({"frequency": "Day", "interval": 1, "timeZone": "Pacific Standard Time", "startTime": "2026-03-07T00:00:00", "schedule": {"hours": [9], "minutes": [0]}}),
            anchor: "2026-01-01T00:00:00Z",
            after: "2026-01-01T00:00:00Z",
            expected: &["2026-03-07T17:00:00Z", "2026-03-08T16:00:00Z"],
        },
        Row {
            name: "week: Tuesdays and Thursdays at 17:00",
            recurrence: json!({"frequency": "Week", "interval": 1, "startTime": "2026-01-01T00:00:00Z", "schedule": {"weekDays": ["Tuesday", "Thursday"], "hours": [17], "minutes": [0]}}),
            anchor: "2026-01-01T00:00:00Z",
            after: "2025-12-01T00:00:00Z",
            expected: &[
                "2026-01-01T17:00:00Z",
                "2026-01-06T17:00:00Z",
                "2026-01-08T17:00:00Z",
            ],
        },
        Row {
            name: "week: every other Monday at the start's time",
            recurrence: json!({"frequency": "Week", "interval": 2, "startTime": "2026-01-05T09:00:00Z", "schedule": {"weekDays": ["Monday"]}}),
            anchor: "2026-01-01T00:00:00Z",
            after: "2026-01-01T00:00:00Z",
            expected: &[
                "2026-01-05T09:00:00Z",
                "2026-01-19T09:00:00Z",
                "2026-02-02T09:00:00Z",
            ],
        },
        Row {
            name: "week: a past start, looked up much later",
            recurrence: json!({"frequency": "Week", "interval": 2, "startTime": "2026-01-05T09:00:00Z", "schedule": {"weekDays": ["Monday"]}}),
            anchor: "2026-01-01T00:00:00Z",
            after: "2026-06-01T00:00:00Z",
            expected: &["2026-06-08T09:00:00Z", "2026-06-22T09:00:00Z"],
        },
        Row {
            name: "month: day 31 skips months without it",
            recurrence: json!({"frequency": "Month", "interval": 1, "startTime": "2026-01-01T00:00:00Z", "schedule": {"monthDays": [31], "hours": [0], "minutes": [0]}}),
            anchor: "2026-01-01T00:00:00Z",
            after: "2026-01-01T00:00:00Z",
            expected: &[
                "2026-01-31T00:00:00Z",
                "2026-03-31T00:00:00Z",
                "2026-05-31T00:00:00Z",
            ],
        },
        Row {
            name: "month: -1 is the last day",
            recurrence: json!({"frequency": "Month", "interval": 1, "startTime": "2026-01-01T06:00:00Z", "schedule": {"monthDays": [-1]}}),
            anchor: "2026-01-01T00:00:00Z",
            after: "2026-01-01T00:00:00Z",
            expected: &[
                "2026-01-31T06:00:00Z",
                "2026-02-28T06:00:00Z",
                "2026-03-31T06:00:00Z",
            ],
        },
        Row {
            name: "month without schedule: the 31st clamps to the month's end, counted from the start",
            recurrence: json!({"frequency": "Month", "interval": 1, "startTime": "2026-01-31T12:00:00Z"}),
            anchor: "2026-01-01T00:00:00Z",
            after: "2026-01-01T00:00:00Z",
            expected: &[
                "2026-01-31T12:00:00Z",
                "2026-02-28T12:00:00Z",
                "2026-03-31T12:00:00Z",
            ],
        },
        Row {
            name: "every six months in W. Europe (corpus 14), no start: the local time is kept",
            recurrence: json!({"frequency": "Month", "interval": 6, "timeZone": "W. Europe Standard Time"}),
            anchor: "2026-01-15T10:00:00Z",
            after: "2026-01-15T10:00:00Z",
            expected: &["2026-07-15T09:00:00Z", "2027-01-15T10:00:00Z"],
        },
        Row {
            name: "endTime ends the schedule",
            recurrence: json!({"frequency": "Minute", "interval": 1, "startTime": "2026-01-01T00:00:00Z", "endTime": "2026-01-01T00:02:00Z"}),
            anchor: "2026-01-01T00:00:00Z",
            after: "2025-01-01T00:00:00Z",
            expected: &[
                "2026-01-01T00:00:00Z",
                "2026-01-01T00:01:00Z",
                "2026-01-01T00:02:00Z",
                "none",
            ],
        },
        Row {
            name: "seconds from long ago: computed, not walked",
            recurrence: json!({"frequency": "Second", "interval": 7, "startTime": "2000-01-01T00:00:00Z"}),
            anchor: "2026-01-01T00:00:00Z",
            after: "2026-01-01T00:00:00Z",
            expected: &["2026-01-01T00:00:05Z", "2026-01-01T00:00:12Z"],
        },
    ]
}

#[test]
fn occurrences() {
    let mut failures = Vec::new();
    for row in rows() {
        let recurrence = parse(&row.recurrence);
        let anchor = ms(row.anchor);
        let mut after = ms(row.after);
        let mut actual = Vec::new();
        for _ in row.expected {
            match recurrence.next_after(anchor, after) {
                Some(next) => {
                    actual.push(Timestamp::from_millisecond(next).expect("time").to_string());
                    after = next;
                }
                None => {
                    actual.push("none".to_owned());
                    break;
                }
            }
        }
        if actual != row.expected {
            failures.push(format!(
                "{}\n  expected {:?}\n  actual   {actual:?}",
                row.name, row.expected
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn parse(recurrence: &Value) -> Recurrence {
    let definition = json!({
        "triggers": { "t": { "type": "Recurrence", "recurrence": recurrence } },
        "actions": {}
    });
    let definition = parse_definition(&definition)
        .unwrap_or_else(|e| panic!("{recurrence} does not parse: {e:?}"));
    match &definition.trigger("t").expect("trigger").kind {
        TriggerKind::Recurrence { recurrence } => recurrence.clone(),
        other => panic!("not a recurrence: {other:?}"),
    }
}

fn ms(text: &str) -> i64 {
    text.parse::<Timestamp>()
        .expect("a timestamp")
        .as_millisecond()
}
