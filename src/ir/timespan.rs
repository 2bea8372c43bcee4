//! `Timespan`: a length of time in ticks of 100 ns (Kusto's unit, fine enough for every
//! language), the Detection's one unit for join windows, time bins and timespan values, with
//! how Sigma writes and reads one. KQL's literals are the `kql` module's (a leaf that knows no
//! IR); YARA-L's windows are the YARA-L target's.

use std::fmt;

pub const TICKS_PER_SECOND: i64 = 10_000_000;

/// The units Sigma's correlation `timespan` takes (pySigma's, but for its calendar months and
/// years, which have no fixed length), largest first, in seconds.
const SIGMA_UNITS: [(i64, char); 5] = [(604_800, 'w'), (86_400, 'd'), (3_600, 'h'), (60, 'm'), (1, 's')];

/// Serialized as its ticks, the number Detection dumps have always shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Timespan {
    ticks: i64,
}

impl Timespan {
    pub const fn from_ticks(ticks: i64) -> Timespan {
        Timespan { ticks }
    }

    /// `None` when the length does not fit in ticks.
    pub fn from_seconds(seconds: i64) -> Option<Timespan> {
        seconds.checked_mul(TICKS_PER_SECOND).map(Timespan::from_ticks)
    }

    pub const fn ticks(self) -> i64 {
        self.ticks
    }

    /// A Sigma `timespan`: a positive whole number and one unit (`30s`, `5m`, `1h`, `2d`, `1w`).
    pub fn parse_sigma(text: &str) -> Option<Timespan> {
        let text = text.trim();
        let unit = text.chars().last()?;
        let (seconds, _) = SIGMA_UNITS.iter().find(|(_, u)| *u == unit)?;
        let digits = &text[..text.len() - unit.len_utf8()];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let amount: i64 = digits.parse().ok()?;
        (amount > 0).then_some(())?;
        Timespan::from_seconds(amount.checked_mul(*seconds)?)
    }

    /// As Sigma writes it, in the largest unit that divides it (`90s`, `5m`, `14d`; weeks are
    /// written in days, which every Sigma tool reads); `None` under one second. The second
    /// value says whether a fraction of a second was dropped.
    pub fn to_sigma(self) -> Option<(String, bool)> {
        let seconds = self.ticks / TICKS_PER_SECOND;
        if seconds <= 0 {
            return None;
        }
        let (unit, suffix) = SIGMA_UNITS[1..].iter().find(|(unit, _)| seconds % unit == 0).copied().unwrap_or((1, 's'));
        Some((format!("{}{suffix}", seconds / unit), self.ticks % TICKS_PER_SECOND != 0))
    }
}

/// In words for people (`explain`, cards): the largest unit that divides it, down to
/// milliseconds, else ticks.
impl fmt::Display for Timespan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(i64, &str); 5] = [
            (86_400 * TICKS_PER_SECOND, "d"),
            (3_600 * TICKS_PER_SECOND, "h"),
            (60 * TICKS_PER_SECOND, "m"),
            (TICKS_PER_SECOND, "s"),
            (10_000, "ms"),
        ];
        match UNITS.iter().find(|(size, _)| self.ticks != 0 && self.ticks % size == 0) {
            Some((size, unit)) => write!(f, "{}{unit}", self.ticks / size),
            None => write!(f, "{} ticks", self.ticks),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigma_timespans_in_every_unit() {
        for (text, seconds, written) in [
            ("30s", 30, "30s"),
            ("5m", 300, "5m"),
            ("1h", 3_600, "1h"),
            ("2d", 172_800, "2d"),
            ("1w", 604_800, "7d"),
            ("90m", 5_400, "90m"),
        ] {
            let span = Timespan::parse_sigma(text).unwrap();
            assert_eq!(span.ticks(), seconds * TICKS_PER_SECOND, "{text}");
            assert_eq!(span.to_sigma(), Some((written.to_string(), false)), "{text}");
        }
    }

    #[test]
    fn sigma_refuses_what_is_no_timespan() {
        for bad in ["", "w", "0m", "-5m", "5", "5x", "1M", "1y", "1.5h", "5 m", "99999999999999999w", "5é"] {
            assert_eq!(Timespan::parse_sigma(bad), None, "{bad}");
        }
    }

    #[test]
    fn sigma_rounds_down_to_seconds() {
        assert_eq!(Timespan::from_ticks(15_000_000).to_sigma(), Some(("1s".to_string(), true)));
        assert_eq!(Timespan::from_ticks(5_000_000).to_sigma(), None);
    }

    #[test]
    fn display_in_words() {
        assert_eq!(Timespan::from_ticks(7 * 86_400 * TICKS_PER_SECOND).to_string(), "7d");
        assert_eq!(Timespan::from_ticks(250 * 10_000).to_string(), "250ms");
        assert_eq!(Timespan::from_ticks(3).to_string(), "3 ticks");
    }
}
