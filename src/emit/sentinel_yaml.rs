//! `--to sentinel-yaml`: the Azure-Sentinel repository's YAML form.
//!
//! Keys come in the repository's order, then the ARM facts a rule read from a template carries
//! (the api version only where it is not the default), then unmodelled keys as they were. What
//! the rule says is written as it says it: explicit defaults, nulls (in place), the trigger
//! operator's spelling; ARM properties the IR does not model go under `armProperties`. A Sigma
//! rule is first made a scheduled rule with its KQL (`kql::raise_sentinel_rule`).

use super::sentinel_fields::{self as fields, Form};
use super::{EmitOptions, Emitted, Emitter, Evidence, Subject, join_documents, kql};
use crate::diag::{Code, Kind, Problem};
use crate::ir::{Rule, SentinelSection, TemplateLink};
use crate::sentinel;
use crate::sentinel::keys::{self, Key};
use crate::yaml;
use serde_json::Value;

pub struct SentinelYaml;

impl Emitter for SentinelYaml {
    fn name(&self) -> &'static str {
        "sentinel-yaml"
    }

    fn extension(&self) -> &'static str {
        "yaml"
    }

    fn about(&self) -> &'static str {
        "Azure-Sentinel repository YAML; several rules are documents separated by ---"
    }

    fn options(&self) -> &'static [&'static str] {
        &["--profile", "--set"]
    }

    /// The query is carried as written, so the Detection is not needed.
    fn reads_detection(&self) -> bool {
        false
    }

    fn reads_sigma(&self) -> bool {
        true
    }

    fn emit(&self, subjects: &[Subject], options: &EmitOptions) -> Result<Emitted, Vec<Problem>> {
        join_documents(subjects, "---\n", |subject| {
            let raised = kql::raise_sentinel_rule(subject, options)?;
            let emitted = document(&raised.rule);
            let mut problems = raised.problems;
            problems.extend(emitted.problems);
            Ok(Emitted { text: emitted.text, problems, evidence: raised.evidence })
        })
    }
}

fn document(rule: &Rule) -> Emitted {
    let mut problems = Vec::new();
    if rule.id.is_none() {
        problems.push(Problem::about(
            Kind::Warning,
            Code::MissingKey,
            rule,
            rule.origin.position,
            "the rule has no `id`; Sentinel needs one to deploy it",
        ));
    }
    problems.extend(fields::severity_change(rule));
    let styles: Vec<(&str, yaml::Style)> = description_style(rule).map(|style| (Key::Description.yaml(), style)).into_iter().collect();
    Emitted { text: yaml::to_yaml_string_styled(&encode(rule), &styles), problems, evidence: Evidence::Unverified }
}

/// How the description is written when its quotes or surrounding space decide what ARM
/// publishes (the reader's rule, `read::fields`): a literal block holds the repository's
/// wrapper (`description: |` then `'text'`), a quoted scalar text whose quotes are its own.
fn description_style(rule: &Rule) -> Option<yaml::Style> {
    let description = rule.description.as_deref()?;
    let verbatim = rule.sentinel.as_ref().is_some_and(|s| s.description_verbatim);
    (sentinel::clean_description(description) != description).then_some(if verbatim {
        yaml::Style::DoubleQuoted
    } else {
        yaml::Style::Literal
    })
}

/// The rule as repository-YAML data.
pub fn encode(rule: &Rule) -> Value {
    let none = SentinelSection::default();
    let s = rule.sentinel.as_ref().unwrap_or(&none);
    let unless = |value: Option<Value>, default: Value| value.filter(|v| *v != default);
    let default_api_version =
        if s.kind.is_some() { sentinel::DEFAULT_ALERT_RULE_API_VERSION } else { sentinel::DEFAULT_SAVED_SEARCH_API_VERSION };
    let template = match &s.template_link {
        TemplateLink::SameAsId => None,
        TemplateLink::None => Some(Value::Null),
        TemplateLink::Other(name) => Some(Value::String(name.clone())),
    };
    fields::object(
        [
            (Key::Id, fields::string(&rule.id)),
            (Key::Name, Some(Value::String(rule.title.clone()))),
            (Key::Description, fields::string(&rule.description)),
            (Key::Severity, rule.severity.map(|v| Value::String(keys::severity(v).name().into()))),
            (Key::Connectors, s.required_data_connectors.as_deref().map(fields::connectors)),
            (Key::Frequency, s.schedule.query_frequency.as_ref().map(|d| Form::Yaml.duration(d))),
            (Key::Period, s.schedule.query_period.as_ref().map(|d| Form::Yaml.duration(d))),
            (Key::TriggerOperator, fields::yaml_trigger(s).map(Value::String)),
            (Key::TriggerThreshold, s.trigger.threshold.map(Value::from)),
            (Key::Tactics, rule.tactics.as_deref().map(fields::written)),
            (Key::Techniques, rule.techniques.as_deref().map(fields::written)),
            (Key::Query, rule.kql().map(|q| Value::String(q.text.clone()))),
            (Key::EntityMappings, s.entity_mappings.as_deref().map(fields::entity_mappings)),
            (Key::CustomDetails, s.custom_details.as_ref().map(fields::custom_details)),
            (Key::AlertDetailsOverride, s.alert_details_override.as_ref().map(fields::alert_details_override)),
            (Key::EventGrouping, s.event_grouping_settings.as_ref().map(fields::event_grouping)),
            (Key::Incident, s.incident_configuration.as_ref().map(|c| fields::incident_configuration(c, Form::Yaml))),
            (Key::SuppressionDuration, s.suppression.duration.as_ref().map(|d| Form::Yaml.duration(d))),
            (Key::SuppressionEnabled, s.suppression.enabled.map(Value::Bool)),
            (Key::Enabled, s.enabled.map(Value::Bool)),
            (Key::StartTime, fields::string(&s.schedule.start_time_utc)),
            (Key::TemplateName, template),
            (Key::SentinelEntitiesMappings, s.sentinel_entities_mappings.clone()),
            (Key::Version, fields::string(&s.version)),
            (Key::Kind, s.kind.map(|k| Value::String(keys::kind_name(k).into()))),
            (Key::ApiVersion, unless(fields::string(&s.api_version), Value::String(default_api_version.into()))),
            (Key::Tags, s.tags.clone()),
            (Key::Metadata, s.metadata.clone()),
            (Key::ArmProperties, (!s.arm_extensions.is_empty()).then(|| Value::Object(s.arm_extensions.clone().into_iter().collect()))),
        ]
        .map(|(key, value)| (key.yaml(), value)),
        &s.extensions,
    )
}
