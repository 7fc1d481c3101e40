//! ISO 8601 durations (`PT30S`, `P2D`, `P1DT2H`, `PT0.5S`) as whole milliseconds, for
//! `limit.timeout`.
//!
//! A duration has no fixed length once it names months or years; a timeout needs one, so a month
//! counts as 30 days and a year as 365 days (the same approximation Logic Apps documents for its
//! run-duration limits). Fractions are allowed on any component and truncated to whole
//! milliseconds. Negative durations, an empty `P`/`PT`, and overflow are errors.

const SECOND: u128 = 1_000;
const MINUTE: u128 = 60 * SECOND;
const HOUR: u128 = 60 * MINUTE;
const DAY: u128 = 24 * HOUR;

/// Parses an ISO 8601 duration into milliseconds, or says why it is not one.
pub fn parse_duration_ms(text: &str) -> Result<u64, String> {
    let invalid = || format!("'{text}' is not an ISO 8601 duration (e.g. PT30S, P2D, P1DT2H)");
    let upper = text.trim().to_ascii_uppercase();
    let Some(rest) = upper.strip_prefix('P') else {
        return Err(invalid());
    };
    let (date, time) = match rest.split_once('T') {
        // `P1DT` names a time part and then gives none.
        Some((_, "")) => return Err(invalid()),
        Some((date, time)) => (date, Some(time)),
        None => (rest, None),
    };
    let mut total: u128 = 0;
    let mut components = 0;
    for (part, units) in [(
        date,
        &[
            ('Y', 365 * DAY),
            ('M', 30 * DAY),
            ('W', 7 * DAY),
            ('D', DAY),
        ][..],
    )]
    .into_iter()
    .chain(time.map(|t| (t, &[('H', HOUR), ('M', MINUTE), ('S', SECOND)][..])))
    {
        let mut remaining = part;
        let mut next_unit = 0;
        while !remaining.is_empty() {
            let end = remaining
                .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
                .ok_or_else(invalid)?;
            let (number, after) = remaining.split_at(end);
            let designator = after.chars().next().ok_or_else(invalid)?;
            // Designators must appear in order and at most once.
            let offset = units[next_unit..]
                .iter()
                .position(|(d, _)| *d == designator)
                .ok_or_else(invalid)?;
            let unit_ms = units[next_unit + offset].1;
            next_unit += offset + 1;
            total = total
                .checked_add(scaled(number, unit_ms).ok_or_else(invalid)?)
                .ok_or_else(invalid)?;
            components += 1;
            remaining = &after[designator.len_utf8()..];
        }
    }
    if components == 0 {
        return Err(invalid());
    }
    u64::try_from(total).map_err(|_| invalid())
}

/// `number` (digits, optionally with a `.` or `,` fraction) times `unit_ms`, truncated.
fn scaled(number: &str, unit_ms: u128) -> Option<u128> {
    let (whole, fraction) = match number.split_once(['.', ',']) {
        Some((whole, fraction)) => (whole, fraction),
        None => (number, ""),
    };
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut ms = whole.checked_mul(unit_ms)?;
    // Digits past the 18th cannot change a millisecond count of any unit here.
    let fraction = &fraction[..fraction.len().min(18)];
    if !fraction.is_empty() {
        let digits: u128 = fraction.parse().ok()?;
        ms = ms.checked_add(digits * unit_ms / 10u128.pow(fraction.len() as u32))?;
    }
    Some(ms)
}

#[cfg(test)]
mod tests {
    use super::parse_duration_ms;

    #[test]
    fn durations() {
        let ok = [
            ("PT30S", 30_000),
            ("P2D", 172_800_000),
            ("P1DT2H", 93_600_000),
            ("PT0.5S", 500),
            ("PT1H", 3_600_000),
            ("PT10M", 600_000),
            ("P1W", 604_800_000),
            ("P1M", 2_592_000_000),
            ("P1Y", 31_536_000_000),
            ("pt1.5h", 5_400_000),
        ];
        for (text, ms) in ok {
            assert_eq!(parse_duration_ms(text), Ok(ms), "{text}");
        }
        for bad in [
            "",
            "P",
            "PT",
            "30S",
            "PT30",
            "P1H",
            "PT1S1M",
            "PT1D",
            "P-1D",
            "PT.S",
            "P1DT",
            "PT1SS",
            "P99999999999999999999999Y",
        ] {
            assert!(parse_duration_ms(bad).is_err(), "{bad}");
        }
    }
}
