//! Datetimes and timespans as ticks (100 ns), the unit Kusto counts in.
//!
//! Events carry datetimes as ISO 8601 text; comparing them as text would order `...Z` and
//! `...+01:00` wrongly, so both sides are read into ticks since the Unix epoch first.

pub use crate::ir::TICKS_PER_SECOND;
const TICKS_PER_DAY: i64 = 86_400 * TICKS_PER_SECOND;

/// Reads `2024-05-01`, `2024-05-01T12:00:00Z`, `2024-05-01 12:00:00.1234567+02:00` and the like.
pub fn parse_datetime(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, rest) = (text.get(..10)?, text.get(10..)?);
    let mut parts = date.splitn(3, '-');
    let year: i64 = digits(parts.next()?, 4)?;
    let month: i64 = digits(parts.next()?, 2)?;
    let day: i64 = digits(parts.next()?, 2)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut ticks = days_from_civil(year, month, day) * TICKS_PER_DAY;
    let rest = match rest.strip_prefix(['T', 't', ' ']) {
        Some(time) => time,
        None if rest.is_empty() => return Some(ticks),
        None => return None,
    };
    let (clock, offset) = split_offset(rest)?;
    ticks += parse_clock(clock)?;
    Some(ticks - offset)
}

/// `hh:mm[:ss[.fffffff]]` as ticks since midnight.
fn parse_clock(clock: &str) -> Option<i64> {
    let mut fields = clock.splitn(3, ':');
    let hours: i64 = digits(fields.next()?, 2)?;
    let minutes: i64 = digits(fields.next()?, 2)?;
    let seconds = match fields.next() {
        Some(s) => parse_seconds(s)?,
        None => 0,
    };
    (hours < 24 && minutes < 60).then_some((hours * 3600 + minutes * 60) * TICKS_PER_SECOND + seconds)
}

/// `ss[.fffffff]` as ticks; digits beyond the seventh are dropped, as Kusto does.
fn parse_seconds(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let seconds: i64 = digits(whole, 2)?;
    if seconds > 60 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let fraction: String = fraction.chars().chain(std::iter::repeat('0')).take(7).collect();
    Some(seconds * TICKS_PER_SECOND + fraction.parse::<i64>().ok()?)
}

/// Splits a trailing `Z` or `±hh:mm` off a time of day; the offset in ticks.
fn split_offset(text: &str) -> Option<(&str, i64)> {
    if let Some(clock) = text.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    match text.rfind(['+', '-']) {
        Some(at) => {
            let (clock, offset) = text.split_at(at);
            let sign = if offset.starts_with('-') { -1 } else { 1 };
            let (h, m) = offset[1..].split_once(':').unwrap_or((&offset[1..], "00"));
            let minutes = digits(h, 2)? * 60 + digits(m, 2)?;
            Some((clock, sign * minutes * 60 * TICKS_PER_SECOND))
        }
        None => Some((text, 0)),
    }
}

fn digits(text: &str, len: usize) -> Option<i64> {
    (text.len() == len && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok())?
}

/// ISO 8601 in UTC with as many fraction digits as needed: `2024-05-01T12:00:00Z`.
pub fn format_datetime(ticks: i64) -> String {
    let days = ticks.div_euclid(TICKS_PER_DAY);
    let in_day = ticks.rem_euclid(TICKS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let seconds = in_day / TICKS_PER_SECOND;
    let fraction = in_day % TICKS_PER_SECOND;
    let mut text = format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
    if fraction != 0 {
        text.push_str(format!(".{fraction:07}").trim_end_matches('0'));
    }
    text.push('Z');
    text
}

/// A timespan as Kusto writes it in JSON (`[d.]hh:mm:ss[.fffffff]`) or as a number of seconds.
pub fn parse_timespan(text: &str) -> Option<i64> {
    let text = text.trim();
    let (sign, text) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text),
    };
    let (days, clock) = match text.split_once(':').map(|(head, _)| head.split_once('.')) {
        Some(Some((d, _))) => (d.parse::<i64>().ok()?, &text[d.len() + 1..]),
        _ => (0, text),
    };
    let mut fields = clock.splitn(3, ':');
    let hours: i64 = fields.next()?.parse().ok()?;
    let minutes: i64 = fields.next()?.parse().ok()?;
    let seconds = parse_seconds(&format!("{:0>2}", fields.next()?))?;
    // Checked: the text comes from events and may be absurdly large.
    let whole = days.checked_mul(24)?.checked_add(hours)?.checked_mul(3600)?.checked_add(minutes.checked_mul(60)?)?;
    whole.checked_mul(TICKS_PER_SECOND)?.checked_add(seconds).map(|t| sign * t)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_round_trip_through_ticks() {
        for text in ["1970-01-01T00:00:00Z", "2024-02-29T23:59:59.5Z", "2024-05-01T12:00:00.1234567Z", "1601-01-01T00:00:00Z"] {
            assert_eq!(format_datetime(parse_datetime(text).unwrap()), text);
        }
    }

    #[test]
    fn offsets_and_spellings_name_the_same_instant() {
        let utc = parse_datetime("2024-05-01T12:00:00Z");
        assert_eq!(parse_datetime("2024-05-01 14:00:00+02:00"), utc);
        assert_eq!(parse_datetime("2024-05-01T12:00"), utc);
        assert_eq!(parse_datetime("2024-05-01T12:00:00.000"), utc);
        assert_eq!(parse_datetime("2024-05-01"), parse_datetime("2024-05-01T00:00:00Z"));
    }

    #[test]
    fn malformed_datetimes_are_refused() {
        for text in ["", "2024", "2024-13-01", "2024-05-01T25:00:00Z", "2024-05-01X", "not a date", "2024-05-01T12:00:00+0x:00"] {
            assert_eq!(parse_datetime(text), None, "{text}");
        }
    }

    #[test]
    fn timespans_in_kusto_text() {
        assert_eq!(parse_timespan("01:00:00"), Some(3600 * TICKS_PER_SECOND));
        assert_eq!(parse_timespan("1.00:00:30"), Some((86_400 + 30) * TICKS_PER_SECOND));
        assert_eq!(parse_timespan("-00:00:01.5"), Some(-15_000_000));
        assert_eq!(parse_timespan("soon"), None);
    }
}
