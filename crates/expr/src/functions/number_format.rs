//! `formatNumber(number, format, locale?)` with .NET numeric format strings: the standard ones
//! (`C`, `D`, `E`, `F`, `G`, `N`, `P`, `R`, `X` with an optional precision) and custom patterns
//! (`0`, `#`, `.`, `,` grouping and scaling, `%`, quoted literals, `;` sections).

use super::Kind::Eager;
use super::culture::Culture;
use super::{Function, arg_num, arg_str, f, opt_str};
use crate::eval::Ctx;
use crate::value::{Num, float_text};
use crate::{Error, Value};

pub(super) const FUNCTIONS: &[Function] = &[f("formatNumber", 2, Some(3), Eager(format_number))];

fn format_number(_: &Ctx, args: &[Value]) -> Result<Value, Error> {
    let num = arg_num(args, 0, "number")?;
    let format = arg_str(args, 1, "format")?;
    let culture = Culture::get(opt_str(args, 2, "locale")?)?;
    let standard = format.len() <= 3
        && format.starts_with(|c: char| c.is_ascii_alphabetic())
        && format[1..].chars().all(|c| c.is_ascii_digit());
    let text = if standard {
        standard_format(num, format, culture)?
    } else {
        custom_format(num.to_f64(), format, culture)
    };
    Ok(Value::String(text))
}

/// Digits of `|x|` rounded to `decimals` places: (integer digits, fraction digits).
fn fixed_digits(x: f64, decimals: usize) -> (String, String) {
    let s = format!("{:.*}", decimals, x.abs());
    match s.split_once('.') {
        Some((i, f)) => (i.to_string(), f.to_string()),
        None => (s, String::new()),
    }
}

fn group(int: &str, sep: &str) -> String {
    let digits: Vec<char> = int.chars().collect();
    let mut out = String::new();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(*c);
    }
    out
}

fn join_number(int: String, frac: &str, culture: &Culture) -> String {
    if frac.is_empty() {
        int
    } else {
        format!("{int}{}{frac}", culture.decimal)
    }
}

fn standard_format(num: Num, format: &str, culture: &Culture) -> Result<String, Error> {
    let kind = format.chars().next().unwrap_or('G');
    let precision: Option<usize> = format
        .get(1..)
        .filter(|p| !p.is_empty())
        .and_then(|p| p.parse().ok());
    let x = num.to_f64();
    let neg = x < 0.0;
    let sign = |s: String, is_zero: bool| if neg && !is_zero { format!("-{s}") } else { s };
    let zeroish = |i: &str, f: &str| i.chars().chain(f.chars()).all(|c| c == '0');
    Ok(match kind.to_ascii_uppercase() {
        'N' | 'F' => {
            let (i, fr) = fixed_digits(x, precision.unwrap_or(2));
            let z = zeroish(&i, &fr);
            let int = if kind.eq_ignore_ascii_case(&'N') {
                group(&i, culture.group)
            } else {
                i
            };
            sign(join_number(int, &fr, culture), z)
        }
        'C' => {
            let (i, fr) = fixed_digits(x, precision.unwrap_or(2));
            let z = zeroish(&i, &fr);
            let n = join_number(group(&i, culture.group), &fr, culture);
            let s = if culture.currency_after {
                format!("{n}\u{a0}{}", culture.currency)
            } else {
                format!("{}{n}", culture.currency)
            };
            sign(s, z)
        }
        'P' => {
            let (i, fr) = fixed_digits(x * 100.0, precision.unwrap_or(2));
            let z = zeroish(&i, &fr);
            let n = join_number(group(&i, culture.group), &fr, culture);
            sign(
                if culture.percent_space {
                    format!("{n}\u{a0}%")
                } else {
                    format!("{n}%")
                },
                z,
            )
        }
        'D' => match num {
            Num::Int(i) => {
                let digits = format!("{:0w$}", i.unsigned_abs(), w = precision.unwrap_or(1));
                if i < 0 { format!("-{digits}") } else { digits }
            }
            _ => return Err(Error::invalid("the format 'D' needs an integer")),
        },
        'X' => match num {
            Num::Int(i) => {
                let w = precision.unwrap_or(1);
                if kind == 'x' {
                    format!("{i:0w$x}")
                } else {
                    format!("{i:0w$X}")
                }
            }
            _ => return Err(Error::invalid("the format 'X' needs an integer")),
        },
        'E' => {
            let p = precision.unwrap_or(6);
            let s = format!("{:.*e}", p, x.abs());
            let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
            let exp: i32 = exp.parse().unwrap_or(0);
            let e = if kind == 'e' { 'e' } else { 'E' };
            let exp_sign = if exp < 0 { '-' } else { '+' };
            let m = mantissa.replace('.', culture.decimal);
            sign(
                format!("{m}{e}{exp_sign}{:03}", exp.unsigned_abs()),
                x == 0.0,
            )
        }
        'G' | 'R' => match num {
            Num::Int(i) => i.to_string(),
            Num::Dec(d) => d.to_string().replace('.', culture.decimal),
            Num::Float(f) => float_text(f).replace('.', culture.decimal),
        },
        _ => {
            return Err(Error::invalid(format!(
                "'{format}' is not a valid number format"
            )));
        }
    })
}

#[derive(Debug)]
enum Item {
    Digit(char),
    Lit(String),
}

/// A custom pattern such as `#,##0.00`, `0,0.00`, `(###) ###-####` or `0.0%;(0.0%);zero`.
fn custom_format(x: f64, format: &str, culture: &Culture) -> String {
    let sections = split_sections(format);
    let (section, use_sign) = match (sections.as_slice(), x) {
        ([_, neg, ..], _) if x < 0.0 => (neg.as_str(), false),
        ([_, _, zero, ..], _) if x == 0.0 => (zero.as_str(), false),
        ([first, ..], _) => (first.as_str(), true),
        ([], _) => ("", true),
    };
    // Split into integer and fraction parts at the first unquoted '.', noting grouping and scaling.
    let (int_items, frac_items, grouping, scale, percent) = parse_section(section);
    let mut value = x.abs() * percent / 1000f64.powi(scale);
    if !value.is_finite() {
        value = 0.0;
    }
    let frac_places = frac_items
        .iter()
        .filter(|i| matches!(i, Item::Digit(_)))
        .count();
    let (int_digits, frac_digits) = fixed_digits(value, frac_places);
    // Integer part: pad to the placeholders from the first '0', then interleave right to left.
    let placeholders: Vec<char> = int_items
        .iter()
        .filter_map(|i| {
            if let Item::Digit(c) = i {
                Some(*c)
            } else {
                None
            }
        })
        .collect();
    let min_digits = placeholders
        .iter()
        .position(|&c| c == '0')
        .map_or(0, |p| placeholders.len() - p);
    let trimmed = int_digits.trim_start_matches('0');
    let mut digits = format!("{trimmed:0>min_digits$}");
    if grouping {
        digits = group(&digits, culture.group);
    }
    let mut int_out = String::new();
    let mut remaining: Vec<char> = digits.chars().collect();
    let digit_positions: Vec<usize> = int_items
        .iter()
        .enumerate()
        .filter_map(|(i, it)| matches!(it, Item::Digit(_)).then_some(i))
        .collect();
    let first_digit = digit_positions.first().copied();
    let mut pieces: Vec<String> = Vec::new();
    for (idx, item) in int_items.iter().enumerate().rev() {
        match item {
            Item::Lit(s) => pieces.push(s.clone()),
            Item::Digit(_) if Some(idx) == first_digit => {
                pieces.push(remaining.iter().collect());
                remaining.clear();
            }
            Item::Digit(_) => {
                if grouping {
                    continue;
                }
                if let Some(c) = remaining.pop() {
                    pieces.push(c.to_string());
                }
            }
        }
    }
    if first_digit.is_none() {
        pieces.insert(0, remaining.iter().collect());
    }
    pieces.reverse();
    for p in pieces {
        int_out.push_str(&p);
    }
    // Fraction part: optional '#' digits drop trailing zeros.
    let required = frac_items
        .iter()
        .filter(|i| matches!(i, Item::Digit(_)))
        .enumerate()
        .filter_map(|(n, i)| matches!(i, Item::Digit('0')).then_some(n + 1))
        .max()
        .unwrap_or(0);
    let mut frac: Vec<char> = frac_digits.chars().collect();
    while frac.len() > required && frac.last() == Some(&'0') {
        frac.pop();
    }
    let mut frac_out = String::new();
    let mut it = frac.iter();
    for item in &frac_items {
        match item {
            Item::Lit(s) => frac_out.push_str(s),
            Item::Digit(_) => {
                if let Some(c) = it.next() {
                    frac_out.push(*c);
                }
            }
        }
    }
    let has_frac_digits = !frac.is_empty();
    let mut out = int_out;
    if has_frac_digits {
        out.push_str(culture.decimal);
    }
    out.push_str(&frac_out);
    let all_zero = int_digits
        .chars()
        .chain(frac.iter().copied())
        .all(|c| c == '0');
    if use_sign && x < 0.0 && !all_zero {
        out.insert(0, '-');
    }
    out
}

fn split_sections(format: &str) -> Vec<String> {
    let mut sections = vec![String::new()];
    let mut quote = None;
    for c in format.chars() {
        match (c, quote) {
            ('\'' | '"', None) => quote = Some(c),
            (q, Some(open)) if q == open => quote = None,
            (';', None) => {
                sections.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = sections.last_mut() {
            last.push(c);
        }
    }
    sections
}

type Section = (Vec<Item>, Vec<Item>, bool, i32, f64);

fn parse_section(section: &str) -> Section {
    let mut int_items = Vec::new();
    let mut frac_items = Vec::new();
    let mut in_frac = false;
    let mut grouping = false;
    let mut pending_commas = 0;
    let mut scale = 0;
    let mut percent = 1.0;
    let mut seen_digit = false;
    let chars: Vec<char> = section.chars().collect();
    let mut i = 0;
    let push = |items: &mut Vec<Item>, s: String| match items.last_mut() {
        Some(Item::Lit(prev)) => prev.push_str(&s),
        _ => items.push(Item::Lit(s)),
    };
    while let Some(&c) = chars.get(i) {
        let items = if in_frac {
            &mut frac_items
        } else {
            &mut int_items
        };
        match c {
            '0' | '#' => {
                if pending_commas > 0 && !in_frac {
                    grouping = true;
                }
                pending_commas = 0;
                seen_digit = true;
                items.push(Item::Digit(c));
            }
            ',' if !in_frac => {
                if seen_digit {
                    pending_commas += 1;
                }
            }
            '.' if !in_frac => {
                scale += pending_commas;
                pending_commas = 0;
                in_frac = true;
            }
            '%' => {
                percent *= 100.0;
                push(items, "%".to_string());
            }
            '\u{2030}' => {
                percent *= 1000.0;
                push(items, "\u{2030}".to_string());
            }
            '\'' | '"' => {
                let close = chars[i + 1..]
                    .iter()
                    .position(|&q| q == c)
                    .map_or(chars.len(), |p| i + 1 + p);
                push(items, chars[i + 1..close.min(chars.len())].iter().collect());
                i = close;
            }
            '\\' => {
                if let Some(&next) = chars.get(i + 1) {
                    push(items, next.to_string());
                }
                i += 1;
            }
            other => push(items, other.to_string()),
        }
        i += 1;
    }
    if !in_frac {
        scale += pending_commas;
    }
    (int_items, frac_items, grouping, scale, percent)
}
