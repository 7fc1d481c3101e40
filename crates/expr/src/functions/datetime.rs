//! Date and time functions: `utcNow`, `addDays`, `addToTime`, `formatDateTime`, `parseDateTime`,
//! `convertTimeZone`, `ticks`, `dateDifference`, ...
//!
//! Timestamps are strings; results use .NET format strings, `o` by default
//! (`2018-03-15T00:00:00.0000000Z`). "Now" comes from the scope: this crate reads no clock.
//! Arithmetic is on calendar date-times (UTC has no daylight saving), with `jiff` doing the
//! calendar work (month lengths, leap years).

use super::Kind::Eager;
use super::culture::{Culture, EN_US};
use super::dotnet_time::{Stamp, format, parse_exact, parse_timestamp, parse_with_culture};
use super::{Function, arg_int, arg_str, f, opt_str, timezone};
use crate::eval::Ctx;
use crate::{Error, Value};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span};

pub(super) const FUNCTIONS: &[Function] = &[
    f("utcNow", 0, Some(1), Eager(utc_now)),
    f("addDays", 2, Some(3), Eager(add_days)),
    f("addHours", 2, Some(3), Eager(add_hours)),
    f("addMinutes", 2, Some(3), Eager(add_minutes)),
    f("addSeconds", 2, Some(3), Eager(add_seconds)),
    f("addToTime", 3, Some(4), Eager(add_to_time)),
    f("subtractFromTime", 3, Some(4), Eager(subtract_from_time)),
    f("getFutureTime", 2, Some(3), Eager(get_future_time)),
    f("getPastTime", 2, Some(3), Eager(get_past_time)),
    f("startOfDay", 1, Some(2), Eager(start_of_day)),
    f("startOfHour", 1, Some(2), Eager(start_of_hour)),
    f("startOfMonth", 1, Some(2), Eager(start_of_month)),
    f("dayOfMonth", 1, Some(1), Eager(day_of_month)),
    f("dayOfWeek", 1, Some(1), Eager(day_of_week)),
    f("dayOfYear", 1, Some(1), Eager(day_of_year)),
    f("ticks", 1, Some(1), Eager(ticks)),
    f("formatDateTime", 1, Some(3), Eager(format_date_time)),
    f("parseDateTime", 1, Some(3), Eager(parse_date_time)),
    f("dateDifference", 2, Some(2), Eager(date_difference)),
    f("convertFromUtc", 2, Some(3), Eager(convert_from_utc)),
    f("convertToUtc", 2, Some(3), Eager(convert_to_utc)),
    f("convertTimeZone", 3, Some(4), Eager(convert_time_zone)),
];

fn stamp_arg(args: &[Value], i: usize) -> Result<Stamp, Error> {
    parse_timestamp(arg_str(args, i, "timestamp")?)
}

/// Formats a result with the optional format argument at `i` (en-US names).
fn output(stamp: Stamp, args: &[Value], i: usize) -> Result<Value, Error> {
    Ok(Value::String(format(
        stamp,
        opt_str(args, i, "format")?,
        &EN_US,
    )?))
}

fn out_of_range() -> Error {
    Error::invalid("the resulting date is outside the supported range (years 1 to 9999)")
}

fn checked(dt: Result<DateTime, jiff::Error>) -> Result<DateTime, Error> {
    dt.ok().filter(|d| d.year() >= 1).ok_or_else(out_of_range)
}

#[derive(Clone, Copy)]
enum Unit {
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

fn unit_arg(args: &[Value], i: usize) -> Result<Unit, Error> {
    let text = arg_str(args, i, "timeUnit")?;
    let lower = text.trim().to_ascii_lowercase();
    Ok(match lower.strip_suffix('s').unwrap_or(&lower) {
        "second" => Unit::Second,
        "minute" => Unit::Minute,
        "hour" => Unit::Hour,
        "day" => Unit::Day,
        "week" => Unit::Week,
        "month" => Unit::Month,
        "year" => Unit::Year,
        _ => {
            return Err(Error::invalid(format!(
                "the time unit '{text}' is not one of Second, Minute, Hour, Day, Week, Month, Year"
            )));
        }
    })
}

fn shift(dt: DateTime, amount: i64, unit: Unit) -> Result<DateTime, Error> {
    let secs = |per: i64| {
        amount
            .checked_mul(per)
            .map(SignedDuration::from_secs)
            .ok_or_else(out_of_range)
    };
    match unit {
        Unit::Second => checked(dt.checked_add(secs(1)?)),
        Unit::Minute => checked(dt.checked_add(secs(60)?)),
        Unit::Hour => checked(dt.checked_add(secs(3_600)?)),
        Unit::Day => checked(dt.checked_add(secs(86_400)?)),
        Unit::Week => checked(dt.checked_add(secs(604_800)?)),
        // Calendar units clamp the day to the month's length, like .NET's AddMonths.
        Unit::Month => {
            checked(dt.checked_add(Span::new().try_months(amount).map_err(|_| out_of_range())?))
        }
        Unit::Year => {
            checked(dt.checked_add(Span::new().try_years(amount).map_err(|_| out_of_range())?))
        }
    }
}

fn add_unit(args: &[Value], unit: Unit) -> Result<Value, Error> {
    let mut stamp = stamp_arg(args, 0)?;
    stamp.dt = shift(stamp.dt, arg_int(args, 1, "interval")?, unit)?;
    output(stamp, args, 2)
}

fn utc_now(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    output(now(ctx)?, args, 0)
}

fn now(ctx: &Ctx) -> Result<Stamp, Error> {
    Ok(Stamp {
        dt: TimeZone::UTC.to_datetime(ctx.scope.now()?),
        utc: true,
    })
}

fn add_days(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    add_unit(args, Unit::Day)
}

fn add_hours(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    add_unit(args, Unit::Hour)
}

fn add_minutes(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    add_unit(args, Unit::Minute)
}

fn add_seconds(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    add_unit(args, Unit::Second)
}

fn add_to_time(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let mut stamp = stamp_arg(args, 0)?;
    stamp.dt = shift(stamp.dt, arg_int(args, 1, "interval")?, unit_arg(args, 2)?)?;
    output(stamp, args, 3)
}

fn subtract_from_time(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let mut stamp = stamp_arg(args, 0)?;
    let amount = arg_int(args, 1, "interval")?
        .checked_neg()
        .ok_or_else(out_of_range)?;
    stamp.dt = shift(stamp.dt, amount, unit_arg(args, 2)?)?;
    output(stamp, args, 3)
}

fn get_future_time(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let mut stamp = now(ctx)?;
    stamp.dt = shift(stamp.dt, arg_int(args, 0, "interval")?, unit_arg(args, 1)?)?;
    output(stamp, args, 2)
}

fn get_past_time(ctx: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let mut stamp = now(ctx)?;
    let amount = arg_int(args, 0, "interval")?
        .checked_neg()
        .ok_or_else(out_of_range)?;
    stamp.dt = shift(stamp.dt, amount, unit_arg(args, 1)?)?;
    output(stamp, args, 2)
}

fn start_of_day(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let mut stamp = stamp_arg(args, 0)?;
    stamp.dt = stamp.dt.date().to_datetime(jiff::civil::Time::midnight());
    output(stamp, args, 1)
}

fn start_of_hour(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let mut stamp = stamp_arg(args, 0)?;
    let time = jiff::civil::Time::new(stamp.dt.hour(), 0, 0, 0).map_err(|_| out_of_range())?;
    stamp.dt = stamp.dt.date().to_datetime(time);
    output(stamp, args, 1)
}

fn start_of_month(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let mut stamp = stamp_arg(args, 0)?;
    stamp.dt = stamp
        .dt
        .date()
        .first_of_month()
        .to_datetime(jiff::civil::Time::midnight());
    output(stamp, args, 1)
}

fn day_of_month(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::from(stamp_arg(args, 0)?.dt.day()))
}

/// Sunday is 0, as .NET's `DayOfWeek`.
fn day_of_week(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::from(
        stamp_arg(args, 0)?.dt.weekday().to_sunday_zero_offset(),
    ))
}

fn day_of_year(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::from(stamp_arg(args, 0)?.dt.day_of_year()))
}

/// 100-nanosecond intervals since 0001-01-01T00:00:00 (.NET ticks).
fn ticks_of(dt: DateTime) -> Result<i64, Error> {
    const UNIX_EPOCH_SECONDS: i128 = 62_135_596_800;
    let ts = TimeZone::UTC.to_timestamp(dt).map_err(|_| out_of_range())?;
    let t = (i128::from(ts.as_second()) + UNIX_EPOCH_SECONDS) * 10_000_000
        + i128::from(ts.subsec_nanosecond() / 100);
    i64::try_from(t).map_err(|_| out_of_range())
}

fn ticks(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    Ok(Value::from(ticks_of(stamp_arg(args, 0)?.dt)?))
}

fn format_date_time(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let stamp = stamp_arg(args, 0)?;
    let culture = Culture::get(opt_str(args, 2, "locale")?)?;
    Ok(Value::String(format(
        stamp,
        opt_str(args, 1, "format")?,
        culture,
    )?))
}

/// Returns the `o` format; without a zone in the input the result has none either.
fn parse_date_time(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let text = arg_str(args, 0, "timestamp")?;
    let culture = Culture::get(opt_str(args, 1, "locale")?)?;
    let stamp = match opt_str(args, 2, "format")? {
        Some(fmt) if !fmt.is_empty() => parse_exact(text, fmt, culture)?,
        _ => parse_with_culture(text, culture)?,
    };
    Ok(Value::String(format(stamp, None, &EN_US)?))
}

/// A .NET TimeSpan in its constant format: `[-][d.]hh:mm:ss[.fffffff]`.
fn date_difference(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let start = ticks_of(stamp_arg(args, 0)?.dt)?;
    let end = ticks_of(stamp_arg(args, 1)?.dt)?;
    let diff = i128::from(end) - i128::from(start);
    let sign = if diff < 0 { "-" } else { "" };
    let t = diff.unsigned_abs();
    let (days, rem) = (t / 864_000_000_000, t % 864_000_000_000);
    let (hours, rem) = (rem / 36_000_000_000, rem % 36_000_000_000);
    let (minutes, rem) = (rem / 600_000_000, rem % 600_000_000);
    let (seconds, fraction) = (rem / 10_000_000, rem % 10_000_000);
    let mut out = String::from(sign);
    if days > 0 {
        out.push_str(&format!("{days}."));
    }
    out.push_str(&format!("{hours:02}:{minutes:02}:{seconds:02}"));
    if fraction > 0 {
        out.push_str(&format!(".{fraction:07}"));
    }
    Ok(Value::String(out))
}

/// Moves a calendar time from one zone to another (`None` source = UTC).
fn convert(dt: DateTime, from: Option<&str>, to: &str) -> Result<Stamp, Error> {
    let instant = match from {
        None => TimeZone::UTC.to_timestamp(dt),
        Some(zone) => timezone::lookup(zone)?
            .to_ambiguous_timestamp(dt)
            .compatible(),
    }
    .map_err(|_| out_of_range())?;
    let local = timezone::lookup(to)?.to_datetime(instant);
    Ok(Stamp {
        dt: checked(Ok(local))?,
        utc: timezone::is_utc(to),
    })
}

fn convert_from_utc(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let stamp = stamp_arg(args, 0)?;
    let to = arg_str(args, 1, "destinationTimeZone")?;
    output(convert(stamp.dt, None, to)?, args, 2)
}

fn convert_to_utc(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let stamp = stamp_arg(args, 0)?;
    let from = arg_str(args, 1, "sourceTimeZone")?;
    output(convert(stamp.dt, Some(from), "UTC")?, args, 2)
}

fn convert_time_zone(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let stamp = stamp_arg(args, 0)?;
    let from = arg_str(args, 1, "sourceTimeZone")?;
    let to = arg_str(args, 2, "destinationTimeZone")?;
    output(convert(stamp.dt, Some(from), to)?, args, 3)
}
