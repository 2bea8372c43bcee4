//! `--to sentinel`: a deployable ARM template in the form the Sentinel portal exports.
//!
//! Analytic rules become `alertRules` resources (kind Scheduled or NRT) with the properties
//! the rule says (explicit nulls included) in the portal's order, then ARM properties the IR
//! does not model, as read. The properties the API requires that the rule lacks get the
//! portal's defaults, with a `change` note, and are listed in the overlay (below) so that our
//! reader unsets them again: nothing the author did not write comes back. Hunting queries (no
//! `kind`) become saved searches in the "Hunting Queries" category. What ARM has no property for (connectors,
//! repository tags and metadata, unmodelled keys, the description as written, a hunting
//! query's entity mappings...) travels in the template's `metadata.ruleconv.<rule id>` object
//! in YAML naming: ARM ignores it at deployment, and our ARM reader lays it back over the rule.
//! A Sigma rule is first made a scheduled rule with its KQL (`kql::raise_sentinel_rule`).

use super::sentinel_fields::{self as fields, Form, PortalDefaults};
use super::sentinel_yaml;
use super::{EmitOptions, Emitted, Emitter, Evidence, Subject, kql};
use crate::diag::{Code, Kind, Problem};
use crate::ir::{AttackRef, Rule, RuleKind, SentinelSection, Tactic, TemplateLink};
use crate::sentinel::{self, keys, keys::Key};
use serde_json::{Map, Value, json};

/// Namespace of the ids ruleconv derives for rules that have none (UUID v5 of the rule name).
const DERIVED_ID_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6f1d_3c0e_8b57_4d6a_9c1e_52a7_0b3f_d1e4);

pub struct SentinelArm;

impl Emitter for SentinelArm {
    fn name(&self) -> &'static str {
        "sentinel"
    }

    fn extension(&self) -> &'static str {
        "json"
    }

    fn about(&self) -> &'static str {
        "deployable Sentinel ARM template (the portal's export form); several rules share one template"
    }

    fn options(&self) -> &'static [&'static str] {
        &["--api-version", "--profile", "--set"]
    }

    /// The query is carried as written, so the Detection is not needed.
    fn reads_detection(&self) -> bool {
        false
    }

    fn reads_sigma(&self) -> bool {
        true
    }

    fn emit(&self, subjects: &[Subject], options: &EmitOptions) -> Result<Emitted, Vec<Problem>> {
        let (mut forms, mut problems, mut errors, mut evidence) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for subject in subjects {
            match kql::raise_sentinel_rule(subject, options) {
                Ok(raised) => {
                    forms.push(raised.rule);
                    problems.extend(raised.problems);
                    evidence.push(raised.evidence);
                }
                Err(e) => errors.extend(e),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let rules: Vec<&Rule> = forms.iter().map(|r| r.as_ref()).collect();
        let mut emitted = template(&rules, options)?;
        problems.append(&mut emitted.problems);
        // One template is as proven as its least proven rule.
        Ok(Emitted { text: emitted.text, problems, evidence: evidence.into_iter().min().unwrap_or_default() })
    }
}

fn template(rules: &[&Rule], options: &EmitOptions) -> Result<Emitted, Vec<Problem>> {
    let mut resources = Vec::new();
    let mut overlays = Map::new();
    let mut problems = Vec::new();
    let mut errors = Vec::new();
    let none = SentinelSection::default();
    for rule in rules {
        let section = rule.sentinel.as_ref().unwrap_or(&none);
        let mut note =
            |kind: Kind, code: Code, key: Key, message: String| problems.push(Problem::at_key(kind, code, rule, key.yaml(), message));
        if let Some(change) = fields::severity_change(rule) {
            note(change.kind, change.code, Key::Severity, change.message);
        }
        let id = rule_id(rule, &mut note);
        let built = match section.kind {
            Some(kind) => alert_rule(rule, section, kind, &id, options, &mut note),
            None => Ok(saved_search(rule, section, &id, &mut note)),
        };
        match built {
            Ok(Written { mut resource, represented, filled }) => {
                escape_literals(&mut resource["properties"]);
                resources.push(resource);
                if let Some(overlay) = overlay(rule, &represented, &filled) {
                    overlays.insert(id, overlay);
                }
            }
            Err(missing) => errors.extend(
                missing.into_iter().map(|(key, message)| Problem::at_key(Kind::Error, Code::MissingKey, rule, key.yaml(), message)),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut template = json!({
        "$schema": sentinel::DEPLOYMENT_SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": { "workspace": { "type": "String" } },
        "resources": resources,
    });
    if !overlays.is_empty() {
        template["metadata"] = json!({ sentinel::ARM_METADATA_KEY: overlays });
    }
    Ok(Emitted { text: format!("{template:#}\n"), problems, evidence: Evidence::Unverified })
}

/// ARM evaluates a string that starts with `[` and ends with `]` as an expression at deployment,
/// in values and property names (custom details, carried properties) alike; rule text must
/// stay text, so such a string starts with `[[` (ARM's escape for a literal `[`).
fn escape_literals(value: &mut Value) {
    match value {
        Value::String(s) => escape_literal(s),
        Value::Array(items) => items.iter_mut().for_each(escape_literals),
        Value::Object(map) => {
            *map = std::mem::take(map)
                .into_iter()
                .map(|(mut name, mut value)| {
                    escape_literal(&mut name);
                    escape_literals(&mut value);
                    (name, value)
                })
                .collect();
        }
        _ => {}
    }
}

fn escape_literal(s: &mut String) {
    if s.starts_with('[') && s.ends_with(']') {
        s.insert(0, '[');
    }
}

/// The rule's id, or one derived from its title (the same title always gives the same id).
fn rule_id(rule: &Rule, note: &mut impl FnMut(Kind, Code, Key, String)) -> String {
    if let Some(id) = rule.id.as_deref().filter(|id| is_resource_name(id)) {
        return id.to_string();
    }
    let derived = uuid::Uuid::new_v5(&DERIVED_ID_NAMESPACE, rule.id.as_deref().unwrap_or(&rule.title).as_bytes()).to_string();
    match &rule.id {
        Some(id) => {
            note(Kind::Change, Code::DerivedId, Key::Id, format!("id `{id}` cannot name an ARM resource; using {derived}, derived from it"))
        }
        None => note(Kind::Change, Code::DerivedId, Key::Id, format!("the rule has no id; using {derived}, derived from its name")),
    }
    derived
}

/// Ids that can sit inside the template's `[concat(...)]` expressions as they are.
fn is_resource_name(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A rule resource, the keys of the YAML form (by YAML name) it carries faithfully (the rest go
/// to the overlay), and the required properties it filled with defaults.
struct Written {
    resource: Value,
    represented: Vec<&'static str>,
    filled: Vec<Key>,
}

/// Alert rule properties the API requires that a rule may leave out, with the portal's
/// defaults; filled (with a note) only when the rule does not say them.
fn required_defaults(s: &SentinelSection) -> [(Key, Option<Value>, Value); 3] {
    [
        (Key::Enabled, s.enabled.map(Value::Bool), Value::Bool(PortalDefaults::ENABLED)),
        (
            Key::SuppressionDuration,
            s.suppression.duration.as_ref().map(|d| Form::Arm.duration(d)),
            Form::Arm.duration(&PortalDefaults::suppression_duration()),
        ),
        (Key::SuppressionEnabled, s.suppression.enabled.map(Value::Bool), Value::Bool(PortalDefaults::SUPPRESSION_ENABLED)),
    ]
}

fn alert_rule(
    rule: &Rule,
    s: &SentinelSection,
    kind: RuleKind,
    id: &str,
    options: &EmitOptions,
    note: &mut impl FnMut(Kind, Code, Key, String),
) -> Result<Written, Vec<(Key, String)>> {
    let mut missing = Vec::new();
    let mut require = |present: bool, key: Key| {
        if !present {
            missing.push((key, format!("a {} rule needs `{}` to deploy; the rule has none", keys::kind_name(kind), key.yaml())));
        }
    };
    require(rule.severity.is_some(), Key::Severity);
    require(rule.kql().is_some(), Key::Query);
    if kind == RuleKind::Scheduled {
        require(s.schedule.query_frequency.is_some(), Key::Frequency);
        require(s.schedule.query_period.is_some(), Key::Period);
        require(s.trigger.operator.is_some(), Key::TriggerOperator);
        require(s.trigger.threshold.is_some(), Key::TriggerThreshold);
    }
    if !missing.is_empty() {
        return Err(missing);
    }
    let mut represented: Vec<&'static str> = [
        Key::Id,
        Key::Name,
        Key::Severity,
        Key::Query,
        Key::EntityMappings,
        Key::CustomDetails,
        Key::AlertDetailsOverride,
        Key::EventGrouping,
        Key::Incident,
        Key::SuppressionDuration,
        Key::SuppressionEnabled,
        Key::Enabled,
        Key::TemplateName,
        Key::SentinelEntitiesMappings,
        Key::Version,
        Key::Kind,
        Key::ApiVersion,
        Key::ArmProperties,
    ]
    .map(Key::yaml)
    .to_vec();
    // NRT rules run every minute on what arrived: the schedule and trigger are Scheduled-only
    // properties, so an NRT rule that states them keeps them in the overlay, with a note.
    let schedule = [
        (Key::Frequency, s.schedule.query_frequency.is_some()),
        (Key::Period, s.schedule.query_period.is_some()),
        (Key::TriggerOperator, s.trigger.operator.is_some()),
        (Key::TriggerThreshold, s.trigger.threshold.is_some()),
        (Key::StartTime, s.schedule.start_time_utc.is_some()),
    ];
    if kind == RuleKind::Scheduled {
        represented.extend(schedule.map(|(key, _)| key.yaml()));
        // A spelling other than YAML's usual one travels in the overlay.
        if fields::yaml_trigger(s).as_deref() != s.trigger.operator.map(keys::trigger_yaml) {
            represented.retain(|k| *k != Key::TriggerOperator.yaml());
        }
    } else {
        let stated: Vec<Key> = schedule.iter().filter(|(_, stated)| *stated).map(|(key, _)| *key).collect();
        if let Some(first) = stated.first() {
            let listed: Vec<String> = stated.iter().map(|k| format!("`{}`", k.yaml())).collect();
            note(Kind::Loss, Code::KeptAsData, *first, format!("NRT rules have no {}; kept in template metadata only", listed.join(", ")));
        }
    }
    let description = fields::published_description(rule);
    if description.as_deref() == rule.description.as_deref() {
        represented.push(Key::Description.yaml());
    }
    let tactics = rule.tactics.as_deref().map(|list| api_tactics(list, note));
    if tactics == rule.tactics.as_deref().map(fields::written_texts) {
        represented.push(Key::Tactics.yaml());
    }
    let technique_ids = rule.techniques.as_deref().map(fields::written_texts);
    let (techniques, sub_techniques) = fields::split_techniques(technique_ids.as_deref().unwrap_or_default());
    if technique_ids.as_ref().is_none_or(|ids| *ids == merged(&techniques, &sub_techniques)) {
        represented.push(Key::Techniques.yaml());
    }
    // ARM's own `subTechniques: []` or null, kept as written when there are none to list.
    let sub_techniques_key = Key::SubTechniques.arm().unwrap_or_default();
    represented.push(sub_techniques_key);
    let sub_techniques_property = match s.extensions.get(sub_techniques_key) {
        Some(written) if sub_techniques.is_empty() => Some(written.clone()),
        _ => (!sub_techniques.is_empty()).then(|| fields::strings(&sub_techniques)),
    };
    let api_version =
        options.api_version.clone().or_else(|| s.api_version.clone()).unwrap_or_else(|| sentinel::DEFAULT_ALERT_RULE_API_VERSION.into());
    if !sub_techniques.is_empty() && !api_version.ends_with("-preview") {
        note(
            Kind::Loss,
            Code::NotCarried,
            Key::Techniques,
            format!("apiVersion {api_version} has no `subTechniques`; deploy with a preview API or they will be dropped"),
        );
    }
    let template_name = match &s.template_link {
        TemplateLink::SameAsId => Value::String(id.to_string()),
        TemplateLink::None => Value::Null,
        TemplateLink::Other(name) => Value::String(name.clone()),
    };
    let duration = |d: &Option<crate::ir::Duration>| d.as_ref().map(|d| Form::Arm.duration(d));
    let scheduled = kind == RuleKind::Scheduled;
    let mut filled = Vec::new();
    let defaults = required_defaults(s);
    let mut required = |key: Key| {
        let (_, value, default) = defaults.iter().find(|(k, ..)| *k == key)?;
        if value.is_some() || s.extensions.contains_key(key.yaml()) {
            return value.clone();
        }
        filled.push(key);
        Some(default.clone())
    };
    let mut properties = Map::new();
    // A property is written when the rule says it, as a value or as an explicit null.
    let mut put = |key: Key, value: Option<Value>| {
        if let Some(value) = value.or_else(|| written_null(s, key)) {
            properties.insert(key.arm().unwrap_or(key.yaml()).to_string(), value);
        }
    };
    put(Key::Name, Some(Value::String(rule.title.clone())));
    put(Key::Description, description.map(Value::String));
    put(Key::Severity, rule.severity.map(|v| Value::String(keys::severity(v).name().into())));
    put(Key::Enabled, required(Key::Enabled));
    put(Key::Query, rule.kql().map(|q| Value::String(q.text.clone())));
    if scheduled {
        put(Key::Frequency, duration(&s.schedule.query_frequency));
        put(Key::Period, duration(&s.schedule.query_period));
        put(Key::TriggerOperator, s.trigger.operator.map(|op| Value::String(keys::trigger_arm(op).into())));
        put(Key::TriggerThreshold, s.trigger.threshold.map(Value::from));
    }
    put(Key::SuppressionDuration, required(Key::SuppressionDuration));
    put(Key::SuppressionEnabled, required(Key::SuppressionEnabled));
    if scheduled {
        put(Key::StartTime, fields::string(&s.schedule.start_time_utc));
    }
    put(Key::Tactics, tactics.as_deref().map(fields::strings));
    put(Key::Techniques, technique_ids.is_some().then(|| fields::strings(&techniques)));
    put(Key::SubTechniques, sub_techniques_property);
    put(Key::TemplateName, Some(template_name));
    put(Key::Incident, s.incident_configuration.as_ref().map(|c| fields::incident_configuration(c, Form::Arm)));
    put(Key::EventGrouping, s.event_grouping_settings.as_ref().map(fields::event_grouping));
    put(Key::AlertDetailsOverride, s.alert_details_override.as_ref().map(fields::alert_details_override));
    put(Key::CustomDetails, s.custom_details.as_ref().map(fields::custom_details));
    put(Key::EntityMappings, s.entity_mappings.as_deref().map(fields::entity_mappings));
    put(Key::SentinelEntitiesMappings, s.sentinel_entities_mappings.clone());
    put(Key::Version, fields::string(&s.version));
    for (key, value) in &s.arm_extensions {
        properties.entry(key.clone()).or_insert_with(|| value.clone());
    }
    if !filled.is_empty() {
        let (names, values): (Vec<_>, Vec<_>) = defaults
            .iter()
            .filter(|(key, ..)| filled.contains(key))
            .map(|(key, _, value)| (format!("`{}`", key.yaml()), value.as_str().map_or_else(|| value.to_string(), str::to_string)))
            .unzip();
        note(
            Kind::Change,
            Code::DefaultAdded,
            filled[0],
            format!("the rule has no {}, which ARM requires: written as the portal's defaults ({})", names.join(", "), values.join(", ")),
        );
    }
    let resource = json!({
        "id": format!("[concat(resourceId('Microsoft.OperationalInsights/workspaces/providers', parameters('workspace'), 'Microsoft.SecurityInsights'),'/alertRules/{id}')]"),
        "name": format!("[concat(parameters('workspace'),'/Microsoft.SecurityInsights/{id}')]"),
        "type": sentinel::ALERT_RULE_TYPE,
        "kind": keys::kind_name(kind),
        "apiVersion": api_version,
        "properties": properties,
    });
    Ok(Written { resource, represented, filled })
}

/// The explicit null a rule wrote for a known key, if it did (kept among the section's
/// unmodelled keys under its YAML name). ARM's `subTechniques` keeps its own record.
fn written_null(s: &SentinelSection, key: Key) -> Option<Value> {
    (key != Key::SubTechniques).then(|| s.extensions.get(key.yaml()).filter(|v| v.is_null()).cloned()).flatten()
}

fn merged(techniques: &[String], sub_techniques: &[String]) -> Vec<String> {
    let mut all = techniques.to_vec();
    all.extend(sub_techniques.iter().filter(|s| !techniques.contains(s)).cloned());
    all
}

/// Tactics in the API's spelling; free text that names a tactic is respelled (with a note),
/// anything else is kept and noted, since the API will refuse it.
fn api_tactics(list: &[AttackRef<Tactic>], note: &mut impl FnMut(Kind, Code, Key, String)) -> Vec<String> {
    list.iter()
        .map(|tactic| {
            let written = &tactic.written;
            match keys::api_tactic(tactic) {
                Some(name) if name == written => name.to_string(),
                Some(name) => {
                    note(
                        Kind::Change,
                        Code::Respelled,
                        Key::Tactics,
                        format!("tactic `{written}` written as `{name}`, the API's spelling"),
                    );
                    name.to_string()
                }
                None => {
                    note(
                        Kind::Warning,
                        Code::InvalidValue,
                        Key::Tactics,
                        format!("tactic `{written}` is not one the Sentinel API knows; kept as written, deployment may refuse it"),
                    );
                    written.clone()
                }
            }
        })
        .collect()
}

/// A hunting query as the saved search Sentinel stores it.
fn saved_search(rule: &Rule, s: &SentinelSection, id: &str, note: &mut impl FnMut(Kind, Code, Key, String)) -> Written {
    let mut represented = [Key::Id, Key::Name, Key::Query, Key::ApiVersion].map(Key::yaml).to_vec();
    let mut tags = Vec::new();
    let lists = [
        (Key::Tactics, rule.tactics.as_deref().map(fields::written_texts)),
        (Key::Techniques, rule.techniques.as_deref().map(fields::written_texts)),
    ];
    for (key, tag) in keys::HUNTING_TAGS {
        let value = match key {
            Key::Description => fields::published_description(rule).map(|p| {
                let faithful = rule.description.as_ref() == Some(&p);
                (p, faithful)
            }),
            // Tags hold comma-separated text: lists whose items contain commas cannot travel there.
            _ => lists
                .iter()
                .find(|(k, _)| *k == key)
                .and_then(|(_, list)| list.as_ref())
                .map(|list| (list.join(","), list.iter().all(|item| !item.contains(',') && item.trim() == item && !item.is_empty()))),
        };
        if let Some((value, faithful)) = value {
            tags.push(json!({ "name": tag, "value": value }));
            if faithful {
                represented.push(key.yaml());
            }
        }
    }
    if s.entity_mappings.is_some() || s.custom_details.is_some() {
        let key = if s.entity_mappings.is_some() { Key::EntityMappings } else { Key::CustomDetails };
        note(
            Kind::Loss,
            Code::KeptAsData,
            key,
            "saved searches have no entity mappings or custom details; kept in template metadata only".into(),
        );
    }
    let api_version = s.api_version.clone().unwrap_or_else(|| sentinel::DEFAULT_SAVED_SEARCH_API_VERSION.into());
    let resource = json!({
        "type": sentinel::SAVED_SEARCH_TYPE,
        "apiVersion": api_version,
        "name": format!("[concat(parameters('workspace'), '/{id}')]"),
        "properties": {
            "eTag": "*",
            "displayName": rule.title,
            "category": sentinel::HUNTING_CATEGORY,
            "query": rule.kql().map(|q| q.text.clone()).unwrap_or_default(),
            "version": 2,
            "tags": tags,
        },
    });
    Written { resource, represented, filled: Vec::new() }
}

/// The rule's YAML-form keys that the resource does not carry faithfully, and the properties
/// it filled, or `None` when there are none.
fn overlay(rule: &Rule, represented: &[&str], filled: &[Key]) -> Option<Value> {
    let Value::Object(all) = sentinel_yaml::encode(rule) else { return None };
    let mut rest: Map<String, Value> = all.into_iter().filter(|(key, _)| !represented.contains(&key.as_str())).collect();
    if !filled.is_empty() {
        rest.insert(sentinel::ARM_FILLED_KEY.into(), Value::Array(filled.iter().map(|k| Value::String(k.yaml().into())).collect()));
    }
    (!rest.is_empty()).then_some(Value::Object(rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Duration, Logic, Query, Severity};

    fn rule(kind: Option<RuleKind>) -> Rule {
        Rule {
            id: Some("5b6e1c7a-3f2d-4a8e-9c41-0d2f7e8a9b10".into()),
            title: "Test".into(),
            severity: Some(Severity::High),
            logic: Some(Logic::Kql(Query::new("T".into(), Default::default()))),
            sentinel: Some(SentinelSection { kind, ..Default::default() }),
            ..Default::default()
        }
    }

    fn template(rule: &Rule) -> (Value, Vec<Problem>) {
        let emitted = super::template(&[rule], &EmitOptions::default()).expect("emits");
        (serde_json::from_str(&emitted.text).expect("valid JSON"), emitted.problems)
    }

    #[test]
    fn scheduled_rule_without_schedule_is_refused_naming_each_field() {
        let errors = super::template(&[&rule(Some(RuleKind::Scheduled))], &EmitOptions::default()).unwrap_err();
        let messages: Vec<_> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages.len(), 4, "{messages:?}");
        assert!(messages[0].contains("`queryFrequency`"), "{messages:?}");
    }

    #[test]
    fn nrt_schedule_keys_travel_in_metadata_with_a_note() {
        let mut nrt = rule(Some(RuleKind::Nrt));
        nrt.sentinel.as_mut().expect("a section").schedule.query_frequency = Duration::parse("5m").ok();
        let (arm, notes) = template(&nrt);
        assert!(arm["resources"][0]["properties"].get("queryFrequency").is_none());
        assert_eq!(arm["metadata"]["ruleconv"][nrt.id.as_deref().unwrap()]["queryFrequency"], "5m");
        assert_eq!(notes[0].code, Code::KeptAsData, "{notes:?}");
    }

    #[test]
    fn only_required_properties_are_filled_and_each_fill_is_said() {
        let mut nrt = rule(Some(RuleKind::Nrt));
        nrt.sentinel.as_mut().expect("a section").suppression.enabled = Some(true);
        let (arm, notes) = template(&nrt);
        let properties = &arm["resources"][0]["properties"];
        assert_eq!(
            (&properties["enabled"], &properties["suppressionDuration"], &properties["suppressionEnabled"]),
            (&json!(true), &json!("PT5H"), &json!(true))
        );
        for unsaid in ["incidentConfiguration", "eventGroupingSettings", "startTimeUtc", "customDetails", "subTechniques"] {
            assert!(properties.get(unsaid).is_none(), "{unsaid} was added: {properties}");
        }
        assert_eq!(
            arm["metadata"]["ruleconv"][nrt.id.as_deref().unwrap()][sentinel::ARM_FILLED_KEY],
            json!(["enabled", "suppressionDuration"])
        );
        let fill = notes.iter().find(|n| n.code == Code::DefaultAdded).expect("a note");
        assert!(fill.message.contains("no `enabled`, `suppressionDuration`,") && fill.message.contains("(true, PT5H)"), "{fill:?}");
    }

    #[test]
    fn hunting_query_becomes_a_saved_search_with_tags() {
        let mut hunting = rule(None);
        hunting.description = Some("'Looks for things.'\n".into());
        hunting.tactics = Some(vec![AttackRef::parse("Initial access")]);
        hunting.techniques = Some(vec![AttackRef::parse("T1078.004")]);
        let (arm, _) = template(&hunting);
        let resource = &arm["resources"][0];
        assert_eq!(resource["type"], sentinel::SAVED_SEARCH_TYPE);
        assert_eq!(resource["properties"]["category"], "Hunting Queries");
        let tags = &resource["properties"]["tags"];
        assert_eq!(tags[0], json!({"name": "description", "value": "Looks for things."}));
        assert_eq!(tags[1], json!({"name": "tactics", "value": "Initial access"}));
        assert_eq!(tags[2], json!({"name": "techniques", "value": "T1078.004"}));
        // The description as written is not lost.
        assert_eq!(arm["metadata"]["ruleconv"][hunting.id.as_deref().unwrap()]["description"], "'Looks for things.'\n");
    }

    #[test]
    fn a_critical_rule_deploys_as_high_with_a_change() {
        let mut critical = rule(Some(RuleKind::Nrt));
        critical.severity = Some(Severity::Critical);
        let (arm, problems) = template(&critical);
        assert_eq!(arm["resources"][0]["properties"]["severity"], "High");
        assert!(problems.iter().any(|p| p.kind == Kind::Change && p.code == Code::Respelled), "{problems:?}");
    }

    #[test]
    fn a_rule_without_id_gets_a_stable_derived_one() {
        let mut nameless = rule(Some(RuleKind::Nrt));
        nameless.id = None;
        let (first, notes) = template(&nameless);
        let (second, _) = template(&nameless);
        assert_eq!(first, second);
        assert!(notes.iter().any(|n| n.code == Code::DerivedId), "{notes:?}");
        assert_eq!(first["resources"][0]["properties"]["alertRuleTemplateName"].as_str().map(str::len), Some(36));
    }
}
