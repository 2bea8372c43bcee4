//! Durations as Sentinel writes them: `5m`, `1h`, `14d` in YAML, `PT5M`, `PT1H`, `P14D` in ARM.

use std::fmt;

/// A duration kept in the units it was written in, so `60m` stays `60m` (not `1h`) through
/// any number of round trips between the YAML and ARM forms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Duration {
    pub days: u64,
    pub hours: u64,
    pub minutes: u64,
    pub seconds: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a duration (expected e.g. `5m`, `1h`, `14d`, or ISO-8601 `PT5M`)")]
pub struct DurationError(pub String);

impl Duration {
    /// `seconds` in the largest unit that divides it (`7d`, `90m`), as a person would write it.
    pub fn from_seconds(seconds: u64) -> Duration {
        match seconds {
            s if s > 0 && s % 86_400 == 0 => Duration { days: s / 86_400, ..Duration::default() },
            s if s > 0 && s % 3_600 == 0 => Duration { hours: s / 3_600, ..Duration::default() },
            s if s % 60 == 0 => Duration { minutes: s / 60, ..Duration::default() },
            s => Duration { seconds: s, ..Duration::default() },
        }
    }

    pub fn total_seconds(&self) -> u64 {
        ((self.days * 24 + self.hours) * 60 + self.minutes) * 60 + self.seconds
    }

    /// Parses the short form (`5m`, `1h30m`, `14d`) or ISO-8601 (`PT5M`, `P1DT2H`).
    pub fn parse(text: &str) -> Result<Duration, DurationError> {
        let trimmed = text.trim();
        let parsed = if trimmed.starts_with(['P', 'p']) { Self::parse_iso(trimmed) } else { Self::parse_short(trimmed) };
        parsed.ok_or_else(|| DurationError(text.to_string()))
    }

    fn parse_short(text: &str) -> Option<Duration> {
        let mut d = Duration::default();
        let mut rest = text;
        if rest.is_empty() {
            return None;
        }
        while !rest.is_empty() {
            let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
            let amount: u64 = rest[..digits].parse().ok()?;
            let unit = rest[digits..].chars().next()?;
            let slot = match unit {
                'd' => &mut d.days,
                'h' => &mut d.hours,
                'm' => &mut d.minutes,
                's' => &mut d.seconds,
                _ => return None,
            };
            *slot = slot.checked_add(amount)?;
            rest = &rest[digits + unit.len_utf8()..];
        }
        Some(d)
    }

    fn parse_iso(text: &str) -> Option<Duration> {
        let body = &text[1..];
        let (date, time) = match body.find(['T', 't']) {
            Some(i) => (&body[..i], Some(&body[i + 1..])),
            None => (body, None),
        };
        let mut d = Duration::default();
        for (amount, unit) in iso_components(date)? {
            match unit {
                'D' => d.days = amount,
                'W' => d.days = amount.checked_mul(7)?,
                _ => return None,
            }
        }
        if let Some(time) = time {
            if time.is_empty() {
                return None;
            }
            for (amount, unit) in iso_components(time)? {
                match unit {
                    'H' => d.hours = amount,
                    'M' => d.minutes = amount,
                    'S' => d.seconds = amount,
                    _ => return None,
                }
            }
        }
        (!body.is_empty() && body != "T").then_some(d)
    }

    /// ISO-8601 for ARM: `PT5M`, `P14D`, `P1DT2H`; zero is `PT0S`.
    pub fn to_iso(&self) -> String {
        let mut out = String::from("P");
        if self.days > 0 {
            out.push_str(&format!("{}D", self.days));
        }
        if self.hours + self.minutes + self.seconds > 0 || self.days == 0 {
            out.push('T');
            for (amount, unit) in [(self.hours, 'H'), (self.minutes, 'M'), (self.seconds, 'S')] {
                if amount > 0 {
                    out.push_str(&format!("{amount}{unit}"));
                }
            }
            if out == "PT" {
                out.push_str("0S");
            }
        }
        out
    }
}

fn iso_components(text: &str) -> Option<Vec<(u64, char)>> {
    let mut parts = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let amount = rest[..digits].parse().ok()?;
        let unit = rest[digits..].chars().next()?;
        parts.push((amount, unit.to_ascii_uppercase()));
        rest = &rest[digits + unit.len_utf8()..];
    }
    Some(parts)
}

impl fmt::Display for Duration {
    /// The short form of Sentinel YAML: `5m`, `14d`; mixed units concatenate (`1h30m`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote = false;
        for (amount, unit) in [(self.days, 'd'), (self.hours, 'h'), (self.minutes, 'm'), (self.seconds, 's')] {
            if amount > 0 {
                write!(f, "{amount}{unit}")?;
                wrote = true;
            }
        }
        if !wrote {
            f.write_str("0m")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_iso_forms_round_trip() {
        for (short, iso) in [("5m", "PT5M"), ("1h", "PT1H"), ("14d", "P14D"), ("60m", "PT60M"), ("1d2h", "P1DT2H"), ("90s", "PT90S")] {
            let d = Duration::parse(short).unwrap();
            assert_eq!(d.to_iso(), iso);
            assert_eq!(Duration::parse(iso).unwrap(), d);
            assert_eq!(d.to_string(), short);
        }
    }

    #[test]
    fn from_seconds_takes_the_largest_unit_that_divides() {
        let written = |s: u64| Duration::from_seconds(s).to_string();
        assert_eq!(
            (written(604_800), written(5_400), written(7_200), written(90), written(0)),
            ("7d".into(), "90m".into(), "2h".into(), "90s".into(), "0m".into())
        );
        assert_eq!(Duration::from_seconds(604_800).total_seconds(), 604_800);
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "5", "m", "5x", "P", "PT", "5m ago", "-5m", "P1Y", "5é", "P5é"] {
            assert!(Duration::parse(bad).is_err(), "{bad}");
        }
    }
}
