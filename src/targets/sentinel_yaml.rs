//! `--to sentinel-yaml`: the Azure-Sentinel repository's YAML form.
//!
//! Keys come in the repository's order, then the ARM facts a rule read from a template carries
//! (written only where they differ from what the portal would set, so the YAML stays what a
//! repository file looks like), then unmodelled keys as they were.

use super::Emitted;
use super::sentinel_fields::{self as fields, Form, PortalDefaults};
use crate::diag::{Kind, Problem};
use crate::ir::{Rule, TemplateLink};
use crate::sentinel;
use crate::yaml;
use serde_json::Value;

pub fn emit(rules: &[&Rule]) -> Emitted {
    let documents: Vec<String> = rules.iter().map(|rule| yaml::to_yaml_string(&encode(rule))).collect();
    let problems = rules
        .iter()
        .filter(|rule| rule.id.is_none())
        .map(|rule| Problem::about(Kind::Warning, rule, rule.origin.position, "the rule has no `id`; Sentinel needs one to deploy it"))
        .collect();
    Emitted { text: documents.join("---\n"), problems }
}

/// The rule as repository-YAML data.
pub fn encode(rule: &Rule) -> Value {
    let unless = |value: Option<Value>, default: Value| value.filter(|v| *v != default);
    let incident = rule.incident_configuration.as_ref().map(|c| fields::incident_configuration(c, Form::Yaml));
    let default_api_version =
        if rule.kind.is_some() { sentinel::DEFAULT_ALERT_RULE_API_VERSION } else { sentinel::DEFAULT_SAVED_SEARCH_API_VERSION };
    let template = match &rule.alert_rule_template {
        TemplateLink::SameAsId => None,
        TemplateLink::None => Some(Value::Null),
        TemplateLink::Other(name) => Some(Value::String(name.clone())),
    };
    fields::object(
        [
            ("id", fields::string(&rule.id)),
            ("name", Some(Value::String(rule.name.clone()))),
            ("description", fields::string(&rule.description)),
            ("severity", rule.severity.map(|s| Value::String(s.name().into()))),
            ("requiredDataConnectors", rule.required_data_connectors.as_deref().map(fields::connectors)),
            ("queryFrequency", rule.query_frequency.as_ref().map(|d| Form::Yaml.duration(d))),
            ("queryPeriod", rule.query_period.as_ref().map(|d| Form::Yaml.duration(d))),
            ("triggerOperator", rule.trigger_operator.map(|op| Value::String(op.short_name().into()))),
            ("triggerThreshold", rule.trigger_threshold.map(Value::from)),
            ("tactics", rule.tactics.as_deref().map(fields::strings)),
            ("relevantTechniques", rule.relevant_techniques.as_deref().map(fields::strings)),
            ("query", rule.query.as_ref().map(|q| Value::String(q.text.clone()))),
            ("entityMappings", rule.entity_mappings.as_deref().map(fields::entity_mappings)),
            ("customDetails", rule.custom_details.as_ref().map(fields::custom_details)),
            ("alertDetailsOverride", rule.alert_details_override.as_ref().map(fields::alert_details_override)),
            (
                "eventGroupingSettings",
                unless(
                    rule.event_grouping_settings.as_ref().map(fields::event_grouping),
                    fields::event_grouping(&PortalDefaults::event_grouping()),
                ),
            ),
            (
                "incidentConfiguration",
                unless(incident, fields::incident_configuration(&PortalDefaults::incident_configuration(), Form::Yaml)),
            ),
            (
                "suppressionDuration",
                unless(
                    rule.suppression_duration.as_ref().map(|d| Form::Yaml.duration(d)),
                    Form::Yaml.duration(&PortalDefaults::suppression_duration()),
                ),
            ),
            ("suppressionEnabled", unless(rule.suppression_enabled.map(Value::Bool), Value::Bool(PortalDefaults::SUPPRESSION_ENABLED))),
            ("enabled", unless(rule.enabled.map(Value::Bool), Value::Bool(PortalDefaults::ENABLED))),
            ("startTimeUtc", fields::string(&rule.start_time_utc)),
            ("alertRuleTemplateName", template),
            ("sentinelEntitiesMappings", rule.sentinel_entities_mappings.clone()),
            ("version", fields::string(&rule.version)),
            ("kind", rule.kind.map(|k| Value::String(k.name().into()))),
            ("apiVersion", unless(fields::string(&rule.api_version), Value::String(default_api_version.into()))),
            ("tags", rule.tags.clone()),
            ("metadata", rule.metadata.clone()),
        ],
        &rule.extensions,
    )
}
