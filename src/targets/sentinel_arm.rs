//! `--to sentinel`: a deployable ARM template in the form the Sentinel portal exports.
//!
//! Analytic rules become `alertRules` resources (kind Scheduled or NRT) with every property
//! the portal writes, in its order, `null` where unset. Hunting queries (no `kind`) become
//! saved searches in the "Hunting Queries" category. What ARM has no property for (connectors,
//! repository tags and metadata, unmodelled keys, the description as written, a hunting
//! query's entity mappings...) travels in the template's `metadata.ruleconv.<rule id>` object
//! in YAML naming: ARM ignores it at deployment, and our ARM reader lays it back over the rule.

use super::sentinel_fields::{self as fields, Form, PortalDefaults};
use super::sentinel_yaml;
use super::tactics;
use super::{EmitOptions, Emitted};
use crate::diag::{Kind, Problem};
use crate::ir::{Rule, RuleKind, TemplateLink};
use crate::sentinel;
use serde_json::{Map, Value, json};

/// Namespace of the ids ruleconv derives for rules that have none (UUID v5 of the rule name).
const DERIVED_ID_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6f1d_3c0e_8b57_4d6a_9c1e_52a7_0b3f_d1e4);

pub fn emit(rules: &[&Rule], options: &EmitOptions) -> Result<Emitted, Vec<Problem>> {
    let mut resources = Vec::new();
    let mut overlays = Map::new();
    let mut problems = Vec::new();
    let mut errors = Vec::new();
    for rule in rules {
        let mut note = |kind: Kind, key: &str, message: String| problems.push(Problem::at_key(kind, rule, key, message));
        let id = rule_id(rule, &mut note);
        let built = match rule.kind {
            Some(kind) => alert_rule(rule, kind, &id, options, &mut note),
            None => Ok(saved_search(rule, &id, &mut note)),
        };
        match built {
            Ok((resource, represented)) => {
                resources.push(resource);
                if let Some(overlay) = overlay(rule, &represented) {
                    overlays.insert(id, overlay);
                }
            }
            Err(missing) => errors.extend(missing.into_iter().map(|(key, message)| Problem::at_key(Kind::Error, rule, key, message))),
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
    Ok(Emitted { text: format!("{template:#}\n"), problems })
}

/// The rule's id, or one derived from its name (the same name always gives the same id).
fn rule_id(rule: &Rule, note: &mut impl FnMut(Kind, &str, String)) -> String {
    if let Some(id) = rule.id.as_deref().filter(|id| is_resource_name(id)) {
        return id.to_string();
    }
    let derived = uuid::Uuid::new_v5(&DERIVED_ID_NAMESPACE, rule.id.as_deref().unwrap_or(&rule.name).as_bytes()).to_string();
    match &rule.id {
        Some(id) => note(Kind::Change, "id", format!("id `{id}` cannot name an ARM resource; using {derived}, derived from it")),
        None => note(Kind::Change, "id", format!("the rule has no id; using {derived}, derived from its name")),
    }
    derived
}

/// Ids that can sit inside the template's `[concat(...)]` expressions as they are.
fn is_resource_name(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The keys of the YAML form that an ARM resource carries faithfully; the rest go to the overlay.
type Represented = Vec<&'static str>;

fn alert_rule(
    rule: &Rule,
    kind: RuleKind,
    id: &str,
    options: &EmitOptions,
    note: &mut impl FnMut(Kind, &str, String),
) -> Result<(Value, Represented), Vec<(&'static str, String)>> {
    let mut missing = Vec::new();
    let mut require = |present: bool, key: &'static str| {
        if !present {
            missing.push((key, format!("a {} rule needs `{key}` to deploy; the rule has none", kind.name())));
        }
    };
    require(rule.severity.is_some(), "severity");
    require(rule.query.is_some(), "query");
    if kind == RuleKind::Scheduled {
        require(rule.query_frequency.is_some(), "queryFrequency");
        require(rule.query_period.is_some(), "queryPeriod");
        require(rule.trigger_operator.is_some(), "triggerOperator");
        require(rule.trigger_threshold.is_some(), "triggerThreshold");
    }
    if !missing.is_empty() {
        return Err(missing);
    }
    let mut represented: Represented = vec![
        "id",
        "name",
        "severity",
        "query",
        "entityMappings",
        "customDetails",
        "alertDetailsOverride",
        "eventGroupingSettings",
        "incidentConfiguration",
        "suppressionDuration",
        "suppressionEnabled",
        "enabled",
        "alertRuleTemplateName",
        "sentinelEntitiesMappings",
        "version",
        "kind",
        "apiVersion",
    ];
    // NRT rules run every minute on what arrived: the schedule and trigger are Scheduled-only
    // properties, so an NRT rule that states them keeps them in the overlay, with a note.
    const SCHEDULE: [&str; 5] = ["queryFrequency", "queryPeriod", "triggerOperator", "triggerThreshold", "startTimeUtc"];
    if kind == RuleKind::Scheduled {
        represented.extend(SCHEDULE);
    } else {
        let stated = [
            rule.query_frequency.is_some(),
            rule.query_period.is_some(),
            rule.trigger_operator.is_some(),
            rule.trigger_threshold.is_some(),
            rule.start_time_utc.is_some(),
        ];
        let stated: Vec<&str> = SCHEDULE.iter().zip(stated).filter(|(_, s)| *s).map(|(k, _)| *k).collect();
        if let Some(first) = stated.first() {
            let listed: Vec<String> = stated.iter().map(|k| format!("`{k}`")).collect();
            note(Kind::Loss, first, format!("NRT rules have no {}; kept in template metadata only", listed.join(", ")));
        }
    }
    let description = rule.description.as_deref().map(fields::clean_description);
    if description.as_deref() == rule.description.as_deref() {
        represented.push("description");
    }
    // An empty list reads back as unset (portal exports write `[]` for none), so an explicit
    // empty list travels in the overlay.
    let tactics = rule.tactics.as_deref().map(|list| api_tactics(list, note));
    if tactics.as_deref() == rule.tactics.as_deref() && tactics.as_ref().is_none_or(|t| !t.is_empty()) {
        represented.push("tactics");
    }
    let (techniques, sub_techniques) = fields::split_techniques(rule.relevant_techniques.as_deref().unwrap_or_default());
    if rule.relevant_techniques.as_ref().is_none_or(|ids| !ids.is_empty() && *ids == merged(&techniques, &sub_techniques)) {
        represented.push("relevantTechniques");
    }
    let api_version =
        options.api_version.clone().or_else(|| rule.api_version.clone()).unwrap_or_else(|| sentinel::DEFAULT_ALERT_RULE_API_VERSION.into());
    if !sub_techniques.is_empty() && !api_version.ends_with("-preview") {
        note(
            Kind::Loss,
            "relevantTechniques",
            format!("apiVersion {api_version} has no `subTechniques`; deploy with a preview API or they will be dropped"),
        );
    }
    let template_name = match &rule.alert_rule_template {
        TemplateLink::SameAsId => Value::String(id.to_string()),
        TemplateLink::None => Value::Null,
        TemplateLink::Other(name) => Value::String(name.clone()),
    };
    let duration = |d: &Option<crate::ir::Duration>| d.as_ref().map(|d| Form::Arm.duration(d));
    let scheduled = kind == RuleKind::Scheduled;
    let mut properties = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        properties.insert(key.to_string(), value.unwrap_or(Value::Null));
    };
    put("displayName", Some(Value::String(rule.name.clone())));
    put("description", Some(Value::String(description.unwrap_or_default())));
    put("severity", rule.severity.map(|s| Value::String(s.name().into())));
    put("enabled", Some(Value::Bool(rule.enabled.unwrap_or(PortalDefaults::ENABLED))));
    put("query", rule.query.as_ref().map(|q| Value::String(q.text.clone())));
    if scheduled {
        put("queryFrequency", duration(&rule.query_frequency));
        put("queryPeriod", duration(&rule.query_period));
        put("triggerOperator", rule.trigger_operator.map(|op| Value::String(op.arm_name().into())));
        put("triggerThreshold", rule.trigger_threshold.map(Value::from));
    }
    put("suppressionDuration", Some(Form::Arm.duration(&rule.suppression_duration.unwrap_or_else(PortalDefaults::suppression_duration))));
    put("suppressionEnabled", Some(Value::Bool(rule.suppression_enabled.unwrap_or(PortalDefaults::SUPPRESSION_ENABLED))));
    if scheduled {
        put("startTimeUtc", fields::string(&rule.start_time_utc));
    }
    put("tactics", Some(fields::strings(tactics.as_deref().unwrap_or_default())));
    put("techniques", Some(fields::strings(&techniques)));
    put("subTechniques", Some(fields::strings(&sub_techniques)));
    put("alertRuleTemplateName", Some(template_name));
    let incident = rule.incident_configuration.clone().unwrap_or_else(PortalDefaults::incident_configuration);
    put("incidentConfiguration", Some(fields::incident_configuration(&incident, Form::Arm)));
    let grouping = rule.event_grouping_settings.clone().unwrap_or_else(PortalDefaults::event_grouping);
    put("eventGroupingSettings", Some(fields::event_grouping(&grouping)));
    put("alertDetailsOverride", rule.alert_details_override.as_ref().map(fields::alert_details_override));
    put("customDetails", rule.custom_details.as_ref().map(fields::custom_details));
    put("entityMappings", rule.entity_mappings.as_deref().map(fields::entity_mappings));
    put("sentinelEntitiesMappings", rule.sentinel_entities_mappings.clone());
    put("templateVersion", fields::string(&rule.version));
    let resource = json!({
        "id": format!("[concat(resourceId('Microsoft.OperationalInsights/workspaces/providers', parameters('workspace'), 'Microsoft.SecurityInsights'),'/alertRules/{id}')]"),
        "name": format!("[concat(parameters('workspace'),'/Microsoft.SecurityInsights/{id}')]"),
        "type": sentinel::ALERT_RULE_TYPE,
        "kind": kind.name(),
        "apiVersion": api_version,
        "properties": properties,
    });
    Ok((resource, represented))
}

fn merged(techniques: &[String], sub_techniques: &[String]) -> Vec<String> {
    let mut all = techniques.to_vec();
    all.extend(sub_techniques.iter().filter(|s| !techniques.contains(s)).cloned());
    all
}

/// Tactics in the API's spelling; free text that names a tactic is respelled (with a note),
/// anything else is kept and noted, since the API will refuse it.
fn api_tactics(list: &[String], note: &mut impl FnMut(Kind, &str, String)) -> Vec<String> {
    list.iter()
        .map(|tactic| match tactics::api_name(tactic) {
            Some(name) if name == tactic => name.to_string(),
            Some(name) => {
                note(Kind::Change, "tactics", format!("tactic `{tactic}` written as `{name}`, the API's spelling"));
                name.to_string()
            }
            None => {
                note(
                    Kind::Warning,
                    "tactics",
                    format!("tactic `{tactic}` is not one the Sentinel API knows; kept as written, deployment may refuse it"),
                );
                tactic.clone()
            }
        })
        .collect()
}

/// A hunting query as the saved search Sentinel stores it.
fn saved_search(rule: &Rule, id: &str, note: &mut impl FnMut(Kind, &str, String)) -> (Value, Represented) {
    let mut represented: Represented = vec!["id", "name", "query", "apiVersion"];
    let mut tags = Vec::new();
    if let Some(description) = &rule.description {
        let cleaned = fields::clean_description(description);
        if cleaned == *description {
            represented.push("description");
        }
        tags.push(json!({ "name": "description", "value": cleaned }));
    }
    // Tags hold comma-separated text: lists whose items contain commas cannot travel there.
    for (key, tag, list) in [("tactics", "tactics", &rule.tactics), ("relevantTechniques", "techniques", &rule.relevant_techniques)] {
        if let Some(list) = list {
            tags.push(json!({ "name": tag, "value": list.join(",") }));
            if list.iter().all(|item| !item.contains(',') && item.trim() == item && !item.is_empty()) {
                represented.push(key);
            }
        }
    }
    if rule.entity_mappings.is_some() || rule.custom_details.is_some() {
        let key = if rule.entity_mappings.is_some() { "entityMappings" } else { "customDetails" };
        note(Kind::Loss, key, "saved searches have no entity mappings or custom details; kept in template metadata only".into());
    }
    let api_version = rule.api_version.clone().unwrap_or_else(|| sentinel::DEFAULT_SAVED_SEARCH_API_VERSION.into());
    let resource = json!({
        "type": sentinel::SAVED_SEARCH_TYPE,
        "apiVersion": api_version,
        "name": format!("[concat(parameters('workspace'), '/{id}')]"),
        "properties": {
            "eTag": "*",
            "displayName": rule.name,
            "category": sentinel::HUNTING_CATEGORY,
            "query": rule.query.as_ref().map(|q| q.text.clone()).unwrap_or_default(),
            "version": 2,
            "tags": tags,
        },
    });
    (resource, represented)
}

/// The rule's YAML-form keys that the resource does not carry faithfully (null-valued keys
/// included: ARM reads null as unset), or `None` when there are none.
fn overlay(rule: &Rule, represented: &[&str]) -> Option<Value> {
    let Value::Object(all) = sentinel_yaml::encode(rule) else { return None };
    let rest: Map<String, Value> = all.into_iter().filter(|(key, value)| value.is_null() || !represented.contains(&key.as_str())).collect();
    (!rest.is_empty()).then_some(Value::Object(rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Duration, Query, Severity};

    fn rule(kind: Option<RuleKind>) -> Rule {
        Rule {
            id: Some("5b6e1c7a-3f2d-4a8e-9c41-0d2f7e8a9b10".into()),
            name: "Test".into(),
            severity: Some(Severity::High),
            kind,
            query: Some(Query { text: "T".into(), ..Default::default() }),
            ..Default::default()
        }
    }

    fn template(rule: &Rule) -> (Value, Vec<Problem>) {
        let emitted = emit(&[rule], &EmitOptions::default()).expect("emits");
        (serde_json::from_str(&emitted.text).expect("valid JSON"), emitted.problems)
    }

    #[test]
    fn scheduled_rule_without_schedule_is_refused_naming_each_field() {
        let errors = emit(&[&rule(Some(RuleKind::Scheduled))], &EmitOptions::default()).unwrap_err();
        let messages: Vec<_> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages.len(), 4, "{messages:?}");
        assert!(messages[0].contains("`queryFrequency`"), "{messages:?}");
    }

    #[test]
    fn nrt_schedule_keys_travel_in_metadata_with_a_note() {
        let mut nrt = rule(Some(RuleKind::Nrt));
        nrt.query_frequency = Duration::parse("5m").ok();
        let (arm, notes) = template(&nrt);
        assert!(arm["resources"][0]["properties"].get("queryFrequency").is_none());
        assert_eq!(arm["metadata"]["ruleconv"][nrt.id.as_deref().unwrap()]["queryFrequency"], "5m");
        assert!(notes[0].message.contains("NRT rules have no `queryFrequency`"), "{notes:?}");
    }

    #[test]
    fn hunting_query_becomes_a_saved_search_with_tags() {
        let mut hunting = rule(None);
        hunting.description = Some("'Looks for things.'\n".into());
        hunting.tactics = Some(vec!["Initial access".into()]);
        hunting.relevant_techniques = Some(vec!["T1078.004".into()]);
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
    fn a_rule_without_id_gets_a_stable_derived_one() {
        let mut nameless = rule(Some(RuleKind::Nrt));
        nameless.id = None;
        let (first, notes) = template(&nameless);
        let (second, _) = template(&nameless);
        assert_eq!(first, second);
        assert!(notes.iter().any(|n| n.message.contains("derived from its name")), "{notes:?}");
        assert_eq!(first["resources"][0]["properties"]["alertRuleTemplateName"].as_str().map(str::len), Some(36));
    }
}
