//! The readers on the fixtures: what each format yields, where queries map back to, and how
//! bad input is reported.

#[path = "support/shared.rs"]
mod shared;

use ruleconv::diag::{Code, Kind, Position, Problem};
use ruleconv::ir::*;
use ruleconv::read::{self, ReadOutcome};
use serde_json::json;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn errors(outcome: &ReadOutcome) -> Vec<&Problem> {
    outcome.problems.iter().filter(|p| p.is_error()).collect()
}

fn read_ok(name: &str) -> Vec<Rule> {
    let outcome = read::read_path(&fixture(name));
    assert!(errors(&outcome).is_empty(), "{name}: {:#?}", outcome.problems);
    outcome.rules
}

/// The 1-based line and column of the first `needle` in the file at or after line `from`.
fn find_in_file(path: &Path, from: usize, needle: &str) -> Position {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    for (i, line) in text.lines().enumerate().skip(from.saturating_sub(1)) {
        if let Some(b) = line.find(needle) {
            return Position::new(i + 1, line[..b].chars().count() + 1);
        }
    }
    panic!("{needle:?} not in {}", path.display());
}

/// Where the locator puts the first `needle` of the rule's query.
fn locate(rule: &Rule, needle: &str) -> Position {
    let q = rule.kql().unwrap();
    let offset = q.text.find(needle).unwrap_or_else(|| panic!("{needle:?} not in query {:?}", q.text));
    q.locator.position(&q.text, offset)
}

fn read(text: &str, name: &str) -> ReadOutcome {
    read::read_text(text, Path::new(name), None)
}

#[test]
fn sentinel_fixtures_read_with_their_shapes() {
    let rule = &read_ok("sentinel/scheduled_grouping_custom_details.yaml")[0];
    assert_eq!(sec(rule).kind, Some(RuleKind::Scheduled));
    assert_eq!(rule.severity, Some(Severity::Medium));
    assert!(sec(rule).custom_details.as_ref().is_some_and(|c| !c.is_empty()));
    assert!(sec(rule).alert_details_override.as_ref().and_then(|o| o.alert_display_name_format.as_ref()).is_some());
    assert_eq!(sec(rule).event_grouping_settings.as_ref().and_then(|e| e.aggregation_kind.as_deref()), Some("AlertPerResult"));
    assert!(sec(rule).entity_mappings.as_ref().is_some_and(|m| !m[0].field_mappings.is_empty()));
    assert_eq!(rule.origin.format, SourceFormat::SentinelYaml);
    assert_eq!(sec(rule).template_link, TemplateLink::SameAsId);

    let nrt = &read_ok("sentinel/nrt_console_logon.yaml")[0];
    assert_eq!(sec(nrt).kind, Some(RuleKind::Nrt));

    let plain = &read_ok("sentinel/scheduled_plain_query_severity_column.yaml")[0];
    assert!(sec(plain).alert_details_override.as_ref().unwrap().alert_severity_column_name.is_some());
    assert_eq!(sec(plain).trigger.operator, Some(TriggerOperator::GreaterThan));
    assert_eq!(sec(plain).schedule.query_frequency.map(|d| d.to_string()).as_deref(), Some("5h"));

    let hunting = &read_ok("sentinel/hunting_null_tactics.yaml")[0];
    assert_eq!(sec(hunting).kind, None);
    assert_eq!(hunting.tactics, None);
    assert_eq!(sec(hunting).extensions.get("tactics"), Some(&serde_json::Value::Null));

    let no_id = &read_ok("sentinel/hunting_no_id.yml")[0];
    assert_eq!(no_id.id, None);

    let refs = &read_ok("sentinel/hunting_references.yaml")[0];
    assert_eq!(sec(refs).extensions.keys().collect::<Vec<_>>(), ["References"]);
    assert_eq!(written(&refs.techniques), Some(vec!["T1095", "T1059.004", "T1070"]));

    let bom = &read_ok("sentinel/hunting_bom.yaml")[0];
    assert!(!bom.title.starts_with('\u{feff}') && bom.id.as_deref().is_some_and(|id| !id.contains('\u{feff}')));

    let tags = &read_ok("sentinel/scheduled_tags.yaml")[0];
    assert!(sec(tags).tags.as_ref().is_some_and(|t| t.is_array()));
}

#[test]
fn descriptions_are_kept_verbatim_with_their_quotes() {
    let rule = &read_ok("sentinel/nrt_console_logon.yaml")[0];
    let d = rule.description.as_deref().unwrap();
    assert!(d.starts_with('\'') && d.trim_end().ends_with('\''), "{d:?}");
}

#[test]
fn datatypes_spelling_is_kept_and_warned_about() {
    let outcome = read::read_path(&fixture("sentinel/scheduled_datatypes_spelling.yaml"));
    let rule = &outcome.rules[0];
    let aws = sec(rule).required_data_connectors.as_ref().unwrap().iter().find(|c| c.connector_id == "AWSS3").unwrap();
    assert!(aws.data_types.is_empty());
    assert_eq!(aws.extensions.get("datatypes"), Some(&json!(["AWSVPCFlow"])));
    let w = outcome.problems.iter().find(|p| p.kind == Kind::Warning).expect("a warning");
    assert_eq!(w.code, Code::InvalidValue, "{w}");
    assert_eq!(w.position, find_in_file(&fixture("sentinel/scheduled_datatypes_spelling.yaml"), 1, "datatypes"));
}

#[test]
fn empty_list_items_are_kept_as_written() {
    let outcome = read::read_path(&fixture("sentinel/hunting_empty_technique.yaml"));
    let rule = &outcome.rules[0];
    assert_eq!(rule.techniques, None);
    assert_eq!(sec(rule).extensions.get("relevantTechniques"), Some(&json!([null])));
    assert!(outcome.problems.iter().all(|p| p.kind == Kind::Warning));
}

#[test]
fn locator_maps_literal_block_queries_into_the_file() {
    for (name, needle) in [
        ("sentinel/scheduled_grouping_custom_details.yaml", "_Im_WebSession"),
        ("sentinel/hunting_crlf.yaml", "| where"),
        ("sentinel/hunting_indent_indicator.yaml", "| where"),
        ("sentinel/hunting_empty_technique.yaml", "BehaviorAnalytics"),
        ("sentinel/hunting_bom.yaml", "| where"),
    ] {
        let path = fixture(name);
        let rule = &read_ok(name)[0];
        let query_line = find_in_file(&path, 1, "query:").line;
        assert_eq!(locate(rule, needle), find_in_file(&path, query_line + 1, needle), "{name}");
    }
    // Deep inside the query: the last line of a literal block.
    let path = fixture("sentinel/nrt_console_logon.yaml");
    let rule = &read_ok("sentinel/nrt_console_logon.yaml")[0];
    let q = rule.kql().unwrap();
    let last = q.text.trim_end().lines().last().unwrap().trim();
    let query_line = find_in_file(&path, 1, "query:").line;
    assert_eq!(locate(rule, last), find_in_file(&path, query_line + 1, last));
}

#[test]
fn locator_maps_plain_multiline_queries() {
    let name = "sentinel/scheduled_plain_query_severity_column.yaml";
    let rule = &read_ok(name)[0];
    let needle = "| extend tokens = split";
    assert_eq!(locate(rule, needle), find_in_file(&fixture(name), 1, needle));
}

#[test]
fn front_matter_strips_the_fence_and_maps_escapes() {
    let path = fixture("sentinel-rule-front-matter.md");
    assert_eq!(read::detect(&std::fs::read_to_string(&path).unwrap(), &path), Some(SourceFormat::MarkdownFrontMatter));
    let rules = read_ok("sentinel-rule-front-matter.md");
    assert_eq!(rules.len(), 1);
    let rule = &rules[0];
    assert_eq!(rule.origin.format, SourceFormat::MarkdownFrontMatter);
    assert_eq!(rule.id.as_deref(), Some("172a321b-c46b-4508-87c6-e2691c778107"));
    assert_eq!(sec(rule).version.as_deref(), Some("1.0.3"));
    let q = &rule.kql().unwrap().text;
    assert!(q.starts_with("let starttime = todatetime('{{StartTimeISO}}');\n"), "{q:?}");
    assert!(q.ends_with("| extend URL_0_Url = Url\n"), "{q:?}");
    assert!(!q.contains("```"));
    assert!(
        sec(rule).extensions.get("description-detailed").and_then(|v| v.as_str()).is_some_and(|d| d.starts_with("'This query identifies"))
    );
    assert_eq!(sec(rule).entity_mappings.as_ref().unwrap().len(), 4);
    // The query is one double-quoted line with `\n` escapes: offsets map to columns of it.
    assert_eq!(locate(rule, "let starttime"), find_in_file(&path, 1, "let starttime"));
    assert_eq!(locate(rule, "ThreatIntelligenceIndicator\n"), find_in_file(&path, 1, "ThreatIntelligenceIndicator\\n"));
    assert_eq!(locate(rule, "tostring(split(FileName, \".\")"), find_in_file(&path, 1, "tostring(split(FileName, \\\".\\\")"));
    assert_eq!(locate(rule, "| extend URL_0_Url"), find_in_file(&path, 1, "| extend URL_0_Url"));
}

#[test]
fn catalog_entries_with_the_same_id_and_query_are_one_rule() {
    let path = fixture("rule-catalog.md");
    assert_eq!(read::detect(&std::fs::read_to_string(&path).unwrap(), &path), Some(SourceFormat::MarkdownCatalog));
    let rules = read_ok("rule-catalog.md");
    assert_eq!(rules.len(), 1, "20 entries, one rule");
    let rule = &rules[0];
    assert_eq!(rule.origin.format, SourceFormat::MarkdownCatalog);
    assert_eq!(rule.id.as_deref(), Some("55fbc363-6cc9-4201-bd68-d980b612082b"));
    assert_eq!(rule.title, "Azure VM Run Command linked with MDE");
    assert_eq!(sec(rule).kind, None, "DetectionType Hunting");
    assert_eq!(written(&rule.tactics), Some(vec!["LateralMovement", "CredentialAccess"]));
    assert_eq!(written(&rule.techniques), Some(vec!["T1570", "T1078.004"]));
    assert_eq!(sec(rule).extensions.get("Platform"), Some(&json!(["Azure", "Windows", "SaaS"])));
    assert!(
        sec(rule).extensions.get("DetectionUrl").and_then(|v| v.as_str()).is_some_and(|u| u.ends_with("AzureRunCommandMDELinked.yaml"))
    );
    assert_eq!(sec(rule).extensions.get("IngestedDate"), Some(&json!("2022-08-07")));
    let connectors: Vec<(&str, Vec<&str>)> = sec(rule)
        .required_data_connectors
        .as_ref()
        .unwrap()
        .iter()
        .map(|c| (c.connector_id.as_str(), c.data_types.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        connectors,
        [("MicrosoftThreatProtection", vec!["DeviceFileEvents", "DeviceEvents"]), ("AzureActivity", vec!["AzureActivity"])]
    );
    let mut data_types: Vec<&str> = connectors.iter().flat_map(|(_, t)| t.iter().copied()).collect();
    data_types.sort();
    assert_eq!(data_types, ["AzureActivity", "DeviceEvents", "DeviceFileEvents"]);
    assert_eq!(rule.severity, None);
    assert_eq!(sec(rule).schedule.query_frequency, None);
    let d = rule.description.as_deref().unwrap();
    assert!(d.starts_with("'Identifies any Azure VM Run Command") && d.ends_with("loaded by the command.'"), "{d:?}");
    // The query is the first entry's ```kql block, line for line.
    let q = &rule.kql().unwrap().text;
    assert!(q.starts_with("AzureActivity\n// Isolate run command actions\n"));
    assert_eq!(locate(rule, "AzureActivity"), Position::new(30, 1));
    assert_eq!(locate(rule, "| where Authorization has"), find_in_file(&path, 30, "| where Authorization has"));
    assert_eq!(locate(rule, "RunCommandExtension.exe"), find_in_file(&path, 30, "RunCommandExtension.exe"));
}

const CATALOG_ENTRY: &str = "## Title {n}\n\nDescription {n}.\n\n|Name | Value |\n| --- | --- |\n|Tactic | {tactic}|\n|DetectionType | Analytic |\n|DetectionId | {id} |\n|DetectionSeverity | {severity} |\n|QueryFrequency | 1h |\n|QueryPeriod | 1h |\n|TriggerOperator | gt |\n|TriggerThreshold | {threshold} |\n\n### KQL\n```kql\n{query}\n```\n\n";

fn entry(n: usize, id: &str, tactic: &str, severity: &str, threshold: &str, query: &str) -> String {
    CATALOG_ENTRY
        .replace("{n}", &n.to_string())
        .replace("{id}", id)
        .replace("{tactic}", tactic)
        .replace("{severity}", severity)
        .replace("{threshold}", threshold)
        .replace("{query}", query)
}

#[test]
fn catalog_same_id_different_query_is_two_rules_with_a_warning() {
    let text = format!(
        "# Rules\n\n{}{}{}",
        entry(1, "a", "Execution", "High", "0", "T | take 1"),
        entry(2, "a", "Impact", "High", "0", "T | take 2"),
        entry(3, "a", "Impact", "Low", "0", "T | take 1")
    );
    let outcome = read(&text, "c.md");
    assert!(errors(&outcome).is_empty(), "{:#?}", outcome.problems);
    assert_eq!(outcome.rules.len(), 2);
    assert_eq!(written(&outcome.rules[0].tactics), Some(vec!["Execution", "Impact"]));
    assert_eq!(sec(&outcome.rules[0]).kind, Some(RuleKind::Scheduled));
    assert_eq!(outcome.rules[0].severity, Some(Severity::High), "first value kept");
    assert_eq!(sec(&outcome.rules[0]).trigger.threshold, Some(0));
    assert_eq!(outcome.rules[1].kql().unwrap().text, "T | take 2\n");
    // Two queries under one id (said at each rule), and two severities for the first rule.
    let conflicts: Vec<_> = outcome.problems.iter().filter(|p| p.code == Code::ConflictingValue).map(|p| p.position.line).collect();
    assert_eq!(conflicts, [3, 52, 23], "{:?}", outcome.problems);
}

#[test]
fn catalog_bad_values_point_at_their_cells() {
    let text = format!("{}{}", entry(1, "a", "Execution", "Critical", "0", "T"), entry(2, "b", "Execution", "High", "many", "U"));
    let outcome = read(&text, "c.md");
    assert_eq!(outcome.rules.len(), 0);
    let e = errors(&outcome);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert_eq!((e[0].code, e[1].code), (Code::InvalidValue, Code::InvalidValue));
    assert_eq!(e[0].message, "`severity` must be one of Informational, Low, Medium, High, found `Critical`");
    assert_eq!(e[0].position, Position::new(10, 21));
    assert_eq!(e[0].rule.as_ref().and_then(|r| r.label.as_deref()), Some("Title 1"));
    assert_eq!(e[1].message, "`triggerThreshold` must be an integer, found a string");
}

#[test]
fn arm_export_with_scheduled_and_nrt_rules() {
    let path = fixture("arm/portal_export.json");
    assert_eq!(read::detect(&std::fs::read_to_string(&path).unwrap(), &path), Some(SourceFormat::Arm));
    let rules = read_ok("arm/portal_export.json");
    assert_eq!(rules.len(), 2);
    let (s, n) = (&rules[0], &rules[1]);
    assert_eq!(s.id.as_deref(), Some("5b6e1c7a-3f2d-4a8e-9c41-0d2f7e8a9b10"));
    assert_eq!(s.title, "Rare admin role assignment");
    assert_eq!(sec(s).kind, Some(RuleKind::Scheduled));
    assert_eq!(sec(s).api_version.as_deref(), Some("2023-12-01-preview"));
    assert_eq!(sec(s).schedule.query_period, Some(Duration { days: 1, ..Default::default() }));
    assert_eq!(sec(s).trigger.operator, Some(TriggerOperator::GreaterThan));
    assert_eq!(written(&s.techniques), Some(vec!["T1098", "T1098.003"]));
    assert_eq!(sec(s).template_link, TemplateLink::None);
    assert_eq!(sec(s).schedule.start_time_utc, None);
    assert_eq!(sec(s).enabled, Some(true));
    assert_eq!(sec(s).suppression.enabled, Some(false));
    assert_eq!(sec(s).version, None);
    let grouping = sec(s).incident_configuration.as_ref().unwrap().grouping_configuration.as_ref().unwrap();
    assert_eq!(grouping.matching_method.as_deref(), Some("Selected"));
    assert_eq!(grouping.group_by_custom_details.as_deref(), Some(&["Role".to_string()][..]));
    let o = sec(s).alert_details_override.as_ref().unwrap();
    assert_eq!(o.alert_description_format, None);
    assert_eq!(o.extensions.get("alertDescriptionFormat"), Some(&json!(null)), "a nested null is kept as written");
    assert_eq!(o.alert_dynamic_properties.as_ref().unwrap()[0].alert_property, "ProviderName");
    // ARM nulls leave the typed fields unset and are kept (under YAML names) to be written back.
    assert_eq!(sec(s).extensions.get("startTimeUtc"), Some(&json!(null)));
    assert_eq!(sec(s).extensions.get("version"), Some(&json!(null)), "templateVersion");
    assert!(sec(s).extensions.values().all(|v| v.is_null()), "{:?}", sec(s).extensions);
    assert_eq!(s.origin.index, 0);
    assert_eq!(n.origin.index, 1);
    assert_eq!(sec(n).kind, Some(RuleKind::Nrt));
    assert_eq!(sec(n).template_link, TemplateLink::SameAsId);
    assert_eq!(sec(n).version.as_deref(), Some("1.0.2"));
    assert_eq!(sec(n).schedule.query_frequency, None);
    // JSON strings with `\r\n` and `\"` escapes map back to the one file line they sit on.
    assert!(s.kql().unwrap().text.contains("\r\n| where OperationName == \"Add member to role\""));
    assert_eq!(locate(s, "\"success\""), find_in_file(&path, 1, "\\\"success\\\""));
    assert_eq!(locate(s, "| project TimeGenerated"), find_in_file(&path, 1, "| project TimeGenerated"));
    assert_eq!(locate(n, "| where EventID == 1102"), find_in_file(&path, 1, "| where EventID == 1102"));
}

#[test]
fn arm_hunting_saved_search() {
    let rules = read_ok("arm/hunting_saved_search.json");
    assert_eq!(rules.len(), 1, "the workbook is not a rule");
    let r = &rules[0];
    assert_eq!(r.id.as_deref(), Some("1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b"));
    assert_eq!(sec(r).kind, None);
    assert_eq!(r.description.as_deref(), Some("Office applications starting rarely seen processes."));
    assert_eq!(written(&r.tactics), Some(vec!["Execution", "InitialAccess"]));
    assert_eq!(written(&r.techniques), Some(vec!["T1204", "T1566.001"]));
    assert!(sec(r).extensions.is_empty(), "{:?}", sec(r).extensions);
    assert_eq!(locate(r, "| summarize"), find_in_file(&fixture("arm/hunting_saved_search.json"), 1, "| summarize"));
}

#[test]
fn arm_content_package_rule_templates_are_rules() {
    let path = fixture("arm/content_package.json");
    let rules = read_ok("arm/content_package.json");
    assert_eq!(rules.len(), 1, "the metadata and package resources are not rules");
    let r = &rules[0];
    // Id and version come from the package's variables, through the content template.
    assert_eq!(r.id.as_deref(), Some("5f0d7c3e-2b8a-4d21-9c55-0e6a1b7f4d10"));
    assert_eq!(sec(r).version.as_deref(), Some("1.0.2"));
    assert_eq!(sec(r).template_link, TemplateLink::SameAsId);
    assert_eq!(sec(r).kind, Some(RuleKind::Scheduled));
    assert_eq!(sec(r).api_version, None, "the AlertRuleTemplates apiVersion does not apply to alert rules");
    assert_eq!(sec(r).arm_extensions.get("status"), Some(&json!("Available")), "an ARM property the IR does not model");
    assert_eq!(locate(r, "| where Countries > 5"), find_in_file(&path, 1, "| where Countries > 5"));
    // What the rule cannot carry (the package's author, source, support) is said, not dropped.
    let outcome = read::read_path(&path);
    let warnings: Vec<_> = outcome.problems.iter().filter(|p| !p.is_error()).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].code, Code::NotCarried, "{warnings:?}");
    // At the metadata resource's opening brace, the line above its `type`.
    let metadata_type = find_in_file(&path, 1, "\"type\": \"Microsoft.OperationalInsights/workspaces/providers/metadata\"");
    assert_eq!(warnings[0].position.line, metadata_type.line - 1);
}

#[test]
fn arm_rules_in_a_nested_deployment_are_found() {
    let text = r#"{
  "resources": [{
    "type": "Microsoft.Resources/deployments",
    "name": "rules",
    "properties": {"mode": "Incremental", "template": {"resources": [{
      "type": "Microsoft.OperationalInsights/workspaces/providers/alertRules",
      "name": "ws/Microsoft.SecurityInsights/nested-rule",
      "kind": "NRT",
      "properties": {"displayName": "Nested", "severity": "Low", "enabled": true, "query": "T", "tactics": [],
                     "suppressionDuration": "PT5H", "suppressionEnabled": false}
    }]}}
  }]
}"#;
    let outcome = read(text, "nested.json");
    assert!(errors(&outcome).is_empty(), "{:?}", outcome.problems);
    assert_eq!(outcome.rules.len(), 1);
    assert_eq!(outcome.rules[0].id.as_deref(), Some("nested-rule"));
    assert_eq!(sec(&outcome.rules[0]).version, None, "only packaged templates take their content version");
    assert_eq!(outcome.rules[0].origin.position.line, 5, "the resource starts at its opening brace");
}

#[test]
fn arm_metadata_overlay_restores_repository_fields() {
    let text = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "metadata": {
    "ruleconv": {
      "0a1b2c3d-0000-4000-8000-000000000001": {
        "description": "'Quoted, as in the repository.'\n",
        "requiredDataConnectors": [{"connectorId": "AzureActivity", "dataTypes": ["AzureActivity"]}],
        "relevantTechniques": ["T1078.004"],
        "tags": ["Demo"],
        "metadata": {"source": {"kind": "Community"}},
        "References": "https://example.org",
        "tactics": null
      }
    }
  },
  "resources": [{
    "name": "[concat(parameters('workspace'),'/Microsoft.SecurityInsights/0a1b2c3d-0000-4000-8000-000000000001')]",
    "type": "Microsoft.OperationalInsights/workspaces/providers/alertRules",
    "kind": "Scheduled",
    "apiVersion": "2023-12-01-preview",
    "properties": {
      "displayName": "Overlay",
      "description": "Quoted, as in the repository.",
      "severity": "Low",
      "query": "AzureActivity",
      "queryFrequency": "PT5M", "queryPeriod": "PT5M", "triggerOperator": "GreaterThan", "triggerThreshold": 0,
      "techniques": ["T1078"], "subTechniques": ["T1078.004"],
      "alertRuleTemplateName": "0a1b2c3d-0000-4000-8000-000000000001"
    }
  }]
}"#;
    let outcome = read(text, "t.json");
    assert!(outcome.problems.is_empty(), "{:#?}", outcome.problems);
    let r = &outcome.rules[0];
    assert_eq!(r.description.as_deref(), Some("'Quoted, as in the repository.'\n"));
    assert_eq!(written(&r.techniques), Some(vec!["T1078.004"]));
    assert_eq!(sec(r).required_data_connectors.as_ref().unwrap()[0].connector_id, "AzureActivity");
    assert_eq!(sec(r).tags, Some(json!(["Demo"])));
    assert_eq!(sec(r).metadata, Some(json!({"source": {"kind": "Community"}})));
    assert_eq!(sec(r).extensions.get("References"), Some(&json!("https://example.org")));
    assert_eq!(sec(r).extensions.get("tactics"), Some(&json!(null)));
    assert_eq!(sec(r).template_link, TemplateLink::SameAsId);
    assert_eq!(sec(r).schedule.query_frequency.map(|d| d.to_string()).as_deref(), Some("5m"));
}

// ---- bad input: clear errors with file, line, column and rule; the rest still read ----

fn only_error(outcome: &ReadOutcome) -> &Problem {
    let e = errors(outcome);
    assert_eq!(e.len(), 1, "{:#?}", outcome.problems);
    e[0]
}

#[test]
fn bad_values_are_reported_where_they_are() {
    let cases: &[(&str, &str, Position)] = &[
        (
            "id: x1\nname: R\nseverity: Critical\nquery: T\n",
            "`severity` must be one of Informational, Low, Medium, High, found `Critical`",
            Position::new(3, 11),
        ),
        (
            "name: R\nkind: Fusion\nquery: T\n",
            "`kind` must be Scheduled or NRT (the rule kinds ruleconv converts), found `Fusion`",
            Position::new(2, 7),
        ),
        ("name: R\ntriggerThreshold: '5'\nquery: T\n", "`triggerThreshold` must be an integer, found a string", Position::new(2, 19)),
        ("name: R\ntactics: Execution\nquery: T\n", "`tactics` must be a list, found a string", Position::new(2, 10)),
        ("name: R\ntactics: [Execution, 3]\nquery: T\n", "`tactics[1]` must be a string, found an integer", Position::new(2, 22)),
        (
            "name: R\nqueryFrequency: 5 minutes\nquery: T\n",
            "`queryFrequency`: `5 minutes` is not a duration (expected e.g. `5m`, `1h`, `14d`, or ISO-8601 `PT5M`)",
            Position::new(2, 17),
        ),
        ("name: R\nquery: T\nentityMappings:\n  - fieldMappings: []\n", "`entityMappings[0]` has no `entityType`", Position::new(4, 5)),
        (
            "name: R\nquery: T\nsuppressionEnabled: yes\n",
            "`suppressionEnabled` must be a boolean (true or false), found a string",
            Position::new(3, 21),
        ),
        ("name: R\nquery: ''\n", "`query` is empty", Position::new(2, 8)),
        ("name: R\ndescription: d\n", "rule has no `query`", Position::new(1, 1)),
        ("query: T\n", "rule has no `name`", Position::new(1, 1)),
        // Neither a Sigma rule (no `logsource`) nor a Sentinel one: detection says which keys it lacks.
        (
            "title: Sigma\ndetection: {}\n",
            "YAML or JSON without the keys of any rule format (Sigma: `title`, `logsource`, `detection`; Sentinel: `name`, `query`; ARM: `resources`); name the format with --from",
            Position::new(1, 1),
        ),
    ];
    for (text, message, position) in cases {
        let outcome = read(text, "r.yaml");
        assert!(outcome.rules.is_empty(), "{text}");
        let e = only_error(&outcome);
        assert_eq!(&e.message, message, "{text}");
        assert_eq!(e.position, *position, "{text}: {e}");
        assert_eq!(e.file, Path::new("r.yaml"));
    }
    let e = read("id: x1\nname: R\nseverity: Critical\nquery: T\n", "r.yaml");
    assert_eq!(
        only_error(&e).to_string(),
        "r.yaml:3:11: error: rule 'R': `severity` must be one of Informational, Low, Medium, High, found `Critical`"
    );
}

#[test]
fn ge_operator_is_an_error_that_names_the_api() {
    let outcome = read("name: R\nquery: T\ntriggerOperator: ge\ntriggerThreshold: 1\n", "r.yaml");
    let e = only_error(&outcome);
    assert_eq!(e.position, Position::new(3, 18));
    assert!(e.message.contains("found `ge`") && e.message.contains("the Sentinel API has no greater-or-equal"), "{e}");
    assert_eq!(e.rule.as_ref().and_then(|r| r.label.as_deref()), Some("R"));
    assert_eq!(
        sec(&read("name: R\nquery: T\ntriggerOperator: GreaterThan\n", "r.yaml").rules[0]).trigger.operator,
        Some(TriggerOperator::GreaterThan)
    );
    assert_eq!(read("name: R\nquery: T\nseverity: hIgH\n", "r.yaml").rules[0].severity, Some(Severity::High));
}

#[test]
fn every_problem_of_a_rule_is_reported() {
    let outcome = read("name: R\nseverity: Critical\nkind: Fusion\ntriggerOperator: le\nquery: T\n", "r.yaml");
    assert_eq!(errors(&outcome).iter().map(|e| e.position.line).collect::<Vec<_>>(), [2, 3, 4]);
}

#[test]
fn one_bad_document_does_not_stop_the_others() {
    let text = "name: A\nquery: T\n---\nname: B\nseverity: Critical\nquery: U\n---\nname: C\nquery: V\n";
    let outcome = read(text, "multi.yaml");
    assert_eq!(outcome.rules.iter().map(|r| r.title.as_str()).collect::<Vec<_>>(), ["A", "C"]);
    assert_eq!(outcome.rules[1].origin.index, 2);
    assert_eq!(only_error(&outcome).rule.as_ref().and_then(|r| r.label.as_deref()), Some("B"));
    // A syntax error in one document: the others are still read.
    let text = "name: A\nquery: T\n---\nname: B\nquery: [unclosed\n---\nname: C\nquery: V\n";
    let outcome = read(text, "multi.yaml");
    assert_eq!(outcome.rules.iter().map(|r| r.title.as_str()).collect::<Vec<_>>(), ["A", "C"]);
    let e = only_error(&outcome);
    assert!(e.message.starts_with("invalid YAML") && e.position.line >= 5, "{e}");
    assert_eq!(locate(&outcome.rules[1], "V"), Position::new(8, 8));
}

#[test]
fn broken_files_in_a_batch_give_positions_and_the_batch_goes_on() {
    let dir = std::env::temp_dir().join(format!("ruleconv-batch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixture("sentinel/nrt_console_logon.yaml"), dir.join("a_good.yaml")).unwrap();
    std::fs::write(dir.join("b_broken.yaml"), "name: Broken\nquery: |\n  T\ntactics: [a, b\nseverity: High\n").unwrap();
    std::fs::write(dir.join("c_broken.json"), "{\n  \"resources\": [\n    {\"type\": \"x/alertRules\",, }\n  ]\n}\n").unwrap();
    std::fs::copy(fixture("arm/portal_export.json"), dir.join("d_good.json")).unwrap();
    let mut rules = 0;
    let mut errs = Vec::new();
    for file in read::discover(&dir) {
        let outcome = read::read_path(&file);
        rules += outcome.rules.len();
        errs.extend(outcome.problems.into_iter().filter(|p| p.is_error()));
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(rules, 3);
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert!(errs[0].file.ends_with("b_broken.yaml") && errs[0].code == Code::YamlSyntax && errs[0].position.line >= 4, "{}", errs[0]);
    assert!(errs[1].file.ends_with("c_broken.json") && errs[1].code == Code::JsonSyntax && errs[1].position.line == 3, "{}", errs[1]);
}

#[test]
fn unreadable_and_undetectable_files_are_errors() {
    let e = read::read_path(Path::new("/nonexistent/rule.yaml"));
    assert!(e.rules.is_empty() && only_error(&e).code == Code::UnreadableFile);
    let e = read("just some words\n", "notes.txt");
    assert_eq!(only_error(&e).code, Code::NotARule);
    let e = read("- a\n- b\n", "list.yaml");
    assert_eq!(only_error(&e).code, Code::NotARule, "{:?}", e.problems);
    let e = read("{\"resources\": [{\"type\": \"Microsoft.Insights/workbooks\", \"properties\": {}}]}", "t.json");
    assert_eq!(only_error(&e).code, Code::NotARule);
    let e = read(
        "{\"resources\": [{\"type\": \"x/alertRules\", \"kind\": \"Fusion\", \"name\": \"w/f\", \"properties\": {\"displayName\": \"F\", \"query\": \"T\"}}]}",
        "t.json",
    );
    let error = only_error(&e);
    assert!(error.code == Code::InvalidValue && error.rule.as_ref().and_then(|r| r.label.as_deref()) == Some("F"), "{error}");
    let invalid_utf8 = std::env::temp_dir().join(format!("ruleconv-utf8-{}.yaml", std::process::id()));
    std::fs::write(&invalid_utf8, b"name: R\nquery: \xff\n").unwrap();
    let e = read::read_path(&invalid_utf8);
    std::fs::remove_file(&invalid_utf8).unwrap();
    assert_eq!(only_error(&e).position, Position::new(2, 8));
}

#[test]
fn from_overrides_detection() {
    let text = "---\nname: R\nquery: \"```kql\\nT\\n```\"\n---\n";
    let as_yaml = read::read_text(text, Path::new("r"), Some(SourceFormat::SentinelYaml));
    assert_eq!(as_yaml.rules[0].kql().unwrap().text, "```kql\nT\n```");
    let as_md = read::read_text(text, Path::new("r"), None);
    assert_eq!(as_md.rules[0].kql().unwrap().text, "T\n");
}

mod no_panic {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let text = String::from_utf8_lossy(&bytes);
            for format in SourceFormat::ALL.into_iter().map(Some).chain([None]) {
                let _ = read::read_text(&text, Path::new("fuzz"), format);
            }
        }

        #[test]
        fn rule_shaped_text_never_panics(
            keys in proptest::collection::vec(prop::sample::select(vec![
                "name", "query", "id", "severity", "kind", "tactics", "relevantTechniques", "entityMappings",
                "triggerOperator", "triggerThreshold", "queryFrequency", "customDetails", "incidentConfiguration",
                "alertDetailsOverride", "requiredDataConnectors", "displayName", "properties", "resources", "type",
            ]), 0..8),
            values in proptest::collection::vec(prop::sample::select(vec![
                "T", "|\n  T\n  | x", "\"a\\nb\\\"c\"", "[a, 1, ~]", "{a: [b]}", "~", "5m", "PT5M", "-", "'it''s'",
                "\n  - entityType: Host\n    fieldMappings: [{identifier: x}]", "ge", "\"\\u00e9\\x41\"", ">-\n  a\n\n  b",
            ]), 0..8),
            wrap in 0..4usize,
        ) {
            let body: String = keys.iter().zip(values.iter()).map(|(k, v)| format!("{k}: {v}\n")).collect();
            let text = match wrap {
                0 => body,
                1 => format!("---\n{body}---\n# notes\n"),
                2 => format!("## T\n\n|Name | Value |\n|---|---|\n|{}|\n\n```kql\n{body}```\n", values.join("|\n|")),
                _ => format!("{{\"resources\": [{{\"type\": \"a/alertRules\", \"kind\": \"NRT\", \"properties\": {{{}}}}}]}}",
                    keys.iter().zip(values.iter()).map(|(k, v)| format!("{k:?}: {v:?}")).collect::<Vec<_>>().join(", ")),
            };
            let _ = read::read_text(&text, Path::new("fuzz"), None);
        }
    }
}

#[test]
fn unreadable_rules_keep_their_index_in_the_file() {
    let text = "name: A\nquery: T\n---\nname: B\nquery: [unclosed\n---\nname: C\nquery: V\n";
    let outcome = read(text, "multi.yaml");
    assert_eq!(only_error(&outcome).rule_index(), Some(1));
    assert_eq!(outcome.rules.iter().map(|r| r.origin.index).collect::<Vec<_>>(), [0, 2]);
    let catalog = format!(
        "# Rules\n\n## No query\n\n|Name | Value |\n| --- | --- |\n|DetectionId | a |\n\n{}",
        entry(1, "b", "Execution", "High", "0", "T")
    );
    let outcome = read(&catalog, "catalog.md");
    let e = only_error(&outcome);
    assert_eq!((e.rule_index(), e.rule.as_ref().and_then(|r| r.label.as_deref())), (Some(0), Some("No query")));
    assert_eq!(outcome.rules[0].origin.index, 1);
}

#[test]
fn sigma_rules_are_detected_and_read() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/sigma/rules/application/bitbucket/audit/bitbucket_audit_full_data_export_triggered.yml");
    if !path.is_file() {
        shared::say_skipped(&format!("{} not present", path.display()));
        return;
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(read::detect(&text, &path), Some(SourceFormat::Sigma));
    let outcome = read::read_path(&path);
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
    assert_eq!(outcome.rules[0].title, "Bitbucket Full Data Export Triggered");
    assert_eq!(outcome.rules[0].origin.format, SourceFormat::Sigma);
}

/// The rule's Sentinel section (every reader of this crate gives one).
fn sec(rule: &Rule) -> &ruleconv::ir::SentinelSection {
    rule.sentinel.as_ref().expect("a Sentinel section")
}

/// ATT&CK references as the rule wrote them.
fn written<T>(list: &Option<Vec<ruleconv::ir::AttackRef<T>>>) -> Option<Vec<&str>> {
    list.as_ref().map(|l| l.iter().map(|r| r.written.as_str()).collect())
}
