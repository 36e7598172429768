//! Parsing the many ways identity sources write time.
//!
//! Sources write RFC 3339 date-times, plain ISO dates, date-times without an offset
//! (taken as UTC), LDAP GeneralizedTime (`20240131120000Z`) and Active Directory FILETIME
//! (100-ns intervals since 1601). Each parser returns `None` for input it does not accept,
//! so the caller can name the file, line and column in its own error.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// An instant in UTC.
pub type Instant = DateTime<Utc>;

/// Seconds between 1601-01-01 and 1970-01-01, the FILETIME and Unix epochs.
const FILETIME_UNIX_OFFSET_SECS: i64 = 11_644_473_600;

/// Parses an RFC 3339 / ISO 8601 date-time or a plain date (midnight UTC).
/// Accepts `T` or a space between date and time, fractional seconds, `Z` or an offset,
/// and no offset at all (UTC).
pub fn parse_instant(s: &str) -> Option<Instant> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(i) = parse_utc_seconds(s.as_bytes()) {
        return Some(i);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    if s.len() == 10 {
        return parse_date(s).map(start_of_day);
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%#z"] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(Utc.from_utc_datetime(&dt));
        }
    }
    None
}

/// The form exports write most, `YYYY-MM-DDTHH:MM:SSZ`, read without the general parser:
/// imports meet it millions of times.
fn parse_utc_seconds(b: &[u8]) -> Option<Instant> {
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    let date = NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 7)?, num(8, 10)?)?;
    let time = chrono::NaiveTime::from_hms_opt(num(11, 13)?, num(14, 16)?, num(17, 19)?)?;
    Some(Utc.from_utc_datetime(&date.and_time(time)))
}

/// Parses the year-first date-times written with slashes (`2026/03/14 09:12:33`, as
/// Google Workspace's admin console writes them in its CSV downloads), as UTC; the seconds,
/// or the whole time, may be left out. Day- or month-first forms (`14/03/2026`) are
/// ambiguous and not accepted.
pub fn parse_slashed(s: &str) -> Option<Instant> {
    let s = s.trim();
    for fmt in ["%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(Utc.from_utc_datetime(&dt));
        }
    }
    NaiveDate::parse_from_str(s, "%Y/%m/%d").ok().map(start_of_day)
}

/// The day of `t` (UTC) as `YYYY-MM-DD`: what messages print. Written directly rather than
/// through a format string, since an audit prints it for every overdue assignment.
pub fn day(t: Instant) -> String {
    use chrono::Datelike;
    let d = t.date_naive();
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// Parses a plain ISO date `YYYY-MM-DD`. A date-time is accepted too and its date kept,
/// since HR exports often write midnight timestamps for dates.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if s.len() == 10 {
        // `YYYY-MM-DD` by hand (an HR import reads three per person); anything else in ten
        // characters goes to the general parser, which decides as before.
        return plain_date(s.as_bytes()).or_else(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
    }
    if s.len() > 10 {
        return parse_instant(s).map(|i| i.date_naive());
    }
    None
}

/// `YYYY-MM-DD`, digits only, a date that exists.
fn plain_date(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 7)?, num(8, 10)?)
}

/// The ISO form of a date, `YYYY-MM-DD`, without going through a format string for the
/// years that have four digits.
pub fn iso_date(d: NaiveDate) -> String {
    if (0..=9999).contains(&d.year()) {
        format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
    } else {
        d.format("%Y-%m-%d").to_string()
    }
}

/// Midnight UTC at the start of `date`.
pub fn start_of_day(date: NaiveDate) -> Instant {
    Utc.from_utc_datetime(&date.and_time(chrono::NaiveTime::MIN))
}

/// Parses LDAP GeneralizedTime (`YYYYMMDDhhmmss[.f]Z`, as in `whenCreated` and
/// `createTimestamp`). An offset other than `Z` is accepted too.
pub fn parse_generalized_time(s: &str) -> Option<Instant> {
    let s = s.trim();
    if s.len() < 15 || !s.is_char_boundary(14) {
        return None;
    }
    let (digits, rest) = s.split_at(14);
    let naive = NaiveDateTime::parse_from_str(digits, "%Y%m%d%H%M%S").ok()?;
    // Skip a fractional part, then read the zone.
    let rest = rest.trim_start_matches(|c: char| c == '.' || c == ',' || c.is_ascii_digit());
    let base = Utc.from_utc_datetime(&naive);
    match rest {
        "Z" | "z" => Some(base),
        zone if zone.len() == 5 && (zone.starts_with('+') || zone.starts_with('-')) => {
            let sign: i64 = if zone.starts_with('-') { -1 } else { 1 };
            let hours: i64 = zone.get(1..3)?.parse().ok()?;
            let minutes: i64 = zone.get(3..5)?.parse().ok()?;
            // Local time minus its offset gives UTC.
            Some(base - chrono::Duration::minutes(sign * (hours * 60 + minutes)))
        }
        _ => None,
    }
}

/// What an Active Directory FILETIME value means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileTime {
    /// 0 or 0x7FFFFFFFFFFFFFFF: "never" (for `pwdLastSet` 0 means "must change at next logon").
    Never,
    At(Instant),
}

/// Parses an AD FILETIME (decimal 100-ns intervals since 1601-01-01 UTC).
pub fn parse_filetime(s: &str) -> Option<FileTime> {
    let v: i64 = s.trim().parse().ok()?;
    if v == 0 || v == i64::MAX {
        return Some(FileTime::Never);
    }
    if v < 0 {
        return None;
    }
    let secs = v / 10_000_000 - FILETIME_UNIX_OFFSET_SECS;
    let nanos = (v % 10_000_000) * 100;
    Utc.timestamp_opt(secs, nanos as u32).single().map(FileTime::At)
}

/// Whole days from `earlier` to `later` (negative when `earlier` is after `later`).
pub fn days_between(earlier: Instant, later: Instant) -> i64 {
    (later - earlier).num_days()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_dates_read_and_write_as_the_general_format_does() {
        for text in [
            "2024-02-29",
            "1969-12-31",
            "0001-01-01",
            "9999-12-31",
            "2023-02-29",
            "2024-13-01",
            "2024-1-011",
            "+024-01-01",
            "２０２４-01-01",
        ] {
            assert_eq!(parse_date(text), NaiveDate::parse_from_str(text, "%Y-%m-%d").ok(), "{text}");
        }
        for d in [
            NaiveDate::from_ymd_opt(2024, 2, 29),
            NaiveDate::from_ymd_opt(7, 1, 2),
            NaiveDate::from_ymd_opt(12345, 6, 7),
            NaiveDate::from_ymd_opt(-44, 3, 15),
        ] {
            let d = d.expect("a date");
            assert_eq!(iso_date(d), d.format("%Y-%m-%d").to_string());
        }
    }

    #[test]
    fn instants_in_the_forms_sources_write() {
        let cases = [
            ("2024-01-31T12:00:00Z", Some("2024-01-31T12:00:00+00:00")),
            ("2024-02-29T23:59:59Z", Some("2024-02-29T23:59:59+00:00")),
            ("2023-02-29T12:00:00Z", None),
            ("2024-01-31T24:00:00Z", None),
            ("2024-01-3xT12:00:00Z", None),
            ("2015-06-24T12:45:00+00:00", Some("2015-06-24T12:45:00+00:00")),
            ("2024-01-31T14:00:00+02:00", Some("2024-01-31T12:00:00+00:00")),
            ("2024-01-31", Some("2024-01-31T00:00:00+00:00")),
            ("2024-01-31 08:30:00", Some("2024-01-31T08:30:00+00:00")),
            ("2024-01-31T08:30:00.123", Some("2024-01-31T08:30:00.123+00:00")),
            ("31/01/2024", None),
            ("2024-02-30", None),
            ("N/A", None),
            ("", None),
        ];
        for (input, want) in cases {
            let got = parse_instant(input).map(|i| i.to_rfc3339());
            assert_eq!(got.as_deref(), want, "input {input:?}");
        }
    }

    #[test]
    fn slashed_date_times() {
        let cases = [
            ("2026/03/14 09:12:33", Some("2026-03-14T09:12:33+00:00")),
            ("2026/03/14 09:12", Some("2026-03-14T09:12:00+00:00")),
            (" 2026/03/14 ", Some("2026-03-14T00:00:00+00:00")),
            ("2026/02/30 09:12:33", None),
            ("14/03/2026 09:12:33", None),
            ("2026-03-14 09:12:33", None),
            ("Never logged in", None),
            ("", None),
        ];
        for (input, want) in cases {
            let got = parse_slashed(input).map(|i| i.to_rfc3339());
            assert_eq!(got.as_deref(), want, "input {input:?}");
        }
    }

    #[test]
    fn generalized_time_and_filetime() {
        assert_eq!(parse_generalized_time("20240131120000Z").map(|i| i.to_rfc3339()).as_deref(), Some("2024-01-31T12:00:00+00:00"));
        assert_eq!(parse_generalized_time("20240131120000.0Z").map(|i| i.to_rfc3339()).as_deref(), Some("2024-01-31T12:00:00+00:00"));
        assert_eq!(parse_generalized_time("20240131140000+0200").map(|i| i.to_rfc3339()).as_deref(), Some("2024-01-31T12:00:00+00:00"));
        assert_eq!(parse_generalized_time("2024013112"), None);
        // 2024-01-01T00:00:00Z in FILETIME.
        assert_eq!(parse_filetime("133485408000000000"), Some(FileTime::At(parse_instant("2024-01-01T00:00:00Z").expect("valid"))));
        assert_eq!(parse_filetime("0"), Some(FileTime::Never));
        assert_eq!(parse_filetime("9223372036854775807"), Some(FileTime::Never));
        assert_eq!(parse_filetime("abc"), None);
    }
}
