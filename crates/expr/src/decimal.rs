//! A small base-10 decimal (96-bit mantissa, scale 0..=28) for `decimal()`, mirroring .NET's
//! `System.Decimal` closely enough that `string(add(decimal('1.2345678912312131'), ...))` keeps
//! every digit, which an `f64` cannot.
//!
//! Values are JSON values, which have no decimal type, so a decimal travels between functions as a
//! marker object `{"$hookflowDecimal": "digits"}` (see [`crate::value`]); the evaluator turns any
//! marker left in a final result into a JSON float, so markers never escape an evaluation unless a
//! user writes one by hand (which is harmless: it is then just read as a decimal).

use std::cmp::Ordering;

/// Largest mantissa .NET decimal can hold (2^96 - 1).
const MAX_MANTISSA: i128 = 79_228_162_514_264_337_593_543_950_335;
const MAX_SCALE: u32 = 28;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decimal {
    mantissa: i128,
    scale: u32,
}

impl Decimal {
    pub fn from_i64(i: i64) -> Decimal {
        Decimal {
            mantissa: i128::from(i),
            scale: 0,
        }
    }

    /// Parses `[-+]digits[.digits]` (surrounding whitespace allowed), as `decimal('1.5')` accepts.
    pub fn parse(text: &str) -> Option<Decimal> {
        let t = text.trim();
        let (neg, t) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut mantissa: i128 = 0;
        let mut scale = 0u32;
        for b in int.bytes() {
            mantissa = mantissa
                .checked_mul(10)?
                .checked_add(i128::from(b - b'0'))?;
            if mantissa > MAX_MANTISSA {
                return None;
            }
        }
        // Digits past what fits are dropped (rounded), as .NET does for long fractions.
        for b in frac.bytes() {
            if scale >= MAX_SCALE {
                break;
            }
            let next = mantissa
                .checked_mul(10)?
                .checked_add(i128::from(b - b'0'))?;
            if next > MAX_MANTISSA {
                break;
            }
            mantissa = next;
            scale += 1;
        }
        Some(Decimal {
            mantissa: if neg { -mantissa } else { mantissa },
            scale,
        })
    }

    pub fn from_f64(f: f64) -> Option<Decimal> {
        Decimal::parse(&format!("{f}"))
    }

    pub fn to_f64(self) -> f64 {
        self.to_string().parse().unwrap_or(0.0)
    }

    pub fn add(self, other: Decimal) -> Option<Decimal> {
        let (a, b, scale) = align(self, other)?;
        normalize(a.checked_add(b)?, scale)
    }

    pub fn sub(self, other: Decimal) -> Option<Decimal> {
        self.add(Decimal {
            mantissa: -other.mantissa,
            scale: other.scale,
        })
    }

    pub fn mul(self, other: Decimal) -> Option<Decimal> {
        normalize(
            self.mantissa.checked_mul(other.mantissa)?,
            self.scale + other.scale,
        )
    }

    /// Division to 28 significant digits with trailing zeros removed, like .NET.
    pub fn div(self, other: Decimal) -> Option<Decimal> {
        if other.mantissa == 0 {
            return None;
        }
        let mut num = self.mantissa;
        let mut scale = i64::from(self.scale) - i64::from(other.scale);
        // Scale the dividend up as far as i128 allows to keep precision.
        while let Some(n) = num.checked_mul(10) {
            if n.unsigned_abs() > (i128::MAX / 100) as u128 {
                break;
            }
            num = n;
            scale += 1;
        }
        let mut q = num / other.mantissa;
        while scale < 0 {
            q = q.checked_mul(10)?;
            scale += 1;
        }
        let mut scale = u32::try_from(scale).ok()?;
        while scale > MAX_SCALE || q.unsigned_abs() > MAX_MANTISSA as u128 {
            q = round_div10(q);
            scale -= 1;
        }
        while scale > 0 && q % 10 == 0 {
            q /= 10;
            scale -= 1;
        }
        normalize(q, scale)
    }

    pub fn rem(self, other: Decimal) -> Option<Decimal> {
        if other.mantissa == 0 {
            return None;
        }
        let (a, b, scale) = align(self, other)?;
        normalize(a % b, scale)
    }

    pub fn cmp(self, other: Decimal) -> Ordering {
        match align(self, other) {
            Some((a, b, _)) => a.cmp(&b),
            None => self.to_f64().total_cmp(&other.to_f64()),
        }
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = self.scale as usize;
        let sign = if self.mantissa < 0 { "-" } else { "" };
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{int}.{frac}")
    }
}

fn align(a: Decimal, b: Decimal) -> Option<(i128, i128, u32)> {
    let scale = a.scale.max(b.scale);
    let am = a
        .mantissa
        .checked_mul(10i128.checked_pow(scale - a.scale)?)?;
    let bm = b
        .mantissa
        .checked_mul(10i128.checked_pow(scale - b.scale)?)?;
    Some((am, bm, scale))
}

fn round_div10(q: i128) -> i128 {
    let r = q % 10;
    let mut d = q / 10;
    if r >= 5 {
        d += 1;
    } else if r <= -5 {
        d -= 1;
    }
    d
}

/// Brings a result back into range by dropping fractional digits; `None` when even the integer
/// part does not fit (overflow).
fn normalize(mut mantissa: i128, mut scale: u32) -> Option<Decimal> {
    while (scale > MAX_SCALE || mantissa.unsigned_abs() > MAX_MANTISSA as u128) && scale > 0 {
        mantissa = round_div10(mantissa);
        scale -= 1;
    }
    if mantissa.unsigned_abs() > MAX_MANTISSA as u128 {
        return None;
    }
    Some(Decimal { mantissa, scale })
}
