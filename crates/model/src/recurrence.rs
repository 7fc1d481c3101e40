//! A Recurrence trigger's schedule (`recurrence`: `frequency`, `interval`, `startTime`,
//! `endTime`, `timeZone`, `schedule`) and its occurrences, as a pure function of the schedule,
//! an anchor and a point in time.
//!
//! The rules follow the Logic Apps docs ("Schedule and run recurring tasks", patterns for start
//! date and time):
//! - Without `startTime`, the schedule is anchored where it was created (`anchor`: when the
//!   workflow was saved or enabled): a schedule without `schedule` fires at once, then every
//!   interval; with `schedule`, missing hours and minutes are taken from the anchor.
//! - With `startTime`, nothing fires before it; a start in the past discards past occurrences.
//! - Occurrences are computed from the start, never from the last run, so they do not drift.
//! - Second, Minute and Hour count elapsed time; Day, Week and Month count calendar units in
//!   the time zone (UTC unless `timeZone`), so a daily 08:00 stays 08:00 local across
//!   daylight-saving changes. A local time that does not exist (spring forward) moves forward by
//!   the gap; one that exists twice (fall back) is the first of the two.
//! - `schedule` refines Day (`hours`, `minutes`), Week (also `weekDays`; weeks start on Sunday,
//!   counted from the week of the start) and Month (also `monthDays`, `-1` = the last day; a day
//!   a month does not have is skipped). Seconds come from `startTime` (0 without one).

use jiff::{
    Span, Timestamp,
    civil::{Date, DateTime, Weekday},
    tz::TimeZone,
};
use serde_json::Value;

/// `recurrence.frequency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
}

impl Frequency {
    pub const ALL: [Frequency; 6] = [
        Self::Second,
        Self::Minute,
        Self::Hour,
        Self::Day,
        Self::Week,
        Self::Month,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Second => "Second",
            Self::Minute => "Minute",
            Self::Hour => "Hour",
            Self::Day => "Day",
            Self::Week => "Week",
            Self::Month => "Month",
        }
    }

    /// The largest interval Logic Apps accepts for this frequency (500 days' worth).
    pub fn max_interval(self) -> u32 {
        match self {
            Self::Second => 500 * 86_400,
            Self::Minute => 500 * 1_440,
            Self::Hour => 500 * 24,
            Self::Day => 500,
            Self::Week => 71,
            Self::Month => 16,
        }
    }

    /// Elapsed-time frequencies: the length of one unit in milliseconds.
    fn fixed_ms(self) -> Option<i64> {
        match self {
            Self::Second => Some(1_000),
            Self::Minute => Some(60_000),
            Self::Hour => Some(3_600_000),
            Self::Day | Self::Week | Self::Month => None,
        }
    }
}

/// `startTime` / `endTime`: an instant when written with an offset (`Z`, `+02:00`), else a
/// local time in the schedule's time zone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StartTime {
    Instant(Timestamp),
    Local(DateTime),
}

/// `recurrence.schedule`. Empty lists mean "not given".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schedule {
    pub hours: Vec<i8>,
    pub minutes: Vec<i8>,
    pub week_days: Vec<Weekday>,
    /// 1..=31, or -1..=-31 counted from the month's end.
    pub month_days: Vec<i8>,
}

impl Schedule {
    pub fn is_empty(&self) -> bool {
        self.hours.is_empty()
            && self.minutes.is_empty()
            && self.week_days.is_empty()
            && self.month_days.is_empty()
    }
}

/// A validated `recurrence` object.
#[derive(Debug, Clone)]
pub struct Recurrence {
    pub frequency: Frequency,
    pub interval: u32,
    pub start_time: Option<StartTime>,
    pub end_time: Option<StartTime>,
    /// The Windows name as written, `None` for UTC.
    pub time_zone: Option<String>,
    pub zone: TimeZone,
    pub schedule: Schedule,
    /// The object as written: two versions with equal `raw` have the same occurrences.
    pub raw: Value,
}

/// How far ahead [`Recurrence::next_after`] looks before concluding there is no occurrence
/// (a `monthDays: [31]` every 12 months from February never fires).
const MAX_PERIODS: i64 = 2_000;

impl Recurrence {
    /// The first occurrence strictly after `after_ms` (Unix milliseconds), for a schedule
    /// created at `anchor_ms`; `None` when there is none (past `endTime`).
    pub fn next_after(&self, anchor_ms: i64, after_ms: i64) -> Option<i64> {
        let start_ms = self.start_ms(anchor_ms)?;
        let start = self
            .zone
            .to_datetime(Timestamp::from_millisecond(start_ms).ok()?);
        let next = if self.schedule.is_empty() {
            self.next_plain(start, start_ms, after_ms)
        } else {
            self.next_scheduled(start, start_ms, after_ms)
        }?;
        let end_ms = self.end_time.and_then(|end| self.resolve_ms(end));
        match end_ms {
            Some(end) if next > end => None,
            _ => Some(next),
        }
    }

    /// The first moment of the schedule (whole seconds without `startTime`).
    fn start_ms(&self, anchor_ms: i64) -> Option<i64> {
        match self.start_time {
            Some(start) => self.resolve_ms(start),
            None => Some(anchor_ms.div_euclid(1_000) * 1_000),
        }
    }

    fn resolve_ms(&self, time: StartTime) -> Option<i64> {
        match time {
            StartTime::Instant(t) => Some(t.as_millisecond()),
            StartTime::Local(dt) => self.local_ms(dt),
        }
    }

    /// A local time as an instant: a time skipped by a spring-forward moves forward by the gap;
    /// a time repeated by a fall-back is its first occurrence ("compatible", as RFC 5545).
    fn local_ms(&self, dt: DateTime) -> Option<i64> {
        self.zone.to_timestamp(dt).ok().map(|t| t.as_millisecond())
    }

    /// Without `schedule`: the start plus whole intervals.
    fn next_plain(&self, start: DateTime, start_ms: i64, after_ms: i64) -> Option<i64> {
        if after_ms < start_ms {
            return Some(start_ms);
        }
        if let Some(unit) = self.frequency.fixed_ms() {
            let step = unit * i64::from(self.interval);
            let k = (after_ms - start_ms) / step + 1;
            return start_ms.checked_add(k.checked_mul(step)?);
        }
        // Calendar units: estimate the count from below (a unit is never longer than this),
        // then walk forward.
        let longest_unit_ms: i64 = match self.frequency {
            Frequency::Day => 25 * 3_600_000,
            Frequency::Week => 7 * 25 * 3_600_000,
            _ => 31 * 25 * 3_600_000,
        };
        let first =
            ((after_ms - start_ms) / (longest_unit_ms * i64::from(self.interval)) - 1).max(0);
        for k in first..first + MAX_PERIODS {
            let occurrence = self.local_ms(start.checked_add(self.units(k)?).ok()?)?;
            if occurrence > after_ms {
                return Some(occurrence);
            }
        }
        None
    }

    /// `k` intervals as a calendar span.
    fn units(&self, k: i64) -> Option<Span> {
        let n = k.checked_mul(i64::from(self.interval))?;
        match self.frequency {
            Frequency::Day => Span::new().try_days(n).ok(),
            Frequency::Week => Span::new().try_weeks(n).ok(),
            Frequency::Month => Span::new().try_months(n).ok(),
            _ => None,
        }
    }

    /// With `schedule`: the days and times of each period (a day, a week or a month, every
    /// `interval` of them from the start's), no earlier than the start.
    fn next_scheduled(&self, start: DateTime, start_ms: i64, after_ms: i64) -> Option<i64> {
        let second = match self.start_time {
            Some(_) => start.second(),
            None => 0,
        };
        let hours = or_default(&self.schedule.hours, start.hour());
        let minutes = or_default(&self.schedule.minutes, start.minute());
        let first_period = self.period_start(start.date());
        let from = self
            .zone
            .to_datetime(Timestamp::from_millisecond(after_ms.max(start_ms)).ok()?)
            .date();
        let first = (self.periods_between(first_period, from)? - 1).max(0);
        for p in first..first + MAX_PERIODS {
            let period = first_period.checked_add(self.units(p)?).ok()?;
            let mut best: Option<i64> = None;
            for day in self.days_of(period, start.date()) {
                for &hour in &hours {
                    for &minute in &minutes {
                        let Ok(time) = jiff::civil::Time::new(hour, minute, second, 0) else {
                            continue;
                        };
                        let Some(ms) = self.local_ms(day.to_datetime(time)) else {
                            continue;
                        };
                        if ms >= start_ms && ms > after_ms && best.is_none_or(|b| ms < b) {
                            best = Some(ms);
                        }
                    }
                }
            }
            if best.is_some() {
                return best;
            }
        }
        None
    }

    /// The first day of the period that contains `date`'s start: the day itself, its week's
    /// Sunday, or the first of its month.
    fn period_start(&self, date: Date) -> Date {
        match self.frequency {
            Frequency::Week => date
                .checked_sub(Span::new().days(i64::from(date.weekday().to_sunday_zero_offset())))
                .unwrap_or(date),
            Frequency::Month => date.first_of_month(),
            _ => date,
        }
    }

    /// How many whole intervals lie between two period starts (an estimate from below is
    /// enough: the caller walks forward).
    fn periods_between(&self, first: Date, date: Date) -> Option<i64> {
        let interval = i64::from(self.interval);
        let units = match self.frequency {
            Frequency::Month => {
                (i64::from(date.year()) * 12 + i64::from(date.month()))
                    - (i64::from(first.year()) * 12 + i64::from(first.month()))
            }
            Frequency::Week => i64::from(first.until(date).ok()?.get_days()) / 7,
            _ => i64::from(first.until(date).ok()?.get_days()),
        };
        Some(units.max(0) / interval)
    }

    /// The days of one period the schedule runs on, in order.
    fn days_of(&self, period: Date, start: Date) -> Vec<Date> {
        match self.frequency {
            Frequency::Week => {
                let wanted = if self.schedule.week_days.is_empty() {
                    vec![start.weekday()]
                } else {
                    self.schedule.week_days.clone()
                };
                (0..7)
                    .filter_map(|i| period.checked_add(Span::new().days(i)).ok())
                    .filter(|d| wanted.contains(&d.weekday()))
                    .collect()
            }
            Frequency::Month => {
                let wanted = or_default(&self.schedule.month_days, start.day());
                let length = period.days_in_month();
                let mut days: Vec<Date> = wanted
                    .iter()
                    .filter_map(|&d| {
                        let day = if d < 0 { length + 1 + d } else { d };
                        (1..=length)
                            .contains(&day)
                            .then(|| period.with().day(day).build().ok())
                            .flatten()
                    })
                    .collect();
                days.sort();
                days.dedup();
                days
            }
            _ => vec![period],
        }
    }
}

/// The given values sorted, or the start's value when none were given.
fn or_default(values: &[i8], default: i8) -> Vec<i8> {
    let mut values = if values.is_empty() {
        vec![default]
    } else {
        values.to_vec()
    };
    values.sort();
    values.dedup();
    values
}
