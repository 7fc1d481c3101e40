//! The handful of .NET cultures that date and number formatting know: names of months and days,
//! standard date patterns and number separators.
//!
//! Only a few cultures are built in (en-US, en-GB, fr-FR, es-ES, de-DE, is-IS) because a full CLDR table
//! would dwarf this crate; an unknown locale is an error rather than a silent English answer. A
//! bare language (`fr`) picks that language's culture.

use crate::Error;

#[derive(Debug)]
pub(crate) struct Culture {
    pub name: &'static str,
    pub months: [&'static str; 12],
    pub months_abbr: [&'static str; 12],
    /// Sunday first, as `dayOfWeek()` numbers them.
    pub days: [&'static str; 7],
    pub days_abbr: [&'static str; 7],
    pub am: &'static str,
    pub pm: &'static str,
    /// Standard date format patterns: d, D, t, T, M, Y.
    pub short_date: &'static str,
    pub long_date: &'static str,
    pub short_time: &'static str,
    pub long_time: &'static str,
    pub month_day: &'static str,
    pub year_month: &'static str,
    /// Whether numeric dates read month first (`03/15/2018`) when parsing without a format.
    pub month_first: bool,
    pub group: &'static str,
    pub decimal: &'static str,
    pub currency: &'static str,
    /// Currency symbol after the number (`1 234,57 €`) rather than before (`$1,234.57`).
    pub currency_after: bool,
    /// `12,35 %` rather than `12.35%`.
    pub percent_space: bool,
}

const EN_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const EN_MONTHS_ABBR: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const EN_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const EN_DAYS_ABBR: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

pub(crate) const EN_US: Culture = Culture {
    name: "en-US",
    months: EN_MONTHS,
    months_abbr: EN_MONTHS_ABBR,
    days: EN_DAYS,
    days_abbr: EN_DAYS_ABBR,
    am: "AM",
    pm: "PM",
    short_date: "M/d/yyyy",
    long_date: "dddd, MMMM d, yyyy",
    short_time: "h:mm tt",
    long_time: "h:mm:ss tt",
    month_day: "MMMM d",
    year_month: "MMMM yyyy",
    month_first: true,
    group: ",",
    decimal: ".",
    currency: "$",
    currency_after: false,
    percent_space: false,
};

const EN_GB: Culture = Culture {
    name: "en-GB",
    am: "am",
    pm: "pm",
    short_date: "dd/MM/yyyy",
    long_date: "dddd, d MMMM yyyy",
    short_time: "HH:mm",
    long_time: "HH:mm:ss",
    month_day: "d MMMM",
    month_first: false,
    currency: "£",
    ..EN_US
};

const FR_FR: Culture = Culture {
    name: "fr-FR",
    months: [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    months_abbr: [
        "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
        "déc.",
    ],
    days: [
        "dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi",
    ],
    days_abbr: ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
    am: "AM",
    pm: "PM",
    short_date: "dd/MM/yyyy",
    long_date: "dddd d MMMM yyyy",
    short_time: "HH:mm",
    long_time: "HH:mm:ss",
    month_day: "d MMMM",
    year_month: "MMMM yyyy",
    month_first: false,
    group: "\u{202f}",
    decimal: ",",
    currency: "€",
    currency_after: true,
    percent_space: true,
};

const ES_ES: Culture = Culture {
    name: "es-ES",
    months: [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
    months_abbr: [
        "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic",
    ],
    days: [
        "domingo",
        "lunes",
        "martes",
        "miércoles",
        "jueves",
        "viernes",
        "sábado",
    ],
    days_abbr: ["dom", "lun", "mar", "mié", "jue", "vie", "sáb"],
    am: "a. m.",
    pm: "p. m.",
    short_date: "dd/MM/yyyy",
    long_date: "dddd, d 'de' MMMM 'de' yyyy",
    short_time: "H:mm",
    long_time: "H:mm:ss",
    month_day: "d 'de' MMMM",
    year_month: "MMMM 'de' yyyy",
    month_first: false,
    group: ".",
    decimal: ",",
    currency: "€",
    currency_after: true,
    percent_space: true,
};

const DE_DE: Culture = Culture {
    name: "de-DE",
    months: [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
    months_abbr: [
        "Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.",
        "Dez.",
    ],
    days: [
        "Sonntag",
        "Montag",
        "Dienstag",
        "Mittwoch",
        "Donnerstag",
        "Freitag",
        "Samstag",
    ],
    days_abbr: ["So.", "Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa."],
    am: "AM",
    pm: "PM",
    short_date: "dd.MM.yyyy",
    long_date: "dddd, d. MMMM yyyy",
    short_time: "HH:mm",
    long_time: "HH:mm:ss",
    month_day: "d. MMMM",
    year_month: "MMMM yyyy",
    month_first: false,
    group: ".",
    decimal: ",",
    currency: "€",
    currency_after: true,
    percent_space: true,
};

/// Icelandic: the reference's `formatNumber` examples use it (`1.234.567.890,00`, `17,35 kr`).
const IS_IS: Culture = Culture {
    name: "is-IS",
    months: [
        "janúar",
        "febrúar",
        "mars",
        "apríl",
        "maí",
        "júní",
        "júlí",
        "ágúst",
        "september",
        "október",
        "nóvember",
        "desember",
    ],
    months_abbr: [
        "jan.", "feb.", "mar.", "apr.", "maí", "jún.", "júl.", "ágú.", "sep.", "okt.", "nóv.",
        "des.",
    ],
    days: [
        "sunnudagur",
        "mánudagur",
        "þriðjudagur",
        "miðvikudagur",
        "fimmtudagur",
        "föstudagur",
        "laugardagur",
    ],
    days_abbr: ["sun.", "mán.", "þri.", "mið.", "fim.", "fös.", "lau."],
    am: "f.h.",
    pm: "e.h.",
    short_date: "d.M.yyyy",
    long_date: "dddd, d. MMMM yyyy",
    short_time: "HH:mm",
    long_time: "HH:mm:ss",
    month_day: "d. MMMM",
    year_month: "MMMM yyyy",
    month_first: false,
    group: ".",
    decimal: ",",
    currency: "kr",
    currency_after: true,
    percent_space: false,
};

const ALL: [&Culture; 6] = [&EN_US, &EN_GB, &FR_FR, &ES_ES, &DE_DE, &IS_IS];

impl Culture {
    /// The culture for a locale argument; `None` (absent) means en-US, the documented default.
    pub fn get(locale: Option<&str>) -> Result<&'static Culture, Error> {
        let Some(locale) = locale.map(str::trim).filter(|l| !l.is_empty()) else {
            return Ok(&EN_US);
        };
        let locale = locale.replace('_', "-");
        if let Some(c) = ALL.iter().find(|c| c.name.eq_ignore_ascii_case(&locale)) {
            return Ok(c);
        }
        // A bare language, or a region we don't know, falls back to the language's culture.
        let language = locale.split('-').next().unwrap_or("");
        ALL.iter()
            .find(|c| c.name.split('-').next().is_some_and(|l| l.eq_ignore_ascii_case(language)))
            .copied()
            .ok_or_else(|| {
                Error::invalid(format!(
                    "the locale '{locale}' is not supported (supported: en-US, en-GB, fr-FR, es-ES, de-DE, is-IS)"
                ))
            })
    }
}
