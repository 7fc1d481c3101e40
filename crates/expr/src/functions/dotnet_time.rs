//! .NET date-time format strings: formatting (`formatDateTime`, every `format` argument) and
//! parsing (timestamps given to date functions, `parseDateTime` with or without a format).
//!
//! A [`Stamp`] is a calendar date-time plus whether it is UTC, mirroring .NET's `DateTimeKind`:
//! a timestamp written with `Z` (or an offset, converted to UTC) prints `K` as `Z`; one written
//! without a zone prints nothing for `K` (`parseDateTime` results look like that).

use super::culture::{Culture, EN_US};
use crate::Error;
use jiff::civil::{Date, DateTime, Time};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Stamp {
    pub dt: DateTime,
    pub utc: bool,
}

const ROUND_TRIP: &str = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK";

#[derive(Debug, PartialEq)]
enum Tok {
    Lit(String),
    /// A pattern letter and how many times it repeats (`MMMM` → ('M', 4)).
    Field(char, usize),
}

/// Expands a one-letter standard format into its custom pattern for `culture`.
fn standard(format: &str, culture: &Culture) -> Result<String, Error> {
    let c = culture;
    Ok(match format {
        "d" => c.short_date.to_string(),
        "D" => c.long_date.to_string(),
        "f" => format!("{} {}", c.long_date, c.short_time),
        "F" | "U" => format!("{} {}", c.long_date, c.long_time),
        "g" => format!("{} {}", c.short_date, c.short_time),
        "G" => format!("{} {}", c.short_date, c.long_time),
        "m" | "M" => c.month_day.to_string(),
        "o" | "O" => ROUND_TRIP.to_string(),
        "r" | "R" => "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'".to_string(),
        "s" => "yyyy'-'MM'-'dd'T'HH':'mm':'ss".to_string(),
        "t" => c.short_time.to_string(),
        "T" => c.long_time.to_string(),
        "u" => "yyyy'-'MM'-'dd HH':'mm':'ss'Z'".to_string(),
        "y" | "Y" => c.year_month.to_string(),
        other => {
            return Err(Error::invalid(format!(
                "'{other}' is not a valid date format"
            )));
        }
    })
}

fn tokenize(pattern: &str) -> Result<Vec<Tok>, Error> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            '\'' | '"' => {
                let close = chars[i + 1..].iter().position(|&q| q == c).ok_or_else(|| {
                    Error::invalid(format!("the format '{pattern}' has an unterminated quote"))
                })?;
                lit.extend(&chars[i + 1..i + 1 + close]);
                i += close + 2;
            }
            '\\' => {
                // A run of backslashes escapes the next character: the documented example
                // `'MM/dd/yyyy HH\\h'` (WDL strings have no backslash escapes, so the format
                // really holds two) parses `10/20/2014 15h`.
                let run = chars[i..].iter().take_while(|&&x| x == '\\').count();
                if let Some(&next) = chars.get(i + run) {
                    lit.push(next);
                }
                i += run + 1;
            }
            '%' => i += 1,
            'd' | 'f' | 'F' | 'g' | 'h' | 'H' | 'K' | 'm' | 'M' | 's' | 't' | 'y' | 'z' => {
                let n = chars[i..].iter().take_while(|&&x| x == c).count();
                if !lit.is_empty() {
                    out.push(Tok::Lit(std::mem::take(&mut lit)));
                }
                if matches!(c, 'f' | 'F') && n > 7 {
                    return Err(Error::invalid(format!(
                        "the format '{pattern}' has more than 7 '{c}'"
                    )));
                }
                out.push(Tok::Field(c, n));
                i += n;
            }
            _ => {
                lit.push(c);
                i += 1;
            }
        }
    }
    if !lit.is_empty() {
        out.push(Tok::Lit(lit));
    }
    Ok(out)
}

fn pattern_for(format: Option<&str>, culture: &Culture) -> Result<String, Error> {
    match format.filter(|f| !f.is_empty()) {
        None => Ok(ROUND_TRIP.to_string()),
        Some(f) if f.chars().count() == 1 => standard(f, culture),
        Some(f) => Ok(f.to_string()),
    }
}

/// Formats like .NET `DateTime.ToString(format, culture)`; no format means `o`.
pub(crate) fn format(
    stamp: Stamp,
    format: Option<&str>,
    culture: &Culture,
) -> Result<String, Error> {
    let pattern = pattern_for(format, culture)?;
    // `r` and `u` always use invariant (English) names.
    let culture = if matches!(format, Some("r" | "R" | "u")) {
        &EN_US
    } else {
        culture
    };
    let dt = stamp.dt;
    let mut out = String::new();
    let hour12 = match dt.hour() % 12 {
        0 => 12,
        h => h,
    };
    let nanos = dt.subsec_nanosecond();
    for tok in tokenize(&pattern)? {
        let (c, n) = match tok {
            Tok::Lit(s) => {
                out.push_str(&s);
                continue;
            }
            Tok::Field(c, n) => (c, n),
        };
        let weekday = dt.weekday().to_sunday_zero_offset() as usize;
        let month = dt.month() as usize - 1;
        match (c, n) {
            ('d', 1 | 2) => out.push_str(&format!("{:0n$}", dt.day())),
            ('d', 3) => out.push_str(culture.days_abbr[weekday]),
            ('d', _) => out.push_str(culture.days[weekday]),
            ('f' | 'F', _) => {
                let digits = format!("{nanos:09}");
                let mut part = digits.get(..n).unwrap_or("").to_string();
                if c == 'F' {
                    part = part.trim_end_matches('0').to_string();
                    if part.is_empty() && out.ends_with('.') {
                        out.pop();
                    }
                }
                out.push_str(&part);
            }
            ('g', _) => out.push_str("A.D."),
            ('h', _) => out.push_str(&format!("{:0w$}", hour12, w = n.min(2))),
            ('H', _) => out.push_str(&format!("{:0w$}", dt.hour(), w = n.min(2))),
            ('K', _) => out.push_str(if stamp.utc { "Z" } else { "" }),
            ('m', _) => out.push_str(&format!("{:0w$}", dt.minute(), w = n.min(2))),
            ('M', 1 | 2) => out.push_str(&format!("{:0n$}", dt.month())),
            ('M', 3) => out.push_str(culture.months_abbr[month]),
            ('M', _) => out.push_str(culture.months[month]),
            ('s', _) => out.push_str(&format!("{:0w$}", dt.second(), w = n.min(2))),
            ('t', 1) => out.push_str(
                &(if dt.hour() < 12 {
                    culture.am
                } else {
                    culture.pm
                })
                .chars()
                .take(1)
                .collect::<String>(),
            ),
            ('t', _) => out.push_str(if dt.hour() < 12 {
                culture.am
            } else {
                culture.pm
            }),
            ('y', 1) => out.push_str(&(dt.year() % 100).to_string()),
            ('y', 2) => out.push_str(&format!("{:02}", dt.year() % 100)),
            ('y', _) => out.push_str(&format!("{:0n$}", dt.year())),
            // Stamps are UTC or zone-less; the server's zone is UTC, so the offset is zero.
            ('z', 1) => out.push_str("+0"),
            ('z', 2) => out.push_str("+00"),
            ('z', _) => out.push_str("+00:00"),
            _ => {}
        }
    }
    Ok(out)
}

/// Parses a timestamp argument: ISO 8601 first, then the en-US general forms (`03/15/2018
/// 12:00:00`).
pub(crate) fn parse_timestamp(text: &str) -> Result<Stamp, Error> {
    parse_iso(text)
        .or_else(|| parse_general(text, &EN_US))
        .ok_or_else(|| {
            Error::invalid(format!(
                "'{text}' is not a valid timestamp (expected ISO 8601, e.g. 2018-03-15T13:00:00Z)"
            ))
        })
}

/// `parseDateTime` without a format: ISO 8601, or the culture's general date forms.
pub(crate) fn parse_with_culture(text: &str, culture: &Culture) -> Result<Stamp, Error> {
    parse_iso(text)
        .or_else(|| parse_general(text, culture))
        .ok_or_else(|| {
            Error::invalid(format!(
                "'{text}' is not a date the locale '{}' can read",
                culture.name
            ))
        })
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        while self.i - start < max && self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        if self.i - start < min {
            return None;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()?
            .parse()
            .ok()
    }
    fn eat(&mut self, b: u8) -> bool {
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
}

fn build(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64, nanos: i64) -> Option<DateTime> {
    let date = Date::new(
        i16::try_from(y).ok()?,
        i8::try_from(mo).ok()?,
        i8::try_from(d).ok()?,
    )
    .ok()?;
    let time = Time::new(
        i8::try_from(h).ok()?,
        i8::try_from(mi).ok()?,
        i8::try_from(s).ok()?,
        i32::try_from(nanos).ok()?,
    )
    .ok()?;
    if y < 1 {
        return None;
    }
    Some(DateTime::from_parts(date, time))
}

/// Nanoseconds from the digits after a decimal point (extra digits beyond 9 ignored).
fn fraction_nanos(digits: &str) -> i64 {
    let mut padded: String = digits.chars().take(9).collect();
    while padded.len() < 9 {
        padded.push('0');
    }
    padded.parse().unwrap_or(0)
}

/// Applies a `Z` or `±hh:mm` suffix at the cursor; returns the UTC stamp, or `None` if malformed.
fn zone_suffix(c: &mut Cursor, dt: DateTime) -> Option<Stamp> {
    match c.peek() {
        None => Some(Stamp { dt, utc: false }),
        Some(b'Z' | b'z') => {
            c.i += 1;
            Some(Stamp { dt, utc: true })
        }
        Some(sign @ (b'+' | b'-')) => {
            c.i += 1;
            let h = c.digits(2, 2)?;
            c.eat(b':');
            let m = c.digits(2, 2)?;
            let offset = i64::from(h * 3600 + m * 60) * if sign == b'+' { 1 } else { -1 };
            let shifted = dt
                .checked_sub(jiff::SignedDuration::from_secs(offset))
                .ok()?;
            Some(Stamp {
                dt: shifted,
                utc: true,
            })
        }
        Some(_) => None,
    }
}

fn parse_iso(text: &str) -> Option<Stamp> {
    let mut c = Cursor {
        s: text.trim().as_bytes(),
        i: 0,
    };
    let y = c.digits(4, 4)?;
    if !c.eat(b'-') {
        return None;
    }
    let mo = c.digits(1, 2)?;
    if !c.eat(b'-') {
        return None;
    }
    let d = c.digits(1, 2)?;
    let (mut h, mut mi, mut s, mut nanos) = (0, 0, 0, 0);
    if c.eat(b'T') || c.eat(b't') || c.eat(b' ') {
        h = c.digits(1, 2)?;
        if !c.eat(b':') {
            return None;
        }
        mi = c.digits(2, 2)?;
        if c.eat(b':') {
            s = c.digits(2, 2)?;
            if c.eat(b'.') {
                let start = c.i;
                while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                    c.i += 1;
                }
                nanos = fraction_nanos(std::str::from_utf8(&c.s[start..c.i]).ok()?);
            }
        }
    }
    let dt = build(
        y.into(),
        mo.into(),
        d.into(),
        h.into(),
        mi.into(),
        s.into(),
        nanos,
    )?;
    let stamp = zone_suffix(&mut c, dt)?;
    (c.i == c.s.len()).then_some(stamp)
}

#[derive(Debug)]
enum Part {
    Num(String),
    Word(String),
    Sep(char),
}

fn split_parts(text: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut s = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                s.push(d);
                chars.next();
            }
            parts.push(Part::Num(s));
        } else if c.is_alphabetic() {
            let mut s = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_alphabetic()) {
                s.extend(d.to_lowercase());
                chars.next();
            }
            parts.push(Part::Word(s));
        } else {
            if !c.is_whitespace() {
                parts.push(Part::Sep(c));
            }
            chars.next();
        }
    }
    parts
}

fn name_index(names: &[&str], word: &str) -> Option<usize> {
    names
        .iter()
        .position(|n| n.trim_end_matches('.').to_lowercase() == word)
}

fn month_from_word(culture: &Culture, word: &str) -> Option<usize> {
    name_index(&culture.months, word)
        .or_else(|| name_index(&culture.months_abbr, word))
        .or_else(|| name_index(&EN_US.months, word))
        .or_else(|| name_index(&EN_US.months_abbr, word))
}

/// The general (no format) reading of a date: numbers, month names, an optional `h:mm[:ss[.f]]`
/// time and AM/PM. Numeric dates follow the culture's order (month first for en-US).
fn parse_general(text: &str, culture: &Culture) -> Option<Stamp> {
    let parts = split_parts(text);
    let mut numbers: Vec<&str> = Vec::new();
    let mut month_name = None;
    let mut time: Option<(u32, u32, u32, i64)> = None;
    let mut pm = None;
    let mut utc = false;
    let mut i = 0;
    while let Some(part) = parts.get(i) {
        match part {
            Part::Num(n) if matches!(parts.get(i + 1), Some(Part::Sep(':'))) && time.is_none() => {
                let Some(Part::Num(m)) = parts.get(i + 2) else {
                    return None;
                };
                let (h, m) = (n.parse().ok()?, m.parse().ok()?);
                i += 3;
                let mut s = 0;
                let mut nanos = 0;
                if let (Some(Part::Sep(':')), Some(Part::Num(sec))) =
                    (parts.get(i), parts.get(i + 1))
                {
                    s = sec.parse().ok()?;
                    i += 2;
                    if let (Some(Part::Sep('.' | ',')), Some(Part::Num(frac))) =
                        (parts.get(i), parts.get(i + 1))
                    {
                        nanos = fraction_nanos(frac);
                        i += 2;
                    }
                }
                time = Some((h, m, s, nanos));
                continue;
            }
            Part::Num(n) => numbers.push(n),
            Part::Word(w) => {
                let am_pm = |marker: &str| marker.to_lowercase().replace([' ', '.'], "") == *w;
                if let Some(m) = month_from_word(culture, w) {
                    month_name = Some(m as i64 + 1);
                } else if am_pm(culture.am) || w == "am" {
                    pm = Some(false);
                } else if am_pm(culture.pm) || w == "pm" {
                    pm = Some(true);
                } else if matches!(w.as_str(), "z" | "utc" | "gmt") {
                    utc = true;
                } else if !(name_index(&culture.days, w).is_some()
                    || name_index(&culture.days_abbr, w).is_some()
                    || name_index(&EN_US.days, w).is_some()
                    || matches!(w.as_str(), "t" | "de" | "of" | "the" | "at" | "h"))
                {
                    return None;
                }
            }
            Part::Sep(_) => {}
        }
        i += 1;
    }
    let num = |s: &str| s.parse::<i64>().ok();
    let year_of = |s: &str| {
        let y = num(s)?;
        Some(if s.len() <= 2 {
            if y < 50 { 2000 + y } else { 1900 + y }
        } else {
            y
        })
    };
    let (y, mo, d) = match (month_name, numbers.as_slice()) {
        (Some(m), [a, b]) if a.len() >= 3 => (year_of(a)?, m, num(b)?),
        (Some(m), [a, b]) => (year_of(b)?, m, num(a)?),
        (None, [a, b, c]) if a.len() >= 3 => (year_of(a)?, num(b)?, num(c)?),
        (None, [a, b, c]) if culture.month_first => (year_of(c)?, num(a)?, num(b)?),
        (None, [a, b, c]) => (year_of(c)?, num(b)?, num(a)?),
        _ => return None,
    };
    let (mut h, mi, s, nanos) = time.unwrap_or((0, 0, 0, 0));
    match pm {
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        _ => {}
    }
    let dt = build(y, mo, d, h.into(), mi.into(), s.into(), nanos)?;
    Some(Stamp { dt, utc })
}

/// Parses `text` exactly against a .NET format (`ParseExact`).
pub(crate) fn parse_exact(text: &str, format: &str, culture: &Culture) -> Result<Stamp, Error> {
    let pattern = pattern_for(Some(format), culture)?;
    let fail = || Error::invalid(format!("'{text}' does not match the format '{format}'"));
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let (mut y, mut mo, mut d, mut h, mut mi, mut s, mut nanos) =
        (1i64, 1i64, 1i64, 0i64, 0i64, 0i64, 0i64);
    let mut pm = None;
    let mut offset: Option<i64> = None;
    let read_digits = |i: &mut usize, min: usize, max: usize| -> Option<(i64, usize)> {
        let start = *i;
        while *i - start < max && chars.get(*i).is_some_and(char::is_ascii_digit) {
            *i += 1;
        }
        let n = *i - start;
        if n < min {
            return None;
        }
        chars[start..*i]
            .iter()
            .collect::<String>()
            .parse()
            .ok()
            .map(|v| (v, n))
    };
    let match_name = |i: &mut usize, names: &[&str]| -> Option<usize> {
        let rest: String = chars[*i..].iter().collect::<String>().to_lowercase();
        let best = names
            .iter()
            .enumerate()
            .filter(|(_, n)| !n.is_empty() && rest.starts_with(&n.to_lowercase()))
            .max_by_key(|(_, n)| n.chars().count())?;
        *i += best.1.chars().count();
        Some(best.0)
    };
    for tok in tokenize(&pattern)? {
        match tok {
            Tok::Lit(lit) => {
                for lc in lit.chars() {
                    match chars.get(i) {
                        Some(c) if c.to_lowercase().eq(lc.to_lowercase()) => i += 1,
                        _ => return Err(fail()),
                    }
                }
            }
            Tok::Field(c, n) => {
                let width = |n: usize| if n == 1 { (1, 2) } else { (n.min(2), n.min(2)) };
                match c {
                    'd' if n >= 3 => {
                        let names = if n == 3 {
                            culture.days_abbr
                        } else {
                            culture.days
                        };
                        match_name(&mut i, &names).ok_or_else(fail)?;
                    }
                    'M' if n >= 3 => {
                        let names = if n == 3 {
                            culture.months_abbr
                        } else {
                            culture.months
                        };
                        mo = match_name(&mut i, &names).ok_or_else(fail)? as i64 + 1;
                    }
                    'd' | 'M' | 'h' | 'H' | 'm' | 's' => {
                        let (min, max) = width(n);
                        let (v, _) = read_digits(&mut i, min, max).ok_or_else(fail)?;
                        match c {
                            'd' => d = v,
                            'M' => mo = v,
                            'h' | 'H' => h = v,
                            'm' => mi = v,
                            _ => s = v,
                        }
                    }
                    'y' => {
                        let (min, max) = if n <= 2 { (n, 2) } else { (n, n.max(4)) };
                        let (v, len) = read_digits(&mut i, min, max).ok_or_else(fail)?;
                        y = if len <= 2 {
                            if v < 50 { 2000 + v } else { 1900 + v }
                        } else {
                            v
                        };
                    }
                    'f' | 'F' => {
                        let min = if c == 'f' { n } else { 0 };
                        let start = i;
                        read_digits(&mut i, min, n).ok_or_else(fail)?;
                        nanos = fraction_nanos(&chars[start..i].iter().collect::<String>());
                    }
                    't' => {
                        let markers = [culture.am, culture.pm, "AM", "PM"];
                        let m = match_name(&mut i, &markers).ok_or_else(fail)?;
                        pm = Some(m % 2 == 1);
                    }
                    'K' | 'z' => match chars.get(i) {
                        Some('Z' | 'z') => {
                            i += 1;
                            offset = Some(0);
                        }
                        Some(sign @ ('+' | '-')) => {
                            let neg = *sign == '-';
                            i += 1;
                            let (hh, _) = read_digits(&mut i, 1, 2).ok_or_else(fail)?;
                            let mut mm = 0;
                            if chars.get(i) == Some(&':') {
                                i += 1;
                                mm = read_digits(&mut i, 2, 2).ok_or_else(fail)?.0;
                            }
                            let secs = hh * 3600 + mm * 60;
                            offset = Some(if neg { -secs } else { secs });
                        }
                        _ if c == 'K' => {}
                        _ => return Err(fail()),
                    },
                    'g' => {
                        match_name(&mut i, &["A.D.", "AD"]).ok_or_else(fail)?;
                    }
                    _ => return Err(fail()),
                }
            }
        }
    }
    if i != chars.len() {
        return Err(fail());
    }
    match pm {
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        _ => {}
    }
    let dt = build(y, mo, d, h, mi, s, nanos).ok_or_else(fail)?;
    match offset {
        None => Ok(Stamp { dt, utc: false }),
        Some(secs) => dt
            .checked_sub(jiff::SignedDuration::from_secs(secs))
            .map(|dt| Stamp { dt, utc: true })
            .map_err(|_| fail()),
    }
}
