//! Encoders for the parts of a Sentinel rule that the YAML and ARM forms write alike
//! (entity mappings, custom details, alert details override, event grouping, incident
//! configuration), and the few facts both emitters need (portal defaults, technique split).

use crate::diag::{Code, Kind, Problem};
use crate::ir::Rule;
use crate::ir::{
    AlertDetailsOverride, AttackRef, DataConnector, Duration, EntityMapping, EventGroupingSettings, Extensions, IncidentConfiguration,
    SentinelSection,
};
use crate::sentinel::{
    self,
    keys::{self, Key, nested},
};
use indexmap::IndexMap;
use serde_json::{Map, Value};

/// How durations are spelled: ARM wants ISO-8601, the repository YAML `5m`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    Arm,
    Yaml,
}

impl Form {
    pub fn duration(self, d: &Duration) -> Value {
        Value::String(match self {
            Form::Arm => d.to_iso(),
            Form::Yaml => d.to_string(),
        })
    }
}

/// An object of the present fields, in the given order, followed by unmodelled keys. A field
/// kept among the unmodelled keys as the rule wrote it (null, or a value the model does not
/// read, such as `relevantTechniques: [null]`) is written in its place.
pub fn object<'a>(fields: impl IntoIterator<Item = (&'a str, Option<Value>)>, extensions: &Extensions) -> Value {
    let mut map = Map::new();
    for (key, value) in fields {
        if let Some(value) = value.or_else(|| extensions.get(key).cloned()) {
            map.insert(key.to_string(), value);
        }
    }
    for (key, value) in extensions {
        map.insert(key.clone(), value.clone());
    }
    Value::Object(map)
}

/// The trigger operator in YAML: as the rule's YAML spelled it (`GreaterThan`), else in
/// YAML's usual short form (`gt`).
pub fn yaml_trigger(s: &SentinelSection) -> Option<String> {
    let op = s.trigger.operator?;
    Some(match &s.trigger_spelling {
        Some(spelling) if keys::parse_trigger(spelling) == Some(op) => spelling.clone(),
        _ => keys::trigger_yaml(op).into(),
    })
}

pub fn string(s: &Option<String>) -> Option<Value> {
    s.as_ref().map(|s| Value::String(s.clone()))
}

/// ATT&CK references as the rule wrote them.
pub fn written<T>(list: &[AttackRef<T>]) -> Value {
    strings(&written_texts(list))
}

pub fn written_texts<T>(list: &[AttackRef<T>]) -> Vec<String> {
    list.iter().map(|r| r.written.clone()).collect()
}

pub fn strings(list: &[String]) -> Value {
    Value::Array(list.iter().map(|s| Value::String(s.clone())).collect())
}

pub fn connectors(list: &[DataConnector]) -> Value {
    Value::Array(
        list.iter()
            .map(|c| {
                // A connector that spelled the key differently (`datatypes`) keeps only that spelling.
                let other_spelling = c.extensions.keys().any(|k| k.eq_ignore_ascii_case(nested::DATA_TYPES));
                let data_types = (!c.data_types.is_empty() || !other_spelling).then(|| strings(&c.data_types));
                object(
                    [(nested::CONNECTOR_ID, Some(Value::String(c.connector_id.clone()))), (nested::DATA_TYPES, data_types)],
                    &c.extensions,
                )
            })
            .collect(),
    )
}

pub fn entity_mappings(list: &[EntityMapping]) -> Value {
    Value::Array(
        list.iter()
            .map(|m| {
                let fields = m
                    .field_mappings
                    .iter()
                    .map(|f| {
                        object(
                            [
                                (nested::IDENTIFIER, Some(Value::String(f.identifier.clone()))),
                                (nested::COLUMN_NAME, Some(Value::String(f.column_name.clone()))),
                            ],
                            &f.extensions,
                        )
                    })
                    .collect();
                object(
                    [
                        (nested::ENTITY_TYPE, Some(Value::String(m.entity_type.clone()))),
                        (nested::FIELD_MAPPINGS, Some(Value::Array(fields))),
                    ],
                    &m.extensions,
                )
            })
            .collect(),
    )
}

pub fn custom_details(details: &IndexMap<String, String>) -> Value {
    Value::Object(details.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

pub fn alert_details_override(o: &AlertDetailsOverride) -> Value {
    let dynamic = o.alert_dynamic_properties.as_ref().map(|list| {
        Value::Array(
            list.iter()
                .map(|p| {
                    object(
                        [
                            (nested::ALERT_PROPERTY, Some(Value::String(p.alert_property.clone()))),
                            (nested::VALUE, Some(Value::String(p.value.clone()))),
                        ],
                        &p.extensions,
                    )
                })
                .collect(),
        )
    });
    object(
        [
            (nested::ALERT_DISPLAY_NAME_FORMAT, string(&o.alert_display_name_format)),
            (nested::ALERT_DESCRIPTION_FORMAT, string(&o.alert_description_format)),
            (nested::ALERT_TACTICS_COLUMN_NAME, string(&o.alert_tactics_column_name)),
            (nested::ALERT_SEVERITY_COLUMN_NAME, string(&o.alert_severity_column_name)),
            (nested::ALERT_DYNAMIC_PROPERTIES, dynamic),
        ],
        &o.extensions,
    )
}

pub fn event_grouping(settings: &EventGroupingSettings) -> Value {
    object([(nested::AGGREGATION_KIND, string(&settings.aggregation_kind))], &settings.extensions)
}

pub fn incident_configuration(config: &IncidentConfiguration, form: Form) -> Value {
    let grouping = config.grouping_configuration.as_ref().map(|g| {
        object(
            [
                (nested::GROUPING_ENABLED, g.enabled.map(Value::Bool)),
                (nested::REOPEN_CLOSED_INCIDENT, g.reopen_closed_incident.map(Value::Bool)),
                (nested::LOOKBACK_DURATION, g.lookback_duration.as_ref().map(|d| form.duration(d))),
                (nested::MATCHING_METHOD, string(&g.matching_method)),
                (nested::GROUP_BY_ENTITIES, g.group_by_entities.as_deref().map(strings)),
                (nested::GROUP_BY_ALERT_DETAILS, g.group_by_alert_details.as_deref().map(strings)),
                (nested::GROUP_BY_CUSTOM_DETAILS, g.group_by_custom_details.as_deref().map(strings)),
            ],
            &g.extensions,
        )
    });
    object(
        [(nested::CREATE_INCIDENT, config.create_incident.map(Value::Bool)), (nested::GROUPING_CONFIGURATION, grouping)],
        &config.extensions,
    )
}

/// Sentinel has no `Critical` severity: such a rule is written as `High`, and says so.
pub fn severity_change(rule: &Rule) -> Option<Problem> {
    let severity = rule.severity?;
    let written = keys::severity(severity);
    (written != severity).then(|| {
        let message = format!("Sentinel has no severity `{}`; written as `{}`", severity.name(), written.name());
        Problem::at_key(Kind::Change, Code::Respelled, rule, Key::Severity.yaml(), message)
    })
}

/// What the portal sets for the properties ARM requires when a rule says nothing: our ARM
/// emitter fills these (and says so), and records them so its reader unsets them again.
pub struct PortalDefaults;

impl PortalDefaults {
    pub const ENABLED: bool = true;
    pub const SUPPRESSION_ENABLED: bool = false;

    pub fn suppression_duration() -> Duration {
        Duration { hours: 5, ..Duration::default() }
    }
}

/// ARM lists techniques and sub-techniques apart: `T1078.004` goes to `subTechniques` and its
/// parent `T1078` to `techniques`. Both lists keep first-seen order without repeats.
pub fn split_techniques(ids: &[String]) -> (Vec<String>, Vec<String>) {
    let mut techniques: Vec<String> = Vec::new();
    let mut sub_techniques: Vec<String> = Vec::new();
    for id in ids.iter().map(|id| id.trim()) {
        let (parent, is_sub) = match id.split_once('.') {
            Some((parent, _)) => (parent, true),
            None => (id, false),
        };
        if !techniques.iter().any(|t| t == parent) {
            techniques.push(parent.to_string());
        }
        if is_sub && !sub_techniques.iter().any(|t| t == id) {
            sub_techniques.push(id.to_string());
        }
    }
    (techniques, sub_techniques)
}

/// The description the ARM form publishes: as written when its quotes and space are its own
/// (`SentinelSection::description_verbatim`), else without the repository's wrapper.
pub fn published_description(rule: &Rule) -> Option<String> {
    let verbatim = rule.sentinel.as_ref().is_some_and(|s| s.description_verbatim);
    rule.description.as_deref().map(|d| if verbatim { d.to_string() } else { sentinel::clean_description(d) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn techniques_split_into_parents_and_subs() {
        let ids: Vec<String> = ["T1078.004", "T1570", "T1078", "T1078.001"].map(String::from).to_vec();
        let (techniques, subs) = split_techniques(&ids);
        assert_eq!(techniques, ["T1078", "T1570"]);
        assert_eq!(subs, ["T1078.004", "T1078.001"]);
    }

    #[test]
    fn renamed_data_types_key_is_not_duplicated() {
        let mut connector = DataConnector { connector_id: "X".into(), ..Default::default() };
        connector.extensions.insert("datatypes".into(), serde_json::json!(["T"]));
        assert_eq!(connectors(&[connector]), serde_json::json!([{nested::CONNECTOR_ID: "X", "datatypes": ["T"]}]));
    }
}
