//! What the Azure-Sentinel repository's validation would say about a rule's metadata, as
//! warnings: query interval bounds, entity mapping shape and identifiers, custom detail and
//! placeholder limits, each tagged with the key it is about. The facts come from the `targets/sentinel.yaml` profile.

use crate::diag::Code;
use crate::ir::{Duration, Rule, Schedule};
use crate::sentinel::keys::Key;
use indexmap::IndexMap;
use serde::Deserialize;
use std::sync::OnceLock;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    limits: Limits,
    entities: IndexMap<String, Entity>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Limits {
    min_query_interval: String,
    max_query_interval: String,
    max_entity_mappings: usize,
    max_field_mappings: usize,
    max_custom_details: usize,
    max_format_placeholders: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entity {
    identifiers: Vec<String>,
    required_one_of: Vec<Vec<String>>,
}

/// The profile embedded at build time; it is ours and tested, so a broken one is a bug.
fn profile() -> &'static Profile {
    static PROFILE: OnceLock<Profile> = OnceLock::new();
    crate::emit::profile_file::embedded(&PROFILE, "targets/sentinel.yaml", include_str!("../../targets/sentinel.yaml"))
}

/// The longest `queryPeriod` (and `queryFrequency`) Sentinel accepts.
pub fn max_query_interval() -> Duration {
    Duration::parse(&profile().limits.max_query_interval).expect("targets/sentinel.yaml: maxQueryInterval is a duration")
}

/// How many entity mappings Sentinel allows a rule.
pub fn max_entity_mappings() -> usize {
    profile().limits.max_entity_mappings
}

/// Warnings about the rule's metadata, each with the (repository-YAML) key it is about.
pub fn warnings(rule: &Rule) -> Vec<(&'static str, Code, String)> {
    let Some(section) = &rule.sentinel else { return Vec::new() };
    let profile = profile();
    let limits = &profile.limits;
    let mut out = Vec::new();
    if section.kind.is_some() {
        interval_warnings(&section.schedule, limits, &mut out);
    }
    let mappings = section.entity_mappings.as_deref().unwrap_or_default();
    if mappings.len() > limits.max_entity_mappings {
        out.push((
            Key::EntityMappings.yaml(),
            Code::LimitExceeded,
            format!("{} entity mappings; Sentinel allows at most {}", mappings.len(), limits.max_entity_mappings),
        ));
    }
    for mapping in mappings {
        let Some(entity) = profile.entities.get(&mapping.entity_type) else {
            out.push((
                Key::EntityMappings.yaml(),
                Code::InvalidEntityMapping,
                format!("entity type `{}` is not one Sentinel knows", mapping.entity_type),
            ));
            continue;
        };
        let count = mapping.field_mappings.len();
        if count == 0 || count > limits.max_field_mappings {
            out.push((
                Key::EntityMappings.yaml(),
                Code::InvalidEntityMapping,
                format!(
                    "`{}` entity mapping has {count} field mappings; Sentinel allows 1 to {}",
                    mapping.entity_type, limits.max_field_mappings
                ),
            ));
        }
        let mapped: Vec<&str> = mapping.field_mappings.iter().map(|f| f.identifier.as_str()).collect();
        for identifier in mapped.iter().filter(|id| !entity.identifiers.iter().any(|known| known == *id)) {
            out.push((
                Key::EntityMappings.yaml(),
                Code::InvalidEntityMapping,
                format!("`{identifier}` is not an identifier of `{}` (valid: {})", mapping.entity_type, entity.identifiers.join(", ")),
            ));
        }
        if !entity.required_one_of.iter().any(|set| set.iter().all(|id| mapped.contains(&id.as_str()))) {
            let sets: Vec<String> = entity.required_one_of.iter().map(|s| s.join(" + ")).collect();
            out.push((
                Key::EntityMappings.yaml(),
                Code::InvalidEntityMapping,
                format!("`{}` entity mapping needs one of: {}", mapping.entity_type, sets.join(", ")),
            ));
        }
    }
    let details = section.custom_details.as_ref().map_or(0, IndexMap::len);
    if details > limits.max_custom_details {
        out.push((
            Key::CustomDetails.yaml(),
            Code::LimitExceeded,
            format!("{details} custom details; Sentinel allows at most {}", limits.max_custom_details),
        ));
    }
    if let Some(o) = &section.alert_details_override {
        for (key, format) in
            [("alertDisplayNameFormat", &o.alert_display_name_format), ("alertDescriptionFormat", &o.alert_description_format)]
        {
            let placeholders = format.as_deref().map_or(0, |f| f.matches("{{").count());
            if placeholders > limits.max_format_placeholders {
                out.push((
                    Key::AlertDetailsOverride.yaml(),
                    Code::LimitExceeded,
                    format!(
                        "`{key}` has {placeholders} `{{{{column}}}}` placeholders; Sentinel allows at most {}",
                        limits.max_format_placeholders
                    ),
                ));
            }
        }
    }
    out
}

fn interval_warnings(schedule: &Schedule, limits: &Limits, out: &mut Vec<(&'static str, Code, String)>) {
    let bound = |text: &str| Duration::parse(text).map(|d| d.total_seconds()).unwrap_or_default();
    let (min, max) = (bound(&limits.min_query_interval), bound(&limits.max_query_interval));
    for (key, value) in [(Key::Frequency.yaml(), schedule.query_frequency), (Key::Period.yaml(), schedule.query_period)] {
        if let Some(d) = value
            && !(min..=max).contains(&d.total_seconds())
        {
            out.push((
                key,
                Code::LimitExceeded,
                format!("`{key}` {d} is outside what Sentinel accepts ({} to {})", limits.min_query_interval, limits.max_query_interval),
            ));
        }
    }
    if let (Some(frequency), Some(period)) = (schedule.query_frequency, schedule.query_period)
        && period.total_seconds() < frequency.total_seconds()
    {
        out.push((
            Key::Period.yaml(),
            Code::ScheduleGap,
            format!("`queryPeriod` {period} is shorter than `queryFrequency` {frequency}: events between runs are never looked at"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{EntityMapping, FieldMapping, RuleKind, SentinelSection};

    fn mapping(entity: &str, identifiers: &[&str]) -> EntityMapping {
        EntityMapping {
            entity_type: entity.into(),
            field_mappings: identifiers
                .iter()
                .map(|i| FieldMapping { identifier: (*i).into(), column_name: "c".into(), ..Default::default() })
                .collect(),
            ..Default::default()
        }
    }

    /// A scheduled rule running hourly over `period`.
    fn scheduled(period: &str, mappings: Vec<EntityMapping>) -> Rule {
        let section = SentinelSection {
            kind: Some(RuleKind::Scheduled),
            schedule: Schedule {
                query_frequency: Duration::parse("1h").ok(),
                query_period: Duration::parse(period).ok(),
                ..Default::default()
            },
            entity_mappings: Some(mappings),
            ..Default::default()
        };
        Rule { sentinel: Some(section), ..Default::default() }
    }

    #[test]
    fn a_sound_rule_has_no_warnings() {
        let rule = scheduled("1d", vec![mapping("Account", &["FullName"]), mapping("FileHash", &["Algorithm", "Value"])]);
        assert_eq!(warnings(&rule), Vec::new());
    }

    #[test]
    fn repository_limits_are_warned_about() {
        let rule = scheduled("30d", vec![mapping("Account", &["Nmae"]), mapping("FileHash", &["Value"]), mapping("Gadget", &["X"])]);
        let found: Vec<(Code, String)> = warnings(&rule).into_iter().map(|(_, code, message)| (code, message)).collect();
        // Each warning by its code and the name it is about.
        let has = |code: Code, name: &str| found.iter().any(|(c, w)| *c == code && w.contains(name));
        assert!(has(Code::LimitExceeded, "`queryPeriod` 30d"), "{found:?}");
        assert!(has(Code::InvalidEntityMapping, "`Nmae`"), "{found:?}");
        assert!(has(Code::InvalidEntityMapping, "`FileHash`"), "{found:?}");
        assert!(has(Code::InvalidEntityMapping, "`Gadget`"), "{found:?}");
    }
}
