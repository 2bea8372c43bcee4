//! `--set KEY=VALUE`: the schedule and trigger of the rules the Sentinel targets write. A Sigma
//! rule says nothing of them, so its defaults come from here; a Sentinel rule's own values are
//! replaced. Each value set is reported as a change at the key it replaces.

use crate::ir::{Duration, SentinelSection, TriggerOperator};
use crate::sentinel::keys::parse_trigger;

/// The keys `--set` takes, as Sentinel's repository YAML spells them.
pub const KEYS: [&str; 4] = ["queryFrequency", "queryPeriod", "triggerOperator", "triggerThreshold"];

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    query_frequency: Option<Duration>,
    query_period: Option<Duration>,
    trigger_operator: Option<TriggerOperator>,
    trigger_threshold: Option<i64>,
    /// `KEY=VALUE` as given, in order, for the change each one reports.
    given: Vec<(String, String)>,
}

impl Settings {
    /// Reads `KEY=VALUE` assignments; the error names the one that is wrong and why.
    pub fn parse(assignments: &[String]) -> Result<Settings, String> {
        let mut settings = Settings::default();
        for assignment in assignments {
            let Some((key, value)) = assignment.split_once('=') else {
                return Err(format!("--set {assignment}: expected KEY=VALUE (keys: {})", KEYS.join(", ")));
            };
            let (key, value) = (key.trim(), value.trim());
            let bad = |why: String| format!("--set {key}={value}: {why}");
            match key {
                "queryFrequency" => settings.query_frequency = Some(Duration::parse(value).map_err(|e| bad(e.to_string()))?),
                "queryPeriod" => settings.query_period = Some(Duration::parse(value).map_err(|e| bad(e.to_string()))?),
                "triggerOperator" => {
                    let operator = parse_trigger(value).ok_or_else(|| bad("expected gt, lt, eq or ne (or GreaterThan ...)".into()))?;
                    settings.trigger_operator = Some(operator);
                }
                "triggerThreshold" => {
                    let threshold = value.parse().map_err(|_| bad("expected a whole number".into()))?;
                    settings.trigger_threshold = Some(threshold);
                }
                _ => return Err(format!("--set {key}: unknown key (keys: {})", KEYS.join(", "))),
            }
            settings.given.push((key.to_string(), value.to_string()));
        }
        Ok(settings)
    }

    pub fn is_empty(&self) -> bool {
        self.given.is_empty()
    }

    /// Applies the settings to a rule's Sentinel section; returns each key set, with a message.
    pub fn apply(&self, section: &mut SentinelSection) -> Vec<(&'static str, String)> {
        if let Some(d) = self.query_frequency {
            section.schedule.query_frequency = Some(d);
        }
        if let Some(d) = self.query_period {
            section.schedule.query_period = Some(d);
        }
        if let Some(op) = self.trigger_operator {
            section.trigger.operator = Some(op);
        }
        if let Some(n) = self.trigger_threshold {
            section.trigger.threshold = Some(n);
        }
        self.given
            .iter()
            .filter_map(|(key, value)| {
                let key = KEYS.into_iter().find(|k| k == key)?;
                Some((key, format!("`{key}` set to `{value}` by --set")))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_are_checked_and_applied() {
        let settings = Settings::parse(&["queryFrequency=2h".into(), "triggerOperator=gt".into(), "triggerThreshold=5".into()]).unwrap();
        let mut section = SentinelSection::default();
        let changes = settings.apply(&mut section);
        assert_eq!(section.schedule.query_frequency, Duration::parse("2h").ok());
        assert_eq!(section.trigger.operator, Some(TriggerOperator::GreaterThan));
        assert_eq!(section.trigger.threshold, Some(5));
        assert_eq!(changes.len(), 3);
        assert_eq!(changes[0], ("queryFrequency", "`queryFrequency` set to `2h` by --set".to_string()));
        for (wrong, why) in [
            ("queryFrequency", "expected KEY=VALUE"),
            ("severity=High", "unknown key"),
            ("queryPeriod=soon", "is not a duration"),
            ("triggerOperator=above", "expected gt"),
            ("triggerThreshold=1.5", "whole number"),
        ] {
            let error = Settings::parse(&[wrong.into()]).unwrap_err();
            assert!(error.contains(why), "{wrong}: {error}");
        }
    }
}
