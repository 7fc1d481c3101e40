//! Retry policies of outbound calls (logicapps-spec §5.5) as pure functions: which outcomes
//! are retried and how long to wait before each retry. The random part of the exponential
//! policy comes in as an argument; the core draws no random numbers itself.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A parsed `retryPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RetryPolicy {
    None,
    Fixed {
        count: u32,
        interval_ms: u64,
    },
    Exponential {
        count: u32,
        interval_ms: u64,
        min_ms: u64,
        max_ms: u64,
    },
}

const SECOND: u64 = 1_000;

/// The shortest `interval`, `minimumInterval` and `maximumInterval` accepted: one second.
/// Logic Apps Consumption asks for at least `PT5S`; hookflow accepts down to `PT1S` (the
/// Standard stateless minimum) so tests and fast services can retry quickly.
pub const MIN_INTERVAL_MS: u64 = SECOND;
/// The longest interval accepted: a day (`P1D`), as in Logic Apps.
pub const MAX_INTERVAL_MS: u64 = 86_400 * SECOND;

impl RetryPolicy {
    /// The documented default: exponential, 4 retries, interval 7 s, between 5 s and 1 h.
    pub const DEFAULT: RetryPolicy = RetryPolicy::Exponential {
        count: 4,
        interval_ms: 7 * SECOND,
        min_ms: 5 * SECOND,
        max_ms: 3_600 * SECOND,
    };

    /// Reads an evaluated `retryPolicy` object (absent or `null`: the default).
    pub fn parse(policy: Option<&Value>) -> Result<Self, String> {
        let Some(policy) = policy.filter(|p| !p.is_null()) else {
            return Ok(Self::DEFAULT);
        };
        let kind = policy
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("default");
        let duration = |name: &str, default: u64| -> Result<u64, String> {
            match policy.get(name) {
                None | Some(Value::Null) => Ok(default),
                Some(Value::String(text)) => hookflow_model::parse_duration_ms(text)
                    .map_err(|e| format!("retryPolicy.{name}: {e}"))
                    .and_then(|ms| {
                        if (MIN_INTERVAL_MS..=MAX_INTERVAL_MS).contains(&ms) {
                            Ok(ms)
                        } else {
                            Err(format!(
                                "retryPolicy.{name}: '{text}' is outside PT1S to P1D"
                            ))
                        }
                    }),
                Some(other) => Err(format!(
                    "retryPolicy.{name}: expected an ISO 8601 duration, got {other}"
                )),
            }
        };
        let count = |default: u32| -> Result<u32, String> {
            match policy.get("count") {
                None | Some(Value::Null) => Ok(default),
                Some(value) => value
                    .as_u64()
                    .filter(|c| (1..=90).contains(c))
                    .map(|c| c as u32)
                    .ok_or_else(|| format!("retryPolicy.count: expected 1 to 90, got {value}")),
            }
        };
        match kind.to_ascii_lowercase().as_str() {
            "default" => Ok(Self::DEFAULT),
            "none" => Ok(Self::None),
            "fixed" => Ok(Self::Fixed {
                count: count(4)?,
                interval_ms: duration("interval", 7 * SECOND)?,
            }),
            "exponential" => Ok(Self::Exponential {
                count: count(4)?,
                interval_ms: duration("interval", 7 * SECOND)?,
                min_ms: duration("minimumInterval", 5 * SECOND)?,
                max_ms: duration("maximumInterval", 3_600 * SECOND)?,
            }),
            other => Err(format!(
                "retryPolicy.type: '{other}' is not none, fixed, exponential or default"
            )),
        }
    }

    /// The wait before retry number `retry` (1-based), or `None` when no retry is left.
    /// `random` picks the point inside the exponential policy's interval.
    pub fn delay_ms(&self, retry: u32, random: u64) -> Option<u64> {
        match *self {
            Self::None => None,
            Self::Fixed { count, interval_ms } => (retry <= count).then_some(interval_ms),
            Self::Exponential {
                count,
                interval_ms,
                min_ms,
                max_ms,
            } => {
                if retry > count || retry == 0 {
                    return None;
                }
                // Retry n waits a random time in [2^(n-2)·i, 2^(n-1)·i] (the first in [0, i]),
                // clamped to [minimumInterval, maximumInterval].
                let high = interval_ms.saturating_mul(1u64 << (retry - 1).min(40));
                let low = if retry == 1 { 0 } else { high / 2 };
                let low = low.max(min_ms).min(max_ms);
                let high = high.max(low).min(max_ms.max(low));
                let span = high - low;
                Some(low + if span == 0 { 0 } else { random % (span + 1) })
            }
        }
    }
}

impl RetryPolicy {
    /// The longest wait this policy allows, to which a service's `Retry-After` is clamped:
    /// `maximumInterval` for the exponential policies; for `fixed` (which has none) the
    /// default policy's maximum (an hour), or its own interval when that is longer.
    pub fn max_interval_ms(&self) -> u64 {
        const DEFAULT_MAX_MS: u64 = 3_600 * SECOND;
        match *self {
            Self::None => 0,
            Self::Fixed { interval_ms, .. } => interval_ms.max(DEFAULT_MAX_MS),
            Self::Exponential { max_ms, .. } => max_ms,
        }
    }
}

/// Whether an outcome is worth retrying: 408, 429, 5xx, or no response at all.
pub fn is_retryable_status(status: u16) -> bool {
    status == 408 || status == 429 || (500..600).contains(&status)
}

/// Whether a call that got no response is worth retrying: connectivity failures
/// (`ConnectionFailed`, `RequestTimeout`, `BadGateway` as the runtime reports them). Refusals
/// that would fail the same way again (an invalid request, the egress policy, a response too
/// large, authentication that could not be obtained) are not retried.
pub fn is_retryable_error(code: &str) -> bool {
    matches!(code, "ConnectionFailed" | "RequestTimeout" | "BadGateway")
}
