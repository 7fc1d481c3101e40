//! Run and action statuses, with the names Logic Apps uses on the wire.

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// Status of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
    Cancelled,
    TimedOut,
}

impl RunStatus {
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Running)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "Running",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::Cancelled => "Cancelled",
            Self::TimedOut => "TimedOut",
        }
    }
}

/// Status of one action execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ActionStatus {
    Running,
    /// A webhook action waiting for its callback.
    Waiting,
    Succeeded,
    Failed,
    Skipped,
    Cancelled,
    TimedOut,
}

impl ActionStatus {
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Running | Self::Waiting)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "Running",
            Self::Waiting => "Waiting",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::Skipped => "Skipped",
            Self::Cancelled => "Cancelled",
            Self::TimedOut => "TimedOut",
        }
    }
}

/// A status name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status '{0}'")]
pub struct UnknownStatus(pub String);

macro_rules! text_enum {
    ($ty:ty, [$($variant:ident),*]) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = UnknownStatus;
            /// Case-insensitive, as Logic Apps matches status names.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $(if s.eq_ignore_ascii_case(stringify!($variant)) { return Ok(Self::$variant); })*
                Err(UnknownStatus(s.to_owned()))
            }
        }
    };
}
text_enum!(RunStatus, [Running, Succeeded, Failed, Cancelled, TimedOut]);
text_enum!(
    ActionStatus,
    [
        Running, Waiting, Succeeded, Failed, Skipped, Cancelled, TimedOut
    ]
);
