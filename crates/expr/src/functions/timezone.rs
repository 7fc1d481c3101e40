//! Windows time-zone names (what WDL's `convertTimeZone` family takes) mapped to POSIX TZ rules.
//!
//! POSIX rules are self-contained, so conversion needs no time-zone database and therefore no
//! file IO (this crate must stay pure). The price: only the *current* daylight-saving rules are
//! known, so conversions of dates before a zone's last rule change can be off by an hour.

use crate::Error;
use jiff::tz::TimeZone;

const ZONES: &[(&str, &str)] = &[
    ("UTC", "UTC0"),
    ("Coordinated Universal Time", "UTC0"),
    ("GMT Standard Time", "GMT0BST,M3.5.0/1,M10.5.0"),
    ("Greenwich Standard Time", "GMT0"),
    ("W. Europe Standard Time", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Central Europe Standard Time", "CET-1CEST,M3.5.0,M10.5.0/3"),
    (
        "Central European Standard Time",
        "CET-1CEST,M3.5.0,M10.5.0/3",
    ),
    ("Romance Standard Time", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("W. Central Africa Standard Time", "WAT-1"),
    ("Morocco Standard Time", "<+01>-1"),
    ("E. Europe Standard Time", "EET-2EEST,M3.5.0,M10.5.0/3"),
    ("FLE Standard Time", "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    ("GTB Standard Time", "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    ("Egypt Standard Time", "EET-2EEST,M4.5.5/0,M10.5.4/24"),
    ("Israel Standard Time", "IST-2IDT,M3.4.4/26,M10.5.0"),
    ("South Africa Standard Time", "SAST-2"),
    ("Russian Standard Time", "MSK-3"),
    ("Turkey Standard Time", "<+03>-3"),
    ("Arab Standard Time", "<+03>-3"),
    ("Arabic Standard Time", "<+03>-3"),
    ("E. Africa Standard Time", "EAT-3"),
    ("Iran Standard Time", "<+0330>-3:30"),
    ("Arabian Standard Time", "<+04>-4"),
    ("Afghanistan Standard Time", "<+0430>-4:30"),
    ("West Asia Standard Time", "<+05>-5"),
    ("Pakistan Standard Time", "PKT-5"),
    ("India Standard Time", "IST-5:30"),
    ("Nepal Standard Time", "<+0545>-5:45"),
    ("Bangladesh Standard Time", "<+06>-6"),
    ("Myanmar Standard Time", "<+0630>-6:30"),
    ("SE Asia Standard Time", "<+07>-7"),
    ("North Asia Standard Time", "<+07>-7"),
    ("China Standard Time", "CST-8"),
    ("Singapore Standard Time", "<+08>-8"),
    ("Taipei Standard Time", "CST-8"),
    ("W. Australia Standard Time", "AWST-8"),
    ("Ulaanbaatar Standard Time", "<+08>-8"),
    ("Tokyo Standard Time", "JST-9"),
    ("Korea Standard Time", "KST-9"),
    (
        "Cen. Australia Standard Time",
        "ACST-9:30ACDT,M10.1.0,M4.1.0/3",
    ),
    ("AUS Central Standard Time", "ACST-9:30"),
    ("AUS Eastern Standard Time", "AEST-10AEDT,M10.1.0,M4.1.0/3"),
    ("Tasmania Standard Time", "AEST-10AEDT,M10.1.0,M4.1.0/3"),
    ("E. Australia Standard Time", "AEST-10"),
    ("New Zealand Standard Time", "NZST-12NZDT,M9.5.0,M4.1.0/3"),
    ("Fiji Standard Time", "<+12>-12"),
    ("UTC+12", "<+12>-12"),
    ("Tonga Standard Time", "<+13>-13"),
    ("Samoa Standard Time", "<+13>-13"),
    ("Dateline Standard Time", "<-12>12"),
    ("UTC-11", "<-11>11"),
    ("Hawaiian Standard Time", "HST10"),
    ("Alaskan Standard Time", "AKST9AKDT,M3.2.0,M11.1.0"),
    ("Pacific Standard Time", "PST8PDT,M3.2.0,M11.1.0"),
    ("Pacific Standard Time (Mexico)", "PST8PDT,M3.2.0,M11.1.0"),
    ("US Mountain Standard Time", "MST7"),
    ("Mountain Standard Time (Mexico)", "MST7"),
    ("Mountain Standard Time", "MST7MDT,M3.2.0,M11.1.0"),
    ("Central America Standard Time", "CST6"),
    ("Central Standard Time", "CST6CDT,M3.2.0,M11.1.0"),
    ("Central Standard Time (Mexico)", "CST6"),
    ("Canada Central Standard Time", "CST6"),
    ("SA Pacific Standard Time", "<-05>5"),
    ("Eastern Standard Time", "EST5EDT,M3.2.0,M11.1.0"),
    ("US Eastern Standard Time", "EST5EDT,M3.2.0,M11.1.0"),
    ("Eastern Standard Time (Mexico)", "EST5"),
    ("Venezuela Standard Time", "<-04>4"),
    ("Atlantic Standard Time", "AST4ADT,M3.2.0,M11.1.0"),
    (
        "Pacific SA Standard Time",
        "<-04>4<-03>,M9.1.6/24,M4.1.6/24",
    ),
    ("Newfoundland Standard Time", "NST3:30NDT,M3.2.0,M11.1.0"),
    ("E. South America Standard Time", "<-03>3"),
    ("Argentina Standard Time", "<-03>3"),
    ("SA Eastern Standard Time", "<-03>3"),
    ("UTC-02", "<-02>2"),
    ("Azores Standard Time", "<-01>1<+00>,M3.5.0/0,M10.5.0/1"),
    ("Cape Verde Standard Time", "<-01>1"),
];

/// The zone for a Windows time-zone name (matched ignoring case).
pub(crate) fn lookup(name: &str) -> Result<TimeZone, Error> {
    let rule = ZONES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
        .map(|(_, rule)| *rule)
        .ok_or_else(|| {
            Error::invalid(format!(
                "the time zone '{name}' is not a known Windows time-zone name"
            ))
        })?;
    TimeZone::posix(rule)
        .map_err(|e| Error::invalid(format!("the time zone '{name}' could not be loaded: {e}")))
}

/// Whether a name designates UTC itself (conversions to it produce UTC timestamps).
pub(crate) fn is_utc(name: &str) -> bool {
    let n = name.trim();
    n.eq_ignore_ascii_case("UTC") || n.eq_ignore_ascii_case("Coordinated Universal Time")
}
